"""Reading numbers, codes and periods out of spreadsheet cells as people really type them.

Accepted where the meaning is unambiguous: full-width digits and punctuation (１２３, １，２３４),
thousands separators (1,234 / 1，234), surrounding spaces (also full-width and non-breaking),
numbers stored as text, and Excel's binary float noise (12.0000000001 → 12). Refused with a
Chinese reason: percentages and per-mille values where a count belongs, fractions in integer
cells (12.5, 0.8), dates, booleans, words and anything else that is not a plain number.

Every function raises :class:`CellError` (a ``ValueError``) whose message completes the sentence
"工作表“数据”第 12 行 D 列（分子）：…".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

MAX_DECIMALS = 4
MAX_INTEGER_DIGITS = 14
# Excel stores numbers as binary doubles: 12 may come back as 12.000000000000002.
INTEGER_NOISE = Decimal("0.000001")
DECIMAL_NOISE = Decimal("0.00000001")

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


class CellError(ValueError):
    """A cell that cannot be read; ``str(exc)`` is the Chinese reason."""


def normalize_text(value: Any) -> str:
    """NFKC-normalized text without surrounding (or any repeated inner) white space."""
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and normalize_text(value) == "")


def _shown(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= 30 else text[:30] + "…"


def _from_text(raw: str) -> Decimal | None:
    text = normalize_text(raw).replace(" ", "")
    if text == "":
        return None
    if text.endswith(("%", "‰")):
        raise CellError(
            _("“%(v)s”是百分比/千分比，这里应填写原始数值（如人数、例次数），系统会自动计算比率")
            % {"v": _shown(raw)}
        )
    if _GROUPED.match(text):
        text = text.replace(",", "")
    elif "," in text:
        raise CellError(_("“%(v)s”的逗号用法无法识别（千位分隔应为 1,234）") % {"v": _shown(raw)})
    if not _PLAIN.match(text):
        raise CellError(_("“%(v)s”不是数字") % {"v": _shown(raw)})
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
        raise CellError(_("“%(v)s”不是数字") % {"v": _shown(raw)}) from None


def to_decimal(value: Any) -> Decimal | None:
    """The cell as a Decimal (``None`` when blank), before any integer/decimal rule."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError(
            _("单元格是逻辑值（%(v)s），不是数字") % {"v": "TRUE" if value else "FALSE"}
        )
    if isinstance(value, datetime | date | time):
        raise CellError(_("单元格是日期/时间，不是数字（请把单元格格式改为“常规”或“数值”）"))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(_("不是有效数字"))
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return _from_text(value)
    raise CellError(_("无法识别的单元格内容"))


def parse_amount(value: Any, *, integer_only: bool) -> Decimal | None:
    """A numerator or denominator: ``None`` when blank; an integral Decimal for counting
    indicators (``integer_only``); at most four decimals otherwise."""
    number = to_decimal(value)
    if number is None:
        return None
    if abs(number) >= Decimal(10) ** MAX_INTEGER_DIGITS:
        raise CellError(_("数值过大（%(v)s）") % {"v": _shown(value)})
    if integer_only:
        nearest = number.to_integral_value()
        if abs(number - nearest) <= INTEGER_NOISE:
            return nearest
        if 0 < abs(number) < 1:
            raise CellError(
                _("“%(v)s”像是比率或小数；该单元格应填写人数、例次数等整数，系统会自动计算比率")
                % {"v": _shown(value)}
            )
        raise CellError(_("应为整数（填写了 %(v)s）") % {"v": _shown(value)})
    rounded = number.quantize(Decimal(1).scaleb(-MAX_DECIMALS))
    if abs(number - rounded) <= DECIMAL_NOISE:
        integral = rounded.to_integral_value()
        return integral if rounded == integral else rounded.normalize()
    raise CellError(
        _("最多保留 %(n)d 位小数（填写了 %(v)s）") % {"n": MAX_DECIMALS, "v": _shown(value)}
    )


def parse_code(value: Any) -> str:
    """An indicator, unit or data set code: NFKC, no spaces, upper case for letters
    (``ger-p01`` → ``GER-P01``); numeric cells (unit code 530102 typed as a number) as digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_text(value).replace(" ", "").upper()


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text))


_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
_QUARTER_FORMS = (
    re.compile(r"^(\d{4})[-_/.]?Q([1-4])$"),
    re.compile(r"^(\d{4})年?第?([1-4一二三四])季度?$"),
)
_MONTH_FORMS = (re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"), re.compile(r"^(\d{4})(\d{2})$"))


def parse_period_text(value: Any) -> str:
    """A period code from a cell: ``2026Q3``, ``2026 q3``, ``2026年第三季度`` → ``2026Q3``;
    ``2026-11``, ``2026/11``, ``2026年11月`` and a date cell (Excel turns ``2026-11`` into
    1 Nov 2026) → ``2026-11``. Anything else is returned normalized for the period parser to
    refuse with its own message."""
    if isinstance(value, datetime | date):
        return f"{value.year}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalize_text(value).replace(" ", "").upper()
    for pattern in _QUARTER_FORMS:
        match = pattern.match(text)
        if match:
            return f"{match[1]}Q{_CN_DIGITS.get(match[2], match[2])}"
    for pattern in _MONTH_FORMS:
        match = pattern.match(text)
        if match and 1 <= int(match[2]) <= 12:
            return f"{match[1]}-{int(match[2]):02d}"
    return text


def parse_text(value: Any, limit: int = 2000) -> str:
    """A comment cell as text (numbers as typed, dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M") if value.time() != time.min else value.date()
    if isinstance(value, date):
        value = value.isoformat()
    text = str(value).replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise CellError(_("内容过长（最多 %(n)d 字）") % {"n": limit})
    return text
