"""Materializing the ledger's clocks into :class:`SlaClock` rows, and the escalation schedule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ops_portal.choices import TRIGGER_LEVEL
from ops_portal.clocks import ClockState, compute_clocks
from ops_portal.models import EscalationFiring, EscalationStep, SlaClock, Ticket, TicketEvent
from ops_portal.services.policies import escalation_steps
from qc_core.system import clock

# Columns refresh_clocks owns; the claim columns (warned_*, breach_notified_at) belong to sla_tick.
COMPUTED_FIELDS = (
    "budget_seconds",
    "started_at",
    "due_at",
    "warn_50_due",
    "warn_80_due",
    "met_at",
    "stopped_at",
    "paused_since",
    "paused_seconds",
    "remaining_seconds",
    "breached",
    "next_escalation_at",
    "refreshed_at",
)


def ledger(ticket: Ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("at", "id"))


def ticket_clocks(ticket: Ticket, now: datetime | None = None) -> list[ClockState]:
    """The ticket's clocks recomputed from the ledger (the truth behind the SlaClock rows)."""
    return compute_clocks(ticket, ledger(ticket), ticket.policy, now or clock.now())


def next_escalation(
    row: SlaClock, steps: list[EscalationStep], firings: Iterable[EscalationFiring]
) -> tuple[datetime, EscalationStep] | None:
    """When the next escalation step of a clock becomes due, and which step.

    The first step is due ``delay`` after its trigger. A later step waits for its own trigger and
    for the previous fired step to go unacknowledged for that step's ack timeout. Acknowledging a
    step silences the remaining steps of the same trigger level; a step of a higher level (a
    warning acknowledged, then the breach) still fires when its trigger comes.
    """
    fired = {f.step_id: f for f in firings}
    last: tuple[EscalationStep, EscalationFiring] | None = None
    for step in steps:
        firing = fired.get(step.pk)
        if firing is not None:
            last = (step, firing)
            continue
        level = TRIGGER_LEVEL[step.trigger]  # type: ignore[index]
        base = row.trigger_time(level) + timedelta(minutes=step.delay_minutes)
        if last is None:
            return base, step
        last_step, last_firing = last
        if last_firing.acknowledged_at is not None:
            if level > TRIGGER_LEVEL[last_step.trigger]:  # type: ignore[index]
                return base, step
            continue
        timeout = last_firing.fired_at + timedelta(minutes=last_step.ack_timeout_minutes)
        return max(base, timeout), step
    return None


def _apply(row: SlaClock, state: ClockState, now: datetime) -> None:
    row.budget_seconds = state.budget_seconds
    row.started_at = state.started_at
    row.due_at = state.due_at
    row.warn_50_due, row.warn_80_due = state.warn_due
    row.met_at = state.met_at
    row.stopped_at = state.stopped_at
    row.paused_since = state.paused_since
    row.paused_seconds = state.paused_seconds
    row.remaining_seconds = state.remaining_seconds
    row.breached = state.breached
    row.refreshed_at = now


def refresh_clocks(ticket: Ticket, now: datetime | None = None) -> list[ClockState]:
    """Recompute the ticket's clocks from its ledger and rewrite its SlaClock rows and queue
    summary. Called by every action after it appends to the ledger."""
    now = now or clock.now()
    states = ticket_clocks(ticket, now)
    existing = {row.clause: row for row in SlaClock.objects.filter(ticket=ticket)}
    wanted = {s.clause for s in states}
    stale = [row.pk for clause, row in existing.items() if clause not in wanted]
    if stale:  # a severity change swapped restore ↔ respond
        SlaClock.objects.filter(pk__in=stale).delete()
    firings = list(EscalationFiring.objects.filter(ticket=ticket))
    cache: dict[str, list[EscalationStep]] = {}
    for state in states:
        row = existing.get(state.clause) or SlaClock(ticket=ticket, clause=state.clause)
        _apply(row, state, now)
        row.next_escalation_at = None
        if state.running:
            mine = [f for f in firings if f.clause == state.clause]
            upcoming = next_escalation(row, escalation_steps(state.clause, cache), mine)
            row.next_escalation_at = upcoming[0] if upcoming else None
        if row.pk is None:
            row.save(force_insert=True)
        else:
            row.save(update_fields=COMPUTED_FIELDS)
    due = [s.due_at for s in states if s.running]
    ticket.sla_due_at = min(due) if due else None
    ticket.sla_breached = any(s.breached for s in states)
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_due_at=ticket.sla_due_at, sla_breached=ticket.sla_breached
    )
    return states


def clock_payload(row: SlaClock, now: datetime, calendar: Any = None) -> dict[str, Any]:
    """The API's per-clause figures from a materialized row (no ledger read)."""
    from ops_portal.calendar import business_seconds_between

    remaining = row.remaining_seconds
    breached = row.breached
    paused_seconds = row.paused_seconds
    if row.paused_since is not None and row.met_at is None and row.stopped_at is None:
        paused_seconds += round(business_seconds_between(calendar, row.refreshed_at, now))
    elif row.running:
        if now <= row.due_at:
            remaining = round(business_seconds_between(calendar, now, row.due_at))
        else:
            remaining = -round(business_seconds_between(calendar, row.due_at, now))
            breached = True
    return {
        "clause": row.clause,
        "clause_display": str(row.get_clause_display()),
        "started_at": row.started_at,
        "due_at": row.due_at,
        "met_at": row.met_at,
        "stopped_at": row.stopped_at,
        "paused": row.paused_since is not None,
        "breached": breached,
        "paused_seconds": paused_seconds,
        "remaining_seconds": remaining,
    }
