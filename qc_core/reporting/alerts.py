"""Reporting-progress alerts through the notify service.

Steps, for every active data set and every recent period, relative to the window's due date
(dates in Asia/Shanghai; a step becomes due at 00:00 of its day and the scheduled pass runs at
09:00):

- reminders 7, 3 and 1 day before the due date to the reporters of units that have not
  submitted — only the most recent reminder that has come due is sent (after a scheduler outage
  the older ones are superseded, never sent late in a burst);
- a late notice the day after the due date to the unit's reporters and its sub-center;
- an escalation to the center 7 days after the due date, listing the units still missing;
- a weekly digest of the open windows to center admins (:func:`send_digest`).

Late notices and escalations missed by more than :data:`CATCH_UP` are dropped. Units that have
submitted (see :mod:`qc_core.reporting.progress`) and units whose membership has ended get
nothing. Every alert is claimed in :class:`~qc_core.reporting.models_alerts.AlertLog` (unique per
unit, data set, period and step) in the transaction that notifies, before notifying: a second
scheduler running the same pass skips what the first claimed, and a failed notification rolls its
claim back so the next pass retries it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qc_core.accounts.choices import Role
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import LOCAL_TZ, Period, Window, local_date, window_for
from qc_core.notify.events import register_event
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.choices import AlertStep
from qc_core.reporting.models_alerts import AlertLog
from qc_core.reporting.progress import Progress, UnitProgress, compute_progress
from qc_core.system import clock

logger = logging.getLogger(__name__)

REMINDER_DAYS = {AlertStep.REMIND_7: 7, AlertStep.REMIND_3: 3, AlertStep.REMIND_1: 1}
LATE_AFTER_DAYS = 1
ESCALATE_AFTER_DAYS = 7
# A late notice or escalation the scheduler missed is still sent within this delay.
CATCH_UP = timedelta(days=7)

EVENT_REMINDER = "reporting.reminder"
EVENT_LATE = "reporting.late"
EVENT_ESCALATION = "reporting.escalation"
EVENT_DIGEST = "reporting.digest"

# (event, recipients) per step; the body template is notify/events/<event>.txt.
STEP_EVENTS: dict[str, tuple[str, list[str]]] = {
    AlertStep.REMIND_7: (EVENT_REMINDER, [Role.UNIT_REPORTER]),
    AlertStep.REMIND_3: (EVENT_REMINDER, [Role.UNIT_REPORTER]),
    AlertStep.REMIND_1: (EVENT_REMINDER, [Role.UNIT_REPORTER]),
    AlertStep.LATE: (EVENT_LATE, [Role.UNIT_REPORTER, Role.SUBCENTER_ADMIN]),
    AlertStep.ESCALATE: (EVENT_ESCALATION, [Role.CENTER_ADMIN]),
    AlertStep.DIGEST: (EVENT_DIGEST, [Role.CENTER_ADMIN]),
}


def register_alert_events() -> None:
    """Register the alert events with the notify service (called from the app's ready())."""
    register_event(
        EVENT_REMINDER,
        title=_("质控上报截止提醒"),
        subject=_("{{ dataset }}（{{ period_label }}）将于 {{ due }} 截止上报"),
    )
    register_event(
        EVENT_LATE,
        title=_("质控数据逾期未报"),
        subject=_("{{ unit }} 的 {{ dataset }}（{{ period_label }}）已逾期未报"),
    )
    register_event(
        EVENT_ESCALATION,
        title=_("质控数据逾期 7 天未报"),
        subject=_(
            "{{ dataset }}（{{ period_label }}）有 {{ count }} 家单位逾期 {{ days }} 天仍未上报"
        ),
    )
    register_event(
        EVENT_DIGEST,
        title=_("质控上报进度周报"),
        subject=_("{{ dataset }}（{{ period_label }}）上报进度：{{ submitted }}/{{ expected }}"),
    )


# --- when -----------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def due_steps(window: Window, now: datetime) -> list[str]:
    """The alert steps that are due at ``now`` for a period's window (digest aside)."""
    if now < window.opens_at:
        return []
    due = window.due_date
    if now <= window.due_at:
        current = None
        for step, days in sorted(REMINDER_DAYS.items(), key=lambda item: -item[1]):
            if now >= _day_start(due - timedelta(days=days)):
                current = step
        return [current] if current else []
    steps: list[str] = []
    for step, days in (
        (AlertStep.LATE, LATE_AFTER_DAYS),
        (AlertStep.ESCALATE, ESCALATE_AFTER_DAYS),
    ):
        start = _day_start(due + timedelta(days=days))
        if start <= now < start + CATCH_UP:
            steps.append(step)
    return steps


def recent_periods(dataset: DataSet, now: datetime) -> list[Period]:
    """Periods whose alerts or open window may still matter at ``now``, most recent first."""
    horizon = ESCALATE_AFTER_DAYS + CATCH_UP.days
    today = local_date(now)
    periods = []
    period = Period.last_ended(dataset.period_type, now)
    for _i in range(24):
        last_day = period.end + timedelta(days=max(dataset.due_days + horizon, dataset.lock_days))
        if last_day < today:
            break
        periods.append(period)
        period = period.previous()
    return periods


# --- claiming and sending -----------------------------------------------------------------


def _claim(
    unit_id: int, dataset: DataSet, period: str, step: str, occurrence: str = ""
) -> AlertLog | None:
    """Insert the alert's log row; ``None`` when another pass already holds it."""
    try:
        with transaction.atomic():
            return AlertLog.objects.create(
                org_unit_id=unit_id, dataset=dataset, period=period, step=step,
                occurrence=occurrence, claimed_at=clock.now(),
            )  # fmt: skip
    except IntegrityError:
        return None


def _send(
    unit_ids: list[int],
    step: str,
    progress: Progress,
    recipients: list[Any],
    context: dict[str, Any],
    *,
    occurrence: str = "",
    org_unit: Any = None,
) -> tuple[str, int]:
    """Claim the alert for ``unit_ids`` and notify once for those claimed, in one transaction.
    Returns ``("sent" | "skipped" | "failed", number of units claimed)``."""
    dataset, period = progress.dataset, str(progress.period)
    event = STEP_EVENTS[step][0]
    try:
        with transaction.atomic():
            logs = [
                log for uid in unit_ids if (log := _claim(uid, dataset, period, step, occurrence))
            ]
            if not logs:
                return "skipped", 0
            if "units" in context:
                # Only the units this pass claimed (another pass may hold some already).
                claimed = {log.org_unit_id for log in logs}
                context = {**context, "units": [u for u in context["units"] if u["id"] in claimed]}
                context["count"] = len(context["units"])
            notes = _notify(event, recipients, context, org_unit=org_unit,
                            url=progress_url(dataset, period))  # fmt: skip
            AlertLog.objects.filter(pk__in=[log.pk for log in logs]).update(
                recipients=len(notes), detail=_summary(context)
            )
            return "sent", len(logs)
    except Exception:
        # The claim is rolled back with the failed notification: the next pass retries it.
        logger.exception("progress alert %s for %s %s failed", step, dataset.code, period)
        return "failed", 0


def _notify(
    event: str, recipients: list[Any], context: dict[str, Any], *, org_unit: Any, url: str
) -> list[Any]:
    from qc_core.notify.services import notify

    return notify(event, recipients, context, url=url, org_unit=org_unit)


def _summary(context: dict[str, Any]) -> dict[str, Any]:
    keep = ("unit_code", "days_left", "days", "count", "expected", "submitted")
    return {k: context[k] for k in keep if k in context}


# --- context ----------------------------------------------------------------------------------


def progress_url(dataset: DataSet, period: Period | str) -> str:
    query = urlencode({"dataset": dataset.code, "period": str(period)})
    return f"{reverse('reporting:progress')}?{query}"


def _base_context(progress: Progress) -> dict[str, Any]:
    window = progress.window
    return {
        "dataset": progress.dataset.name,
        "dataset_code": progress.dataset.code,
        "period": str(progress.period),
        "period_label": progress.period.label,
        "due": f"{window.due_at:%Y-%m-%d}",
        "lock": f"{window.lock_at:%Y-%m-%d}",
    }


def _unit_context(
    base: dict[str, Any], unit: UnitProgress, now: datetime, window: Window
) -> dict[str, Any]:
    return {
        **base,
        "unit": unit.name,
        "unit_code": unit.code,
        "days_left": max((window.due_date - local_date(now)).days, 0),
        "days_overdue": max((local_date(now) - window.due_date).days, 0),
    }


def _current_members(units: list[UnitProgress], now: datetime) -> dict[int, OrgUnit]:
    """The org units among ``units`` whose membership has not ended by ``now`` (units that left
    still owe the period in the progress figures, but are not chased)."""
    if not units:
        return {}
    return (
        OrgUnit.objects.members()
        .filter(
            Q(member_until__isnull=True) | Q(member_until__gte=local_date(now)),
            pk__in=[u.id for u in units],
        )
        .in_bulk()
    )


# --- the passes -------------------------------------------------------------------------------


def run_alerts(now: datetime | None = None) -> dict[str, int]:
    """One alert pass: send every due reminder, late notice and escalation not sent yet.
    Returns the number of units alerted per step, plus ``skipped`` (already sent by another
    pass) and ``failed`` (retried by the next pass)."""
    now = now or clock.now()
    counts: Counter[str] = Counter()
    for dataset in DataSet.objects.filter(is_active=True).order_by("code"):
        for period in recent_periods(dataset, now):
            steps = due_steps(window_for(dataset, period), now)
            if not steps:
                continue
            progress = compute_progress(dataset, period, now=now)
            members = _current_members(progress.missing_units, now)
            targets = [u for u in progress.missing_units if u.id in members]
            for step in steps:
                counts.update(_run_step(step, progress, targets, members, now))
    return dict(counts)


def _run_step(
    step: str,
    progress: Progress,
    targets: list[UnitProgress],
    members: dict[int, OrgUnit],
    now: datetime,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not targets:
        return counts
    base = _base_context(progress)
    recipients = STEP_EVENTS[step][1]
    if step == AlertStep.ESCALATE:
        context = {
            **base,
            "days": ESCALATE_AFTER_DAYS,
            "units": [{"id": u.id, "code": u.code, "name": u.name,
                       "prefecture": _group_name(progress, u)} for u in targets],
        }  # fmt: skip
        outcome, claimed = _send([u.id for u in targets], step, progress, recipients, context)
        if outcome == "failed":
            counts["failed"] += len(targets)
        else:
            counts[step] += claimed
            counts["skipped"] += len(targets) - claimed
        return counts
    for unit in targets:
        context = _unit_context(base, unit, now, progress.window)
        outcome, _claimed = _send([unit.id], step, progress, recipients, context,
                                  org_unit=members[unit.id])  # fmt: skip
        counts[step if outcome == "sent" else outcome] += 1
    return counts


def _group_name(progress: Progress, unit: UnitProgress) -> str:
    for group in progress.groups:
        if group.code == unit.prefecture:
            return group.name
    return ""


def iso_week(now: datetime) -> str:
    year, week, _day = local_date(now).isocalendar()
    return f"{year}-W{week:02d}"


def send_digest(now: datetime | None = None) -> dict[str, int]:
    """Send the weekly progress digest of every open window to center admins, once per ISO week
    (claimed on the province unit). Returns ``{"digest": n, "skipped": n, "failed": n}``."""
    now = now or clock.now()
    counts: Counter[str] = Counter()
    province = OrgUnit.objects.filter(level=Level.PROVINCE).order_by("path").first()
    if province is None:
        return {}
    week = iso_week(now)
    for dataset in DataSet.objects.filter(is_active=True).order_by("code"):
        for period in recent_periods(dataset, now):
            if not window_for(dataset, period).is_open(now):
                continue
            progress = compute_progress(dataset, period, now=now)
            context = {
                **_base_context(progress),
                "week": week,
                "expected": progress.total.expected,
                "submitted": progress.total.submitted,
                "approved": progress.total.approved,
                "on_time": progress.total.submitted_on_time,
                "late": progress.total.late,
                "missing": progress.total.missing,
                "reporting_rate": _pct(progress.total.reporting_rate),
                "on_time_rate": _pct(progress.total.on_time_rate),
                "past_due": progress.is_due,
                "groups": [
                    {"name": g.name, "expected": g.tally.expected, "submitted": g.tally.submitted,
                     "missing": g.tally.missing, "rate": _pct(g.tally.reporting_rate)}
                    for g in progress.groups
                ],
            }  # fmt: skip
            outcome, _claimed = _send(
                [province.pk],
                AlertStep.DIGEST,
                progress,
                [Role.CENTER_ADMIN],
                context,
                occurrence=week,
            )
            counts["digest" if outcome == "sent" else outcome] += 1
    return dict(counts)


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


__all__ = ["due_steps", "recent_periods", "register_alert_events", "run_alerts", "send_digest"]
