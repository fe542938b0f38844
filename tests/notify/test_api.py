"""/api/v1/notifications/: own notifications only, mark one or all read."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from qc_core.notify.models import Notification
from qc_core.notify.services import notify

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


@pytest.fixture
def notes(personas):
    for i in range(5):
        notify("task.finished", [personas.reporter_a], {"label": f"任务{i}"}, url=f"/jobs/{i}/")
    notify("task.finished", [personas.reporter_b], {"label": "B 的任务"})
    return Notification.objects.all()


def test_list_returns_own_notifications_newest_first(
    personas, notes, api_as, django_assert_max_num_queries
):
    client = api_as(personas.reporter_a)
    with django_assert_max_num_queries(4):
        body = client.get(URL).json()
    assert body["count"] == 5
    assert [r["title"] for r in body["results"]][:2] == [
        "后台任务完成：任务4",
        "后台任务完成：任务3",
    ]
    assert {"id", "event", "title", "body", "url", "read", "read_at", "created_at"} <= set(
        body["results"][0]
    )
    assert all("B 的任务" not in r["title"] for r in body["results"])


def test_unread_filter_and_unread_count(personas, notes, api_as):
    client = api_as(personas.reporter_a)
    first = Notification.objects.filter(user=personas.reporter_a).order_by("id").first()
    assert client.post(f"{URL}{first.pk}/read/").json()["read"] is True

    assert client.get(URL, {"unread": "true"}).json()["count"] == 4
    assert client.get(URL, {"unread": "false"}).json()["count"] == 1
    assert client.get(f"{URL}unread-count/").json() == {"unread": 4}


def test_read_all_marks_only_own_notifications(personas, notes, api_as):
    response = api_as(personas.reporter_a).post(f"{URL}read-all/")
    assert response.status_code == 200 and response.json() == {"updated": 5}
    assert Notification.objects.filter(user=personas.reporter_b, read_at__isnull=True).count() == 1


def test_another_users_notification_is_not_found(personas, notes, api_as):
    foreign = Notification.objects.get(user=personas.reporter_b)
    client = api_as(personas.reporter_a)
    assert client.get(f"{URL}{foreign.pk}/").status_code == 404
    response = client.post(f"{URL}{foreign.pk}/read/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    foreign.refresh_from_db()
    assert foreign.read_at is None


@pytest.mark.parametrize("path", ["", "1/", "1/read/", "read-all/", "unread-count/"])
def test_anonymous_callers_get_401(notes, path):
    client = APIClient()
    method = client.post if path.endswith("read/") or path == "read-all/" else client.get
    response = method(f"{URL}{path}")
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_token_authenticated_client_reads_its_notifications(personas, notes):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=personas.reporter_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(URL).json()["count"] == 5
