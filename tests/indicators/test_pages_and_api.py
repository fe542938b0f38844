"""Library pages (list with filters and the 省级提议 badge, detail with history, edit by center
admins) and the read-only library API, with outsiders refused."""

from __future__ import annotations

import pytest

from qc_core.indicators.models import DataSet, Indicator
from qc_core.indicators.services import load_library

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(personas):
    load_library()
    return personas


@pytest.mark.parametrize("persona", ["center", "subcenter", "reporter_a", "leader_a", "official"])
def test_qc_roles_see_the_library_with_proposed_items_labelled(library, client_as, persona):
    response = client_as(getattr(library, persona)).get("/indicators/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "GER-P01" in html and "省级提议" in html and "国家/行业标准" in html


@pytest.mark.parametrize("persona", ["expert", "engineer", "ops_manager", "tester", "nobody"])
def test_outsiders_get_403_on_library_pages(library, client_as, persona):
    client = client_as(getattr(library, persona))
    assert client.get("/indicators/").status_code == 403
    assert client.get("/indicators/GER-O01/").status_code == 403
    assert client.get("/indicators/GER-O01/edit/").status_code == 403


def test_anonymous_is_sent_to_login(library, client):
    response = client.get("/indicators/")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_list_filters_by_set_kind_and_status(library, client_as, django_assert_max_num_queries):
    client = client_as(library.center)
    with django_assert_max_num_queries(12):
        html = client.get("/indicators/?set=operational&status=proposed").content.decode()
    assert "OPS-10" in html and "OPS-01" not in html and "GER-P01" not in html
    html = client.get("/indicators/?kind=outcome").content.decode()
    assert "GER-O01" in html and "GER-P01" not in html


def test_center_admin_edit_creates_a_version_shown_in_history(library, client_as):
    client = client_as(library.center)
    form = client.get("/indicators/GER-O03/edit/")
    assert form.status_code == 200
    version = Indicator.objects.get(code="GER-O03").current_version
    data = {
        "name": version.name, "set": version.set, "kind": version.kind,
        "numerator_def": version.numerator_def, "denominator_def": "同期住院患者实际占用床日数",
        "unit": "‰", "multiplier": "1000", "direction": version.direction, "target": "",
        "warning_threshold": "", "basis": version.basis, "status": "official",
        "integer_only": "on", "numerator_le_denominator": "on", "change_note": "改为按床日计算",
    }  # fmt: skip
    response = client.post("/indicators/GER-O03/edit/", data)
    assert response.status_code == 302
    current = Indicator.objects.get(code="GER-O03").current_version
    assert current.version == 2 and current.is_definition_change and current.unit == "‰"
    html = client.get("/indicators/GER-O03/").content.decode()
    assert "v2" in html and "v1" in html and "改为按床日计算" in html and "口径变化" in html


def test_edit_requires_a_change_note(library, client_as):
    client = client_as(library.center)
    response = client.post("/indicators/GER-O03/edit/", {"name": "x"})
    assert response.status_code == 200
    assert Indicator.objects.get(code="GER-O03").versions.count() == 1


@pytest.mark.parametrize("persona", ["subcenter", "reporter_a", "official"])
def test_only_center_admins_may_edit(library, client_as, persona):
    assert client_as(getattr(library, persona)).get("/indicators/GER-O03/edit/").status_code == 403


def test_indicator_api_lists_current_definitions(library, api_as, django_assert_max_num_queries):
    client = api_as(library.reporter_a)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/indicators/?set=geriatric_qc&page_size=100")
    assert response.status_code == 200
    rows = {r["code"]: r for r in response.json()["results"]}
    assert len(rows) == 29
    assert rows["GER-O01"]["unit"] == "‰" and rows["GER-O01"]["multiplier"] == "1000"
    assert (
        rows["GER-P01"]["status"] == "proposed" and rows["GER-P01"]["status_display"] == "省级提议"
    )
    detail = client.get("/api/v1/indicators/GER-S01/").json()
    assert detail["denominator_def"] == "" and detail["version"] == 1


def test_dataset_api_lists_forms_with_items(library, api_as, django_assert_max_num_queries):
    client = api_as(library.subcenter)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/datasets/")
    forms = {d["code"]: d for d in response.json()["results"]}
    assert forms["GER-Q"]["period_type"] == "quarter" and len(forms["GER-Q"]["items"]) == 29
    assert forms["OPS-M"]["items"][0]["indicator"] == "OPS-01"


@pytest.mark.parametrize("persona", ["expert", "engineer", "nobody"])
def test_outsiders_get_403_on_library_api(library, api_as, persona):
    client = api_as(getattr(library, persona))
    assert client.get("/api/v1/indicators/").status_code == 403
    assert client.get("/api/v1/datasets/").status_code == 403


def test_admin_pages_of_the_library_and_reporting_render(library, client):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    for url in (
        "/admin/indicators/indicator/", f"/admin/indicators/indicator/{Indicator.objects.get(code='GER-O01').pk}/change/",
        "/admin/indicators/dataset/", f"/admin/indicators/dataset/{DataSet.objects.get(code='GER-Q').pk}/change/",
        "/admin/indicators/validationrule/", "/admin/indicators/indicatorversion/",
        "/admin/reporting/submission/", "/admin/accounts/unitapitoken/",
        "/admin/accounts/unitapitoken/add/",
    ):  # fmt: skip
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/accounts/unitapitoken/add/", {"org_unit": library.tree.hospital_a.pk, "name": "LIS"}
    )
    assert response.status_code == 302
    from qc_core.accounts.tokens import UnitApiToken

    token = UnitApiToken.objects.get()
    assert token.name == "LIS" and token.created_by == admin
