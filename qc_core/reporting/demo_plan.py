"""Planning the demo reporting history (see :mod:`qc_core.reporting.demo`): which demo units
submitted each period on time, late, left a draft or nothing, how review went, and when each
step happened. Every draw is seeded by unit, form and period."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from qc_core.accounts.demo import institution_code
from qc_core.indicators.choices import PeriodType
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import LOCAL_TZ, Period, Window, window_for
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.choices import ReviewAction, SubmissionStatus
from qc_core.reporting.services import expected_units

# The institution whose reporter (reporter01) finds a draft to continue in every open window,
# and the one whose late submission in the open window carries a justified outlier.
DRAFT_UNIT = institution_code(1)
LATE_UNIT = "DEMO029"
# A second 昆明市 institution whose on-time submission waits for review, so subcenter_admin
# (昆明市) finds work in the review queue.
REVIEW_UNIT = institution_code(17)

H = timedelta(hours=1)
D = timedelta(days=1)

# Window states and the fates of one unit's form in one period.
LOCKED, PAST_DUE, BEFORE_DUE = "locked", "past_due", "before_due"
ON_TIME, LATE, DRAFT, MISSING = "on_time", "late", "draft", "missing"


@dataclass
class Fate:
    """What happened to one unit's form in one period."""

    category: str  # ON_TIME / LATE / DRAFT / MISSING
    returned: bool = False
    resubmitted: bool = False
    approved: bool = False


@dataclass
class PeriodPlan:
    dataset: DataSet
    period: Period
    window: Window
    state: str
    fates: dict[str, Fate]  # unit code → fate

    def tally(self) -> Counter[str]:
        return Counter(f.category for f in self.fates.values())


def recent_periods(dataset: DataSet, count: int, now: datetime) -> list[Period]:
    """The ``count`` last ended periods of the form, oldest first."""
    latest = Period.last_ended(dataset.period_type, now)
    return sorted([latest, *latest.previous_n(max(count, 1) - 1)])


def window_state(window: Window, now: datetime) -> str:
    if window.is_locked(now):
        return LOCKED
    return PAST_DUE if window.is_late(now) else BEFORE_DUE


def _shares(state: str, window: Window, now: datetime) -> list[tuple[str, float]]:
    if state == LOCKED:
        return [(MISSING, 0.02), (LATE, 0.12)]
    if state == PAST_DUE:
        return [(ON_TIME, 0.60), (LATE, 0.15), (DRAFT, 0.08)]
    elapsed = (now - window.opens_at) / (window.due_at - window.opens_at)
    return [(ON_TIME, 0.1 + 0.55 * max(0.0, min(1.0, elapsed))), (DRAFT, 0.15)]


def plan_fates(
    codes: list[str], dataset: DataSet, period: Period, state: str, window: Window, now: datetime
) -> dict[str, Fate]:
    """Each unit's fate, by rank in a seeded shuffle so the mix holds for any number of units;
    the open-window mix always has at least one of each kind once there are four units."""
    order = sorted(codes, key=lambda c: Random(f"{c}|{dataset.code}|{period}|rank").random())
    n = len(order)
    categories: list[str] = []
    for category, share in _shares(state, window, now):
        wanted = round(n * share)
        if state != LOCKED and n >= 4:
            wanted = max(wanted, 1)
        categories += [category] * min(wanted, n - len(categories))
    rest = ON_TIME if state == LOCKED else MISSING
    categories += [rest] * (n - len(categories))
    if state != LOCKED:
        _force(order, categories, DRAFT_UNIT, DRAFT)
        _force(order, categories, REVIEW_UNIT, ON_TIME)
        if state == PAST_DUE:
            _force(order, categories, LATE_UNIT, LATE)
    fates = {}
    for code, category in zip(order, categories, strict=True):
        fates[code] = _review_fate(category, state, Random(f"{code}|{dataset.code}|{period}|fate"))
    if state == PAST_DUE and LATE_UNIT in fates:
        fates[LATE_UNIT].approved = False  # its justified outlier waits in the review queue
    if state != LOCKED and REVIEW_UNIT in fates:
        fates[REVIEW_UNIT].approved = fates[REVIEW_UNIT].returned = False
    return fates


def _force(order: list[str], categories: list[str], code: str, category: str) -> None:
    if code not in order:
        return
    i = order.index(code)
    if categories[i] == category:
        return
    swap = next((j for j, c in enumerate(categories) if c == category and j != i), None)
    if swap is None:
        categories[i] = category
    else:
        categories[i], categories[swap] = categories[swap], categories[i]


def _review_fate(category: str, state: str, rng: Random) -> Fate:
    fate = Fate(category)
    if category in (DRAFT, MISSING):
        return fate
    r = rng.random()
    if state == LOCKED:
        fate.approved = True
        fate.returned = fate.resubmitted = r < 0.10
    elif category == LATE:
        fate.approved = r < 0.3
    else:
        fate.approved = r < 0.45
        fate.returned = 0.45 <= r < 0.62
        fate.resubmitted = 0.55 <= r < 0.62
    return fate


def plan(
    datasets: list[DataSet], units: list[OrgUnit], quarters: int, months: int, now: datetime
) -> list[PeriodPlan]:
    """Fates of every (form, period, expected demo unit)."""
    by_pk = {u.pk: u for u in units}
    plans = []
    for dataset in datasets:
        count = quarters if dataset.period_type == PeriodType.QUARTER else months
        for period in recent_periods(dataset, count, now):
            window = window_for(dataset, period)
            state = window_state(window, now)
            expected = expected_units(dataset, period).filter(pk__in=list(by_pk))
            codes = [by_pk[pk].code for pk in expected.values_list("pk", flat=True)]
            fates = plan_fates(codes, dataset, period, state, window, now)
            plans.append(PeriodPlan(dataset, period, window, state, fates))
    return plans


# --- timelines -----------------------------------------------------------------------------------


def _moment(rng: Random, lo: datetime, hi: datetime) -> datetime | None:
    """An instant in [lo, hi], in office hours when the drawn day allows; None if hi < lo."""
    if hi < lo:
        return None
    at = lo + (hi - lo) * rng.random()
    office = at.astimezone(LOCAL_TZ).replace(
        hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )
    return office if lo <= office <= hi else at


@dataclass
class Timeline:
    created_at: datetime
    events: list[tuple[str, datetime]]

    def first(self, action: str) -> datetime | None:
        return next((at for a, at in self.events if a == action), None)

    def last(self, *actions: str) -> datetime | None:
        return next((at for a, at in reversed(self.events) if a in actions), None)

    @property
    def status(self) -> str:
        if not self.events:
            return SubmissionStatus.DRAFT
        last = self.events[-1][0]
        if last == ReviewAction.APPROVE:
            return SubmissionStatus.APPROVED
        if last == ReviewAction.RETURN:
            return SubmissionStatus.RETURNED
        return SubmissionStatus.SUBMITTED


def timeline(fate: Fate, window: Window, now: datetime, rng: Random) -> Timeline | None:
    """When the form was started, submitted, returned, resubmitted and approved (each step is
    dropped when it would not have happened by now or before the lock); None: never started."""
    bound = min(window.lock_at, now)
    opens = window.opens_at
    if fate.category == MISSING:
        return None
    if fate.category == DRAFT:
        created = _moment(rng, opens + 2 * H, now - 2 * H)
        return Timeline(created, []) if created else None
    if fate.category == ON_TIME:
        first = _moment(rng, opens + D, min(window.due_at - 2 * H, now - H))
    else:
        first = _moment(rng, window.due_at + 2 * H, min(window.lock_at - 3 * D, now - H))
    if first is None:
        created = _moment(rng, opens + H, now - H)
        return Timeline(created, []) if created else None
    created = max(opens + H, first - (3 * D) * rng.random())
    events: list[tuple[str, datetime]] = [(ReviewAction.SUBMIT, first)]
    last = first
    if fate.returned:
        returned = _moment(rng, last + 4 * H, min(last + 3 * D, bound))
        if returned is not None:
            events.append((ReviewAction.RETURN, returned))
            resubmitted = (
                _moment(rng, returned + 2 * H, min(returned + 2 * D, bound))
                if fate.resubmitted
                else None
            )
            if resubmitted is None:
                return Timeline(created, events)
            events.append((ReviewAction.RESUBMIT, resubmitted))
            last = resubmitted
    if fate.approved:
        approved = _moment(rng, last + 2 * H, min(last + 6 * D, bound))
        if approved is not None:
            events.append((ReviewAction.APPROVE, approved))
    return Timeline(created, events)
