"""Submissions API: scoping per persona (outsiders get 403/404 and no foreign data), drafts with
validation answered per value, workflow actions, immutability after approval, query guards."""

from __future__ import annotations

from datetime import timedelta

import pytest

from qc_core.reporting import services
from qc_core.reporting.models import Submission
from qc_core.system import clock
from tests.factories import OrgUnitFactory
from tests.reporting.conftest import good_values

pytestmark = pytest.mark.django_db

OUTSIDERS = ["expert", "engineer", "ops_manager", "tester", "nobody"]


def post_form(client, unit="HA001", values=None, **extra):
    body = {"org_unit": unit, "dataset": "GER-Q", "period": "2026Q3", "values": values or []}
    body.update(extra)
    return client.post("/api/v1/submissions/", body, format="json")


def test_reporter_creates_a_draft_and_gets_validation_per_value(qc, api_as):
    client = api_as(qc.p.reporter_a)
    values = [
        {"indicator": "GER-O01", "numerator": 3, "denominator": 2100, "comment": ""},
        {"indicator": "GER-O02", "numerator": 5, "denominator": 3},
    ]
    response = post_form(client, values=values)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["submission"]["status"] == "draft" and body["created"] == 2
    rows = {v["indicator"]: v for v in body["values"]}
    assert rows["GER-O01"]["rate"] == "1.4286" and rows["GER-O01"]["validation"] == []
    assert {r["code"] for r in rows["GER-O02"]["validation"]} == {
        "numerator_gt_denominator",
        "rule:GER-R01",
    }
    again = post_form(client, values=[{"indicator": "GER-O01", "numerator": 4}])
    assert again.status_code == 200 and again.json()["updated"] == 1
    assert Submission.objects.get().values.get(indicator__code="GER-O01").source == "api"


def test_bad_values_answer_400_naming_the_indicator_and_save_nothing(qc, api_as):
    response = post_form(api_as(qc.p.reporter_a), values=[
        {"indicator": "GER-O01", "numerator": 3, "denominator": 2100},
        {"indicator": "GER-O02", "numerator": "abc"},
    ])  # fmt: skip
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "GER-O02 分子" in body["message"]
    assert body["errors"][0]["indicator"] == "GER-O02"
    assert not Submission.objects.exists()


def test_wrong_period_or_dataset_is_refused(qc, api_as):
    client = api_as(qc.p.reporter_a)
    response = post_form(client, period="2026-09")
    assert response.status_code == 400 and "类型不符" in response.json()["message"]
    response = post_form(client, dataset="NOPE")
    assert response.status_code == 400 and "dataset" in response.json()["fields"]
    assert post_form(client, period="2027Q1").status_code == 409


def test_optimistic_lock_answers_409_with_the_current_version(qc, api_as):
    client = api_as(qc.p.reporter_a)
    post_form(client, values=[{"indicator": "GER-P01", "numerator": 1}], expected_version=0)
    response = post_form(
        client, values=[{"indicator": "GER-P01", "numerator": 2}], expected_version=0
    )
    assert response.status_code == 409
    assert response.json()["code"] == "edit_conflict" and response.json()["row_version"] == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reporter_b", 404), ("subcenter", 403), ("leader_a", 403), ("official", 403)],
)
def test_writing_another_units_form_is_refused(qc, api_as, persona, status):
    response = post_form(
        api_as(getattr(qc.p, persona)), values=[{"indicator": "GER-P01", "numerator": 1}]
    )
    assert response.status_code == status
    assert not Submission.objects.exists()


def test_list_is_scoped_per_persona(qc, api_as):
    a = qc.filled(qc.p.tree.hospital_a)
    b = qc.filled(qc.p.tree.hospital_b)
    expected = {
        "center": {a.pk, b.pk}, "official": {a.pk, b.pk}, "subcenter": {a.pk},
        "reporter_a": {a.pk}, "leader_a": {a.pk}, "reporter_b": {b.pk},
    }  # fmt: skip
    for persona, ids in expected.items():
        response = api_as(getattr(qc.p, persona)).get("/api/v1/submissions/")
        assert response.status_code == 200
        assert {r["id"] for r in response.json()["results"]} == ids, persona


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_are_refused_on_every_endpoint(qc, api_as, persona):
    sub = qc.submitted()
    client = api_as(getattr(qc.p, persona))
    assert client.get("/api/v1/submissions/").status_code == 403
    assert client.get(f"/api/v1/submissions/{sub.pk}/").status_code == 403
    assert post_form(client, values=[{"indicator": "GER-P01", "numerator": 1}]).status_code == 403
    for action, body in [("submit", {}), ("approve", {}), ("return", {"reason": "x"}),
                         ("reopen", {"until": "2026-12-01T00:00:00+08:00", "reason": "x"})]:  # fmt: skip
        response = client.post(f"/api/v1/submissions/{sub.pk}/{action}/", body, format="json")
        assert response.status_code == 403, action
        assert "GER" not in response.content.decode()
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_a_reporter_of_another_unit_gets_404_for_a_foreign_submission(qc, api_as):
    sub = qc.submitted()
    client = api_as(qc.p.reporter_b)
    response = client.get(f"/api/v1/submissions/{sub.pk}/")
    assert response.status_code == 404 and "HA001" not in response.content.decode()
    for action in ("submit", "approve", "return", "reopen"):
        assert (
            client.post(f"/api/v1/submissions/{sub.pk}/{action}/", {}, format="json").status_code
            == 404
        )
    assert client.get("/api/v1/submissions/?org_unit=HA001").json()["count"] == 0


def test_detail_shows_values_validation_events_window_and_permissions(qc, api_as):
    sub = qc.submitted()
    body = api_as(qc.p.leader_a).get(f"/api/v1/submissions/{sub.pk}/").json()
    rows = {v["indicator"]: v for v in body["values"]}
    assert rows["GER-S01"]["numerator"] == "40" and rows["GER-S01"]["rate"] == "40"
    assert rows["GER-P01"]["rate"] == "40" and rows["GER-P01"]["version"] == 1
    assert body["events"][0]["action"] == "submit"
    assert body["window"]["due_at"].startswith("2026-10-15T23:59:59")
    assert body["can"] == {"edit": False, "submit": False, "review": False, "reopen": False}
    assert (
        api_as(qc.p.subcenter).get(f"/api/v1/submissions/{sub.pk}/").json()["can"]["review"] is True
    )


def test_workflow_through_the_api(qc, api_as):
    reporter, subcenter, center = (
        api_as(qc.p.reporter_a),
        api_as(qc.p.subcenter),
        api_as(qc.p.center),
    )
    sub_id = post_form(reporter, values=good_values()).json()["submission"]["id"]
    response = reporter.post(f"/api/v1/submissions/{sub_id}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert reporter.post(f"/api/v1/submissions/{sub_id}/approve/").status_code == 403
    response = subcenter.post(f"/api/v1/submissions/{sub_id}/return/", {
        "reason": "请核对", "items": [{"indicator": "GER-O01", "reason": "跌倒例次偏低"}]}, format="json")  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "returned"
    post_form(
        reporter,
        values=[
            {"indicator": "GER-O01", "numerator": 5},
            {"indicator": "GER-O02", "denominator": 5},
        ],
    )
    reporter.post(f"/api/v1/submissions/{sub_id}/submit/")
    detail = subcenter.get(f"/api/v1/submissions/{sub_id}/").json()
    assert {(d["indicator"], d["field"]) for d in detail["changes_since_return"]} == {
        ("GER-O01", "numerator"), ("GER-O02", "denominator")}  # fmt: skip
    response = center.post(
        f"/api/v1/submissions/{sub_id}/approve/", {"reason": "通过"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"


def test_submit_with_errors_answers_400_with_the_blocking_results(qc, api_as):
    client = api_as(qc.p.reporter_a)
    sub_id = post_form(client, values=good_values(GER_O02=(5, 3))).json()["submission"]["id"]
    response = client.post(f"/api/v1/submissions/{sub_id}/submit/")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {r["code"] for r in body["blocking"]} >= {"rule:GER-R01", "numerator_gt_denominator"}


def test_approved_data_cannot_be_changed_through_the_api(qc, api_as):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    for user in (qc.p.reporter_a, qc.p.center):
        response = post_form(api_as(user), values=[{"indicator": "GER-P01", "numerator": 1}])
        assert response.status_code == 409
        assert (
            response.json()["code"] == "not_editable" and "已审核通过" in response.json()["message"]
        )
    assert sub.values.get(indicator__code="GER-P01").numerator == 40
    response = api_as(qc.p.reporter_a).post(f"/api/v1/submissions/{sub.pk}/submit/")
    assert response.status_code == 409


def test_reopen_through_the_api_is_center_only(qc, api_as):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    until = (clock.now() + timedelta(days=2)).isoformat()
    body = {"until": until, "reason": "更正"}
    assert (
        api_as(qc.p.subcenter)
        .post(f"/api/v1/submissions/{sub.pk}/reopen/", body, format="json")
        .status_code
        == 403
    )
    response = api_as(qc.p.center).post(
        f"/api/v1/submissions/{sub.pk}/reopen/", body, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert (
        post_form(
            api_as(qc.p.reporter_a), values=[{"indicator": "GER-P01", "numerator": 41}]
        ).status_code
        == 200
    )


def test_list_filters_and_query_count_guard(qc, api_as, django_assert_max_num_queries):
    for n in range(30):
        unit = OrgUnitFactory(code=f"HG{n:03d}", parent=qc.p.tree.wuhua)
        Submission.objects.create(org_unit=unit, dataset=qc.ger, period="2026Q3",
                                  status="submitted" if n % 2 else "draft")  # fmt: skip
    Submission.objects.create(
        org_unit=qc.p.tree.hospital_a, dataset=qc.ger, period="2026Q2", status="approved"
    )
    client = api_as(qc.p.center)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/submissions/?period=2026Q3&status=submitted&dataset=GER-Q")
    assert response.json()["count"] == 15
    with django_assert_max_num_queries(8):
        response = api_as(qc.p.subcenter).get("/api/v1/submissions/?page_size=100")
    assert response.json()["count"] == 31
    assert client.get("/api/v1/submissions/?org_unit=HA001").json()["count"] == 1


def test_schema_documents_the_reporting_endpoints(qc, api_as):
    response = api_as(qc.p.center).get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/submissions/", "/api/v1/submissions/{id}/submit/", "/api/v1/submissions/{id}/return/",
                 "/api/v1/dataValueSets/", "/api/v1/indicators/", "/api/v1/datasets/", "/api/v1/unit-tokens/"):  # fmt: skip
        assert path in paths, path
