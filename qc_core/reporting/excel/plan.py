"""Turning the rows read from a workbook into per-unit plans: which unit, data set and period each
group of rows is for, which indicator each row is, and the numbers it holds.

Everything that can be decided without writing is decided here and reported as a
:class:`~qc_core.reporting.excel.reader.Problem` naming sheet, row, column and reason. Whether
the user may write a unit is asked of :mod:`qc_core.reporting.permissions`; whether the form
accepts values (status, window) is left to the reporting services when the plan is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from qc_core.indicators.models import DataSet, IndicatorVersion
from qc_core.indicators.periods import Period
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.excel.layout import TEMPLATE_MARK, TEMPLATE_VERSION
from qc_core.reporting.excel.numbers import (
    CellError,
    is_blank,
    parse_amount,
    parse_code,
    parse_period_text,
    parse_text,
)
from qc_core.reporting.excel.reader import (
    DENIED,
    NOT_FOUND,
    NOTICE,
    Problem,
    RawCell,
    RawRow,
    Sheet,
    WorkbookContent,
)

AMOUNT_FIELDS = ("numerator", "denominator")
TEXT_FIELDS = ("comment", "justification")


@dataclass
class ImportOptions:
    """What the upload page knows: the unit/data set/period the user is working on (the file
    must match), a default data set for long sheets without a 报表代码 column, and, when
    committing a previewed upload, the form versions the preview saw."""

    unit: OrgUnit | None = None
    dataset: DataSet | None = None
    period: str = ""
    expected_versions: dict[str, int] | None = None
    file_name: str = ""
    sha256: str = ""


@dataclass
class PlannedRow:
    row: RawRow
    code: str
    version: IndicatorVersion
    values: dict[str, Any]


@dataclass
class UnitPlan:
    """The rows of one workbook destined for one (unit, data set, period) form."""

    unit: OrgUnit
    dataset: DataSet
    period: str
    sheet: str
    anchor: RawCell | None
    rows: list[PlannedRow] = field(default_factory=list)
    template_meta: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return plan_key(self.unit.code, self.dataset.code, self.period)


def plan_key(unit_code: str, dataset_code: str, period: str) -> str:
    return f"{unit_code}|{dataset_code}|{period}"


@dataclass
class _Group:
    sheet: Sheet
    unit_code: str
    dataset_code: str
    period_text: str
    anchors: dict[str, RawCell]
    rows: list[RawRow] = field(default_factory=list)
    template_meta: dict[str, str] = field(default_factory=dict)


class Planner:
    """Builds :class:`UnitPlan` objects for ``user`` from a workbook's content."""

    def __init__(self, user: Any, options: ImportOptions) -> None:
        self.user = user
        self.options = options
        self.problems: list[Problem] = []
        self._versions: dict[int, dict[str, IndicatorVersion]] = {}

    # --- problems ------------------------------------------------------------------------------

    def problem(
        self, message: str, cell: RawCell | None = None, *, sheet: str = "", name: str = "",
        kind: str = "error", unit: str = "", period: str = "",
    ) -> None:  # fmt: skip
        self.problems.append(
            Problem(
                message,
                sheet=sheet,
                row=cell.row if cell is not None and cell.row else None,
                column=cell.column if cell is not None else "",
                field=name,
                kind=kind,
                unit=unit,
                period=period,
            )
        )

    # --- grouping ------------------------------------------------------------------------------

    def plan(self, content: WorkbookContent) -> list[UnitPlan]:
        self.problems.extend(content.problems)
        groups: list[_Group] = []
        for sheet in content.sheets:
            if sheet.layout == "template":
                group = self._template_group(sheet, content.meta)
                if group is not None:
                    groups.append(group)
            else:
                groups.extend(self._long_groups(sheet))
        units = {u.code: u for u in OrgUnit.objects.filter(code__in={g.unit_code for g in groups})}
        datasets = {
            d.code: d
            for d in DataSet.objects.filter(
                code__in={g.dataset_code for g in groups if g.dataset_code}
            )
        }
        plans: dict[str, UnitPlan] = {}
        for group in groups:
            plan = self._resolve(group, units, datasets)
            if plan is None:
                continue
            if plan.key in plans:
                other = plans[plan.key]
                self.problem(
                    _("单位 %(u)s %(p)s 的数据在工作表“%(a)s”和“%(b)s”中重复出现，请只保留一份。")
                    % {"u": plan.unit.code, "p": plan.period, "a": other.sheet, "b": plan.sheet},
                    plan.anchor,
                    sheet=plan.sheet,
                )
                continue
            plans[plan.key] = plan
        return list(plans.values())

    def _template_group(self, sheet: Sheet, meta: dict[str, str]) -> _Group | None:
        applies = meta.get("mark") == TEMPLATE_MARK and meta.get("data_sheet") == sheet.name
        template_meta = meta if applies else {}
        if applies and _int(meta.get("template_version")) > TEMPLATE_VERSION:
            self.problem(_("模板版本过新，本系统无法识别，请重新下载模板。"), sheet=sheet.name)
            return None
        values: dict[str, str] = {}
        for name, parse in (
            ("unit_code", parse_code),
            ("dataset_code", parse_code),
            ("period", parse_period_text),
        ):
            cell = sheet.block.get(name)
            shown = parse(cell.value) if cell is not None else ""
            hidden = parse(template_meta[name]) if template_meta.get(name) else ""
            if shown and hidden and shown != hidden:
                self.problem(
                    _("表头填写的是“%(shown)s”，但该模板是为“%(hidden)s”生成的：请勿改动表头或把其他"
                      "单位/周期的模板改作他用，请重新下载本单位本期的模板。")
                    % {"shown": shown, "hidden": hidden},
                    cell, sheet=sheet.name, name=name,
                )  # fmt: skip
                return None
            values[name] = shown or hidden
        if not values["unit_code"] or not values["period"]:
            missing = _("单位代码") if not values["unit_code"] else _("周期")
            self.problem(
                _("表头缺少%(m)s：请使用下载的模板，或在表格上方写明“单位代码”“报表代码”“周期”。")
                % {"m": missing},
                sheet=sheet.name,
            )
            return None
        return _Group(
            sheet=sheet,
            unit_code=values["unit_code"],
            dataset_code=values["dataset_code"],
            period_text=values["period"],
            anchors=dict(sheet.block),
            rows=list(sheet.rows),
            template_meta=template_meta,
        )

    def _long_groups(self, sheet: Sheet) -> list[_Group]:
        groups: dict[tuple[str, str, str], _Group] = {}
        for row in sheet.rows:
            unit_code = parse_code(row.get("unit_code"))
            period_text = (
                parse_period_text(row.get("period")) if not is_blank(row.get("period")) else ""
            )
            if not unit_code or not period_text:
                name = "unit_code" if not unit_code else "period"
                self.problem(_("未填写%(f)s。") % {"f": _("单位代码") if not unit_code else _("周期")},
                             row.cells[name], sheet=sheet.name, name=name)  # fmt: skip
                continue
            dataset_code = (
                parse_code(row.get("dataset_code")) if "dataset_code" in row.cells else ""
            )
            key = (unit_code, dataset_code, period_text)
            if key not in groups:
                anchors: dict[str, RawCell] = {
                    n: row.cells[n]
                    for n in ("unit_code", "period", "dataset_code")
                    if n in row.cells
                }
                groups[key] = _Group(sheet, unit_code, dataset_code, period_text, anchors)
            groups[key].rows.append(row)
        return list(groups.values())

    # --- resolving -----------------------------------------------------------------------------

    def _resolve(
        self, group: _Group, units: dict[str, OrgUnit], datasets: dict[str, DataSet]
    ) -> UnitPlan | None:
        sheet = group.sheet.name
        unit_cell = group.anchors.get("unit_code")
        unit = units.get(group.unit_code)
        if unit is None or (self.user is not None and not perms.can_read(self.user, unit)):
            self.problem(_("单位代码“%(c)s”不存在，或您无权访问该单位。") % {"c": group.unit_code},
                         unit_cell, sheet=sheet, name="unit_code", kind=NOT_FOUND)  # fmt: skip
            return None
        if self.user is not None and not perms.can_write(self.user, unit):
            self.problem(_("您没有填报“%(n)s”（%(c)s）数据的权限。") % {"n": unit.name, "c": unit.code},
                         unit_cell, sheet=sheet, name="unit_code", kind=DENIED)  # fmt: skip
            return None
        context = self.options.unit
        if context is not None and context.pk != unit.pk:
            self.problem(
                _("该文件是“%(other)s”（%(oc)s）的数据，不是当前单位“%(mine)s”（%(mc)s）的；"
                  "请下载并填写本单位的模板。")
                % {"other": unit.name, "oc": unit.code, "mine": context.name, "mc": context.code},
                unit_cell, sheet=sheet, name="unit_code",
            )  # fmt: skip
            return None
        dataset = self._dataset(group, unit, datasets)
        if dataset is None:
            return None
        period = self._period(group, dataset)
        if period is None:
            return None
        plan = UnitPlan(unit=unit, dataset=dataset, period=period, sheet=sheet,
                        anchor=unit_cell, template_meta=group.template_meta)  # fmt: skip
        self._rows(plan, group.rows)
        return plan

    def _dataset(
        self, group: _Group, unit: OrgUnit, datasets: dict[str, DataSet]
    ) -> DataSet | None:
        cell = group.anchors.get("dataset_code")
        sheet = group.sheet.name
        context = self.options.dataset
        if group.dataset_code:
            dataset = datasets.get(group.dataset_code)
            if dataset is None or not dataset.is_active:
                self.problem(_("报表代码“%(c)s”不存在或已停用。") % {"c": group.dataset_code},
                             cell, sheet=sheet, name="dataset_code")  # fmt: skip
                return None
            if context is not None and self.options.unit is not None and dataset.pk != context.pk:
                self.problem(
                    _("该文件是报表“%(a)s”的，不是当前页面的报表“%(b)s”。")
                    % {"a": dataset.name, "b": context.name},
                    cell, sheet=sheet, name="dataset_code",
                )  # fmt: skip
                return None
            return dataset
        if context is not None:
            return context
        return self._pick_dataset(group, unit)

    def _pick_dataset(self, group: _Group, unit: OrgUnit) -> DataSet | None:
        try:
            period_type = Period.parse(group.period_text).type
        except ValueError:
            period_type = None
        codes = {parse_code(r.get("code")) for r in group.rows}
        qs = DataSet.objects.filter(is_active=True, units=unit)
        if period_type:
            qs = qs.filter(period_type=period_type)
        candidates = [
            d
            for d in qs.distinct()
            if codes <= set(d.items.values_list("indicator__code", flat=True))
        ]
        if len(candidates) == 1:
            return candidates[0]
        self.problem(
            _("无法确定单位 %(u)s 的数据属于哪张报表：请增加“报表代码”列，或在上传页面选择报表。")
            % {"u": group.unit_code},
            group.anchors.get("unit_code"),
            sheet=group.sheet.name,
            name="unit_code",
        )
        return None

    def _period(self, group: _Group, dataset: DataSet) -> str | None:
        cell = group.anchors.get("period")
        try:
            period = str(Period.parse(group.period_text, dataset.period_type))
        except ValueError as exc:
            self.problem(str(exc), cell, sheet=group.sheet.name, name="period")
            return None
        wanted = self.options.period
        if wanted and self.options.unit is not None and period != wanted:
            self.problem(
                _("该文件是 %(a)s 的数据，不是当前页面的周期 %(b)s；请下载本期的模板。")
                % {"a": period, "b": wanted},
                cell, sheet=group.sheet.name, name="period",
            )  # fmt: skip
            return None
        return period

    # --- rows ----------------------------------------------------------------------------------

    def versions(self, dataset: DataSet) -> dict[str, IndicatorVersion]:
        if dataset.pk not in self._versions:
            self._versions[dataset.pk] = {
                item.indicator.code: version for item, version in dataset_versions(dataset)
            }
        return self._versions[dataset.pk]

    def _rows(self, plan: UnitPlan, rows: list[RawRow]) -> None:
        versions = self.versions(plan.dataset)
        seen: dict[str, int] = {}
        template_versions = _json(plan.template_meta.get("indicator_versions"))
        for row in rows:
            code = parse_code(row.get("code"))
            version = versions.get(code)
            if version is None:
                self.problem(
                    _("指标代码“%(c)s”不在报表“%(ds)s”（%(dc)s）中。")
                    % {"c": code, "ds": plan.dataset.name, "dc": plan.dataset.code},
                    row.cells["code"], sheet=row.sheet, name="code",
                )  # fmt: skip
                continue
            if code in seen:
                self.problem(_("指标 %(c)s 重复出现（第 %(r)d 行已填写过）。") % {"c": code, "r": seen[code]},
                             row.cells["code"], sheet=row.sheet, name="code")  # fmt: skip
                continue
            seen[code] = row.number
            values = self._values(row, code, version)
            if values is None:
                continue
            old = template_versions.get(code)
            if old and int(old) != version.version:
                self.problem(
                    _("指标 %(c)s 的定义在模板生成后已修订（v%(a)s → v%(b)s），请核对口径。")
                    % {"c": code, "a": old, "b": version.version},
                    row.cells["code"], sheet=row.sheet, name="code", kind=NOTICE,
                )  # fmt: skip
            if values:
                plan.rows.append(PlannedRow(row=row, code=code, version=version, values=values))

    def _values(self, row: RawRow, code: str, version: IndicatorVersion) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for name in AMOUNT_FIELDS:
            cell = row.cells.get(name)
            if cell is None:
                continue
            if cell.formula_without_value:
                self.problem(
                    _("单元格是公式，但文件中没有保存计算结果；请在 Excel 中打开、计算并保存后再上传，"
                      "或直接填写数值。"),
                    cell, sheet=row.sheet, name=name,
                )  # fmt: skip
                ok = False
                continue
            if is_blank(cell.value):
                continue
            if name == "denominator" and not version.has_denominator:
                self.problem(_("%(c)s 是计数型指标，没有分母，请留空。") % {"c": code},
                             cell, sheet=row.sheet, name=name)  # fmt: skip
                ok = False
                continue
            try:
                values[name] = parse_amount(cell.value, integer_only=version.integer_only)
            except CellError as exc:
                self.problem(_("%(reason)s。") % {"reason": exc}, cell, sheet=row.sheet, name=name)
                ok = False
        for name in TEXT_FIELDS:
            cell = row.cells.get(name)
            if cell is None or is_blank(cell.value):
                continue
            try:
                values[name] = parse_text(cell.value)
            except CellError as exc:
                self.problem(_("%(reason)s。") % {"reason": exc}, cell, sheet=row.sheet, name=name)
                ok = False
        return values if ok else None


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _json(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def rows_by_code(plan: UnitPlan) -> dict[str, PlannedRow]:
    return {r.code: r for r in plan.rows}
