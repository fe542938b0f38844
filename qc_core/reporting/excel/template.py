"""The per-unit data-entry template (.xlsx): one row per indicator of the form, pre-filled with the
unit's current values, with in-sheet data validation (Chinese input messages), locked label
columns, an instructions sheet (说明) and hidden metadata identifying unit, data set, period and
template version (so the importer can refuse a template meant for another unit or period)."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from qc_core.indicators.choices import Status
from qc_core.indicators.models import DataSet, IndicatorVersion
from qc_core.indicators.periods import Period, window_for
from qc_core.indicators.services import dataset_versions
from qc_core.orgs.models import OrgUnit
from qc_core.reporting.excel.layout import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    META_SHEET,
    TEMPLATE_COLUMNS,
    TEMPLATE_LETTERS,
    TEMPLATE_MARK,
    TEMPLATE_VERSION,
    data_sheet_title,
    help_sheet_title,
)
from qc_core.reporting.excel.reader import max_upload_bytes
from qc_core.reporting.models import Submission
from qc_core.system import clock

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
INPUT_FILL = PatternFill("solid", fgColor="FFF8D6")
LOCKED_FILL = PatternFill("solid", fgColor="E7E9EC")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
LABEL_FILL = PatternFill("solid", fgColor="EEF3F8")
THIN = Side(style="thin", color="B7C0CA")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
WIDTHS = {"code": 11, "name": 34, "unit": 20, "numerator": 13, "denominator": 13,
          "comment": 26, "numerator_def": 46, "denominator_def": 46}  # fmt: skip


def template_filename(unit: OrgUnit, dataset: DataSet, period: Period | str) -> str:
    return _("%(unit)s_%(dataset)s_%(period)s_填报模板.xlsx") % {
        "unit": unit.code,
        "dataset": dataset.code,
        "period": period,
    }


def unit_text(version: IndicatorVersion) -> str:
    """How the value is computed, e.g. ``%（分子÷分母×100）`` or ``张（计数）``."""
    label = version.get_unit_display()
    if not version.has_denominator:
        return _("%(u)s（直接填写数值）") % {"u": label}
    multiplier = Decimal(version.multiplier).normalize()
    if multiplier == 1:
        return _("%(u)s（分子÷分母）") % {"u": label}
    return _("%(u)s（分子÷分母×%(m)s）") % {"u": label, "m": format(multiplier, "f")}


def _number(value: Decimal | None) -> Any:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value.normalize()


def build_template(unit: OrgUnit, dataset: DataSet, period: Period, user: Any = None) -> bytes:
    """The template workbook for ``unit``'s ``dataset`` form of ``period`` as .xlsx bytes."""
    submission = (
        Submission.objects.filter(org_unit=unit, dataset=dataset, period=str(period))
        .prefetch_related("values__indicator")
        .first()
    )
    values = {v.indicator.code: v for v in submission.values.all()} if submission else {}
    pairs = dataset_versions(dataset)
    wb = Workbook()
    ws = wb.active
    ws.title = data_sheet_title()
    now = clock.now().astimezone(LOCAL_TZ)
    _header_block(ws, unit, dataset, period, submission, now, user)
    _table(ws, pairs, values)
    _help_sheet(wb.create_sheet(help_sheet_title()), unit, dataset, period)
    meta = {
        "mark": TEMPLATE_MARK,
        "template_version": str(TEMPLATE_VERSION),
        "unit_code": unit.code,
        "dataset_code": dataset.code,
        "period": str(period),
        "data_sheet": ws.title,
        "row_version": str(submission.row_version) if submission else "",
        "indicator_versions": json.dumps(
            {item.indicator.code: version.version for item, version in pairs}
        ),
        "generated_at": now.isoformat(timespec="seconds"),
        "generated_by": getattr(user, "username", "") or "",
    }
    meta_ws = wb.create_sheet(META_SHEET)
    for key, value in meta.items():
        meta_ws.append([key, value])
    meta_ws.sheet_state = "veryHidden"
    wb.active = 0
    wb.properties.creator = "GeriQC"
    wb.properties.title = template_filename(unit, dataset, period)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _header_block(
    ws: Worksheet, unit: OrgUnit, dataset: DataSet, period: Period,
    submission: Submission | None, now: Any, user: Any,
) -> None:  # fmt: skip
    last = TEMPLATE_LETTERS["denominator_def"]
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = _("%(ds)s · 数据填报模板") % {"ds": dataset.name}
    ws["A1"].font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 24
    window = window_for(dataset, period)
    status = submission.get_status_display() if submission else _("尚未填报")
    who = (
        user.get_full_name() if user is not None and hasattr(user, "get_full_name") else ""
    ) or ""
    rows = [
        (_("单位代码"), unit.code, _("单位名称"), unit.name),
        (_("报表代码"), dataset.code, _("报表名称"), dataset.name),
        (_("周期"), str(period), _("周期说明"),
         _("%(label)s；%(due)s 前上报，%(lock)s 后锁定")
         % {"label": period.label, "due": f"{window.due_at:%Y-%m-%d}",
            "lock": f"{window.lock_at:%Y-%m-%d}"}),
        (_("当前状态"), status, _("模板生成"), f"{now:%Y-%m-%d %H:%M:%S} {who}".strip()),
    ]  # fmt: skip
    for offset, (label_a, value_a, label_b, value_b) in enumerate(rows):
        r = 2 + offset
        ws.cell(r, 1, str(label_a)).font = Font(bold=True)
        ws.cell(r, 2, value_a)
        ws.cell(r, 3, str(label_b)).font = Font(bold=True)
        ws.cell(r, 4, value_b)
        ws.merge_cells(start_row=r, start_column=4, end_row=r, end_column=6)
        for c in (1, 3):
            ws.cell(r, c).fill = LABEL_FILL
    hint_row = HEADER_ROW - 1
    ws.merge_cells(f"A{hint_row}:{last}{hint_row}")
    ws[f"A{hint_row}"] = _(
        "请只在黄色单元格内填写分子、分母（原始计数，不要填写百分比）和备注；灰色单元格无需填写。"
        "空白单元格不会清除系统中已有的数据。详见“说明”工作表。"
    )
    ws[f"A{hint_row}"].alignment = Alignment(wrap_text=True)
    ws[f"A{hint_row}"].font = Font(color="8A5300")
    ws.row_dimensions[hint_row].height = 30


def _table(
    ws: Worksheet, pairs: list[tuple[Any, IndicatorVersion]], values: dict[str, Any]
) -> None:
    for index, (key, header) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(HEADER_ROW, index, str(header))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        ws.column_dimensions[TEMPLATE_LETTERS[key]].width = WIDTHS[key]
    comment_dv = DataValidation(
        type="textLength", operator="lessThanOrEqual", formula1="2000", allow_blank=True,
        showErrorMessage=True, errorTitle=_("备注过长"), error=_("备注最多 2000 字。"),
    )  # fmt: skip
    ws.add_data_validation(comment_dv)
    for offset, (item, version) in enumerate(pairs):
        r = FIRST_DATA_ROW + offset
        code = item.indicator.code
        value = values.get(code)
        name = version.name
        if version.status == Status.PROPOSED:
            name = _("%(n)s（省级提议）") % {"n": name}
        row = {
            "code": code,
            "name": name,
            "unit": unit_text(version),
            "numerator": _number(value.numerator) if value else None,
            "denominator": _number(value.denominator) if value else None,
            "comment": value.comment if value and value.comment else None,
            "numerator_def": version.numerator_def,
            "denominator_def": version.denominator_def or _("（计数型指标，无分母）"),
        }
        for index, (key, _header) in enumerate(TEMPLATE_COLUMNS, start=1):
            cell = ws.cell(r, index, row[key])
            cell.border = BORDER
            cell.alignment = WRAP
        for key in ("numerator", "denominator"):
            cell = ws[f"{TEMPLATE_LETTERS[key]}{r}"]
            if key == "denominator" and not version.has_denominator:
                cell.fill = LOCKED_FILL
                continue
            cell.fill = INPUT_FILL
            cell.protection = UNLOCKED
            cell.number_format = "0" if version.integer_only else "0.####"
            ws.add_data_validation(_number_validation(cell.coordinate, key, code, version))
        comment = ws[f"{TEMPLATE_LETTERS['comment']}{r}"]
        comment.fill = INPUT_FILL
        comment.protection = UNLOCKED
        comment_dv.add(comment.coordinate)
        for key in ("code", "name", "unit", "numerator_def", "denominator_def"):
            if key != "code":
                ws[f"{TEMPLATE_LETTERS[key]}{r}"].fill = LOCKED_FILL
    ws.freeze_panes = f"{TEMPLATE_LETTERS['numerator']}{FIRST_DATA_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _number_validation(
    coordinate: str, key: str, code: str, version: IndicatorVersion
) -> DataValidation:
    label = _("分子") if key == "numerator" else _("分母")
    definition = version.numerator_def if key == "numerator" else version.denominator_def
    if version.integer_only:
        kind, rule = (
            "whole",
            _("请填写不小于 0 的整数（人数、例次数等原始计数），不要填写百分比或小数。"),
        )
    else:
        kind, rule = "decimal", _("请填写不小于 0 的数值，最多 4 位小数，不要填写百分比。")
    prompt = f"{definition}\n{rule}" if definition else rule
    dv = DataValidation(
        type=kind,
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=f"{code} {label}"[:32],
        prompt=prompt[:250],
        errorTitle=_("输入有误")[:32],
        error=rule[:250],
        errorStyle="stop",
    )
    dv.add(coordinate)
    return dv


def _help_sheet(ws: Worksheet, unit: OrgUnit, dataset: DataSet, period: Period) -> None:
    limit_mb = max_upload_bytes() / 1024 / 1024
    lines = [
        (_("填报说明"), True),
        (_("本模板仅用于：%(u)s（%(c)s） · %(ds)s（%(dc)s） · %(p)s。其他单位或其他周期请另行下载模板，"
           "系统会拒绝导入不匹配的模板。")
         % {"u": unit.name, "c": unit.code, "ds": dataset.name, "dc": dataset.code,
            "p": period.label}, False),
        (_("一、在“数据”工作表的黄色单元格内填写分子、分母和备注；指标代码、名称、定义等灰色列已锁定，请勿修改。"), False),
        (_("二、分子、分母填写原始计数（人数、例次数、床日数等），系统会按“计量单位”列的公式计算比率；"
           "不要填写百分比（如 12.5%）或已算好的比率（如 0.8）。"), False),
        (_("三、计数型指标（分母列为灰色）只填写分子。费用、指数等指标可填写小数，最多 4 位。"), False),
        (_("四、可以接受：全角数字（１２３）、千位分隔符（1,234）、前后空格、以文本形式保存的数字。"
           "使用公式时，请在 Excel 中计算并保存后再上传。"), False),
        (_("五、空白单元格不会清除系统中已有的数据；如需删除已填写的数值，请在网页填报页面操作。"), False),
        (_("六、上传后系统先显示预览（每个单元格的原值 → 新值，以及所有错误），确认后才会一次性写入；"
           "任何一行有错误，整个文件都不会写入。"), False),
        (_("七、分子不能大于分母（百分率、千分率指标），跨指标规则（如跌倒伤害例次数不能超过跌倒例次数）等"
           "校验与网页填报完全相同；有警告的数据在上报前需填写情况说明。"), False),
        (_("八、文件须为 .xlsx 格式，大小不超过 %(mb).0f MB。已审核通过或已锁定的报表不能通过导入修改。")
         % {"mb": limit_mb}, False),
    ]  # fmt: skip
    ws.column_dimensions["A"].width = 110
    for index, (text, bold) in enumerate(lines, start=1):
        cell = ws.cell(index, 1, str(text))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(bold=bold, size=13 if bold else 11)
    ws.protection.sheet = True
