"""Reporting progress of one data set for one period: for the whole scope (the province for the
center), each prefecture and each unit.

Definitions (one place; the page, the API, the alerts and the digest all use them):

- **expected** — the units of :func:`qc_core.reporting.services.expected_units` (assigned
  institutions that were members on the period's last day), inside the caller's scope.
- **submitted** — the unit has submitted the form at least once (``first_submitted_at`` is set),
  whatever happened next: under review, reviewed, approved, returned for correction,
  resubmitted, or reopened by the center. A return or a reopen is a review outcome, not a missing
  report. ``returned`` counts the forms currently back with the unit for correction.
- **submitted on time** — ``first_submitted_at`` ≤ the window's ``due_at``.
- **approved** — the form's status is *approved* now.
- **approved on time** — approved, with ``approved_at`` ≤ the window's ``lock_at`` (the review
  deadline: the period's data is final when the window locks).
- **reporting rate** = submitted ÷ expected; **on-time rate** = submitted on time ÷ expected
  (``None`` when nothing is expected).
- **missing** — not submitted (yet). **late** — not submitted and past due, or first submitted
  after the due time.

The computation costs a constant number of queries whatever the number of units: the expected
units, their submissions and the names of their prefectures, then one pass in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period, Window, window_for
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.choices import SubmissionStatus
from qc_core.reporting.models import Submission
from qc_core.reporting.services import expected_units
from qc_core.system import clock

TALLY_FIELDS = (
    "expected",
    "submitted",
    "approved",
    "submitted_on_time",
    "approved_on_time",
    "returned",
    "late",
    "missing",
)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Tally:
    """Counts for a group of units (or one unit: each count is then 0 or 1)."""

    expected: int = 0
    submitted: int = 0
    approved: int = 0
    submitted_on_time: int = 0
    approved_on_time: int = 0
    returned: int = 0
    late: int = 0
    missing: int = 0

    @property
    def reporting_rate(self) -> float | None:
        return _ratio(self.submitted, self.expected)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.submitted_on_time, self.expected)

    @property
    def approval_rate(self) -> float | None:
        return _ratio(self.approved, self.expected)

    @property
    def reporting_pct(self) -> float:
        """The reporting rate in percent, one decimal (0 when nothing is expected)."""
        return round((self.reporting_rate or 0) * 100, 1)

    @property
    def on_time_pct(self) -> float:
        return round((self.on_time_rate or 0) * 100, 1)

    @property
    def late_submitted_pct(self) -> float:
        return round(self.submitted_late / self.expected * 100, 1) if self.expected else 0.0

    @property
    def submitted_late(self) -> int:
        return self.submitted - self.submitted_on_time

    def add(self, other: Tally) -> None:
        for name in TALLY_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in TALLY_FIELDS}
        data["reporting_rate"] = self.reporting_rate
        data["on_time_rate"] = self.on_time_rate
        return data


@dataclass
class UnitProgress:
    """One expected unit's state for the period."""

    id: int
    code: str
    name: str
    path: str
    prefecture: str  # prefecture code, "" for units directly under the province
    status: str | None  # submission status, None when no form was started
    first_submitted_at: datetime | None
    last_submitted_at: datetime | None
    approved_at: datetime | None
    tally: Tally

    @property
    def submitted(self) -> bool:
        return bool(self.tally.submitted)

    @property
    def late(self) -> bool:
        return bool(self.tally.late)

    @property
    def missing(self) -> bool:
        return bool(self.tally.missing)

    @property
    def submitted_on_time(self) -> bool:
        return bool(self.tally.submitted_on_time)

    @property
    def status_display(self) -> str:
        """The unit's state in words (the form's status once submitted)."""
        if self.status is None:
            return _("未填报")
        if not self.submitted:
            return _("草稿未上报")
        if self.status == SubmissionStatus.DRAFT:
            return _("重新开放修改中")
        return str(SubmissionStatus(self.status).label)


@dataclass
class GroupProgress:
    """A prefecture (or the units directly under the province, ``code == ""``)."""

    code: str
    name: str
    tally: Tally = field(default_factory=Tally)
    units: list[UnitProgress] = field(default_factory=list)


@dataclass
class Progress:
    """Progress of ``dataset`` for ``period`` inside a scope, as of ``as_of``."""

    dataset: DataSet
    period: Period
    window: Window
    as_of: datetime
    total: Tally
    groups: list[GroupProgress]
    units: list[UnitProgress]

    @property
    def late_units(self) -> list[UnitProgress]:
        return [u for u in self.units if u.late]

    @property
    def missing_units(self) -> list[UnitProgress]:
        return [u for u in self.units if u.missing]

    @property
    def is_due(self) -> bool:
        return self.window.is_late(self.as_of)


def unit_tally(window: Window, sub: Mapping[str, Any] | None, now: datetime) -> Tally:
    """The 0/1 counts of one expected unit given its submission row (``None``: no form)."""
    sub = sub or {}
    first = sub.get("first_submitted_at")
    approved_at = sub.get("approved_at")
    submitted = first is not None
    on_time = first is not None and first <= window.due_at
    approved = sub.get("status") == SubmissionStatus.APPROVED
    approved_on_time = approved and approved_at is not None and approved_at <= window.lock_at
    late = (submitted and not on_time) or (not submitted and now > window.due_at)
    return Tally(
        expected=1,
        submitted=int(submitted),
        approved=int(approved),
        submitted_on_time=int(on_time),
        approved_on_time=int(approved_on_time),
        returned=int(sub.get("status") == SubmissionStatus.RETURNED),
        late=int(late),
        missing=int(not submitted),
    )


def _prefecture_code(path: str) -> str:
    # Paths run province/prefecture/…; the second code is the prefecture when the unit hangs
    # below one (checked against the prefecture rows fetched below).
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else ""


def compute_progress(
    dataset: DataSet,
    period: Period | str,
    *,
    user: Any = None,
    within: OrgUnit | None = None,
    now: datetime | None = None,
) -> Progress:
    """Progress of ``dataset`` for ``period``. With ``user``, only the units the user may read
    (their scope, through :mod:`qc_core.reporting.permissions`); ``within`` limits it further to
    one subtree (a prefecture for the drill-down). ``user=None`` is for trusted system code
    (alerts, digest). Three queries, whatever the number of units."""
    if isinstance(period, str):
        period = Period.parse(period, dataset.period_type)
    now = now or clock.now()
    window = window_for(dataset, period)
    units_qs = expected_units(dataset, period)
    if user is not None:
        units_qs = perms.scoped_submissions(units_qs, user, field="")
    if within is not None:
        units_qs = units_qs.subtree(within)  # type: ignore[attr-defined]
    units = list(units_qs.values("pk", "code", "name", "path"))
    subs = {
        row["org_unit_id"]: row
        for row in Submission.objects.filter(
            dataset=dataset, period=str(period), org_unit__in=units_qs.values("pk")
        ).values("org_unit_id", "status", "first_submitted_at", "last_submitted_at", "approved_at")
    }
    candidates = {_prefecture_code(u["path"]) for u in units} - {""}
    prefectures = {
        p["code"]: p
        for p in OrgUnit.objects.filter(code__in=candidates, level=Level.PREFECTURE).values(
            "code", "name", "path"
        )
    }
    total = Tally()
    groups: dict[str, GroupProgress] = {}
    rows: list[UnitProgress] = []
    for unit in units:
        sub = subs.get(unit["pk"])
        code = _prefecture_code(unit["path"])
        if code not in prefectures:
            code = ""
        row = UnitProgress(
            id=unit["pk"],
            code=unit["code"],
            name=unit["name"],
            path=unit["path"],
            prefecture=code,
            status=sub["status"] if sub else None,
            first_submitted_at=sub["first_submitted_at"] if sub else None,
            last_submitted_at=sub["last_submitted_at"] if sub else None,
            approved_at=sub["approved_at"] if sub else None,
            tally=unit_tally(window, sub, now),
        )
        rows.append(row)
        total.add(row.tally)
        group = groups.get(code)
        if group is None:
            name = prefectures[code]["name"] if code else _("省直属单位")
            group = groups[code] = GroupProgress(code=code, name=name)
        group.tally.add(row.tally)
        group.units.append(row)
    order = {code: p["path"] for code, p in prefectures.items()}
    ordered = sorted(groups.values(), key=lambda g: order.get(g.code, ""))
    return Progress(dataset, period, window, now, total, ordered, rows)


# --- choosing what to show ---------------------------------------------------------------------


class SelectionError(ValueError):
    """A bad ``dataset`` or ``period`` request parameter; ``field`` names which."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def default_period(dataset: DataSet, now: datetime | None = None) -> Period:
    """The latest period whose entry window is open now; the last ended period when none is."""
    now = now or clock.now()
    latest = Period.last_ended(dataset.period_type, now)
    for candidate in [latest, *latest.previous_n(3)]:
        if window_for(dataset, candidate).is_open(now):
            return candidate
    return latest


def select(
    dataset_code: str | None, period_text: str | None, now: datetime | None = None
) -> tuple[DataSet, Period]:
    """Resolve the ``dataset`` and ``period`` parameters of the page and the API.

    Without a data set: the only active data set of the period's type (the first active one by
    code when no period is given either). Without a period: :func:`default_period`. Raises
    :class:`SelectionError` with a Chinese message naming the parameter and the reason.
    """
    dataset_code = (dataset_code or "").strip()
    period_text = (period_text or "").strip()
    period: Period | None = None
    if period_text:
        try:
            period = Period.parse(period_text)
        except ValueError as exc:
            raise SelectionError("period", str(exc)) from None
    active = DataSet.objects.filter(is_active=True).order_by("code")
    if dataset_code:
        dataset = active.filter(code=dataset_code).first()
        if dataset is None:
            raise SelectionError(
                "dataset", _("报表“%(code)s”不存在或已停用。") % {"code": dataset_code}
            )
    elif period is not None:
        matching = list(active.filter(period_type=period.type))
        if not matching:
            raise SelectionError(
                "period", _("没有按“%(p)s”这类周期填报的报表。") % {"p": period_text}
            )
        if len(matching) > 1:
            raise SelectionError(
                "dataset",
                _("该周期类型有多个报表，请用 dataset 参数指定：%(codes)s。")
                % {"codes": pgettext("list separator", "、").join(d.code for d in matching)},
            )
        dataset = matching[0]
    else:
        first = active.first()
        if first is None:
            raise SelectionError("dataset", _("尚未配置任何启用的报表。"))
        dataset = first
    if period is None:
        return dataset, default_period(dataset, now)
    try:
        return dataset, Period.parse(period_text, dataset.period_type)
    except ValueError as exc:
        raise SelectionError("period", str(exc)) from None
