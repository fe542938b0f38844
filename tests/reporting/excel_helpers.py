"""Helpers for the Excel tests: templates edited like a user would, long-format workbooks built
from rows, and a snapshot of everything an import could change."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl import Workbook, load_workbook

from qc_core.indicators.periods import Period
from qc_core.reporting.excel.importer import ImportOptions, ImportReport, import_workbook
from qc_core.reporting.excel.template import build_template
from qc_core.reporting.models import DataValue, Submission, ValueChange

LONG_HEADER = ("单位代码", "周期", "指标代码", "分子", "分母", "备注")


def template(unit: Any, dataset: Any, period: str = "2026Q3", user: Any = None) -> bytes:
    return build_template(unit, dataset, Period.parse(period), user)


def edit(data: bytes, change: Callable[[Any], None]) -> bytes:
    """Open ``data`` in openpyxl, let ``change(workbook)`` edit it, return the saved bytes."""
    wb = load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row_of(ws: Any, code: str) -> int:
    for row in range(1, ws.max_row + 1):
        if ws.cell(row, 1).value == code:
            return row
    raise KeyError(code)


def fill(data: bytes, values: dict[str, tuple[Any, ...]], sheet: str = "数据") -> bytes:
    """Type ``{code: (numerator, denominator[, comment])}`` into a template's cells D/E/F."""

    def change(wb: Any) -> None:
        ws = wb[sheet]
        for code, parts in values.items():
            row = row_of(ws, code)
            for letter, value in zip("DEF", parts, strict=False):
                ws[f"{letter}{row}"] = value

    return edit(data, change)


def workbook(rows: Iterable[Iterable[Any]], *, title: str | None = None,
             header: Iterable[str] = LONG_HEADER, sheet: str = "汇总") -> bytes:  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells("A1:F1")
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(data: bytes, user: Any, *, commit: bool = True, name: str = "upload.xlsx",
        **options: Any) -> ImportReport:  # fmt: skip
    return import_workbook(data, user, ImportOptions(file_name=name, **options), commit=commit)


def values_of(unit: Any, period: str = "2026Q3") -> dict[str, tuple[Any, Any, str]]:
    rows = DataValue.objects.filter(submission__org_unit=unit, submission__period=period)
    return {
        v.indicator.code: (v.numerator, v.denominator, v.comment)
        for v in rows.select_related("indicator")
    }


def db_state() -> tuple[Any, ...]:
    """Everything an import may write, to prove a refused import changed nothing."""
    return (
        sorted(
            Submission.objects.values_list("pk", "org_unit_id", "period", "status", "row_version")
        ),
        sorted(DataValue.objects.values_list("pk", "numerator", "denominator", "comment")),
        ValueChange.objects.count(),
    )


def texts(report: ImportReport) -> list[str]:
    return [p.text() for p in report.errors]


def cache_formula_results(data: bytes, results: dict[str, str]) -> bytes:
    """Pretend Excel calculated and saved the workbook: write ``results`` (formula text →
    value) as the cached values openpyxl leaves empty."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = content.decode("utf-8")
                for formula, value in results.items():
                    text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
                content = text.encode("utf-8")
            target.writestr(item, content)
    return out.getvalue()
