"""The 质控上报 home and the data-entry page (Django test client): rows, live-rate inputs, last
period's values, autosave with optimistic locking, submit blocked by checks, read-only states,
value history and who may see or write what."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from qc_core.reporting import services
from qc_core.reporting.models import DataValue, Submission, ValueChange
from tests.reporting.conftest import seed_history

pytestmark = pytest.mark.django_db

ENTRY = ("HA001", "GER-Q", "2026Q3")


def entry_url(unit="HA001", dataset="GER-Q", period="2026Q3", name="entry", *extra):
    return reverse(f"reporting:{name}", args=[unit, dataset, period, *extra])


def autosave(client, values, expected_version=0, unit="HA001", period="2026Q3"):
    return client.post(
        entry_url(unit, "GER-Q", period, "entry_save"),
        data=json.dumps({"expected_version": expected_version, "values": values}),
        content_type="application/json",
    )


def row_html(html: str, code: str) -> str:
    """The markup of one indicator's row on the entry page."""
    here = html.index(f'id="row-{code}"')
    start = html.rfind("<div", 0, here)
    end = html.find('id="row-', here + 10)
    end = html.rfind("<div", 0, end) if end > 0 else len(html)
    return html[start:end]


# --- home ----------------------------------------------------------------------------------------


def test_reporter_home_lists_the_open_form_as_a_todo_with_its_window(qc, client_as):
    html = client_as(qc.p.reporter_a).get(reverse("reporting:home")).content.decode()

    todo = re.search(r'id="todo".*?</div>\s*</div>', html, re.S).group(0)
    assert 'data-todo="HA001:GER-Q:2026Q3"' in todo
    assert "截止 2026-10-15" in todo
    assert 'data-todo="HA001:OPS-M:2026-09"' in todo  # the monthly form is open too
    block = html[html.index('data-form-block="HA001:GER-Q"') :]
    assert "2026年第2季度" in block and "2026-10-30" in block  # lock date shown
    assert "HB001" not in html and "大理州人民医院" not in html


def test_home_marks_late_forms_and_locks_past_periods(qc, client_as, time_machine):
    def status_cell(html: str, period: str) -> str:
        block = html[html.index('data-form-block="HA001:GER-Q"') :]
        return re.search(rf'data-period="{period}">.*?</tr>', block, re.S).group(0)

    on_time = client_as(qc.p.reporter_a).get("/qc/").content.decode()
    assert "已逾期" not in status_cell(on_time, "2026Q3")
    assert "已锁定" in status_cell(on_time, "2026Q2") and "已逾期" not in status_cell(
        on_time, "2026Q2"
    )

    time_machine.move_to("2026-10-20T09:00:00+08:00", tick=False)  # after the due date
    late = client_as(qc.p.reporter_a).get("/qc/").content.decode()
    assert "已逾期" in status_cell(late, "2026Q3") and 'data-todo="HA001:GER-Q:2026Q3"' in late


def test_home_shows_the_reviewer_queue_in_scope_only(qc, client_as):
    qc.submitted(qc.p.tree.hospital_a)
    qc.submitted(qc.p.tree.hospital_b)

    sub_html = client_as(qc.p.subcenter).get(reverse("reporting:home")).content.decode()
    center_html = client_as(qc.p.center).get(reverse("reporting:home")).content.decode()

    queue = re.search(r'id="review-queue".*?</div>\s*</div>', sub_html, re.S).group(0)
    assert "1 份" in queue and 'id="todo"' not in sub_html
    assert "2 份" in re.search(r'id="review-queue".*?</div>\s*</div>', center_html, re.S).group(0)
    assert 'id="review-queue"' not in client_as(qc.p.reporter_a).get("/qc/").content.decode()


@pytest.mark.parametrize("persona", ["expert", "engineer", "nobody"])
def test_people_without_a_qc_role_cannot_open_the_home_page(qc, client_as, persona):
    assert client_as(getattr(qc.p, persona)).get(reverse("reporting:home")).status_code == 403


# --- entry page ----------------------------------------------------------------------------------


def test_entry_page_has_a_row_per_indicator_with_inputs_and_the_proposed_badge(qc, client_as):
    response = client_as(qc.p.reporter_a).get(entry_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count("data-row\n") + html.count("data-row ") == qc.ger.items.count()
    official = row_html(html, "GER-O01")
    assert 'data-field="numerator"' in official and 'data-field="denominator"' in official
    assert 'data-multiplier="1000"' in official and "‰" in official
    assert "省级提议" not in official
    count = row_html(html, "GER-S01")  # a count: beds, no denominator
    assert "省级提议" in count and 'data-field="denominator"' not in count
    assert 'data-has-den="0"' in count
    assert 'data-editable="true"' in html and "js/entry.js" in html


def test_entry_page_shows_last_periods_value_beside_each_cell(qc, client_as):
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-O01", [(3, 2000)])

    html = client_as(qc.p.reporter_a).get(entry_url()).content.decode()

    previous = re.search(r"data-previous[^>]*>(.*?)</div>", row_html(html, "GER-O01"), re.S)
    text = " ".join(previous.group(1).split())
    assert f"{Decimal(3) / Decimal(2000) * 1000:.2f}‰" in text  # 1.50‰
    assert "(3/2000)" in text


def test_existing_values_are_shown_with_their_rate_and_inline_messages(qc, client_as):
    sub = qc.draft()
    services.save_values(sub, [{"indicator": "GER-O01", "numerator": 3, "denominator": 2100},
                               {"indicator": "GER-O02", "numerator": 5, "denominator": 3}], None)  # fmt: skip

    html = client_as(qc.p.reporter_a).get(entry_url()).content.decode()

    o01 = row_html(html, "GER-O01")
    assert 'value="3"' in o01 and 'value="2100"' in o01
    assert f"{Decimal(3) / Decimal(2100) * 1000:.2f}" in o01  # 1.43
    o02 = row_html(html, "GER-O02")
    assert "gq-has-error" in o02 and "gq-msg-error" in o02 and "不能大于分母" in o02
    # "required" is listed beside the submit button, not on each empty row
    assert "必填项" not in row_html(html, "GER-P01")
    assert re.search(r'id="blocked-hint"(?! hidden)', html) and "submit-btn" in html


def test_entry_page_query_count_is_bounded(qc, client_as, django_assert_max_num_queries):
    qc.filled()
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-O01", [(4, 2000), (3, 1900)])
    client = client_as(qc.p.reporter_a)
    client.get(entry_url())  # warm the session and caches

    with django_assert_max_num_queries(24):
        assert client.get(entry_url()).status_code == 200


# --- autosave ------------------------------------------------------------------------------------


def test_autosave_saves_the_values_and_answers_version_time_and_checks(qc, client_as):
    client = client_as(qc.p.reporter_a)
    response = autosave(client, [
        {"indicator": "GER-O01", "numerator": "3", "denominator": "2100", "comment": "含坠床"},
        {"indicator": "GER-O02", "numerator": "5", "denominator": "3"},
    ])  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] and body["row_version"] == 1 and body["status"] == "draft"
    assert body["saved_at"] == "10:00:00"  # the clock is frozen at 10:00 Beijing time
    codes = {(r["indicator"], r["code"]) for r in body["results"]}
    assert ("GER-O02", "numerator_gt_denominator") in codes
    assert not any(r["code"] == "required" for r in body["results"])
    assert any(b["code"] == "required" for b in body["blocking"])
    value = DataValue.objects.get(submission__org_unit__code="HA001", indicator__code="GER-O01")
    assert (value.numerator, value.denominator, value.comment) == (3, 2100, "含坠床")
    assert value.source == "web" and value.updated_by == qc.p.reporter_a
    assert ValueChange.objects.filter(value=value, changed_by=qc.p.reporter_a).count() == 1


def test_a_concurrent_edit_is_refused_with_a_chinese_message_not_overwritten(qc, client_as):
    mine, theirs = client_as(qc.p.reporter_a), client_as(qc.p.center)
    assert autosave(theirs, [{"indicator": "GER-O01", "numerator": 7}]).status_code == 200

    response = autosave(mine, [{"indicator": "GER-O01", "numerator": 3}], expected_version=0)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "edit_conflict" and "已被他人修改" in body["message"]
    assert body["row_version"] == 1
    assert DataValue.objects.get(indicator__code="GER-O01").numerator == 7


def test_autosave_refuses_a_non_number_naming_the_cell_and_saves_nothing(qc, client_as):
    response = autosave(client_as(qc.p.reporter_a), [
        {"indicator": "GER-O01", "numerator": "3"},
        {"indicator": "GER-O02", "numerator": "三"},
    ])  # fmt: skip

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["indicator"] == "GER-O02" and errors[0]["field"] == "numerator"
    assert "GER-O02 分子" in errors[0]["message"]
    assert not DataValue.objects.exists()


def test_autosave_after_approval_is_refused_with_the_reason(qc, client_as):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)

    response = autosave(client_as(qc.p.reporter_a), [{"indicator": "GER-O01", "numerator": 9}],
                        expected_version=sub.row_version)  # fmt: skip

    assert response.status_code == 409 and "已审核通过" in response.json()["message"]
    assert DataValue.objects.get(submission=sub, indicator__code="GER-O01").numerator == 3


@pytest.mark.parametrize("persona", ["reporter_b", "subcenter_of_other", "leader_a"])
def test_only_the_units_writers_can_autosave(qc, client_as, persona):
    from tests.factories import RoleAssignmentFactory, UserFactory

    if persona == "subcenter_of_other":
        user = UserFactory(username="dali_admin")
        RoleAssignmentFactory(user=user, role="subcenter_admin", org_unit=qc.p.tree.dali)
    else:
        user = getattr(qc.p, persona)
    response = autosave(client_as(user), [{"indicator": "GER-O01", "numerator": 1}])

    assert response.status_code == (403 if persona == "leader_a" else 404)
    assert not DataValue.objects.exists()


# --- submit --------------------------------------------------------------------------------------


def test_submit_is_blocked_with_the_list_of_errors(qc, client_as):
    qc.filled(GER_O02=(5, 3))
    client = client_as(qc.p.reporter_a)

    response = client.post(entry_url(name="entry_submit"))

    assert response.status_code == 400
    html = response.content.decode()
    blockers = html[html.index('id="blockers"') :]
    assert "GER-O02" in blockers and "不能大于分母" in blockers
    assert "暂不能上报" in html
    assert Submission.objects.get().status == "draft"


def test_a_warning_needs_a_justification_before_submitting(qc, client_as):
    sub = qc.filled(GER_O02=(1, 4))  # GER-R03 warning: O02 denominator should equal O01 numerator
    client = client_as(qc.p.reporter_a)

    blocked = client.post(entry_url(name="entry_submit"))
    assert blocked.status_code == 400
    assert "请填写情况说明" in blocked.content.decode()
    assert 'id="j-GER-O02"' in row_html(blocked.content.decode(), "GER-O02")

    saved = autosave(client, [{"indicator": "GER-O02", "justification": "1 例跌倒发生在门诊转入途中"}],
                     expected_version=sub.row_version)  # fmt: skip
    assert saved.json()["blocking"] == []
    response = client.post(entry_url(name="entry_submit"))

    assert response.status_code == 302
    assert Submission.objects.get().status == "submitted"


def test_submitted_form_is_read_only_with_the_reason(qc, client_as):
    qc.submitted()

    html = client_as(qc.p.reporter_a).get(entry_url()).content.decode()

    assert 'data-editable="false"' in html and 'data-field="numerator"' not in html
    reason = re.search(r'id="readonly-reason".*?<span>(.*?)</span>', html, re.S).group(1)
    assert "正在审核" in reason
    assert "js/entry.js" not in html and 'id="submit-form"' not in html


def test_locked_and_not_yet_open_periods_are_read_only(qc, client_as, time_machine):
    client = client_as(qc.p.reporter_a)
    future = client.get(entry_url(period="2026Q4")).content.decode()
    assert "尚未结束" in future and 'data-field="numerator"' not in future

    time_machine.move_to("2026-11-05T10:00:00+08:00", tick=False)
    locked = client_as(qc.p.reporter_a).get(entry_url()).content.decode()  # a fresh session
    assert "已于 2026-10-30" in locked and "锁定" in locked
    assert 'data-field="numerator"' not in locked


def test_hospital_leader_reads_but_cannot_edit(qc, client_as):
    qc.filled()
    response = client_as(qc.p.leader_a).get(entry_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "没有填报权限" in html and 'data-field="numerator"' not in html
    assert client_as(qc.p.leader_a).post(entry_url(name="entry_submit")).status_code == 403


def test_returned_form_shows_the_overall_and_per_indicator_reasons(qc, client_as):
    sub = qc.submitted()
    services.return_submission(sub, qc.p.center, "请核对跌倒数据",
                               [{"indicator": "GER-O01", "reason": "分母应为占用床日数"}])  # fmt: skip

    html = client_as(qc.p.reporter_a).get(entry_url()).content.decode()

    assert "请核对跌倒数据" in html[html.index('id="return-notice"') :]
    assert "分母应为占用床日数" in row_html(html, "GER-O01")
    assert 'data-field="numerator"' in html and "重新上报" in html


# --- history -------------------------------------------------------------------------------------


def test_value_history_lists_who_changed_what_and_when(qc, client_as):
    client = client_as(qc.p.reporter_a)
    autosave(client, [{"indicator": "GER-O01", "numerator": "3", "denominator": "2100"}])
    autosave(client, [{"indicator": "GER-O01", "numerator": "100"}], expected_version=1)

    response = client.get(entry_url("HA001", "GER-Q", "2026Q3", "value_history", "GER-O01"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr>") == 3  # header + two changes
    assert qc.p.reporter_a.get_full_name() in html and "网页填报" in html
    assert "3 → <strong>100</strong>" in html  # no 1E+2
    assert "2026-10-05 10:00:00" in html


@pytest.mark.parametrize("name", ["entry", "value_history"])
def test_outsiders_get_404_for_another_units_form(qc, client_as, name):
    qc.filled()
    extra = ["GER-O01"] if name == "value_history" else []
    url = entry_url("HA001", "GER-Q", "2026Q3", name, *extra)

    assert client_as(qc.p.reporter_b).get(url).status_code == 404
    assert client_as(qc.p.reporter_b).post(entry_url(name="entry_submit")).status_code == 404


def test_unknown_unit_dataset_or_period_is_404(qc, client_as):
    client = client_as(qc.p.center)
    assert client.get(entry_url(unit="NOPE")).status_code == 404
    assert client.get(entry_url(dataset="NOPE")).status_code == 404
    assert client.get(entry_url(period="2026-09")).status_code == 404  # a month on a quarterly form
    assert client.get(entry_url(period="2026Q3", unit="530100")).status_code == 404  # not assigned
