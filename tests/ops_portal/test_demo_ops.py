"""``seed_demo_ops``: the demo on-call roster and a dozen demo tickets played through the ticket
services, idempotent, with real ledgers and SLA clocks."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ops_portal import services
from ops_portal.choices import Channel, Clause, EventKind, OnSiteSide, Status
from ops_portal.demo import KEY_PREFIX, ROSTER_NAME, SCENARIOS, TITLE_PREFIX
from ops_portal.models import Roster, Shift, SlaClock, Ticket, TicketEvent
from ops_portal.oncall import current_shift
from ops_portal.oncall.coverage import find_gaps, run_coverage_check
from qc_core.indicators.periods import LOCAL_TZ
from qc_core.system import clock

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=LOCAL_TZ)

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("seed_demo_ops", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def demo_accounts(settings: Any, tmp_path: Any, time_machine: Any) -> None:
    settings.DEMO_PASSWORD = "Demo-Passw0rd!2026"
    settings.VAR_DIR = tmp_path
    time_machine.move_to(NOW, tick=False)
    call_command("seed_demo", units=12, stdout=io.StringIO())


@pytest.fixture
def seeded(demo_accounts: None) -> str:
    return _run()


def ticket(key: int) -> Ticket:
    return Ticket.objects.get(external_key=f"{KEY_PREFIX}{key}")


def clocks(key: int) -> dict[str, SlaClock]:
    return {c.clause: c for c in ticket(key).clocks.all()}


def test_seeding_twice_creates_the_roster_and_the_tickets_once(seeded: str) -> None:
    counts = (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        SlaClock.objects.count(),
        Shift.objects.count(),
        Roster.objects.count(),
    )

    output = _run()

    assert (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        SlaClock.objects.count(),
        Shift.objects.count(),
        Roster.objects.count(),
    ) == counts
    assert counts[0] == len(SCENARIOS) >= 12
    assert "0 demo tickets created" in output


def test_tickets_come_from_every_channel_and_are_marked_as_demo(seeded: str) -> None:
    tickets = list(Ticket.objects.select_related("requester", "org_unit"))
    assert {t.channel for t in tickets} >= {
        Channel.WEB,
        Channel.PHONE,
        Channel.EMAIL,
        Channel.MONITOR,
    }
    assert all(t.title.startswith(TITLE_PREFIX) for t in tickets)
    with_requester = [t for t in tickets if t.requester_id]
    assert len(with_requester) >= 10
    assert all(t.requester.username.startswith("reporter") for t in with_requester)
    assert all(t.org_unit.is_demo for t in with_requester)


def test_every_ticket_has_its_clocks_computed_from_the_ledger(seeded: str) -> None:
    for t in Ticket.objects.all():
        rows = {c.clause for c in t.clocks.all()}
        assert rows, t.title
        recomputed = {s.clause: s for s in services.ticket_clocks(t)}
        assert rows == set(recomputed)
        assert t.sla_breached == any(s.breached for s in recomputed.values())


def test_outage_was_restored_within_forty_minutes_and_closed(seeded: str) -> None:
    restore = clocks(1)[Clause.RESTORE]
    assert restore.met_at - restore.started_at == timedelta(minutes=40)
    assert not restore.breached
    assert ticket(1).status == Status.CLOSED


def test_yesterdays_minor_fault_has_breached_its_response_clock(seeded: str) -> None:
    t = ticket(2)
    respond = clocks(2)[Clause.RESPOND]
    assert t.sla_breached and respond.breached and respond.met_at is None
    assert t.status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS)
    assert respond.due_at < clock.now() - timedelta(hours=12)
    assert Ticket.objects.filter(sla_breached=True, status__in=["new", "acknowledged", "in_progress"]).count() == 1  # fmt: skip


def test_ticket_waiting_for_the_customer_is_paused_with_the_reason(seeded: str) -> None:
    t = ticket(3)
    assert t.status == Status.AWAITING_CUSTOMER
    assert clocks(3)[Clause.RESPOND].paused_since is not None
    pause = t.events.get(kind=EventKind.PAUSED)
    assert pause.public and "WPS" in pause.data["reason"]


def test_on_site_visit_was_confirmed_by_both_sides_and_checked_in(seeded: str) -> None:
    t = ticket(4)
    confirmations = t.events.filter(
        kind__in=[EventKind.ON_SITE_REQUESTED, EventKind.ON_SITE_CONFIRMED]
    )
    sides = {e.data["side"] for e in confirmations}
    assert sides == {OnSiteSide.ENGINEER, OnSiteSide.CUSTOMER}
    arrival = t.events.get(kind=EventKind.ON_SITE_ARRIVED)
    on_site = clocks(4)[Clause.ON_SITE]
    assert on_site.met_at == arrival.at and not on_site.breached
    assert t.channel == Channel.PHONE and t.created_by.username == "engineer01"


def test_open_tickets_are_at_different_distances_from_their_deadlines(seeded: str) -> None:
    now = clock.now()
    running = [
        t.sla_due_at - now
        for t in Ticket.objects.filter(status__in=["new", "acknowledged"], sla_breached=False)
    ]
    assert len(running) >= 4
    assert min(running) < timedelta(hours=1) and max(running) > timedelta(hours=3)
    assert len({round(d.total_seconds() / 600) for d in running}) == len(running)


def test_ledgers_follow_each_story_in_time_order(seeded: str) -> None:
    now = clock.now()
    for t in Ticket.objects.all():
        times = list(t.events.order_by("id").values_list("at", flat=True))
        assert times == sorted(times) and times[-1] <= now
        assert times[0] == t.reported_at


def test_roster_covers_the_next_fourteen_days(seeded: str) -> None:
    roster = Roster.objects.get(name=ROSTER_NAME)
    members = list(roster.members.order_by("position").values_list("user__username", flat=True))
    assert members == ["engineer01", "engineer02"]
    hours, gaps = find_gaps()
    assert hours == [] and gaps == []
    assert run_coverage_check().announced == []
    assert Shift.objects.filter(role="secondary").exists()
    running = current_shift("primary", clock.now())
    assert timezone.localtime(running.start).time() == time(9, 0)  # began at its handover
    assert Shift.objects.filter(end__lte=clock.now() - timedelta(days=5)).exists()


def test_refuses_in_production_without_the_flag(demo_accounts: None, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="allow-production"):
        _run()
    assert not Ticket.objects.exists()


def test_refuses_without_the_demo_accounts(db: Any) -> None:
    with pytest.raises(CommandError, match="seed_demo"):
        _run()
