"""POST /api/v1/intake/alertmanager/: Alertmanager webhook (payload version 4) → tickets."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ops_portal.choices import Channel, EventKind, Severity, Status
from ops_portal.intake.alertmanager import external_key
from ops_portal.models import Ticket, TicketEvent
from ops_portal.services import acknowledge, close, resolve
from tests.ops_portal.conftest import T0

URL = "/api/v1/intake/alertmanager/"
TOKEN = "am-6f1d0c2e9b7a4c55"
GROUP = '{}/{severity=~"critical|warning"}:{alertname="GeriQCDown", job="geriqc"}'


def payload(
    status: str = "firing", *, severity: str = "critical", group: str = GROUP, **extra: Any
) -> dict[str, Any]:
    """What Alertmanager 0.27 posts (webhook_config, send_resolved: true)."""
    starts = (T0 - timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    ends = "0001-01-01T00:00:00Z" if status == "firing" else T0.isoformat().replace("+00:00", "Z")
    body = {
        "receiver": "geriqc-ops",
        "status": status,
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "GeriQCDown",
                    "instance": "qc.example.gov.cn:443",
                    "job": "geriqc",
                    "severity": severity,
                },
                "annotations": {
                    "summary": "质控平台首页无法访问",
                    "description": "blackbox 探测连续 3 次失败",
                },
                "startsAt": starts,
                "endsAt": ends,
                "generatorURL": "http://prometheus:9090/graph?g0.expr=probe_success%3D%3D0",
                "fingerprint": "c3a1d2e4f5b6a7c8",
            }
        ],
        "groupLabels": {"alertname": "GeriQCDown"},
        "commonLabels": {
            "alertname": "GeriQCDown",
            "instance": "qc.example.gov.cn:443",
            "job": "geriqc",
            "severity": severity,
        },
        "commonAnnotations": {
            "summary": "质控平台首页无法访问",
            "description": "blackbox 探测连续 3 次失败",
        },
        "externalURL": "http://alertmanager:9093",
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
    }
    body.update(extra)
    return body


@pytest.fixture
def am(settings: Any) -> APIClient:
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def post(client: APIClient, body: Any) -> Any:
    return client.post(URL, body, format="json")


def appended(ticket: Ticket) -> list[TicketEvent]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ALERT_APPENDED).order_by("id")
    )


pytestmark = pytest.mark.django_db


def test_firing_group_opens_one_outage_ticket_with_channel_monitor(
    am: APIClient, clock_at: Any
) -> None:
    response = post(am, payload())

    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get()
    assert response.json() == {"action": "created", "ticket": ticket.number}
    assert ticket.channel == Channel.MONITOR
    assert ticket.severity == Severity.OUTAGE
    assert ticket.external_key == "am:" + GROUP
    assert ticket.title == "质控平台首页无法访问"
    assert ticket.reported_at == T0 - timedelta(minutes=3)  # startsAt: recent, so the report time
    assert "qc.example.gov.cn:443" in ticket.description


def test_repeated_notification_appends_and_never_duplicates(am: APIClient, clock_at: Any) -> None:
    post(am, payload())
    clock_at(T0 + timedelta(hours=4))  # repeat_interval

    response = post(am, payload())

    assert response.status_code == 200
    assert response.json()["action"] == "appended"
    ticket = Ticket.objects.get()
    [event] = appended(ticket)
    assert event.data["alertmanager"]["status"] == "firing"


def test_resolved_adds_a_note_but_does_not_resolve_the_ticket(am: APIClient, clock_at: Any) -> None:
    post(am, payload())
    clock_at(T0 + timedelta(minutes=20))

    response = post(am, payload("resolved"))

    assert response.status_code == 200
    assert response.json()["action"] == "noted"
    ticket = Ticket.objects.get()
    assert ticket.status == Status.NEW
    [note] = appended(ticket)
    assert "恢复" in note.body and note.data["alertmanager"]["status"] == "resolved"


def test_resolved_for_an_unknown_group_creates_nothing(am: APIClient) -> None:
    response = post(am, payload("resolved"))

    assert response.status_code == 200
    assert response.json() == {"action": "ignored", "ticket": None}
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("critical", Severity.OUTAGE), ("page", Severity.OUTAGE), ("warning", Severity.NON_OUTAGE)],
)
def test_severity_label_decides_outage_or_not(am: APIClient, severity: str, expected: str) -> None:
    post(am, payload(severity=severity))

    assert Ticket.objects.get().severity == expected


def test_outage_severities_are_configurable(am: APIClient, settings: Any) -> None:
    settings.ALERTMANAGER_OUTAGE_SEVERITIES = ["p1"]

    post(am, payload(severity="critical", group="g-critical"))
    post(am, payload(severity="P1", group="g-p1"))

    assert Ticket.objects.get(external_key="am:g-critical").severity == Severity.NON_OUTAGE
    assert Ticket.objects.get(external_key="am:g-p1").severity == Severity.OUTAGE


def test_group_firing_again_after_its_ticket_was_closed_opens_a_new_ticket(
    am: APIClient, personas: Any, clock_at: Any
) -> None:
    post(am, payload())
    first = Ticket.objects.get()
    acknowledge(first, personas.engineer)
    resolve(first, personas.engineer, "重启 nginx 后恢复")
    close(first, personas.engineer)
    clock_at(T0 + timedelta(days=20))

    response = post(am, payload())

    assert response.status_code == 201
    second = Ticket.objects.exclude(pk=first.pk).get()
    assert second.external_key == "am:" + GROUP
    first.refresh_from_db()
    assert first.external_key == f"am:{GROUP}#{first.number}"


def test_very_long_group_key_is_hashed_into_the_key_column(am: APIClient) -> None:
    group = "{}:{" + ", ".join(f'label{i}="{"v" * 20}"' for i in range(20)) + "}"

    post(am, payload(group=group))
    post(am, payload(group=group))

    ticket = Ticket.objects.get()
    assert ticket.external_key == external_key(group)
    assert ticket.external_key.startswith("am:sha256:")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Token {TOKEN}", f"Bearer {TOKEN} extra"]
)
def test_missing_or_wrong_token_is_401_and_creates_nothing(
    settings: Any, header: str | None
) -> None:
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = post(client, payload())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401 and response.json()["message"]
    assert Ticket.objects.count() == 0


def test_endpoint_is_closed_while_no_token_is_configured(settings: Any) -> None:
    settings.ALERTMANAGER_WEBHOOK_TOKEN = ""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ")

    response = post(client, payload())

    assert response.status_code == 404
    assert Ticket.objects.count() == 0


def test_signed_in_user_session_does_not_open_the_webhook(
    settings: Any, personas: Any, client_as: Any
) -> None:
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN

    response = client_as(personas.ops_manager).post(
        URL, json.dumps(payload()), content_type="application/json"
    )

    assert response.status_code == 401
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (payload(version="3"), "version"),
        ({k: v for k, v in payload().items() if k != "groupKey"}, "groupKey"),
        (payload(status="pending"), "status"),
        (payload(alerts=[]), "alerts"),
        (payload(alerts=[{"status": "firing", "labels": "not-a-map"}]), "alerts"),
        (payload(commonLabels=["severity", "critical"]), "commonLabels"),
    ],
)
def test_malformed_payload_is_400_naming_the_field(
    am: APIClient, body: dict[str, Any], field: str
) -> None:
    response = post(am, body)

    assert response.status_code == 400
    data = response.json()
    assert data["status"] == 400 and data["code"] == "invalid"
    assert field in data["fields"]
    assert Ticket.objects.count() == 0


def test_broken_json_is_400_with_the_reason(am: APIClient) -> None:
    response = am.post(URL, data=b'{"version": "4", "alerts": [', content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["message"]
    assert Ticket.objects.count() == 0


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_notifications_at_once_make_one_ticket(settings: Any) -> None:
    """GIVEN two Alertmanager replicas posting the same new group at the same moment WHEN both
    requests run concurrently (threads, separate database connections) THEN one ticket exists and
    the other notification was appended to it."""
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    body = json.dumps(payload())
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        try:
            barrier.wait(timeout=10)
            results.append(client.post(URL, body, content_type="application/json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(r.status_code for r in results) == [200, 201], [r.content for r in results]
    assert sorted(r.json()["action"] for r in results) == ["appended", "created"]
    ticket = Ticket.objects.get()
    assert len(appended(ticket)) == 1
