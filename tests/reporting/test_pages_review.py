"""Review pages (Django test client): the list awaiting review in scope with its filters, the
review page with values, checks, justifications and changes since a return, and approve /
return / reopen — each refused to those who may not (reporters 403 even when posting directly,
outsiders 404)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from qc_core.audit.models import AuditEntry
from qc_core.reporting import services
from qc_core.reporting.models import ReviewEvent, Submission
from qc_core.system import clock
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

REVIEW_LIST = "/qc/review/"


def detail(sub, action=""):
    name = f"reporting:review_{action}" if action else "reporting:submission_detail"
    return reverse(name, args=[sub.pk])


def listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-submission="(\d+)"', html)}


# --- list ----------------------------------------------------------------------------------------


def test_subcenter_sees_only_its_prefectures_submissions_awaiting_review(qc, client_as):
    a = qc.submitted(qc.p.tree.hospital_a)
    b = qc.submitted(qc.p.tree.hospital_b)
    draft_unit = OrgUnitFactory(code="HA002", parent=qc.p.tree.wuhua)
    qc.ger.units.add(draft_unit)
    qc.draft(draft_unit)  # a draft is not awaiting review

    sub_html = client_as(qc.p.subcenter).get(REVIEW_LIST).content.decode()
    center_html = client_as(qc.p.center).get(REVIEW_LIST).content.decode()

    assert listed(sub_html) == {a.pk}
    assert listed(center_html) == {a.pk, b.pk}
    assert "昆明市" in sub_html and "大理" not in re.sub(
        r"<select.*?</select>", "", sub_html, flags=re.S
    )


def test_review_list_filters_by_prefecture_period_dataset_and_status(qc, client_as):
    a = qc.submitted(qc.p.tree.hospital_a)
    b = qc.submitted(qc.p.tree.hospital_b)
    services.approve(b, qc.p.center)
    client = client_as(qc.p.center)

    def pks(**params):
        return listed(client.get(REVIEW_LIST, params).content.decode())

    assert pks() == {a.pk}  # pending only by default
    assert pks(status="all") == {a.pk, b.pk}
    assert pks(status="approved") == {b.pk}
    assert pks(status="all", prefecture="532900") == {b.pk}
    assert pks(status="all", prefecture="530100") == {a.pk}
    assert pks(status="all", period="2026Q2") == set()
    assert pks(status="all", dataset="OPS-M") == set()
    assert pks(status="all", dataset="GER-Q", period="2026q3") == {a.pk, b.pk}


def test_review_list_query_count_does_not_grow_with_rows(
    qc, client_as, django_assert_max_num_queries
):
    for n in range(12):
        unit = OrgUnitFactory(code=f"HK{n:03d}", parent=qc.p.tree.wuhua)
        qc.ger.units.add(unit)
        Submission.objects.create(org_unit=unit, dataset=qc.ger, period="2026Q3",
                                  status="submitted", last_submitted_at=clock.now())  # fmt: skip
    client = client_as(qc.p.center)
    client.get(REVIEW_LIST)

    with django_assert_max_num_queries(14):
        response = client.get(REVIEW_LIST)
    assert len(listed(response.content.decode())) == 12


@pytest.mark.parametrize("persona", ["reporter_a", "leader_a", "expert", "engineer", "nobody"])
def test_review_list_is_for_reviewers_and_officials_only(qc, client_as, persona):
    assert client_as(getattr(qc.p, persona)).get(REVIEW_LIST).status_code == 403


def test_health_official_reads_the_list_and_the_page_without_actions(qc, client_as):
    sub = qc.submitted()
    client = client_as(qc.p.official)

    assert listed(client.get(REVIEW_LIST).content.decode()) == {sub.pk}
    html = client.get(detail(sub)).content.decode()
    assert 'id="review-values"' in html
    assert 'id="approve-form"' not in html and 'id="return-form"' not in html
    assert 'id="reopen-form"' not in html
    assert client.post(detail(sub, "approve")).status_code == 403


# --- review page ---------------------------------------------------------------------------------


def test_review_page_shows_values_rates_warnings_and_justifications(qc, client_as):
    sub = qc.filled(GER_O02=(1, 4))
    services.save_values(sub, [{"indicator": "GER-O02", "justification": "门诊转入途中跌倒"}], None)
    services.submit(sub, None)

    html = client_as(qc.p.subcenter).get(detail(sub)).content.decode()

    row = html[
        html.index('id="row-GER-O02"') : html.index('id="row-', html.index('id="row-GER-O02"') + 10)
    ]
    assert "1 / 4" in row and "25%" in row
    assert "gq-msg-warning" in row and "情况说明：门诊转入途中跌倒" in row
    assert "已填写情况说明" in row
    assert 'id="approve-form"' in html and 'id="return-form"' in html
    assert 'id="reopen-form"' not in html  # sub-center admins cannot reopen


def test_reporter_opening_the_review_page_lands_on_the_entry_page(qc, client_as):
    sub = qc.submitted()
    response = client_as(qc.p.reporter_a).get(detail(sub))
    assert response.status_code == 302
    assert response.url == reverse("reporting:entry", args=["HA001", "GER-Q", "2026Q3"])


def test_reporter_cannot_approve_or_return_even_by_posting_directly(qc, client_as):
    sub = qc.submitted()
    client = client_as(qc.p.reporter_a)

    assert client.post(detail(sub, "approve")).status_code == 403
    assert client.post(detail(sub, "return"), {"reason": "x"}).status_code == 403
    assert (
        client.post(detail(sub, "reopen"), {"reason": "x", "until": "2026-12-01T18:00"}).status_code
        == 403
    )
    sub.refresh_from_db()
    assert sub.status == "submitted" and not ReviewEvent.objects.exclude(action="submit").exists()


@pytest.mark.parametrize("action", ["", "approve", "return", "reopen"])
def test_outsiders_get_404_for_submissions_outside_their_scope(qc, client_as, action):
    sub = qc.submitted(qc.p.tree.hospital_b)  # 大理州: outside the 昆明市 sub-center
    for user in (qc.p.subcenter, qc.p.reporter_a):
        client = client_as(user)
        response = (
            client.post(detail(sub, action), {"reason": "x"}) if action else client.get(detail(sub))
        )
        assert response.status_code == 404
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_subcenter_approves_inside_its_prefecture(qc, client_as):
    sub = qc.submitted()
    response = client_as(qc.p.subcenter).post(detail(sub, "approve"), {"reason": "数据完整"})

    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "approved" and sub.approved_by == qc.p.subcenter
    page = client_as(qc.p.subcenter).get(detail(sub)).content.decode()
    assert 'data-status="approved"' in page and 'id="approve-form"' not in page
    assert 'data-event="approve"' in page and "数据完整" in page


def test_with_subcenter_review_the_subcenter_reviews_and_the_center_approves(qc, client_as):
    qc.ger.subcenter_review = True
    qc.ger.save(update_fields=["subcenter_review"])
    sub = qc.submitted()

    client_as(qc.p.subcenter).post(detail(sub, "approve"))
    sub.refresh_from_db()
    assert sub.status == "reviewed"
    waiting = client_as(qc.p.subcenter).get(detail(sub)).content.decode()
    assert "等待省质控中心审核" in waiting and 'id="approve-form"' not in waiting
    assert listed(client_as(qc.p.center).get(REVIEW_LIST).content.decode()) == {sub.pk}

    client_as(qc.p.center).post(detail(sub, "approve"))
    sub.refresh_from_db()
    assert sub.status == "approved" and sub.approved_by == qc.p.center


def test_return_with_overall_and_per_indicator_reasons(qc, client_as):
    sub = qc.submitted()
    response = client_as(qc.p.subcenter).post(detail(sub, "return"), {
        "reason": "跌倒数据需核对",
        "item_GER-O01": "分母应为占用床日数",
        "item_GER-O02": "",
    })  # fmt: skip

    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "returned"
    event = sub.events.get(action="return")
    assert event.reason == "跌倒数据需核对"
    assert event.items == [{"indicator": "GER-O01", "reason": "分母应为占用床日数"}]


def test_return_without_a_reason_is_refused_keeping_what_was_typed(qc, client_as):
    sub = qc.submitted()
    response = client_as(qc.p.subcenter).post(
        detail(sub, "return"), {"reason": " ", "item_GER-O01": "分母有误"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写退回原因" in html and 'value="分母有误"' in html
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_resubmission_shows_exactly_what_changed_since_the_return(qc, client_as):
    sub = qc.submitted()
    services.return_submission(sub, qc.p.subcenter, "请核对跌倒数据")
    reporter = client_as(qc.p.reporter_a)
    sub.refresh_from_db()
    saved = reporter.post(
        reverse("reporting:entry_save", args=["HA001", "GER-Q", "2026Q3"]),
        data=json.dumps({"expected_version": sub.row_version,
                         "values": [{"indicator": "GER-O01", "denominator": "2200", "comment": "更正占用床日数"}]}),
        content_type="application/json",
    )  # fmt: skip
    assert saved.status_code == 200
    assert (
        reporter.post(
            reverse("reporting:entry_submit", args=["HA001", "GER-Q", "2026Q3"])
        ).status_code
        == 302
    )

    html = client_as(qc.p.subcenter).get(detail(sub)).content.decode()

    box = html[html.index('id="changes-since-return"') : html.index('id="review-values"')]
    assert set(re.findall(r'data-change="([^"]+)"', box)) == {
        "GER-O01:denominator",
        "GER-O01:comment",
    }
    assert re.search(r"<td[^>]*>2100</td>\s*<td[^>]*>2200</td>", box)
    assert "更正占用床日数" in box
    assert "data-changed" in html[html.index('id="row-GER-O01"') : html.index('id="row-GER-O02"')]
    assert 'data-event="resubmit"' in html


def test_center_reopens_an_approved_form_until_a_date_audited(qc, client_as):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    client = client_as(qc.p.center)

    assert 'id="reopen-form"' in client.get(detail(sub)).content.decode()
    response = client.post(
        detail(sub, "reopen"), {"until": "2026-12-01T18:00", "reason": "补报漏填的跌倒例次"}
    )

    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == "draft"
    assert sub.reopened_until == clock.now().replace(year=2026, month=12, day=1, hour=10, minute=0)
    assert sub.events.filter(action="reopen", reason="补报漏填的跌倒例次").exists()
    assert AuditEntry.objects.filter(object_id=str(sub.pk), extra__workflow="reopen").exists()
    entry = client_as(qc.p.reporter_a).get(
        reverse("reporting:entry", args=["HA001", "GER-Q", "2026Q3"])
    )
    assert 'data-field="numerator"' in entry.content.decode()


def test_reopen_needs_a_reason_and_a_future_date(qc, client_as):
    sub = qc.submitted()
    client = client_as(qc.p.center)
    past = (clock.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    for data in ({"until": "2026-12-01T18:00", "reason": ""}, {"until": past, "reason": "x"},
                 {"until": "明天", "reason": "x"}):  # fmt: skip
        response = client.post(detail(sub, "reopen"), data, follow=True)
        assert response.status_code == 200
        assert "alert-danger" in response.content.decode()
    sub.refresh_from_db()
    assert sub.status == "submitted" and sub.reopened_until is None


def test_subcenter_admin_of_another_prefecture_cannot_act(qc, client_as):
    other = UserFactory(username="dali_admin")
    RoleAssignmentFactory(user=other, role="subcenter_admin", org_unit=qc.p.tree.dali)
    sub = qc.submitted()

    assert client_as(other).get(detail(sub)).status_code == 404
    assert client_as(other).post(detail(sub, "approve")).status_code == 404
    assert listed(client_as(other).get(REVIEW_LIST).content.decode()) == set()
