"""The data behind the on-call page: who is on call now, the next 14 days day by day (gaps
marked), and the gaps found so far. Built from one shift query plus one gap query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from ops_portal.choices import ShiftRole
from ops_portal.models import CoverageGap
from ops_portal.oncall.coverage import window
from ops_portal.oncall.timeline import Segment, runs, timeline, uncovered_hours


@dataclass(frozen=True)
class Piece:
    """Part of one local day held by one person (or by nobody)."""

    start: datetime
    end: datetime
    segment: Segment

    @property
    def user(self) -> Any | None:
        return self.segment.user

    @property
    def is_gap(self) -> bool:
        return self.segment.is_gap

    @property
    def source(self) -> str:
        return self.segment.shift.source if self.segment.shift is not None else ""

    @property
    def source_label(self) -> str:
        return self.segment.shift.get_source_display() if self.segment.shift is not None else ""

    @property
    def end_label(self) -> str:
        """``HH:MM``; midnight closing the day reads 24:00."""
        return "24:00" if self.end.date() != self.start.date() else self.end.strftime("%H:%M")


@dataclass
class DayRow:
    day: date
    primary: list[Piece] = field(default_factory=list)
    secondary: list[Piece] = field(default_factory=list)

    @property
    def has_gap(self) -> bool:
        return any(p.is_gap for p in self.primary)


@dataclass
class Holder:
    role: str
    label: str
    segment: Segment | None

    @property
    def user(self) -> Any | None:
        return self.segment.user if self.segment is not None else None

    @property
    def until(self) -> datetime | None:
        return (
            timezone.localtime(self.segment.end) if self.segment is not None and self.user else None
        )


@dataclass
class GapView:
    start: datetime
    end: datetime
    hours: int
    notified_at: datetime | None


@dataclass
class Board:
    now: datetime
    start: datetime
    end: datetime
    holders: list[Holder]
    days: list[DayRow]
    gaps: list[GapView]

    @property
    def gap_hours(self) -> int:
        return sum(g.hours for g in self.gaps)


def _holder(role: str, segments: list[Segment], now: datetime) -> Holder:
    here = next((s for s in segments if s.start <= now < s.end), None)
    return Holder(role, str(ShiftRole(role).label), here)


def _pieces(segments: list[Segment], day_start: datetime, day_end: datetime) -> list[Piece]:
    pieces = []
    for segment in segments:
        a, b = max(segment.start, day_start), min(segment.end, day_end)
        if a < b:
            pieces.append(Piece(timezone.localtime(a), timezone.localtime(b), segment))
    return pieces


def build(now: datetime) -> Board:
    """The board from the hour containing ``now`` to 14 days later."""
    start, end = window(now)
    by_role = timeline(start, end)
    zone = timezone.get_current_timezone()
    days: list[DayRow] = []
    day = timezone.localtime(start).date()
    while True:
        day_start = max(datetime.combine(day, datetime.min.time(), tzinfo=zone), start)
        if day_start >= end:
            break
        day_end = min(
            datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone), end
        )
        days.append(
            DayRow(
                day,
                primary=_pieces(by_role[ShiftRole.PRIMARY], day_start, day_end),
                secondary=_pieces(by_role[ShiftRole.SECONDARY], day_start, day_end),
            )
        )
        day += timedelta(days=1)
    hours = uncovered_hours(by_role[ShiftRole.PRIMARY], start, end, since=now)
    open_gaps = list(CoverageGap.objects.filter(role=ShiftRole.PRIMARY, resolved_at__isnull=True))
    gaps = []
    for a, b in runs(hours):
        notice = next((g for g in open_gaps if g.start <= b and g.end >= a), None)
        gaps.append(
            GapView(
                timezone.localtime(a),
                timezone.localtime(b),
                int((b - a).total_seconds() // 3600),
                notice.notified_at if notice else None,
            )
        )
    holders = [_holder(role, by_role[role], now) for role in ShiftRole.values]
    return Board(now, start, end, holders, days, gaps)
