"""GeriQC's own monitors and backups (cross-layer signals) and an external monitor (webhook) → tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from ops_portal.choices import Category, Channel, EventKind, Severity, Status
from ops_portal.models import Ticket, TicketEvent
from qc_core.system import signals
from tests.ops_portal.conftest import T0

pytestmark = pytest.mark.django_db

URL = "/api/v1/intake/monitor/"
TOKEN = "mon-2b9e1f7c"


class ProbeService:
    """Stands for the monitors app's sender class (the signal's ``sender``)."""


def notes(ticket: Ticket) -> list[TicketEvent]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ALERT_APPENDED).order_by("id")
    )


def began(incident_id: Any = 41, started_at: Any = None, **extra: Any) -> list[tuple[Any, Any]]:
    return signals.outage_began.send_robust(
        sender=ProbeService,
        monitor="门户首页 HTTPS",
        incident_id=incident_id,
        started_at=started_at or T0 - timedelta(minutes=2),
        detail="连续 3 次 HTTP 502",
        **extra,
    )


def test_outage_signal_opens_an_outage_ticket_with_channel_monitor(clock_at: Any) -> None:
    [(_receiver, ticket)] = began()

    assert isinstance(ticket, Ticket), ticket
    assert ticket.channel == Channel.MONITOR
    assert ticket.category == Category.FAULT
    assert ticket.severity == Severity.OUTAGE
    assert ticket.external_key == "mon:41"
    assert ticket.reported_at == T0 - timedelta(minutes=2)  # detected 2 minutes ago
    assert "门户首页 HTTPS" in ticket.title
    assert "HTTP 502" in ticket.description


def test_the_same_incident_announced_twice_makes_one_ticket(clock_at: Any) -> None:
    began()
    began()

    ticket = Ticket.objects.get()
    assert len(notes(ticket)) == 1


def test_a_stale_start_time_does_not_backdate_the_report(clock_at: Any) -> None:
    began(started_at=T0 - timedelta(hours=6))

    assert Ticket.objects.get().reported_at == T0


def test_outage_ended_adds_a_note_and_leaves_resolution_to_the_engineer(clock_at: Any) -> None:
    began()
    clock_at(T0 + timedelta(minutes=30))

    signals.outage_ended.send_robust(
        sender=ProbeService,
        monitor="门户首页 HTTPS",
        incident_id=41,
        ended_at=T0 + timedelta(minutes=29),
        detail="HTTP 200",
    )

    ticket = Ticket.objects.get()
    assert ticket.status == Status.NEW
    [note] = notes(ticket)
    assert "恢复" in note.body and note.data["monitor"]["incident_id"] == "41"


def test_outage_ended_for_an_unknown_incident_creates_nothing() -> None:
    signals.outage_ended.send_robust(
        sender=ProbeService, monitor="x", incident_id=999, ended_at=None
    )

    assert Ticket.objects.count() == 0


def test_backup_and_drill_failures_open_non_outage_faults() -> None:
    signals.backup_failed.send_robust(
        sender=ProbeService,
        run_id=7,
        kind="full",
        failed_at=None,
        error="pgbackrest: repo2 unreachable",
    )
    signals.drill_failed.send_robust(
        sender=ProbeService, drill_id=3, failed_at=None, error="restored row count differs"
    )

    backup = Ticket.objects.get(external_key="backup:7")
    drill = Ticket.objects.get(external_key="drill:3")
    assert backup.severity == drill.severity == Severity.NON_OUTAGE
    assert backup.channel == drill.channel == Channel.MONITOR
    assert "repo2 unreachable" in backup.description


# --- external monitor webhook ---------------------------------------------------------------------


@pytest.fixture
def monitor_client(settings: Any) -> APIClient:
    settings.MONITOR_WEBHOOK_TOKEN = TOKEN
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def test_external_monitor_began_and_ended(monitor_client: APIClient, clock_at: Any) -> None:
    body = {
        "monitor": "Uptime Kuma: 填报接口",
        "incident_id": "kuma-1881",
        "status": "began",
        "at": T0.isoformat(),
        "detail": "timeout",
    }

    created = monitor_client.post(URL, body, format="json")
    again = monitor_client.post(URL, body, format="json")
    ended = monitor_client.post(URL, {**body, "status": "ended"}, format="json")

    assert (created.status_code, again.status_code, ended.status_code) == (201, 200, 200)
    assert [created.json()["action"], again.json()["action"], ended.json()["action"]] == [
        "created",
        "appended",
        "noted",
    ]
    ticket = Ticket.objects.get()
    assert ticket.severity == Severity.OUTAGE and ticket.channel == Channel.MONITOR
    assert ticket.external_key == "ext:Uptime Kuma: 填报接口:kuma-1881"


def test_monitor_webhook_refuses_bad_tokens_and_bad_payloads(
    monitor_client: APIClient, settings: Any
) -> None:
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer nope")

    assert (
        wrong.post(
            URL, {"monitor": "m", "incident_id": "1", "status": "began"}, format="json"
        ).status_code
        == 401
    )
    invalid = monitor_client.post(URL, {"monitor": "m", "status": "down"}, format="json")
    assert invalid.status_code == 400
    assert set(invalid.json()["fields"]) == {"incident_id", "status"}
    settings.MONITOR_WEBHOOK_TOKEN = ""
    assert (
        monitor_client.post(
            URL, {"monitor": "m", "incident_id": "1", "status": "began"}, format="json"
        ).status_code
        == 404
    )
    assert Ticket.objects.count() == 0
