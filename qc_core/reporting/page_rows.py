"""What the reporting pages share: scoped look-ups of a (unit, data set, period) form (what the
caller may not read is a 404), why a form cannot be edited, and the rows of a form as shown on
the entry and review pages (values, last period's values, checks, return reasons, changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qc_core.indicators.choices import Severity, Status
from qc_core.indicators.models import DataSet, IndicatorVersion
from qc_core.indicators.periods import Period
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting import services
from qc_core.reporting.choices import (
    ReviewAction,
    SubmissionStatus,
)
from qc_core.reporting.models import DataValue, ReviewEvent, Submission

# Checks that only matter when submitting: listed beside the submit button, not on each row
# while the reporter is still typing (unless a submission attempt just failed).
SUBMIT_ONLY_CODES = frozenset({"required", "incomplete"})
STATUS_BADGES = {
    SubmissionStatus.DRAFT: "text-bg-secondary",
    SubmissionStatus.SUBMITTED: "text-bg-primary",
    SubmissionStatus.REVIEWED: "text-bg-info",
    SubmissionStatus.APPROVED: "text-bg-success",
    SubmissionStatus.RETURNED: "text-bg-warning",
}


# --- lookups (scoped: what the caller may not read is a 404) ------------------------------------


def unit_or_404(user: Any, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None or not perms.can_read(user, unit):
        raise Http404(_("单位不存在，或您无权访问。"))
    return unit


def dataset_or_404(unit: OrgUnit, code: str) -> DataSet:
    """The data set ``code`` if assigned to ``unit`` (or the unit already has a form of it)."""
    dataset = DataSet.objects.filter(code=code).first()
    if dataset is None or not (
        dataset.units.filter(pk=unit.pk).exists()
        or Submission.objects.filter(org_unit=unit, dataset=dataset).exists()
    ):
        raise Http404(_("该单位没有这张报表。"))
    return dataset


def period_or_404(dataset: DataSet, text: str) -> Period:
    try:
        return Period.parse(text, dataset.period_type)
    except ValueError as exc:
        raise Http404(str(exc)) from None


@dataclass
class FormRef:
    """One (unit, data set, period) page and its submission, if one exists yet."""

    unit: OrgUnit
    dataset: DataSet
    period: Period
    submission: Submission | None

    @property
    def args(self) -> list[str]:
        return [self.unit.code, self.dataset.code, str(self.period)]

    @property
    def url(self) -> str:
        return reverse("reporting:entry", args=self.args)


def form_ref(user: Any, unit_code: str, dataset_code: str, period: str) -> FormRef:
    unit = unit_or_404(user, unit_code)
    dataset = dataset_or_404(unit, dataset_code)
    parsed = period_or_404(dataset, period)
    submission = (
        Submission.objects.select_related("org_unit", "dataset")
        .filter(org_unit=unit, dataset=dataset, period=str(parsed))
        .first()
    )
    return FormRef(unit, dataset, parsed, submission)


def entry_url(submission: Submission) -> str:
    return reverse(
        "reporting:entry",
        args=[submission.org_unit.code, submission.dataset.code, submission.period],
    )


def block_reason(user: Any, ref: FormRef) -> str | None:
    """Why ``user`` cannot edit this form now (``None``: they can)."""
    if not perms.can_write(user, ref.unit):
        return _("您可以查看该报表，但没有填报权限。")
    if ref.submission is None and not ref.dataset.is_active:
        return _("报表“%(ds)s”已停用。") % {"ds": ref.dataset.name}
    probe = ref.submission or Submission(
        org_unit=ref.unit, dataset=ref.dataset, period=str(ref.period)
    )
    return services.edit_block_reason(probe)


def plain(number: Any) -> str:
    """A Decimal as typed (``12.5``, ``100``; no exponent, no trailing zeros); ``""`` for None."""
    return "" if number is None else format(number.normalize(), "f")


def local_time(value: Any, fmt: str = "%H:%M:%S") -> str:
    return timezone.localtime(value).strftime(fmt)


# --- rows of a form (shared by the entry and the review page) -------------------------------------


@dataclass
class Row:
    """One indicator of a form as shown on a page."""

    code: str
    version: IndicatorVersion
    required: bool
    value: DataValue | None
    previous: DataValue | None
    results: list[dict[str, Any]] = field(default_factory=list)
    return_reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    draft_reason: str = ""  # a per-indicator return reason being typed (kept when refused)

    @property
    def proposed(self) -> bool:
        return self.version.status == Status.PROPOSED

    @property
    def rate(self) -> Any:
        return self.value.rate if self.value and self.value.numerator is not None else None

    @property
    def previous_rate(self) -> Any:
        if self.previous is None or self.previous.numerator is None:
            return None
        return self.previous.indicator_version.rate(
            self.previous.numerator, self.previous.denominator
        )

    @property
    def has_warning(self) -> bool:
        return any(r["severity"] == Severity.WARNING for r in self.results)

    @property
    def css(self) -> str:
        """Row marker: red for an error, amber for a warning still needing a justification."""
        if any(r["severity"] == Severity.ERROR for r in self.results):
            return "gq-has-error"
        if any(r["severity"] == Severity.WARNING and not r.get("justified") for r in self.results):
            return "gq-has-warning"
        return ""

    @property
    def numerator(self) -> str:
        return plain(self.value.numerator) if self.value else ""

    @property
    def denominator(self) -> str:
        return plain(self.value.denominator) if self.value else ""

    @property
    def previous_parts(self) -> str:
        """Last period's numerator/denominator as ``3/120`` (the numerator alone for a count)."""
        if self.previous is None or self.previous.numerator is None:
            return ""
        if self.previous.denominator is None:
            return plain(self.previous.numerator)
        return f"{plain(self.previous.numerator)}/{plain(self.previous.denominator)}"


def previous_values(ref: FormRef) -> dict[int, DataValue]:
    """The unit's values of the previous period of the same form, by indicator id."""
    rows = DataValue.objects.filter(
        submission__org_unit=ref.unit,
        submission__dataset=ref.dataset,
        submission__period=str(ref.period.previous()),
    ).select_related("indicator_version")
    return {v.indicator_id: v for v in rows}


def last_return(submission: Submission | None) -> ReviewEvent | None:
    if submission is None or submission.status != SubmissionStatus.RETURNED:
        return None
    return (
        submission.events.filter(action=ReviewAction.RETURN)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )


def build_rows(
    ref: FormRef,
    results: list[dict[str, Any]],
    *,
    returned: ReviewEvent | None = None,
    changes: list[dict[str, Any]] | None = None,
    inline_all: bool = False,
) -> tuple[list[Row], list[dict[str, Any]]]:
    """The form's rows with their values, last period's values, inline validation results,
    return reasons and changes since the return. Also answers the results that belong to no
    row on the form."""
    values: dict[int, DataValue] = {}
    if ref.submission is not None:
        values = {
            v.indicator_id: v for v in ref.submission.values.select_related("indicator_version")
        }
    previous = previous_values(ref)
    reasons = {
        i.get("indicator"): i.get("reason", "") for i in (returned.items if returned else [])
    }
    rows: list[Row] = []
    for item, version in dataset_versions(ref.dataset):
        rows.append(
            Row(
                code=item.indicator.code,
                version=values[item.indicator_id].indicator_version
                if item.indicator_id in values
                else version,
                required=item.required,
                value=values.get(item.indicator_id),
                previous=previous.get(item.indicator_id),
                return_reason=reasons.get(item.indicator.code, ""),
            )
        )
    by_code = {row.code: row for row in rows}
    loose: list[dict[str, Any]] = []
    for entry in results:
        if entry["code"] in SUBMIT_ONLY_CODES and not inline_all:
            continue
        row = by_code.get(entry["indicator"])
        (row.results if row else loose).append(entry)
    for change in changes or []:
        if change["indicator"] in by_code:
            by_code[change["indicator"]].changes.append(change)
    return rows, loose


def severity_rank(entry: dict[str, Any]) -> int:
    return {Severity.ERROR: 0, Severity.WARNING: 1}.get(entry["severity"], 2)
