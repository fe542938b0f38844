"""Data-quality checks of a submission.

Results are dicts ``{indicator, field, severity, code, message}`` (plus ``justified`` on
warnings): *errors* block submission, *warnings* need a justification on that value to submit,
*notices* (suspicious patterns) are shown to the reporter and the reviewer and block nothing.

- built-ins: non-negative; integers where the indicator counts things; numerator ≤ denominator
  for rates whose numerator is a subset; zero denominator with a positive numerator; required
  cells and half-filled pairs (when submitting);
- cross-indicator rules (:class:`qc_core.indicators.models.ValidationRule`);
- outliers: modified z-score ``0.6745·(x − median)/MAD`` against the unit's own last 8 periods
  (at least 4 needed) and against peers of the same hospital level in the same period (at least
  5 needed, reported forms only, cached per stamp), ``|z| > 3.5`` → warning;
- suspicious patterns: the same numerator and denominator four periods running (notice); the
  value jumping by more than the data set's factor against the previous period (warning).
"""

from __future__ import annotations

import operator as op
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from qc_core.indicators.choices import Operator, RulePart, Severity
from qc_core.indicators.models import IndicatorVersion, ValidationRule
from qc_core.indicators.periods import Period
from qc_core.indicators.services import dataset_versions
from qc_core.reporting.findings import Cell, fmt, result
from qc_core.reporting.models import DataValue, Submission
from qc_core.reporting.outliers import (
    HISTORY_PERIODS,
    break_versions,
    load_history,
    load_peer_rates,
    modified_z,
    statistical_checks,
)

__all__ = [
    "Cell",
    "active_rules",
    "blocking",
    "builtin_checks",
    "cells_from_values",
    "modified_z",
    "result",
    "rule_checks",
    "validate_cells",
    "validate_submission",
]

_OPS = {
    Operator.LE: op.le,
    Operator.LT: op.lt,
    Operator.GE: op.ge,
    Operator.GT: op.gt,
    Operator.EQ: op.eq,
}
_PART_LABEL = {
    RulePart.NUMERATOR: _lazy("分子"),
    RulePart.DENOMINATOR: _lazy("分母"),
    RulePart.VALUE: _lazy("指标值"),
}


# --- built-in checks ---------------------------------------------------------------------------


def builtin_checks(cell: Cell, *, for_submit: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    has_den = cell.version.has_denominator
    for field, value, label in (
        ("numerator", cell.numerator, _("分子")),
        ("denominator", cell.denominator, _("分母")),
    ):
        if value is None:
            continue
        if value < 0:
            out.append(
                result(
                    cell,
                    field,
                    Severity.ERROR,
                    "negative",
                    _("%(code)s %(label)s不能为负数（填写了 %(v)s）。")
                    % {"code": cell.code, "label": label, "v": fmt(value)},
                )
            )
        elif cell.version.integer_only and value != value.to_integral_value():
            out.append(
                result(
                    cell,
                    field,
                    Severity.ERROR,
                    "not_integer",
                    _("%(code)s %(label)s应为整数（填写了 %(v)s）。")
                    % {"code": cell.code, "label": label, "v": value.normalize()},
                )
            )
    num, den = cell.numerator, cell.denominator
    if has_den and num is not None and den is not None:
        if den == 0 and num > 0:
            out.append(
                result(
                    cell,
                    "denominator",
                    Severity.ERROR,
                    "zero_denominator",
                    _("%(code)s 分母为 0 时分子也应为 0（分子填写了 %(n)s）。")
                    % {"code": cell.code, "n": fmt(num)},
                )
            )
        elif cell.version.numerator_le_denominator and num > den:
            out.append(
                result(
                    cell,
                    "numerator",
                    Severity.ERROR,
                    "numerator_gt_denominator",
                    _("%(code)s 分子（%(n)s）不能大于分母（%(d)s）。")
                    % {"code": cell.code, "n": fmt(num), "d": fmt(den)},
                )
            )
    if for_submit:
        missing_num = num is None
        missing_den = has_den and den is None
        if cell.required and (missing_num or missing_den):
            field = "numerator" if missing_num else "denominator"
            out.append(
                result(
                    cell,
                    field,
                    Severity.ERROR,
                    "required",
                    _("%(code)s %(name)s 为必填项，%(what)s未填写。")
                    % {
                        "code": cell.code,
                        "name": cell.version.name,
                        "what": _("分子") if missing_num else _("分母"),
                    },
                )
            )
        elif has_den and missing_num != missing_den:
            out.append(
                result(
                    cell,
                    "numerator" if missing_num else "denominator",
                    Severity.ERROR,
                    "incomplete",
                    _("%(code)s 分子和分母须同时填写或同时留空。") % {"code": cell.code},
                )
            )
    return out


def rule_checks(cells: dict[int, Cell], rules: Iterable[ValidationRule]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in rules:
        left = cells.get(rule.left_indicator_id)
        right = cells.get(rule.right_indicator_id)
        if left is None or right is None:
            continue
        lv, rv = left.part(rule.left_part), right.part(rule.right_part)
        if lv is None or rv is None or _OPS[Operator(rule.operator)](lv, rv):
            continue
        detail = _("（%(l)s %(lp)s %(lv)s，%(r)s %(rp)s %(rv)s）") % {
            "l": left.code,
            "lp": _PART_LABEL[RulePart(rule.left_part)],
            "lv": fmt(lv),
            "r": right.code,
            "rp": _PART_LABEL[RulePart(rule.right_part)],
            "rv": fmt(rv),
        }
        field = "rate" if rule.left_part == RulePart.VALUE else str(rule.left_part)
        out.append(result(left, field, rule.severity, f"rule:{rule.code}", rule.message + detail))
    return out


# --- entry points ------------------------------------------------------------------------------


def cells_from_values(
    submission: Submission,
    values: Iterable[DataValue] | None = None,
    *,
    pairs: list[tuple[Any, IndicatorVersion]] | None = None,
) -> dict[int, Cell]:
    """The form's cells (every indicator on the form, filled or not), keyed by indicator id.
    ``pairs`` are the form's items with current versions when the caller already has them."""
    if values is None:
        values = submission.values.all()
    by_indicator = {v.indicator_id: v for v in values}
    cells: dict[int, Cell] = {}
    for item, version in pairs if pairs is not None else dataset_versions(submission.dataset):
        value = by_indicator.get(item.indicator_id)
        cells[item.indicator_id] = Cell(
            code=item.indicator.code,
            indicator_id=item.indicator_id,
            version=version,
            numerator=value.numerator if value else None,
            denominator=value.denominator if value else None,
            justification=value.justification if value else "",
            required=item.required,
        )
    return cells


def active_rules(submission: Submission) -> list[ValidationRule]:
    return list(
        ValidationRule.objects.filter(is_active=True).filter(
            Q(dataset__isnull=True) | Q(dataset_id=submission.dataset_id)
        )
    )


def validate_cells(
    submission: Submission, cells: dict[int, Cell], *, for_submit: bool = False
) -> list[dict[str, Any]]:
    """All checks over ``cells`` (see the module docstring)."""
    results: list[dict[str, Any]] = []
    for cell in cells.values():
        results.extend(builtin_checks(cell, for_submit=for_submit))
    results.extend(rule_checks(cells, active_rules(submission)))
    filled = {i: c for i, c in cells.items() if c.numerator is not None}
    if filled:
        period = Period.parse(submission.period, submission.dataset.period_type)
        previous = period.previous_n(HISTORY_PERIODS)
        history = load_history(submission, filled, previous)
        peers = load_peer_rates(submission)
        breaks = break_versions(c.version for c in filled.values())
        results.extend(statistical_checks(submission, filled, history, peers, breaks, previous))
    return results


def validate_submission(
    submission: Submission, *, for_submit: bool = False
) -> list[dict[str, Any]]:
    """Validate the saved values of ``submission``."""
    return validate_cells(submission, cells_from_values(submission), for_submit=for_submit)


def blocking(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results that prevent submission: errors, and warnings without a justification."""
    return [
        r
        for r in results
        if r["severity"] == Severity.ERROR
        or (r["severity"] == Severity.WARNING and not r.get("justified"))
    ]
