"""Operations on the indicator library: revising definitions (versioning), loading the library
file, and the default data sets and cross-indicator rules."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from qc_core.indicators.choices import (
    DECIMAL_UNITS,
    RATE_UNITS,
    Direction,
    IndicatorSet,
    Kind,
    Operator,
    PeriodType,
    RulePart,
    Severity,
    Status,
    Unit,
)
from qc_core.indicators.models import (
    DataSet,
    DataSetItem,
    Indicator,
    IndicatorVersion,
    ValidationRule,
)
from qc_core.indicators.periods import local_date
from qc_core.orgs.models import OrgUnit

LIBRARY_CSV = Path(__file__).resolve().parent / "data" / "qc_indicators.csv"

# Every field of a version that an edit may change (each change makes a new version).
VERSION_FIELDS = (
    "name",
    "set",
    "kind",
    "numerator_def",
    "denominator_def",
    "unit",
    "multiplier",
    "direction",
    "target",
    "warning_threshold",
    "basis",
    "status",
    "integer_only",
    "numerator_le_denominator",
)
# Fields that change what a value means: a trend must not join values across such a change.
DEFINITION_FIELDS = ("numerator_def", "denominator_def", "unit", "multiplier")

# Rates that may legitimately exceed 100 % (extra beds push bed occupancy above 100 %).
RATES_MAY_EXCEED = {"OPS-03"}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        try:
            return (a is None and b is None) or (
                a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
            )
        except InvalidOperation:
            return False
    return bool(a == b)


def _differences(version: IndicatorVersion, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value for name, value in changes.items() if not _same(getattr(version, name), value)
    }


def create_indicator(
    code: str, fields: dict[str, Any], user: Any = None, note: str = ""
) -> Indicator:
    """A new indicator with its first version (effective today)."""
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown indicator fields: {sorted(unknown)}")
    with transaction.atomic():
        indicator = Indicator.objects.create(code=code)
        version = IndicatorVersion.objects.create(
            indicator=indicator,
            version=1,
            effective_from=local_date(),
            created_by=user if getattr(user, "pk", None) else None,
            change_note=note,
            **fields,
        )
        indicator.current_version = version
        indicator.save(update_fields=["current_version", "updated_at"])
    return indicator


def revise_indicator(
    indicator: Indicator, changes: dict[str, Any], user: Any, note: str
) -> IndicatorVersion:
    """Apply ``changes`` to ``indicator``'s definition.

    When any field differs from the current version, the current version is closed (its
    ``effective_to`` set to today) and a new version holding the changed definition becomes
    current; values already reported stay tied to the version they were saved under. Returns the
    (possibly unchanged) current version. Audited through the audit registry (version created,
    previous version closed, indicator's current version moved).
    """
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown indicator fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
        current = IndicatorVersion.objects.get(indicator=locked, pk=locked.current_version_id or 0)
        diff = _differences(current, changes)
        if not diff:
            return current
        today = local_date()
        current.effective_to = today
        current.save(update_fields=["effective_to"])
        values = {name: getattr(current, name) for name in VERSION_FIELDS}
        values.update(diff)
        new = IndicatorVersion.objects.create(
            indicator=locked,
            version=current.version + 1,
            effective_from=today,
            created_by=user if getattr(user, "pk", None) else None,
            change_note=note,
            is_definition_change=any(name in diff for name in DEFINITION_FIELDS),
            **values,
        )
        locked.current_version = new
        locked.save(update_fields=["current_version", "updated_at"])
    indicator.current_version = new
    return new


# --- loading the library file ------------------------------------------------------------------


@dataclass
class LoadReport:
    """What ``load_indicators`` did."""

    created: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    datasets: dict[str, int] = field(default_factory=dict)  # code → units newly assigned
    rules_created: list[str] = field(default_factory=list)


def _choice(value: str, choices: Any, column: str, line: int) -> str:
    value = value.strip()
    if value not in choices.values:
        raise ValueError(
            _("指标库文件第 %(line)d 行“%(col)s”列的值“%(value)s”无效，应为：%(allowed)s。")
            % {
                "line": line,
                "col": column,
                "value": value,
                "allowed": pgettext("list separator", "、").join(choices.values),
            }
        )
    return value


def row_fields(row: dict[str, str], line: int) -> dict[str, Any]:
    """Version fields from one library CSV row (raises ``ValueError`` naming the line)."""
    unit = _choice(row["unit"], Unit, "unit", line)
    try:
        multiplier = Decimal(row["multiplier"].strip() or "1")
    except InvalidOperation:
        raise ValueError(
            _("指标库文件第 %(line)d 行“multiplier”列应为 1、100 或 1000。") % {"line": line}
        ) from None
    numerator_def = row["numerator"].strip()
    denominator_def = row["denominator"].strip()
    code = row["code"].strip()
    return {
        "name": row["name"].strip(),
        "set": _choice(row["set"], IndicatorSet, "set", line),
        "kind": _choice(row["kind"], Kind, "kind", line),
        "numerator_def": numerator_def,
        "denominator_def": denominator_def,
        "unit": unit,
        "multiplier": multiplier,
        "direction": _choice(row["direction"], Direction, "direction", line),
        "basis": row.get("basis", "").strip(),
        "status": _choice(row["status"], Status, "status", line),
        # Money and weights are decimals; so are averages (平均开放床位数).
        "integer_only": unit not in DECIMAL_UNITS and "平均" not in numerator_def + denominator_def,
        "numerator_le_denominator": unit in RATE_UNITS
        and bool(denominator_def)
        and code not in RATES_MAY_EXCEED,
    }


def _row_hash(row: dict[str, str]) -> str:
    text = "\x1f".join(f"{k}={(v or '').strip()}" for k, v in sorted(row.items()) if k)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_library(path: Path | str = LIBRARY_CSV) -> list[tuple[dict[str, str], int]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [
            (row, i) for i, row in enumerate(csv.DictReader(handle), start=2) if row.get("code")
        ]


def load_library(path: Path | str = LIBRARY_CSV, user: Any = None) -> LoadReport:
    """Load the library file (idempotent): new codes become indicators, a CSV row that changed
    since it was last loaded makes a new version (edits made in the UI since then are kept unless
    the row itself changed), then the default data sets and rules are ensured."""
    report = LoadReport()
    rows = read_library(path)
    with transaction.atomic():
        existing = {i.code: i for i in Indicator.objects.all()}
        for order, (row, line) in enumerate(rows, start=1):
            code = row["code"].strip()
            fields = row_fields(row, line)
            digest = _row_hash(row)
            indicator = existing.get(code)
            if indicator is None:
                indicator = create_indicator(code, fields, user, _("由指标库文件导入"))
                Indicator.objects.filter(pk=indicator.pk).update(
                    source_hash=digest, sort_order=order
                )
                report.created.append(code)
                continue
            if indicator.source_hash == digest:
                report.unchanged.append(code)
                continue
            before = indicator.current_version_id
            revise_indicator(indicator, fields, user, _("指标库文件更新（load_indicators）"))
            Indicator.objects.filter(pk=indicator.pk).update(source_hash=digest, sort_order=order)
            (report.revised if indicator.current_version_id != before else report.unchanged).append(
                code
            )
        report.datasets = ensure_default_datasets()
        report.rules_created = ensure_default_rules()
    return report


# --- default data sets and rules ---------------------------------------------------------------

DEFAULT_DATASETS = (
    {
        "code": "GER-Q",
        "name": "老年医学质控季度报表",
        "period_type": PeriodType.QUARTER,
        "set": IndicatorSet.GERIATRIC_QC,
        "description": "成员单位老年医学科质控指标，按季度填报。",
    },
    {
        "code": "OPS-M",
        "name": "老年医学科运营指标月报",
        "period_type": PeriodType.MONTH,
        "set": IndicatorSet.OPERATIONAL,
        "description": "成员单位老年医学科运营指标，按月填报。",
    },
)


def member_institutions() -> Any:
    return OrgUnit.objects.members()


def ensure_default_datasets() -> dict[str, int]:
    """Create GER-Q and OPS-M when missing, add library indicators of their set that are not on
    the form yet, and assign every current member institution (existing settings and items are
    left as the center configured them). Returns the number of newly assigned units per form."""
    members = list(member_institutions().values_list("pk", flat=True))
    added: dict[str, int] = {}
    for spec in DEFAULT_DATASETS:
        dataset, _created = DataSet.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "period_type": spec["period_type"],
                "description": spec["description"],
                "due_days": 15,
                "lock_days": 30,
            },
        )
        present = set(dataset.items.values_list("indicator_id", flat=True))
        next_order = max(dataset.items.values_list("order", flat=True), default=0)
        wanted = Indicator.objects.filter(
            is_active=True, current_version__set=spec["set"]
        ).order_by("sort_order", "code")
        new_items = []
        for indicator in wanted:
            if indicator.pk not in present:
                next_order += 10
                new_items.append(
                    DataSetItem(dataset=dataset, indicator=indicator, order=next_order)
                )
        DataSetItem.objects.bulk_create(new_items)
        assigned = set(dataset.units.values_list("pk", flat=True))
        missing = [pk for pk in members if pk not in assigned]
        dataset.units.add(*missing)
        added[dataset.code] = len(missing)
    return added


DEFAULT_RULES = (
    ("GER-R01", "跌倒伤害不超过跌倒", "GER-O02", RulePart.NUMERATOR, Operator.LE, "GER-O01",
     RulePart.NUMERATOR, Severity.ERROR, "跌倒伤害例次数不能超过跌倒例次数"),
    ("GER-R02", "VTE中高危人次不超过已评估人次", "GER-P11", RulePart.DENOMINATOR, Operator.LE,
     "GER-P10", RulePart.NUMERATOR, Severity.ERROR, "VTE中高危人次不能超过已完成VTE风险评估的人次"),
    ("GER-R03", "跌倒伤害占比分母等于跌倒例次数", "GER-O02", RulePart.DENOMINATOR, Operator.EQ,
     "GER-O01", RulePart.NUMERATOR, Severity.WARNING, "跌倒伤害占比的分母应等于住院患者跌倒例次数"),
    ("GER-R04", "非预期再住院分母不超过出院总人次", "GER-O09", RulePart.DENOMINATOR, Operator.LE,
     "GER-O10", RulePart.DENOMINATOR, Severity.WARNING, "除外死亡的出院人次不应超过出院患者总人次"),
)  # fmt: skip


def ensure_default_rules(specs: Iterable[tuple[Any, ...]] = DEFAULT_RULES) -> list[str]:
    """Create the seeded cross-indicator rules that are missing (by code); never overwrite."""
    by_code = {i.code: i for i in Indicator.objects.all()}
    existing = set(ValidationRule.objects.values_list("code", flat=True))
    created = []
    for code, name, left, lpart, op, right, rpart, severity, message in specs:
        if code in existing or left not in by_code or right not in by_code:
            continue
        ValidationRule.objects.create(
            code=code,
            name=name,
            left_indicator=by_code[left],
            left_part=lpart,
            operator=op,
            right_indicator=by_code[right],
            right_part=rpart,
            severity=severity,
            message=message,
        )
        created.append(code)
    return created


# --- reading -----------------------------------------------------------------------------------


def dataset_versions(dataset: DataSet) -> list[tuple[DataSetItem, IndicatorVersion]]:
    """The form's items with each indicator's current version, in display order (one query)."""
    items = (
        dataset.items.filter(indicator__is_active=True)
        .select_related("indicator__current_version")
        .order_by("order", "id")
    )
    return [
        (item, item.indicator.current_version) for item in items if item.indicator.current_version
    ]
