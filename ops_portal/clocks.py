"""The SLA clock engine: every figure is computed from the ticket's ledger, nothing else.

Rules (one clock per contract clause):

* ``restore`` — outage faults: starts at ``reported_at``, due after ``restore_minutes`` (60),
  met at the first *resolved* event.
* ``respond`` — other faults: starts at ``reported_at``, due after ``respond_minutes`` (240),
  met only by a *response* event whose ``cause`` and ``solution`` are both non-empty; an ordinary
  comment does not stop it.
* ``on_site`` — starts when both sides (engineer and customer) have asked for or confirmed an
  on-site visit, due after ``on_site_minutes`` (1440), met at the engineer's check-in. Only the
  first visit of a ticket is clocked; later visits are recorded in the timeline.
* ``consult_response`` — consultations, requirements and changes: starts at ``reported_at``, due
  after ``consult_minutes``, met at the first public reply by the operations side (a comment, a
  response or a resolution note).

Which of ``restore`` / ``respond`` applies follows the ticket's *current* severity, computed as if
the ticket had been reported with it (so reclassifying an outage as a minor fault cannot buy four
hours, and a late upgrade to an outage shows the restore deadline it should have had).

A clock pauses only while the ticket awaits the customer: each *paused* → *resumed* pair (or the
resolution/closure that ends the wait) is a segment, and paused business time moves the deadline.
A clock that was not met when the ticket was resolved or closed stops there (``stopped_at``).
Reopening keeps ``met_at``: no new clock starts, unless the policy's ``reopen_restarts_clock`` is
set, in which case the restore/respond/consult clock starts afresh at the reopen.

Boundaries: a clock met exactly at ``due_at`` is on time; one still running at ``due_at`` is
breached only after that instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops_portal.calendar import add_business_seconds, business_seconds_between
from ops_portal.choices import Category, Clause, EventKind, OnSiteSide, Severity

STOP_KINDS = frozenset({EventKind.RESOLVED, EventKind.CLOSED})


@dataclass(frozen=True)
class PauseSegment:
    """One wait for the customer; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class ClockState:
    """A clause's clock as of ``now`` (all times timezone-aware)."""

    clause: str
    budget_seconds: int
    started_at: datetime
    due_at: datetime
    warn_due: tuple[datetime, datetime]
    met_at: datetime | None
    stopped_at: datetime | None
    paused_since: datetime | None
    breached: bool
    paused_seconds: int
    remaining_seconds: int
    elapsed_fraction: float
    pauses: tuple[PauseSegment, ...] = ()

    @property
    def running(self) -> bool:
        return self.met_at is None and self.stopped_at is None and self.paused_since is None

    @property
    def state(self) -> str:
        """``met`` / ``missed`` (met or stopped late) / ``stopped`` / ``paused`` / ``breached`` /
        ``running``."""
        if self.met_at is not None or self.stopped_at is not None:
            if self.breached:
                return "missed"
            return "met" if self.met_at is not None else "stopped"
        if self.breached:
            return "breached"
        return "paused" if self.paused_since is not None else "running"


def _data(event: Any) -> dict[str, Any]:
    data = getattr(event, "data", None)
    return data if isinstance(data, dict) else {}


def current_severity(ticket: Any, events: Iterable[Any]) -> str:
    """The severity after the last change in the ledger (the created event carries the first)."""
    severity = ""
    for event in events:
        if event.kind == EventKind.CREATED:
            severity = _data(event).get("severity", "") or severity
        elif event.kind == EventKind.SEVERITY_CHANGED:
            severity = _data(event).get("new", "") or severity
    return severity or getattr(ticket, "severity", "") or ""


def pause_segments(events: Iterable[Any]) -> list[PauseSegment]:
    """Waits for the customer, from *paused* to the *resumed* (or resolution/closure) ending it."""
    segments: list[PauseSegment] = []
    open_start: datetime | None = None
    reason = ""
    for event in events:
        if event.kind == EventKind.PAUSED and open_start is None:
            open_start, reason = event.at, str(_data(event).get("reason", ""))
        elif open_start is not None and (
            event.kind == EventKind.RESUMED or event.kind in STOP_KINDS
        ):
            segments.append(PauseSegment(open_start, event.at, reason))
            open_start = None
    if open_start is not None:
        segments.append(PauseSegment(open_start, None, reason))
    return segments


def _is_structured_response(event: Any) -> bool:
    data = _data(event)
    return (
        event.kind == EventKind.RESPONSE
        and bool(str(data.get("cause", "")).strip())
        and bool(str(data.get("solution", "")).strip())
    )


def _is_staff_public_reply(event: Any) -> bool:
    if not event.public or not _data(event).get("staff"):
        return False
    if event.kind == EventKind.RESPONSE:
        return True
    return event.kind in (EventKind.COMMENT, EventKind.RESOLVED) and bool(
        str(getattr(event, "body", "")).strip()
    )


def _window(
    events: list[Any], start: datetime, is_met: Callable[[Any], bool], restart: bool
) -> tuple[datetime, datetime | None, datetime | None]:
    """(started_at, met_at, stopped_at) of a clock starting at ``start``."""
    met: datetime | None = None
    stopped: datetime | None = None
    for event in events:
        if event.at < start:
            continue
        if met is None and stopped is None:
            if is_met(event):
                met = event.at
            elif event.kind in STOP_KINDS:
                stopped = event.at
        elif restart and event.kind == EventKind.REOPENED:
            start, met, stopped = event.at, None, None
    return start, met, stopped


def _on_site_start(events: list[Any]) -> datetime | None:
    """When both sides had asked for or confirmed the visit (first visit only)."""
    sides: dict[str, datetime] = {}
    for event in events:
        if event.kind in (EventKind.ON_SITE_REQUESTED, EventKind.ON_SITE_CONFIRMED):
            side = _data(event).get("side")
            if side in OnSiteSide.values:
                sides.setdefault(side, event.at)
                if len(sides) == 2:
                    return max(sides.values())
    return None


def _deadline(
    calendar: Any, start: datetime, budget: float, pauses: list[tuple[datetime, datetime]]
) -> datetime:
    due = add_business_seconds(calendar, start, budget)
    for seg_start, seg_end in pauses:
        if seg_start >= due:
            break
        due = add_business_seconds(
            calendar, due, business_seconds_between(calendar, seg_start, seg_end)
        )
    return due


def _clock(
    clause: str,
    policy: Any,
    start: datetime,
    met: datetime | None,
    stopped: datetime | None,
    segments: list[PauseSegment],
    now: datetime,
) -> ClockState:
    calendar = policy.calendar_for(clause)
    budget = policy.minutes_for(clause) * 60
    end = met or stopped or now
    # Pauses inside the clock's life, clipped to [start, end].
    mine = [s for s in segments if (s.end is None or s.end > start) and s.start <= end]
    clipped = [(max(s.start, start), min(s.end or end, end)) for s in mine]
    clipped = [(a, b) for a, b in clipped if b > a]
    paused = sum(business_seconds_between(calendar, a, b) for a, b in clipped)
    due = _deadline(calendar, start, budget, clipped)
    first, second = policy.warn_fractions()
    warn_due = (
        _deadline(calendar, start, budget * first, clipped),
        _deadline(calendar, start, budget * second, clipped),
    )
    elapsed = business_seconds_between(calendar, start, end) - paused
    ongoing = next((s for s in mine if s.end is None), None)
    return ClockState(
        clause=clause,
        budget_seconds=budget,
        started_at=start,
        due_at=due,
        warn_due=warn_due,
        met_at=met,
        stopped_at=stopped,
        paused_since=ongoing.start
        if ongoing is not None and met is None and stopped is None
        else None,
        breached=end > due,
        paused_seconds=round(paused),
        remaining_seconds=round(budget - elapsed),
        elapsed_fraction=elapsed / budget if budget else 1.0,
        pauses=tuple(mine),
    )


def compute_clocks(
    ticket: Any, events: Iterable[Any], policy: Any, now: datetime
) -> list[ClockState]:
    """Every clock of ``ticket`` as of ``now``, from its ledger ``events`` and frozen ``policy``."""
    ordered = sorted(events, key=lambda e: e.at)
    segments = pause_segments(ordered)
    restart = bool(policy.reopen_restarts_clock)
    start = ticket.reported_at
    clocks: list[ClockState] = []

    if ticket.category == Category.FAULT:
        if current_severity(ticket, ordered) == Severity.OUTAGE:
            clause, is_met = Clause.RESTORE, (lambda e: e.kind == EventKind.RESOLVED)
        else:
            clause, is_met = Clause.RESPOND, _is_structured_response
    else:
        clause, is_met = Clause.CONSULT_RESPONSE, _is_staff_public_reply
    began, met, stopped = _window(ordered, start, is_met, restart)
    clocks.append(_clock(clause, policy, began, met, stopped, segments, now))

    on_site = _on_site_start(ordered)
    if on_site is not None:
        began, met, stopped = _window(
            ordered, on_site, lambda e: e.kind == EventKind.ON_SITE_ARRIVED, False
        )
        clocks.append(_clock(Clause.ON_SITE, policy, began, met, stopped, segments, now))
    return clocks
