"""Demo reporting history for the demo institutions (``seed_demo_reporting``).

A fresh platform shows nothing but "未填报"; this fills the recent periods of the default forms
(GER-Q quarterly, OPS-M monthly) for the demo institutions (``OrgUnit.is_demo``) so each role
sees a living system:

- plausible values per indicator (ward size by hospital level, rates inside realistic ranges,
  numerators consistent with their denominators and with the cross-indicator rules), a few
  units with a trend, and deliberate outliers carrying the reporter's justification;
- locked periods mostly approved (some submitted late, a few returned and resubmitted);
- the open entry window(s) a realistic mix: about 60 % submitted on time, 15 % late, a few
  drafts (the first demo institution, reporter01's, always has one), the rest missing.

Everything is deterministic: every random draw is seeded by unit code, form and period, so a
re-run plans the same data; it creates only the forms that do not exist yet and never touches
a form a user has started, nor any non-demo unit. Past periods are locked (the services refuse
writes), so rows are bulk-inserted as they would have been left by the workflow — submissions,
values tied to the indicator version in force, review events with snapshots — and the run
leaves one summary audit entry instead of one per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from django.db import transaction

from qc_core.accounts.choices import Role
from qc_core.accounts.models import RoleAssignment, User
from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.indicators.models import DataSet, IndicatorVersion
from qc_core.indicators.periods import LOCAL_TZ, Period
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.choices import REPORTED_STATUSES, ReviewAction, SubmissionStatus
from qc_core.reporting.demo_plan import PeriodPlan, Timeline, plan, timeline
from qc_core.reporting.demo_values import (
    Values,
    conform,
    plan_mistake,
    profile_of,
    settle,
    values_for,
)
from qc_core.reporting.models import DataValue, ReviewEvent, Submission, ValueChange
from qc_core.system import clock

DEMO_REPR = "演示上报数据"
DATASETS = ("GER-Q", "OPS-M")
DEFAULT_QUARTERS = 5
DEFAULT_MONTHS = 12
H = timedelta(hours=1)
D = timedelta(days=1)


class NotDemoUnit(ValueError):
    """A unit code that is not a demo institution was asked for."""


@dataclass
class SeedResult:
    """What a run did (counts for the command's summary)."""

    units: int = 0
    submissions: int = 0
    values: int = 0
    events: int = 0
    skipped: int = 0
    plans: list[PeriodPlan] = field(default_factory=list)


# --- the demo units ---------------------------------------------------------------------------


def demo_units(codes: Iterable[str] | None = None) -> list[OrgUnit]:
    """The demo member institutions (all of them, or those of ``codes``); raises
    :class:`NotDemoUnit` naming any code that is not a demo institution."""
    qs = OrgUnit.objects.members().filter(is_demo=True).order_by("code")
    if not codes:
        return list(qs)
    wanted = sorted(set(codes))
    found = {u.code: u for u in qs.filter(code__in=wanted)}
    refused = [c for c in wanted if c not in found]
    if refused:
        raise NotDemoUnit(
            "not a demo member institution, refusing to write demo data: " + ", ".join(refused)
        )
    return [found[c] for c in wanted]


# --- rows ----------------------------------------------------------------------------------------


@dataclass
class Context:
    """What building rows needs, loaded once per run."""

    now: datetime
    reporters: dict[int, User]
    reviewer: User | None
    versions: dict[int, list[IndicatorVersion]]  # indicator id → versions, oldest first
    items: dict[int, list[tuple[Any, IndicatorVersion]]]  # dataset id → (item, current version)


def version_at(versions: list[IndicatorVersion], when: datetime) -> IndicatorVersion:
    """The version in force on ``when``'s date (the oldest one before the library existed)."""
    day = when.astimezone(LOCAL_TZ).date()
    for version in reversed(versions):
        if version.effective_from <= day:
            return version
    return versions[0]


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _snapshot(values: Values, versions: dict[str, IndicatorVersion]) -> dict[str, Any]:
    return {
        code: {
            "numerator": _plain(num),
            "denominator": _plain(den),
            "comment": "",
            "justification": why,
            "version": versions[code].version,
        }
        for code, (num, den, why) in values.items()
    }


@dataclass
class Rows:
    submissions: list[Submission] = field(default_factory=list)
    values: list[list[DataValue]] = field(default_factory=list)
    events: list[list[ReviewEvent]] = field(default_factory=list)
    corrections: list[tuple[int, Values]] = field(default_factory=list)


def build_rows(
    rows: Rows,
    unit: OrgUnit,
    plan_: PeriodPlan,
    line: Timeline,
    final: Values,
    ctx: Context,
    rng: Random,
) -> None:
    """Append one form's submission, values and review events (unsaved) to ``rows``."""
    dataset = plan_.dataset
    reporter = ctx.reporters.get(unit.pk)
    submitted = line.first(ReviewAction.SUBMIT)
    versions = {
        item.indicator.code: version_at(
            ctx.versions[item.indicator_id], submitted or line.created_at
        )
        for item, _current in ctx.items[dataset.pk]
    }
    mistake = plan_mistake(dataset.code, final, rng) if line.first(ReviewAction.RETURN) else None
    resubmitted = line.first(ReviewAction.RESUBMIT)
    current = final if mistake is None or resubmitted else {**final, **mistake.values}
    source = profile_of(unit).source
    entered = line.created_at + (timedelta(0) if submitted else (ctx.now - line.created_at) / 3)
    last_change = resubmitted - H if resubmitted else entered
    reopened = None
    returned_at = line.last(ReviewAction.RETURN)
    if returned_at and not resubmitted and plan_.window.lock_at < returned_at + 7 * D:
        reopened = returned_at + 7 * D
    status = line.status
    sub = Submission(
        org_unit=unit,
        dataset=dataset,
        period=str(plan_.period),
        status=status,
        first_submitted_at=submitted,
        last_submitted_at=line.last(ReviewAction.SUBMIT, ReviewAction.RESUBMIT),
        approved_at=line.last(ReviewAction.APPROVE),
        approved_by=ctx.reviewer if status == SubmissionStatus.APPROVED else None,
        returned_at=returned_at,
        reopened_until=reopened,
        row_version=1 + (1 if resubmitted else 0) + rng.randint(0, 2),
        created_at=line.created_at,
        updated_at=line.events[-1][1] if line.events else entered,
    )
    value_rows = [
        DataValue(
            submission=sub,
            indicator_id=versions[code].indicator_id,
            indicator_version=versions[code],
            numerator=num,
            denominator=den,
            justification=why,
            updated_by=reporter,
            updated_at=last_change if mistake and code in mistake.values else entered,
            source=source,
        )
        for code, (num, den, why) in current.items()
    ]
    event_rows = []
    for action, at in line.events:
        after_fix = resubmitted is not None and at >= resubmitted
        shown = final if mistake is None or after_fix else {**final, **mistake.values}
        by_reviewer = action in (ReviewAction.APPROVE, ReviewAction.RETURN)
        event_rows.append(
            ReviewEvent(
                submission=sub,
                action=action,
                actor=ctx.reviewer if by_reviewer else reporter,
                at=at,
                reason=mistake.reason if action == ReviewAction.RETURN and mistake else "",
                items=mistake.items if action == ReviewAction.RETURN and mistake else [],
                snapshot=_snapshot(shown, versions),
            )
        )
    rows.submissions.append(sub)
    rows.values.append(value_rows)
    rows.events.append(event_rows)
    if mistake is not None and resubmitted is not None:
        rows.corrections.append((len(rows.submissions) - 1, mistake.values))


def _save(rows: Rows) -> tuple[int, int]:
    """Bulk-insert the rows (no signals: the run's one audit entry summarizes them)."""
    Submission.objects.bulk_create(rows.submissions, batch_size=500)
    values: list[DataValue] = []
    events: list[ReviewEvent] = []
    for sub, value_rows, event_rows in zip(rows.submissions, rows.values, rows.events, strict=True):
        for row in value_rows:
            row.submission = sub
        for event in event_rows:
            event.submission = sub
        values += value_rows
        events += event_rows
    DataValue.objects.bulk_create(values, batch_size=1000)
    ReviewEvent.objects.bulk_create(events, batch_size=500)
    changes = []
    for index, wrong in rows.corrections:
        sub = rows.submissions[index]
        fixed_at = (sub.last_submitted_at or sub.updated_at) - H
        for value in rows.values[index]:
            code = value.indicator_version.indicator.code
            if code in wrong:
                old_num, old_den, _why = wrong[code]
                changes.append(
                    ValueChange(
                        value=value,
                        submission=sub,
                        changed_by=value.updated_by,
                        changed_at=fixed_at,
                        old_numerator=old_num,
                        new_numerator=value.numerator,
                        old_denominator=old_den,
                        new_denominator=value.denominator,
                        source=value.source,
                    )
                )
    ValueChange.objects.bulk_create(changes)
    return len(values), len(events)


# --- the run -------------------------------------------------------------------------------------


def _context(datasets: list[DataSet], units: list[OrgUnit], now: datetime) -> Context:
    reporters: dict[int, User] = {}
    for assignment in (
        RoleAssignment.objects.filter(role=Role.UNIT_REPORTER, org_unit__in=units)
        .select_related("user")
        .order_by("id")
    ):
        reporters.setdefault(assignment.org_unit_id, assignment.user)  # type: ignore[arg-type]
    reviewer = User.objects.filter(username="center_admin", is_demo=True).first()
    items = {ds.pk: dataset_versions(ds) for ds in datasets}
    ids = {item.indicator_id for pairs in items.values() for item, _v in pairs}
    versions: dict[int, list[IndicatorVersion]] = {}
    for version in (
        IndicatorVersion.objects.filter(indicator_id__in=ids)
        .select_related("indicator")
        .order_by("version")
    ):
        versions.setdefault(version.indicator_id, []).append(version)
    return Context(now, reporters, reviewer, versions, items)


Key = tuple[str, str, str]  # (unit code, form code, period)


def generate(
    plans: list[PeriodPlan], lines: dict[Key, Timeline], units: list[OrgUnit], ctx: Context
) -> dict[Key, Values]:
    """Final values of every form that was started (reported ones in full, drafts in part),
    justified where the platform's statistical checks would warn — as the reporter had to
    before submitting."""
    by_code = {u.code: u for u in units}
    forms: dict[Key, Values] = {}
    reported: set[Key] = set()
    periods: dict[str, list[Period]] = {}
    for p in plans:
        periods.setdefault(p.dataset.code, []).append(p.period)
    for p in plans:
        offset = sorted(periods[p.dataset.code], reverse=True).index(p.period)
        pairs = ctx.items[p.dataset.pk]
        for code in p.fates:
            key = (code, p.dataset.code, str(p.period))
            line = lines.get(key)
            if line is None:
                continue
            drawn = values_for(profile_of(by_code[code]), p.dataset.code, p.period, offset=offset)
            values = conform(drawn, pairs, "|".join(key))
            if not line.events:
                rng = Random(f"{'|'.join(key)}|draft")
                keep = max(1, round(len(values) * rng.uniform(0.35, 0.8)))
                values = dict(list(values.items())[:keep])
            elif line.status in REPORTED_STATUSES:
                reported.add(key)
            forms[key] = values
    versions = {
        p.dataset.code: {item.indicator.code: v for item, v in ctx.items[p.dataset.pk]}
        for p in plans
    }
    factors = {p.dataset.code: float(p.dataset.jump_factor) for p in plans}
    levels = {u.code: u.hospital_level for u in units}
    settle(forms, reported, periods, levels, versions, factors)
    return forms


def seed_reporting(
    *,
    quarters: int = DEFAULT_QUARTERS,
    months: int = DEFAULT_MONTHS,
    unit_codes: Iterable[str] | None = None,
    now: datetime | None = None,
) -> SeedResult:
    """Create the demo reporting history that is missing (see the module docstring)."""
    now = now or clock.now()
    units = demo_units(unit_codes)
    datasets = list(DataSet.objects.filter(code__in=DATASETS, is_active=True).order_by("code"))
    result = SeedResult(units=len(units))
    if not units or not datasets:
        return result
    plans = plan(datasets, units, quarters, months, now)
    result.plans = plans
    lines: dict[Key, Timeline] = {}
    for p in plans:
        for code, fate in p.fates.items():
            key = (code, p.dataset.code, str(p.period))
            line = timeline(fate, p.window, now, Random(f"{'|'.join(key)}|timeline"))
            if line is not None:
                lines[key] = line
    codes = {ds.pk: ds.code for ds in datasets}
    existing = {
        (unit, codes[ds], period)
        for unit, ds, period in Submission.objects.filter(
            org_unit__in=units,
            dataset__in=datasets,
            period__in={str(p.period) for p in plans},
        ).values_list("org_unit__code", "dataset_id", "period")
    }
    missing = set(lines) - existing
    result.skipped = len(set(lines) & existing)
    if not missing:
        return result
    ctx = _context(datasets, units, now)
    forms = generate(plans, lines, units, ctx)
    by_code = {u.code: u for u in units}
    rows = Rows()
    for p in plans:
        for code in p.fates:
            key = (code, p.dataset.code, str(p.period))
            if key in missing:
                rng = Random(f"{'|'.join(key)}|rows")
                build_rows(rows, by_code[code], p, lines[key], forms[key], ctx, rng)
    with transaction.atomic():
        result.values, result.events = _save(rows)
        result.submissions = len(rows.submissions)
        record(
            Action.CREATE,
            object_type="reporting.submission",
            object_repr=DEMO_REPR,
            extra={
                "submissions": result.submissions,
                "values": result.values,
                "review_events": result.events,
                "units": len(units),
                "periods": sorted({f"{p.dataset.code} {p.period}" for p in plans}),
            },
        )
    return result
