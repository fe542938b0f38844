"""The API base: token auth, /me/, scoped org units and users, one error format."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qc_core.accounts.services import admin_reset_password
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def codes(response):
    return {row["code"] for row in response.json()["results"]}


def test_token_is_issued_for_good_credentials_and_works(personas):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "reporter_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["user"]["username"] == "reporter_a"
    assert me["scope"] == {"everything": False, "units": ["HA001"]}
    assert me["user"]["roles"][0]["role"] == "unit_reporter"


def test_wrong_password_gets_the_error_format_in_chinese(personas):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "reporter_a", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_credentials"
    assert "密码" in body["message"]


def test_missing_fields_name_the_field(personas):
    response = APIClient().post("/api/v1/auth/token/", {"username": "reporter_a"}, format="json")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert "password" in body["fields"]


def test_anonymous_gets_401_in_the_error_format():
    response = APIClient().get("/api/v1/org-units/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["message"]


def test_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_user_who_must_change_password_gets_no_token(personas):
    admin_reset_password(personas.reporter_a, "Another-Passw0rd!")
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "reporter_a", "password": "Another-Passw0rd!"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("reporter_a", {"HA001"}),
        ("leader_a", {"HA001"}),
        ("reporter_b", {"HB001"}),
        ("expert", set()),
        ("nobody", set()),
    ],
)
def test_org_units_are_scoped_to_the_caller(personas, api_as, persona, expected):
    response = api_as(getattr(personas, persona)).get("/api/v1/org-units/", {"page_size": 500})
    assert response.status_code == 200
    assert codes(response) == expected


def test_subcenter_admin_sees_only_its_prefecture_subtree(personas, api_as):
    response = api_as(personas.subcenter).get("/api/v1/org-units/", {"page_size": 500})
    found = codes(response)
    assert "530100" in found and "HA001" in found and "530102" in found
    assert "HB001" not in found and "532900" not in found and "530000" not in found


def test_center_admin_filters_by_level_and_parent(personas, api_as):
    client = api_as(personas.center)
    prefectures = client.get("/api/v1/org-units/", {"level": "prefecture", "page_size": 100}).json()
    assert prefectures["count"] == 16
    counties = client.get("/api/v1/org-units/", {"level": "county", "parent": "530100"}).json()
    assert counties["count"] == 14
    assert set(counties) == {"count", "next", "previous", "results"}
    institutions = client.get("/api/v1/org-units/", {"level": "institution"}).json()
    assert {r["code"] for r in institutions["results"]} == {"HA001", "HB001"}


def test_outsider_gets_404_for_a_foreign_unit(personas, api_as):
    assert api_as(personas.reporter_b).get("/api/v1/org-units/HA001/").status_code == 404
    assert api_as(personas.reporter_a).get("/api/v1/org-units/HA001/").status_code == 200


def test_org_unit_list_query_count_is_bounded(personas, api_as, django_assert_max_num_queries):
    client = api_as(personas.center)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/org-units/", {"page_size": 200})
    assert response.json()["count"] == 148


@pytest.mark.parametrize(
    "persona",
    ["reporter_a", "reporter_b", "leader_a", "official", "expert", "engineer", "tester", "nobody"],
)
def test_non_administrators_cannot_list_users(personas, api_as, persona):
    response = api_as(getattr(personas, persona)).get("/api/v1/users/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_subcenter_admin_lists_only_users_in_its_prefecture(personas, api_as):
    usernames = {
        u["username"] for u in api_as(personas.subcenter).get("/api/v1/users/").json()["results"]
    }
    assert usernames == {"subcenter", "reporter_a", "leader_a"}


def test_center_admin_lists_all_users_with_bounded_queries(
    personas, api_as, django_assert_max_num_queries
):
    client = api_as(personas.center)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/users/")
    assert response.json()["count"] == len(personas.all())


def test_openapi_schema_and_docs_are_served_from_local_assets(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/org-units/" in schema.content
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html


def test_role_on_a_unit_of_the_wrong_level_is_refused_with_the_level_named(org_tree):
    from django.core.exceptions import ValidationError

    from qc_core.accounts.models import RoleAssignment
    from qc_core.accounts.services import assign_role
    from tests.factories import UserFactory

    with pytest.raises(ValidationError) as caught:
        assign_role(UserFactory(username="wrong_level"), "unit_reporter", org_tree.kunming)
    message = caught.value.message_dict["org_unit"][0]
    assert "医疗机构" in message and "institution" not in message
    assert not RoleAssignment.objects.filter(user__username="wrong_level").exists()
