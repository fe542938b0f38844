"""The quarterly (or monthly, or annual) export workbook.

Sheets: 汇总 (unit × indicator: numerator, denominator, value, with the form's status), one sheet
per indicator (units ranked by value in the indicator's direction, the pooled figure of the
scope = Σ numerators ÷ Σ denominators × multiplier), and 元数据 (definitions and versions,
export time in Asia/Shanghai, who exported, which data are included).

Roll-ups over several periods (``--period 2026`` → the four quarters) pool numerators and
denominators — rates are never averaged. Only complete pairs are pooled: a value whose
numerator or denominator is missing is left out of both sums. The workbook is written in
openpyxl's write-only (streaming) mode.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from qc_core.accounts.scope import Scope
from qc_core.indicators.choices import Direction, PeriodType
from qc_core.indicators.models import DataSet, IndicatorVersion
from qc_core.indicators.periods import Period
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.choices import HospitalLevel, Level
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.choices import REPORTED_STATUSES, SubmissionStatus
from qc_core.reporting.models import DataValue, Submission
from qc_core.reporting.services import expected_units
from qc_core.system import clock

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_YEAR = re.compile(r"^\s*(\d{4})\s*(年度?)?\s*$")
BOLD = Font(bold=True)
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
TOTAL_FILL = PatternFill("solid", fgColor="EEF3F8")
RATE_FORMAT = "0.00"


def resolve_periods(dataset: DataSet, text: str) -> tuple[str, list[Period]]:
    """``2026Q3`` → that quarter; ``2026`` → every period of the data set's type in 2026.
    Returns ``(canonical text, periods)``; raises ``ValueError`` with a Chinese message."""
    match = _YEAR.match(str(text or ""))
    if match:
        year = int(match[1])
        top = 4 if dataset.period_type == PeriodType.QUARTER else 12
        return str(year), [Period(year, n, dataset.period_type) for n in range(1, top + 1)]
    period = Period.parse(text, dataset.period_type)
    return str(period), [period]


@dataclass
class Cell:
    """One unit × indicator: pooled sums over the included periods."""

    numerator: Decimal | None = None
    denominator: Decimal | None = None
    periods: int = 0

    def add(self, numerator: Decimal, denominator: Decimal | None) -> None:
        self.numerator = (self.numerator or Decimal(0)) + numerator
        if denominator is not None:
            self.denominator = (self.denominator or Decimal(0)) + denominator
        self.periods += 1


@dataclass
class ExportData:
    """Everything the workbook shows, computed before writing."""

    dataset: DataSet
    period_text: str
    periods: list[Period]
    approved_only: bool
    scope_label: str
    exported_by: str
    exported_at: Any
    pairs: list[tuple[Any, IndicatorVersion]]
    units: list[OrgUnit]
    prefectures: dict[int, str]
    statuses: dict[int, dict[str, str]]  # unit id → period → status
    cells: dict[tuple[int, int], Cell]  # (unit id, indicator id) → pooled cell
    totals: dict[int, Cell]  # indicator id → pooled over units
    versions_seen: dict[int, set[int]] = field(default_factory=dict)  # indicator id → versions
    unit_columns: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def included_statuses(self) -> set[str]:
        return {SubmissionStatus.APPROVED} if self.approved_only else set(REPORTED_STATUSES)

    def rate(self, version: IndicatorVersion, cell: Cell | None) -> Decimal | None:
        if cell is None or cell.numerator is None:
            return None
        return version.rate(cell.numerator, cell.denominator)


def collect(
    dataset: DataSet, period_text: str, *, scope: Scope, approved_only: bool = False,
    scope_label: str = "", exported_by: str = "",
) -> ExportData:  # fmt: skip
    """Read what the export needs in a handful of queries (independent of the unit count)."""
    canonical, periods = resolve_periods(dataset, period_text)
    codes = [str(p) for p in periods]
    unit_ids: set[int] = set()
    for period in periods:
        unit_ids.update(
            expected_units(dataset, period).filter(scope.q("")).values_list("pk", flat=True)
        )
    subs = list(
        Submission.objects.filter(dataset=dataset, period__in=codes)
        .filter(scope.q("org_unit"))
        .values_list("pk", "org_unit_id", "period", "status")
    )
    unit_ids.update(s[1] for s in subs)
    units = list(OrgUnit.objects.filter(pk__in=unit_ids).order_by("path"))
    prefecture_names = dict(
        OrgUnit.objects.filter(level=Level.PREFECTURE).values_list("code", "name")
    )
    prefectures = {
        u.pk: next((prefecture_names[c] for c in u.ancestor_codes if c in prefecture_names), "")
        for u in units
    }
    included = {SubmissionStatus.APPROVED} if approved_only else set(REPORTED_STATUSES)
    statuses: dict[int, dict[str, str]] = defaultdict(dict)
    kept: list[int] = []
    for pk, unit_id, period_code, status in subs:
        statuses[unit_id][period_code] = status
        if status in included:
            kept.append(pk)
    pairs = dataset_versions(dataset)
    by_id = {item.indicator_id: version for item, version in pairs}
    cells: dict[tuple[int, int], Cell] = {}
    totals: dict[int, Cell] = {i: Cell() for i in by_id}
    seen: dict[int, set[int]] = defaultdict(set)
    rows = DataValue.objects.filter(submission_id__in=kept).values_list(
        "submission__org_unit_id", "indicator_id", "numerator", "denominator",
        "indicator_version__version",
    )  # fmt: skip
    for unit_id, indicator_id, numerator, denominator, version_no in rows.iterator(chunk_size=5000):
        version = by_id.get(indicator_id)
        if version is None or numerator is None:
            continue
        if version.has_denominator and denominator is None:
            continue
        den = denominator if version.has_denominator else None
        cells.setdefault((unit_id, indicator_id), Cell()).add(numerator, den)
        totals[indicator_id].add(numerator, den)
        seen[indicator_id].add(version_no)
    return ExportData(
        dataset=dataset, period_text=canonical, periods=periods, approved_only=approved_only,
        scope_label=scope_label, exported_by=exported_by,
        exported_at=clock.now().astimezone(LOCAL_TZ), pairs=pairs, units=units,
        prefectures=prefectures, statuses=statuses, cells=cells, totals=totals,
        versions_seen=dict(seen),
    )  # fmt: skip


# --- writing -----------------------------------------------------------------------------------


def _num(value: Decimal | None) -> Any:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _unit_columns(data: ExportData) -> dict[int, list[Any]]:
    """Per unit, the leading columns every sheet repeats: code, name, prefecture, hospital level
    and the form status per period (computed once: labels are lazy translations)."""
    labels = {value: str(label) for value, label in SubmissionStatus.choices}
    missing = _("未上报")
    levels = {value: str(label) for value, label in HospitalLevel.choices}
    columns: dict[int, list[Any]] = {}
    for unit in data.units:
        by_period = data.statuses.get(unit.pk, {})
        if len(data.periods) == 1:
            status = by_period.get(str(data.periods[0]))
            text = labels[status] if status else missing
        else:
            parts = []
            for period in data.periods:
                status = by_period.get(str(period))
                short = (
                    f"Q{period.number}"
                    if period.type == PeriodType.QUARTER
                    else _("%(n)d月") % {"n": period.number}
                )
                state = labels[status] if status else missing
                parts.append(pgettext("period status", "%(period)s%(status)s")
                             % {"period": short, "status": state})  # fmt: skip
            text = pgettext("list separator", "；").join(parts)
        columns[unit.pk] = [unit.code, unit.name, data.prefectures.get(unit.pk, ""),
                            levels.get(unit.hospital_level, ""), text]  # fmt: skip
    return columns


class _Writer:
    def __init__(self, wb: Workbook) -> None:
        self.wb = wb

    def cell(self, ws: Any, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
             fmt: str = "", wrap: bool = False) -> WriteOnlyCell:  # fmt: skip
        cell = WriteOnlyCell(ws, value=value)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if fmt:
            cell.number_format = fmt
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    def head(self, ws: Any, values: list[Any]) -> list[WriteOnlyCell]:
        return [self.cell(ws, str(v) if v is not None else None, font=HEAD_FONT, fill=HEAD_FILL,
                          wrap=True) for v in values]  # fmt: skip

    def rate(self, ws: Any, value: Decimal | None) -> Any:
        if value is None:
            return None
        return self.cell(ws, round(float(value), 4), fmt=RATE_FORMAT)


def write_workbook(data: ExportData, out: str | IO[bytes]) -> dict[str, Any]:
    """Write the export to ``out`` (a path or a binary file); returns a short summary."""
    wb = Workbook(write_only=True)
    writer = _Writer(wb)
    data.unit_columns = _unit_columns(data)
    _summary_sheet(writer, data)
    for item, version in data.pairs:
        _indicator_sheet(writer, data, item, version)
    _meta_sheet(writer, data)
    wb.save(out)
    return {
        "dataset": data.dataset.code,
        "period": data.period_text,
        "periods": [str(p) for p in data.periods],
        "units": len(data.units),
        "indicators": len(data.pairs),
        "values": sum(c.periods for c in data.cells.values()),
        "approved_only": data.approved_only,
    }


def _summary_sheet(w: _Writer, data: ExportData) -> None:
    ws = w.wb.create_sheet(_("汇总"))
    fixed = [_("单位代码"), _("单位名称"), _("州市"), _("医院等级"), _("状态")]
    ws.freeze_panes = "C3"
    for letter, width in zip(
        "ABCDE", (12, 30, 14, 10, 14 if len(data.periods) == 1 else 40), strict=True
    ):
        ws.column_dimensions[letter].width = width
    top: list[Any] = [None] * len(fixed)
    sub: list[Any] = list(fixed)
    for item, version in data.pairs:
        name = _("%(name)s（%(code)s）") % {
            "name": version.name,
            "code": version.get_unit_display(),
        }
        top += [f"{item.indicator.code} {name}", None, None]
        sub += [_("分子"), _("分母") if version.has_denominator else None, _("指标值")]
    ws.append(w.head(ws, top))
    ws.append(w.head(ws, sub))
    for unit in data.units:
        row: list[Any] = list(data.unit_columns[unit.pk])
        for item, version in data.pairs:
            cell = data.cells.get((unit.pk, item.indicator_id))
            if cell is None:
                row += [None, None, None]
                continue
            row += [
                _num(cell.numerator),
                _num(cell.denominator),
                w.rate(ws, data.rate(version, cell)),
            ]
        ws.append(row)
    total: list[Any] = [w.cell(ws, _("合计"), font=BOLD, fill=TOTAL_FILL),
                        w.cell(ws, data.scope_label, font=BOLD, fill=TOTAL_FILL), None, None, None]  # fmt: skip
    for item, version in data.pairs:
        cell = data.totals.get(item.indicator_id)
        total += [_num(cell.numerator) if cell else None, _num(cell.denominator) if cell else None,
                  w.rate(ws, data.rate(version, cell))]  # fmt: skip
    ws.append(total)


def _ranked(
    data: ExportData, indicator_id: int, version: IndicatorVersion
) -> list[tuple[Any, OrgUnit, Cell | None, Decimal | None]]:
    entries = []
    for unit in data.units:
        cell = data.cells.get((unit.pk, indicator_id))
        entries.append((unit, cell, data.rate(version, cell)))
    with_rate = [e for e in entries if e[2] is not None]
    without = [e for e in entries if e[2] is None]
    ascending = version.direction == Direction.LOWER
    with_rate.sort(key=lambda e: (e[2] if ascending else -e[2], e[0].path))  # type: ignore[operator]
    ranked: list[tuple[Any, OrgUnit, Cell | None, Decimal | None]] = []
    previous: Decimal | None = None
    rank = 0
    for position, (unit, cell, rate) in enumerate(with_rate, start=1):
        if rate != previous:
            rank, previous = position, rate
        ranked.append((rank, unit, cell, rate))
    ranked += [("—", unit, cell, rate) for unit, cell, rate in without]
    return ranked


def _indicator_sheet(w: _Writer, data: ExportData, item: Any, version: IndicatorVersion) -> None:
    code = item.indicator.code
    ws = w.wb.create_sheet(code[:31])
    ws.freeze_panes = "A8"
    for letter, width in zip("ABCDEFGHI", (8, 12, 30, 14, 10, 12, 12, 12, 14), strict=True):
        ws.column_dimensions[letter].width = width
    total = data.totals.get(item.indicator_id)
    pooled = data.rate(version, total)
    if version.has_denominator:
        formula = _("%(n)s ÷ %(d)s × %(m)s") % {
            "n": version.numerator_def, "d": version.denominator_def,
            "m": format(Decimal(version.multiplier).normalize(), "f"),
        }  # fmt: skip
    else:
        formula = version.numerator_def
    direction = version.get_direction_display()
    if version.direction == Direction.MONITOR:
        direction += _("（监测指标：按数值从高到低排列，不代表优劣）")
    reported = sum(1 for u in data.units if (u.pk, item.indicator_id) in data.cells)
    ws.append([w.cell(ws, f"{code} {version.name}", font=Font(bold=True, size=13))])
    ws.append([_("计算方法"), formula])
    ws.append([_("计量单位"), version.get_unit_display(), _("方向"), direction])
    ws.append([_("目标值"), _num(version.target), _("预警值"), _num(version.warning_threshold)])
    ws.append([w.cell(ws, _("%(s)s合计值") % {"s": data.scope_label}, font=BOLD),
               w.rate(ws, pooled), _("Σ分子"), _num(total.numerator) if total else None,
               _("Σ分母"), _num(total.denominator) if total else None,
               _("纳入单位数"), reported])  # fmt: skip
    ws.append([_("合计值 = 各单位分子之和 ÷ 各单位分母之和 × 倍数（不是各单位比率的平均）。")])
    ws.append(w.head(ws, [_("排名"), _("单位代码"), _("单位名称"), _("州市"), _("医院等级"),
                          _("分子"), _("分母"), _("指标值"), _("状态")]))  # fmt: skip
    for rank, unit, cell, rate in _ranked(data, item.indicator_id, version):
        code, name, prefecture, level, status = data.unit_columns[unit.pk]
        ws.append([
            rank, code, name, prefecture, level,
            _num(cell.numerator) if cell else None, _num(cell.denominator) if cell else None,
            w.rate(ws, rate), status,
        ])  # fmt: skip


def _meta_sheet(w: _Writer, data: ExportData) -> None:
    ws = w.wb.create_sheet(_("元数据"))
    for letter, width in zip(
        "ABCDEFGHIJKL", (14, 34, 10, 40, 40, 10, 8, 12, 10, 12, 30, 30), strict=True
    ):
        ws.column_dimensions[letter].width = width
    scope_note = (
        _("仅包含审核通过（已通过）的数据") if data.approved_only
        else _("包含已上报、分中心已审核和已通过的数据（不含草稿和已退回的数据）")
    )  # fmt: skip
    rows = [
        (_("报表"), _("%(name)s（%(code)s）") % {"name": data.dataset.name, "code": data.dataset.code}),
        (_("周期"), data.period_text + ("" if len(data.periods) == 1 else
                                        _("（年度汇总：%(p)s）") % {"p": pgettext("list separator", "、").join(str(p) for p in data.periods)})),
        (_("范围"), data.scope_label),
        (_("数据范围"), scope_note),
        (_("仅含已通过数据"), _("是") if data.approved_only else _("否")),
        (_("导出时间"), _("%(time)s（北京时间）") % {"time": f"{data.exported_at:%Y-%m-%d %H:%M:%S}"}),
        (_("导出人"), data.exported_by),
        (_("单位数"), len(data.units)),
        (_("计算规则"), _("指标值 = 分子 ÷ 分母 × 倍数；合计与年度汇总先分别累加分子、分母再计算，不对比率取平均；"
                        "分子或分母缺失的数据不参与合计。")),
    ]  # fmt: skip
    ws.append([w.cell(ws, _("质控数据导出说明"), font=Font(bold=True, size=13))])
    for label, value in rows:
        ws.append([w.cell(ws, str(label), font=BOLD), value])
    ws.append([])
    ws.append(w.head(ws, [_("指标代码"), _("指标名称"), _("当前版本"), _("分子定义"), _("分母定义"),
                          _("计量单位"), _("倍数"), _("方向"), _("状态"), _("数据所属版本"),
                          _("依据"), _("版本说明")]))  # fmt: skip
    for item, version in data.pairs:
        seen = sorted(data.versions_seen.get(item.indicator_id, set()))
        note = version.change_note or ""
        if seen and (len(seen) > 1 or seen[0] != version.version):
            note = _("注意：本期数据来自不同版本的定义，请谨慎比较。") + note
        ws.append([
            item.indicator.code, version.name, f"v{version.version}", version.numerator_def,
            version.denominator_def or _("（计数型指标）"), version.get_unit_display(),
            _num(Decimal(version.multiplier)), version.get_direction_display(),
            version.get_status_display(), pgettext("list separator", "、").join(f"v{n}" for n in seen) or "—",
            version.basis, note,
        ])  # fmt: skip


def export_filename(data_or_dataset: Any, period_text: str, approved_only: bool) -> str:
    dataset = getattr(data_or_dataset, "dataset", data_or_dataset)
    suffix = _("_仅已通过") if approved_only else ""
    return _("质控数据_%(code)s_%(period)s%(suffix)s.xlsx") % {
        "code": dataset.code,
        "period": period_text,
        "suffix": suffix,
    }


def export(
    dataset: DataSet, period_text: str, out: str | IO[bytes], *, scope: Scope,
    approved_only: bool = False, scope_label: str = "", exported_by: str = "",
) -> dict[str, Any]:  # fmt: skip
    """Collect and write the export of ``dataset`` for ``period_text`` within ``scope`` to
    ``out``. The caller audits it (``qc_core.audit.services.record_export``)."""
    data = collect(dataset, period_text, scope=scope, approved_only=approved_only,
                   scope_label=scope_label, exported_by=exported_by)  # fmt: skip
    return write_workbook(data, out)


def audit_extra(summary: dict[str, Any], scope_label: str, **more: Any) -> dict[str, Any]:
    """What an export's audit entry keeps."""
    return {
        "dataset": summary.get("dataset"),
        "period": summary.get("period"),
        "approved_only": summary.get("approved_only"),
        "units": summary.get("units"),
        "scope": scope_label,
        **more,
    }
