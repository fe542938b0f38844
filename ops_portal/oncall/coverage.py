"""The coverage check: every hour of the next 14 days must have a primary on call.

An hour is a gap when any instant of it (from now on) has no primary after the precedence rules
(an inactive user's shift counts as nobody). Consecutive gap hours form one gap; the ops manager
hears about each gap once. The claim is the insert of its :class:`CoverageGap` row under a
partial unique constraint (one open gap per start), committed together with the notification:
re-runs and a second scheduler find the row (or hit the constraint) and stay silent. Hours that
join a known gap extend it silently; a gap that disappears is marked resolved, so if it comes
back later it is announced again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ops_portal.choices import ShiftRole
from ops_portal.models import CoverageGap
from ops_portal.oncall import events, rosters
from ops_portal.oncall.timeline import (
    active_shifts,
    effective_segments,
    floor_hour,
    runs,
    uncovered_hours,
)
from qc_core.accounts.choices import Role
from qc_core.notify.services import notify
from qc_core.system import clock

WINDOW = timedelta(days=rosters.COVERAGE_DAYS)


@dataclass
class CoverageReport:
    """What one check found: the gap hours and runs, and which gaps it announced."""

    window_start: datetime
    window_end: datetime
    hours: list[datetime]
    runs: list[tuple[datetime, datetime]]
    announced: list[CoverageGap] = field(default_factory=list)
    resolved: int = 0
    shifts_created: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "gap_hours": len(self.hours),
            "gaps": [[a.isoformat(), b.isoformat()] for a, b in self.runs],
            "announced": len(self.announced),
            "resolved": self.resolved,
            "shifts_created": self.shifts_created,
        }


def window(now: datetime) -> tuple[datetime, datetime]:
    start = floor_hour(now)
    return start, start + WINDOW


def find_gaps(
    now: datetime | None = None,
) -> tuple[list[datetime], list[tuple[datetime, datetime]]]:
    """(gap hour starts, gap runs) for the primary role over the next 14 days (one query)."""
    now = now or clock.now()
    start, end = window(now)
    segments = effective_segments(active_shifts(ShiftRole.PRIMARY, start, end), start, end)
    hours = uncovered_hours(segments, start, end, since=now)
    return hours, runs(hours)


def run_coverage_check(now: datetime | None = None, *, extend: bool = True) -> CoverageReport:
    """Extend the rosters (unless ``extend`` is False), find the gaps and announce new ones."""
    now = now or clock.now()
    created = rosters.extend_all(now).created if extend else 0
    hours, gap_runs = find_gaps(now)
    start, end = window(now)
    report = CoverageReport(start, end, hours, gap_runs, shifts_created=created)
    known = list(CoverageGap.objects.filter(role=ShiftRole.PRIMARY, resolved_at__isnull=True))
    touched: set[int] = set()
    for run_start, run_end in gap_runs:
        near = [g for g in known if g.start <= run_end and g.end >= run_start]
        if near:
            for gap in near:
                touched.add(gap.pk)
                if run_end > gap.end:
                    CoverageGap.objects.filter(pk=gap.pk, end__lt=run_end).update(end=run_end)
            continue
        claimed = _claim(run_start, run_end, now)
        if claimed is not None:
            report.announced.append(claimed)
    gone = [g.pk for g in known if g.pk not in touched]
    if gone:
        report.resolved = CoverageGap.objects.filter(pk__in=gone, resolved_at__isnull=True).update(
            resolved_at=now
        )
    return report


def _claim(start: datetime, end: datetime, now: datetime) -> CoverageGap | None:
    """Insert the gap and notify the ops manager in one transaction; None if already claimed."""
    try:
        with transaction.atomic():
            gap = CoverageGap.objects.create(
                role=ShiftRole.PRIMARY, start=start, end=end, found_at=now, notified_at=now
            )
            notify(
                events.COVERAGE_GAP,
                [Role.OPS_MANAGER],
                {
                    "start": _local(start),
                    "end": _local(end),
                    "hours": int((end - start).total_seconds() // 3600),
                },
                url=events.page_url(),
            )
    except IntegrityError:
        return None  # another run found this gap first and announced it
    return gap


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
