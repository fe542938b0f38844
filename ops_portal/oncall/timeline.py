"""Resolving shifts into who is effectively on call, at one instant or over a window.

``winning_shift`` (one query) and ``effective_segments`` (pure, over loaded shifts) apply the same
rule, so the on-call page, the coverage check and escalation always agree: among the shifts of a
role covering an instant whose user is active, the highest layer wins, then the latest start,
then the latest row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When

from ops_portal.choices import ShiftRole
from ops_portal.oncall.choices import LAYER

HOUR = timedelta(hours=1)


def layer_expression() -> Case:
    """The precedence layer of a shift as an SQL expression (for ``order_by``)."""
    return Case(
        *[When(source=source, then=Value(layer)) for source, layer in LAYER.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def rank(shift: Any) -> tuple[int, datetime, int]:
    """Sort key: the greatest rank wins (same order as ``winning_shift``'s query)."""
    return (LAYER.get(shift.source, 0), shift.start, shift.pk or 0)


def active_shifts(role: str | None, start: datetime, end: datetime) -> QuerySet[Any]:
    """Shifts overlapping [start, end) whose user is active (an inactive user is nobody)."""
    from ops_portal.models import Shift

    qs = Shift.objects.filter(start__lt=end, end__gt=start, user__is_active=True)
    if role is not None:
        qs = qs.filter(role=ShiftRole(role))
    return qs.select_related("user")


def winning_shift(role: str, at: datetime) -> Any | None:
    """The shift that decides who holds ``role`` at ``at`` (None: nobody)."""
    from ops_portal.models import Shift

    return (
        Shift.objects.filter(role=ShiftRole(role), start__lte=at, end__gt=at, user__is_active=True)
        .select_related("user")
        .order_by(layer_expression().desc(), "-start", "-id")
        .first()
    )


@dataclass(frozen=True)
class Segment:
    """[start, end) held by ``shift`` (None: nobody on call)."""

    start: datetime
    end: datetime
    shift: Any | None

    @property
    def user(self) -> Any | None:
        return self.shift.user if self.shift is not None else None

    @property
    def is_gap(self) -> bool:
        return self.shift is None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def effective_segments(shifts: Iterable[Any], start: datetime, end: datetime) -> list[Segment]:
    """Cut [start, end) into maximal segments each held by one winning shift (or by nobody).

    ``shifts`` are one role's shifts with active users (other shifts are the caller's mistake).
    """
    relevant = [s for s in shifts if s.start < end and s.end > start]
    points = sorted({start, end, *(s.start for s in relevant), *(s.end for s in relevant)})
    points = [p for p in points if start <= p <= end]
    segments: list[Segment] = []
    for a, b in zip(points, points[1:], strict=False):
        covering = [s for s in relevant if s.start <= a and s.end >= b]
        winner = max(covering, key=rank) if covering else None
        if segments and segments[-1].shift is winner:
            segments[-1] = Segment(segments[-1].start, b, winner)
        else:
            segments.append(Segment(a, b, winner))
    return segments


def timeline(start: datetime, end: datetime) -> dict[str, list[Segment]]:
    """Effective segments of both roles over [start, end) (one query)."""
    by_role: dict[str, list[Any]] = {role: [] for role in ShiftRole.values}
    for shift in active_shifts(None, start, end):
        by_role[shift.role].append(shift)
    return {role: effective_segments(rows, start, end) for role, rows in by_role.items()}


def floor_hour(moment: datetime) -> datetime:
    """The start of the hour containing ``moment`` (Beijing time has whole-hour offsets)."""
    return moment.replace(minute=0, second=0, microsecond=0)


def uncovered_hours(
    segments: Sequence[Segment], start: datetime, end: datetime, *, since: datetime
) -> list[datetime]:
    """Starts of the hours in [floor_hour(start), end) that contain an instant at or after
    ``since`` with nobody on call."""
    hours: list[datetime] = []
    gaps = [(max(s.start, since), s.end) for s in segments if s.is_gap and s.end > since]
    hour = floor_hour(start)
    while hour < end:
        nxt = hour + HOUR
        if any(a < nxt and b > max(hour, since) for a, b in gaps):
            hours.append(hour)
        hour = nxt
    return hours


def runs(hours: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """Consecutive hour starts grouped into [start, end) runs."""
    result: list[tuple[datetime, datetime]] = []
    for hour in sorted(hours):
        if result and result[-1][1] == hour:
            result[-1] = (result[-1][0], hour + HOUR)
        else:
            result.append((hour, hour + HOUR))
    return result
