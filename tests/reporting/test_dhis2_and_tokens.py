"""DHIS2-style dataValueSets import, and per-unit API tokens limited to their unit's drafts."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from qc_core.accounts.tokens import UnitApiToken, hash_key
from qc_core.audit.models import AuditEntry
from qc_core.reporting import services
from qc_core.reporting.models import DataValue, Submission

pytestmark = pytest.mark.django_db


def dvs(*values, org_unit="HA001", period="2026Q3", **top):
    body = {"orgUnit": org_unit, "period": period, "dataValues": list(values)}
    body.update(top)
    return body


def dv(element, coc, value, **extra):
    row = {"dataElement": element, "value": value}
    if coc is not None:
        row["categoryOptionCombo"] = coc
    row.update(extra)
    return row


def post_dvs(client, body):
    return client.post("/api/v1/dataValueSets/", body, format="json")


def test_dhis2_payload_is_mapped_onto_numerators_and_denominators(qc, api_as):
    body = dvs(
        dv("GER-O01", "numerator", "3", comment="含坠床 1 例"),
        dv("GER-O01", "DEN", "2100"),
        dv("GER-P01", "NUM", "45"),
        dv("GER-P01", "denominator", "50"),
        dv("GER-S01", None, "40"),  # a count needs no category option combo
        dataSet="GER-Q", completeDate="2026-10-05",
    )  # fmt: skip
    response = post_dvs(api_as(qc.p.reporter_a), body)
    assert response.status_code == 200, response.json()
    summary = response.json()
    assert summary["status"] == "SUCCESS" and summary["responseType"] == "ImportSummary"
    assert summary["importCount"] == {"imported": 5, "updated": 0, "ignored": 0, "deleted": 0}
    values = {v.indicator.code: v for v in DataValue.objects.select_related("indicator")}
    assert (values["GER-O01"].numerator, values["GER-O01"].denominator) == (3, 2100)
    assert values["GER-O01"].comment == "含坠床 1 例" and values["GER-O01"].source == "dhis2"
    assert (values["GER-P01"].numerator, values["GER-P01"].denominator) == (45, 50)
    assert values["GER-S01"].numerator == 40
    assert Submission.objects.get().status == "draft"


def test_dhis2_counts_updates_ignores_and_deletes(qc, api_as):
    client = api_as(qc.p.reporter_a)
    post_dvs(
        client,
        dvs(
            dv("GER-P01", "NUM", "45"),
            dv("GER-P01", "DEN", "50"),
            dv("GER-P02", "NUM", "5"),
            dv("GER-P02", "DEN", "9"),
        ),
    )
    response = post_dvs(
        client,
        dvs(
            dv("GER-P01", "NUM", "46"),
            dv("GER-P01", "DEN", "50"),
            dv("GER-P02", "NUM", "", deleted=True),
        ),
    )
    assert response.json()["importCount"] == {
        "imported": 0,
        "updated": 1,
        "ignored": 1,
        "deleted": 1,
    }
    assert DataValue.objects.get(indicator__code="GER-P02").numerator is None


def test_the_form_is_inferred_from_the_period_and_indicators(qc, api_as):
    client = api_as(qc.p.reporter_a)
    response = post_dvs(client, dvs(dv("OPS-01", None, "1200"), period="2026-09"))
    assert response.status_code == 200
    assert Submission.objects.get().dataset == qc.ops


def test_a_bad_data_value_rejects_the_whole_import(qc, api_as):
    client = api_as(qc.p.reporter_a)
    body = dvs(
        dv("GER-O01", "NUM", "3"),
        dv("GER-O01", "DEN", "2100"),
        dv("GER-P01", "total", "5"),
        dv("GER-P02", None, "5"),
    )
    response = post_dvs(client, body)
    assert response.status_code == 409
    summary = response.json()
    assert summary["status"] == "ERROR" and summary["importCount"]["ignored"] == 4
    messages = " ".join(c["value"] for c in summary["conflicts"])
    assert "categoryOptionCombo" in messages and "GER-P02" in messages
    assert {tuple(c["indexes"]) for c in summary["conflicts"]} == {(2,), (3,)}
    assert not DataValue.objects.exists()


def test_a_non_numeric_value_is_a_conflict_and_nothing_is_saved(qc, api_as):
    response = post_dvs(
        api_as(qc.p.reporter_a), dvs(dv("GER-O01", "NUM", "3"), dv("GER-P01", "NUM", "abc"))
    )
    assert response.status_code == 409
    assert response.json()["conflicts"][0]["object"] == "GER-P01"
    assert not DataValue.objects.exists()


def test_dhis2_import_into_another_unit_is_refused(qc, api_as):
    response = post_dvs(api_as(qc.p.reporter_b), dvs(dv("GER-S01", None, "40")))
    assert response.status_code == 409 and response.json()["status"] == "ERROR"
    assert "HA001" in response.json()["conflicts"][0]["value"]
    response = post_dvs(api_as(qc.p.leader_a), dvs(dv("GER-S01", None, "40")))
    assert response.status_code == 403
    assert post_dvs(api_as(qc.p.engineer), dvs(dv("GER-S01", None, "40"))).status_code == 403
    assert not Submission.objects.exists()


def test_dhis2_import_into_an_approved_form_is_refused(qc, api_as):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    response = post_dvs(api_as(qc.p.reporter_a), dvs(dv("GER-S01", None, "41")))
    assert response.status_code == 409 and "已审核通过" in response.json()["conflicts"][0]["value"]
    assert sub.values.get(indicator__code="GER-S01").numerator == 40


# --- unit tokens -------------------------------------------------------------------------------


@pytest.fixture
def unit_key(qc, api_as):
    response = api_as(qc.p.center).post(
        "/api/v1/unit-tokens/", {"org_unit": "HA001", "name": "HIS 接口"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["key"]


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_token_key_is_shown_once_and_stored_hashed(qc, api_as, unit_key):
    token = UnitApiToken.objects.get()
    assert unit_key.startswith("gqu_") and token.key_hash == hash_key(unit_key)
    assert unit_key not in str(list(UnitApiToken.objects.values()))
    listing = api_as(qc.p.center).get("/api/v1/unit-tokens/").json()["results"]
    assert listing[0]["prefix"] == unit_key[:12] and "key" not in listing[0]
    entry = AuditEntry.objects.get(object_type="accounts.unitapitoken", action="create")
    assert unit_key not in str(entry.changes) and token.key_hash not in str(entry.changes)


@pytest.mark.parametrize("persona", ["subcenter", "reporter_a", "official", "engineer", "nobody"])
def test_only_center_admins_manage_tokens(qc, api_as, persona):
    client = api_as(getattr(qc.p, persona))
    assert client.get("/api/v1/unit-tokens/").status_code == 403
    assert (
        client.post(
            "/api/v1/unit-tokens/", {"org_unit": "HA001", "name": "x"}, format="json"
        ).status_code
        == 403
    )


def test_tokens_are_only_for_institutions(qc, api_as):
    response = api_as(qc.p.center).post(
        "/api/v1/unit-tokens/", {"org_unit": "530100", "name": "x"}, format="json"
    )
    assert response.status_code == 400 and "医疗机构" in response.json()["fields"]["org_unit"][0]


def test_unit_token_writes_drafts_of_its_unit(qc, unit_key):
    client = token_client(unit_key)
    response = client.post("/api/v1/submissions/", {
        "org_unit": "HA001", "dataset": "GER-Q", "period": "2026Q3",
        "values": [{"indicator": "GER-O01", "numerator": 3, "denominator": 2100}]}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    value = DataValue.objects.get()
    assert value.updated_by is None and value.updated_by_token == UnitApiToken.objects.get()
    assert post_dvs(client, dvs(dv("GER-S01", None, "40"))).status_code == 200
    assert UnitApiToken.objects.get().last_used_at is not None
    entry = AuditEntry.objects.filter(object_type="reporting.submission", action="update").last()
    assert entry.actor_username == f"api:{unit_key[:12]}"


def test_unit_token_cannot_touch_other_units_or_do_workflow(qc, unit_key):
    own = qc.filled()
    foreign = qc.submitted(qc.p.tree.hospital_b)
    client = token_client(unit_key)
    response = client.post("/api/v1/submissions/", {
        "org_unit": "HB001", "dataset": "GER-Q", "period": "2026Q3", "values": []}, format="json")  # fmt: skip
    assert response.status_code == 404
    assert post_dvs(client, dvs(dv("GER-S01", None, "4"), org_unit="HB001")).status_code == 409
    listing = client.get("/api/v1/submissions/").json()
    assert [r["id"] for r in listing["results"]] == [own.pk]
    assert client.get(f"/api/v1/submissions/{foreign.pk}/").status_code == 404
    for action in ("submit", "approve", "return", "reopen"):
        response = client.post(f"/api/v1/submissions/{own.pk}/{action}/",
                               {"reason": "x", "until": "2026-12-01T00:00:00+08:00"}, format="json")  # fmt: skip
        assert response.status_code == 403, action
    own.refresh_from_db()
    assert own.status == "draft"
    assert client.get("/api/v1/unit-tokens/").status_code == 403
    assert client.get("/api/v1/users/").status_code == 403
    assert client.get("/api/v1/org-units/").json()["count"] == 0


def test_unit_token_cannot_change_submitted_data(qc, unit_key):
    qc.submitted()
    response = token_client(unit_key).post("/api/v1/submissions/", {
        "org_unit": "HA001", "dataset": "GER-Q", "period": "2026Q3",
        "values": [{"indicator": "GER-S01", "numerator": 1}]}, format="json")  # fmt: skip
    assert response.status_code == 409


def test_revoked_or_unknown_tokens_are_refused(qc, api_as, unit_key):
    token = UnitApiToken.objects.get()
    assert api_as(qc.p.center).delete(f"/api/v1/unit-tokens/{token.pk}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token_client(unit_key).get("/api/v1/submissions/").status_code == 401
    assert token_client("gqu_not-a-key").get("/api/v1/submissions/").status_code == 401


def test_me_endpoint_works_for_a_unit_token(qc, unit_key):
    body = token_client(unit_key).get("/api/v1/me/").json()
    assert body["user"]["username"].startswith("api:gqu_") and body["user"]["roles"] == []


def test_token_page_creates_shows_once_and_revokes(qc, client_as):
    client = client_as(qc.p.center)
    response = client.post("/qc/tokens/", {"org_unit": "HA001", "name": "EMR"})
    html = response.content.decode()
    token = UnitApiToken.objects.get()
    key = re.search(r"(gqu_[A-Za-z0-9_-]{20,})", html).group(1)
    assert response.status_code == 200 and token.key_hash == hash_key(key)
    later = client.get("/qc/tokens/").content.decode()
    assert key not in later and f"{token.prefix}…" in later
    client.post(f"/qc/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_as(qc.p.reporter_a).get("/qc/tokens/").status_code == 403


def test_submission_list_page_is_scoped(qc, client_as):
    qc.filled(qc.p.tree.hospital_a)
    qc.filled(qc.p.tree.hospital_b)
    html = client_as(qc.p.reporter_b).get("/qc/submissions/").content.decode()
    assert "测试B" in html and "测试A" not in html
    assert client_as(qc.p.engineer).get("/qc/submissions/").status_code == 403


def test_token_list_has_a_query_guard(qc, api_as, django_assert_max_num_queries):
    from qc_core.accounts.tokens import issue_unit_token

    for n in range(20):
        issue_unit_token(
            qc.p.tree.hospital_a if n % 2 else qc.p.tree.hospital_b, f"系统{n}", qc.p.center
        )
    with django_assert_max_num_queries(6):
        response = api_as(qc.p.center).get("/api/v1/unit-tokens/")
    assert response.json()["count"] == 20


def test_unit_tokens_are_throttled_per_token(qc, unit_key):
    from rest_framework.throttling import SimpleRateThrottle

    from qc_core.accounts.tokens import issue_unit_token

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "user": "3/min"}
    try:
        _token, other_key = issue_unit_token(qc.p.tree.hospital_b, "另一个系统", qc.p.center)
        first, second = token_client(unit_key), token_client(other_key)
        assert [first.get("/api/v1/submissions/").status_code for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]
        assert second.get("/api/v1/submissions/").status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
