"""The shape of GeriQC workbooks: sheet names, column headers (and the synonyms the importer
accepts), the template's hidden metadata keys and version."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from qc_core.reporting.excel.numbers import normalize_text

TEMPLATE_VERSION = 1
TEMPLATE_MARK = "GeriQC-template"

DATA_SHEET = "数据"
HELP_SHEET = "说明"
META_SHEET = "_meta"

# Sheets the importer never reads as data (in any language the template was downloaded in).
SKIPPED_SHEETS = {HELP_SHEET, META_SHEET, "元数据", "Instructions"}


def data_sheet_title() -> str:
    """The template's data sheet name in the active language (数据 / Data)."""
    return pgettext("sheet name", "数据")


def help_sheet_title() -> str:
    """The template's instructions sheet name in the active language (说明 / Instructions)."""
    return pgettext("sheet name", "说明")


# Row layout of the template's data sheet.
TITLE_ROW = 1
HEADER_ROW = 7
FIRST_DATA_ROW = HEADER_ROW + 1

# Template data-sheet columns, left to right: (key, header).
TEMPLATE_COLUMNS: list[tuple[str, Any]] = [
    ("code", _("指标代码")),
    ("name", _("指标名称")),
    ("unit", _("计量单位")),
    ("numerator", _("分子")),
    ("denominator", _("分母")),
    ("comment", _("备注")),
    ("numerator_def", _("分子定义")),
    ("denominator_def", _("分母定义")),
]
TEMPLATE_LETTERS = {key: chr(ord("A") + i) for i, (key, _h) in enumerate(TEMPLATE_COLUMNS)}

# Labels of the header block above the table (label cell, value in the next cell).
# English words are those of the template downloaded with the English UI (keep them in step
# with locale/en) plus common spellings, so an English template imports again.
BLOCK_LABELS = {
    "unit_code": ("单位代码", "机构代码", "UNITCODE", "ORGUNIT", "INSTITUTIONCODE", "ORGUNITCODE"),
    "dataset_code": ("报表代码", "DATASET", "REPORTCODE", "DATASETCODE", "FORMCODE"),
    "period": ("周期", "报告期", "统计周期", "PERIOD", "REPORTINGPERIOD"),
}

# Column headers the importer recognises (after normalisation), per field.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "code": ("指标代码", "指标编码", "指标编号", "INDICATOR", "INDICATORCODE", "DATAELEMENT"),
    "numerator": ("分子", "分子值", "NUMERATOR", "NUM"),
    "denominator": ("分母", "分母值", "DENOMINATOR", "DEN"),
    "comment": ("备注", "说明", "COMMENT", "COMMENTS", "REMARK", "REMARKS", "NOTE", "NOTES"),
    "justification": ("情况说明", "JUSTIFICATION", "EXPLANATION"),
    "unit_code": BLOCK_LABELS["unit_code"],
    "period": BLOCK_LABELS["period"],
    "dataset_code": BLOCK_LABELS["dataset_code"],
}
FIELD_LABELS = {
    "code": _("指标代码"),
    "numerator": _("分子"),
    "denominator": _("分母"),
    "comment": _("备注"),
    "justification": _("情况说明"),
    "unit_code": _("单位代码"),
    "period": _("周期"),
    "dataset_code": _("报表代码"),
}

_BRACKETS = re.compile(r"[（(\[【].*?[)）\]】]")
_NOISE = re.compile(r"[\s*:：_\-]")


def header_key(value: Any) -> str:
    """A header cell reduced for matching: ``"分子（人数）*"`` → ``"分子"``, ``"Org unit"`` →
    ``"ORGUNIT"``."""
    if value is None:
        return ""
    text = _BRACKETS.sub("", normalize_text(value))
    return _NOISE.sub("", text).upper()


_SYNONYM_INDEX = {
    header_key(word): field for field, words in HEADER_SYNONYMS.items() for word in words
}
_BLOCK_INDEX = {header_key(word): field for field, words in BLOCK_LABELS.items() for word in words}


def header_field(value: Any) -> str | None:
    """The field a column header names, or ``None``."""
    return _SYNONYM_INDEX.get(header_key(value))


def block_field(value: Any) -> str | None:
    """The header-block field a label cell names (单位代码 / 报表代码 / 周期), or ``None``."""
    return _BLOCK_INDEX.get(header_key(value))


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters
