"""Reading an uploaded workbook into rows, without interpreting them against the database.

Two sheet layouts are recognised:

- *template* (what :mod:`.template` produces, or any sheet shaped like it): a header block above
  the table naming 单位代码 / 报表代码 / 周期, then a table with 指标代码, 分子, 分母, 备注 columns.
  A workbook may hold one such sheet per unit.
- *long*: a table whose columns include 单位代码 and 周期 (and optionally 报表代码) besides 指标代码,
  分子, 分母, 备注 — one row per unit, period and indicator.

Columns are found by their header text wherever they are, so a title row (merged or not), extra
columns, blank rows and a footer note do not get in the way. Whole-file problems (not an .xlsx,
too large, macros, unreadable) raise :class:`FileRefused`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from qc_core.reporting.excel.layout import (
    FIELD_LABELS,
    META_SHEET,
    SKIPPED_SHEETS,
    block_field,
    column_letter,
    header_field,
)
from qc_core.reporting.excel.numbers import is_blank, looks_like_code, parse_code

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A 5 MB .xlsx expanding past this is a zip bomb, not a QC form.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
HEADER_SCAN_ROWS = 30
MAX_SHEET_ROWS = 200_000

ERROR = "error"
NOTICE = "notice"
DENIED = "denied"  # the user may see the unit but not write it (HTTP 403)
NOT_FOUND = "not_found"  # the unit does not exist or is outside the user's scope (HTTP 404)


def max_upload_bytes() -> int:
    return int(getattr(settings, "QC_EXCEL_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024))} KB"


class FileRefused(Exception):
    """The upload as a whole cannot be read; ``message`` says why (Chinese)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class Problem:
    """Something wrong (or worth knowing) about the upload, located as precisely as possible."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    field: str = ""
    unit: str = ""
    period: str = ""
    kind: str = ERROR

    @property
    def blocking(self) -> bool:
        return self.kind != NOTICE

    def location(self) -> str:
        """工作表“数据”第 12 行 D 列（分子） / 工作表“数据”（HA001 · 2026Q3）."""
        if not self.sheet:
            return ""
        text = _("工作表“%(s)s”") % {"s": self.sheet}
        if self.row:
            text += _("第 %(r)d 行") % {"r": self.row}
            if self.column:
                text += _(" %(c)s 列") % {"c": self.column}
                if self.field in FIELD_LABELS:
                    text += _("（%(f)s）") % {"f": FIELD_LABELS[self.field]}
        elif self.unit:
            text += _("（%(u)s · %(p)s）") % {"u": self.unit, "p": self.period or "—"}
        return text

    def text(self) -> str:
        where = self.location()
        return (
            _("%(label)s：%(text)s") % {"label": where, "text": self.message}
            if where
            else self.message
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "unit": self.unit,
            "period": self.period,
            "kind": self.kind,
            "message": self.message,
            "text": self.text(),
        }


@dataclass
class RawCell:
    value: Any
    column: str
    formula_without_value: bool = False
    row: int = 0


@dataclass
class RawRow:
    sheet: str
    number: int
    cells: dict[str, RawCell]

    def get(self, name: str) -> Any:
        cell = self.cells.get(name)
        return None if cell is None else cell.value

    def column(self, name: str) -> str:
        cell = self.cells.get(name)
        return "" if cell is None else cell.column


@dataclass
class Sheet:
    """One data sheet: its layout, header-block values (template layout) and rows."""

    name: str
    layout: str  # "template" | "long"
    header_row: int
    columns: dict[str, str]  # field → column letter
    block: dict[str, RawCell] = field(default_factory=dict)
    rows: list[RawRow] = field(default_factory=list)


@dataclass
class WorkbookContent:
    sheets: list[Sheet]
    meta: dict[str, str]
    problems: list[Problem]


# --- opening -----------------------------------------------------------------------------------


def check_upload(name: str, size: int) -> None:
    """Refuse by name and size before reading anything."""
    limit = max_upload_bytes()
    if size > limit:
        raise FileRefused(
            _("文件过大（%(size)s），上传上限为 %(limit)s；请删除无关的工作表或分批导入。")
            % {"size": human_size(size), "limit": human_size(limit)}
        )
    lowered = name.lower()
    if lowered.endswith(".xls"):
        raise FileRefused(_("不支持旧版 .xls 格式，请在 Excel 中“另存为” .xlsx 工作簿后再上传。"))
    if lowered.endswith(".xlsm"):
        raise FileRefused(_("不接受包含宏的 .xlsm 文件，请另存为 .xlsx 工作簿后再上传。"))
    if not lowered.endswith(".xlsx"):
        raise FileRefused(_("只接受 Excel .xlsx 工作簿（请使用下载的模板）。"))


def _check_zip(data: bytes) -> None:
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise FileRefused(
            _("该文件实际是旧版 .xls 或加密的工作簿，请另存为不加密的 .xlsx 后再上传。")
        )
    if data[:4] != b"PK\x03\x04":
        raise FileRefused(_("该文件不是有效的 .xlsx 工作簿（文件内容与扩展名不符）。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRefused(_("该文件已损坏，无法作为 .xlsx 工作簿打开。")) from None
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("该文件不是有效的 .xlsx 工作簿（缺少工作簿内容）。"))
    if "xl/vbaProject.bin" in names:
        raise FileRefused(_("不接受包含宏的工作簿，请另存为 .xlsx 工作簿后再上传。"))
    if unzipped > MAX_UNZIPPED_BYTES:
        raise FileRefused(_("工作簿解压后过大，无法导入。"))


def _load(data: bytes, *, data_only: bool) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception:  # openpyxl raises many kinds for broken files
        raise FileRefused(
            _("无法读取该工作簿，文件可能已损坏或不是 Excel 生成的 .xlsx。")
        ) from None


def _is_formula(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    return value is not None and not isinstance(value, int | float)


def _sheet_rows(values_ws: Any, formulas_ws: Any) -> Iterator[tuple[int, list[RawCell]]]:
    """(row number, cells) with each formula cell flagged when Excel saved no value for it."""
    values_ws.reset_dimensions()
    formulas_ws.reset_dimensions()
    pairs = zip(
        values_ws.iter_rows(values_only=True), formulas_ws.iter_rows(values_only=True), strict=False
    )
    for number, (values, formulas) in enumerate(pairs, start=1):
        if number > MAX_SHEET_ROWS:
            raise FileRefused(
                _("工作表“%(s)s”超过 %(n)d 行，无法导入。")
                % {"s": values_ws.title, "n": MAX_SHEET_ROWS}
            )
        cells = []
        for index, value in enumerate(values):
            formula = formulas[index] if index < len(formulas) else None
            missing = value is None and _is_formula(formula)
            cells.append(RawCell(value, column_letter(index), missing, number))
        yield number, cells


# --- reading -----------------------------------------------------------------------------------


def read_workbook(data: bytes, name: str) -> WorkbookContent:
    """All data sheets of the upload (see the module docstring). Raises :class:`FileRefused`."""
    check_upload(name, len(data))
    _check_zip(data)
    values_wb = _load(data, data_only=True)
    formulas_wb = _load(data, data_only=False)
    try:
        meta = _read_meta(values_wb)
        sheets: list[Sheet] = []
        problems: list[Problem] = []
        for ws in values_wb.worksheets:
            if ws.title in SKIPPED_SHEETS or getattr(ws, "sheet_state", "visible") != "visible":
                continue
            sheet = _read_sheet(ws, formulas_wb[ws.title], problems)
            if sheet is not None:
                sheets.append(sheet)
    finally:
        values_wb.close()
        formulas_wb.close()
    if not sheets and not any(p.blocking for p in problems):
        problems.append(
            Problem(_("工作簿中没有找到可导入的数据：需要含“指标代码”“分子”“分母”列的表格。"))
        )
    return WorkbookContent(sheets=sheets, meta=meta, problems=problems)


def _read_meta(wb: Any) -> dict[str, str]:
    if META_SHEET not in wb.sheetnames:
        return {}
    meta: dict[str, str] = {}
    for row in wb[META_SHEET].iter_rows(values_only=True, max_col=2):
        if row and row[0] is not None:
            meta[str(row[0]).strip()] = "" if len(row) < 2 or row[1] is None else str(row[1])
    return meta


def _find_header(rows: list[tuple[int, list[RawCell]]]) -> tuple[int, dict[str, str]] | None:
    for number, cells in rows[:HEADER_SCAN_ROWS]:
        columns: dict[str, str] = {}
        for cell in cells:
            name = header_field(cell.value)
            if name and name not in columns:
                columns[name] = cell.column
        if "code" in columns and ("numerator" in columns or "denominator" in columns):
            return number, columns
    return None


def _read_block(rows: list[tuple[int, list[RawCell]]], header_row: int) -> dict[str, RawCell]:
    block: dict[str, RawCell] = {}
    for number, cells in rows:
        if number >= header_row:
            break
        for i, cell in enumerate(cells):
            name = block_field(cell.value)
            if not name or name in block:
                continue
            following = next((c for c in cells[i + 1 :] if not is_blank(c.value)), None)
            if following is not None:
                block[name] = following
    return block


def _read_sheet(ws: Any, formulas_ws: Any, problems: list[Problem]) -> Sheet | None:
    rows = list(_sheet_rows(ws, formulas_ws))
    if not any(not is_blank(c.value) for _n, cells in rows for c in cells):
        return None
    found = _find_header(rows)
    if found is None:
        problems.append(
            Problem(
                _("没有找到表头（需要“指标代码”“分子”“分母”等列），已忽略该工作表。"),
                sheet=ws.title,
                kind=NOTICE,
            )
        )
        return None
    header_row, columns = found
    layout = "long" if "unit_code" in columns and "period" in columns else "template"
    sheet = Sheet(name=ws.title, layout=layout, header_row=header_row, columns=columns)
    if layout == "template":
        sheet.block = _read_block(rows, header_row)
    by_letter = {letter: name for name, letter in columns.items()}
    for number, cells in rows:
        if number <= header_row:
            continue
        picked = {name: RawCell(None, letter, row=number) for name, letter in columns.items()}
        picked.update({by_letter[c.column]: c for c in cells if c.column in by_letter})
        row = RawRow(sheet=ws.title, number=number, cells=picked)
        if _keep_row(row, problems):
            sheet.rows.append(row)
    return sheet


VALUE_FIELDS = {"numerator", "denominator", "comment", "justification"}


def _keep_row(row: RawRow, problems: list[Problem]) -> bool:
    """Skip blank rows and notes such as a footer (填表人：…); flag rows holding values but no
    usable indicator code."""
    filled = [k for k, c in row.cells.items() if not is_blank(c.value) or c.formula_without_value]
    if not filled:
        return False
    code = parse_code(row.get("code"))
    if code and looks_like_code(code):
        return True
    if not VALUE_FIELDS.intersection(filled):
        first = row.cells[filled[0]]
        problems.append(
            Problem(
                _("“%(v)s”不是数据行，已作为说明文字忽略。") % {"v": str(first.value)[:30]},
                sheet=row.sheet,
                row=row.number,
                column=first.column,
                kind=NOTICE,
            )
        )
        return False
    if not code:
        message = _("该行填写了数据，但缺少指标代码。")
    else:
        message = _("“%(v)s”不是有效的指标代码。") % {"v": str(row.get("code"))[:30]}
    problems.append(
        Problem(message, sheet=row.sheet, row=row.number, column=row.column("code"), field="code")
    )
    return False
