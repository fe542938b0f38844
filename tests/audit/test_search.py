"""The audit search page, CSV export and API: who may read them, and the filters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from qc_core.audit.choices import Action
from qc_core.audit.services import record

pytestmark = pytest.mark.django_db

API = "/api/v1/audit/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("persona", ["reporter_a", "subcenter", "engineer", "official", "nobody"])
def test_outsiders_get_403_on_page_export_and_api(personas, client_as, api_as, persona):
    user = getattr(personas, persona)
    client = client_as(user)
    assert client.get(reverse("audit:search")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    response = api_as(user).get(API)
    assert response.status_code == 403
    assert "results" not in response.json()


def test_anonymous_is_sent_to_login_and_api_answers_401(db, api):
    response = Client().get(reverse("audit:search"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
    assert Client().get(reverse("audit:export")).status_code == 302
    assert api.get(API).status_code == 401


@pytest.mark.parametrize("persona", ["center", "ops_manager"])
def test_audit_readers_see_entries_on_page_and_api(personas, client_as, api_as, persona):
    record(
        Action.OTHER,
        user=personas.reporter_b,
        object_repr="大理的记录",
        org_unit=personas.tree.hospital_b,
    )
    response = client_as(getattr(personas, persona)).get(reverse("audit:search"))
    assert response.status_code == 200
    assert "大理的记录" in response.content.decode()
    data = api_as(getattr(personas, persona)).get(API).json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert any(
        r["object_repr"] == "大理的记录" and r["org_unit"] == "HB001" for r in data["results"]
    )


def test_org_unit_filter_includes_the_subtree(personas, api_as):
    t = personas.tree
    record(Action.OTHER, object_repr="A 医院", org_unit=t.hospital_a)
    record(Action.OTHER, object_repr="B 医院", org_unit=t.hospital_b)
    record(Action.OTHER, object_repr="昆明市本级", org_unit=t.kunming)
    data = api_as(personas.center).get(API, {"org_unit": "530100", "action": "other"}).json()
    assert sorted(r["object_repr"] for r in data["results"]) == ["A 医院", "昆明市本级"]
    assert api_as(personas.center).get(API, {"org_unit": "NOPE"}).json()["count"] == 0


def test_user_action_and_object_type_filters(personas, api_as):
    record(Action.EXPORT, user=personas.reporter_a, object_repr="导出一")
    record(Action.EXPORT, user=personas.reporter_b, object_repr="导出二")
    client = api_as(personas.center)
    data = client.get(API, {"user": "porter_a", "action": "export"}).json()
    assert [r["object_repr"] for r in data["results"]] == ["导出一"]
    units = client.get(API, {"object_type": "orgs.orgunit", "action": "update"}).json()
    assert units["count"] == 0
    assert client.get(API, {"action": "bogus"}).status_code == 400


def test_date_filters_use_shanghai_days(personas, api_as):
    """GIVEN an entry at 23:30 Shanghai time on 1 March (15:30 UTC)
    THEN it belongs to 1 March, not 2 March."""
    with time_machine.travel(datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI), tick=False):
        record(Action.OTHER, object_repr="深夜")
    with time_machine.travel(datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI), tick=False):
        record(Action.OTHER, object_repr="凌晨")
    client = api_as(personas.center)

    def reprs(**params):
        return [
            r["object_repr"]
            for r in client.get(API, {"action": "other", **params}).json()["results"]
        ]

    assert reprs(since="2026-03-01", until="2026-03-01") == ["深夜"]
    assert reprs(since="2026-03-02") == ["凌晨"]
    assert reprs(until="2026-02-28") == []


def test_page_filters_and_keeps_them_in_the_export_link(personas, client_as):
    record(Action.OTHER, object_repr="昆明条目", org_unit=personas.tree.hospital_a)
    record(Action.OTHER, object_repr="大理条目", org_unit=personas.tree.hospital_b)
    response = client_as(personas.ops_manager).get(reverse("audit:search"), {"org_unit": "532900"})
    text = response.content.decode()
    assert "大理条目" in text and "昆明条目" not in text
    assert f"{reverse('audit:export')}?org_unit=532900" in text


def test_page_shows_chinese_error_for_a_bad_date(personas, client_as):
    response = client_as(personas.center).get(reverse("audit:search"), {"since": "2026-13-45"})
    assert response.status_code == 200
    assert "起始日期" in response.content.decode()


def test_search_page_query_count_does_not_grow_with_rows(
    personas, client_as, django_assert_max_num_queries
):
    for i in range(60):
        record(Action.OTHER, object_repr=f"行 {i}", org_unit=personas.tree.hospital_a)
    client = client_as(personas.center)
    client.get(reverse("audit:search"))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse("audit:search"), {"page": 2})
    assert response.status_code == 200


def test_api_query_count_does_not_grow_with_rows(personas, api_as, django_assert_max_num_queries):
    for i in range(120):
        record(Action.OTHER, object_repr=f"行 {i}", org_unit=personas.tree.hospital_b)
    client = api_as(personas.center)
    with django_assert_max_num_queries(6):
        response = client.get(API, {"page_size": 100})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


def test_api_is_read_only(personas, api_as):
    entry = record(Action.OTHER, object_repr="只读")
    client = api_as(personas.center)
    assert client.post(API, {"action": "other"}).status_code == 405
    assert client.delete(f"{API}{entry.pk}/").status_code == 405
    assert client.patch(f"{API}{entry.pk}/", {"object_repr": "x"}).status_code == 405
    assert client.get(f"{API}{entry.pk}/").json()["hash"] == entry.hash


def test_audit_nav_item_shown_only_to_readers(personas, client_as):
    from qc_core.system.nav import items_for

    def keys(user):
        return {i["key"] for s in items_for(user) for i in s["items"]}

    assert "audit" in keys(personas.center)
    assert "audit" in keys(personas.ops_manager)
    assert "audit" not in keys(personas.reporter_a)
