"""Excel workbooks in English: a template downloaded with the English UI has English headers and
imports again, with or without its hidden metadata (a sheet copied into a new workbook)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation
from openpyxl import Workbook, load_workbook

from qc_core.reporting.excel.layout import HEADER_ROW, META_SHEET
from tests.reporting.excel_helpers import fill, run, texts, values_of, workbook

pytestmark = pytest.mark.django_db

TEMPLATE_URL = "/qc/excel/template/HA001/GER-Q/2026Q3/"


@pytest.fixture(autouse=True)
def _reset_language() -> Iterator[None]:
    yield
    translation.deactivate()


def _english_template(qc: Any, client_as: Any) -> bytes:
    client = client_as(qc.p.reporter_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(TEMPLATE_URL)
    assert response.status_code == 200
    assert "HA001_GER-Q_2026Q3_entry_template.xlsx" in response["Content-Disposition"]
    return b"".join(response.streaming_content) if response.streaming else response.content


def _headers(data: bytes) -> tuple[list[Any], list[Any]]:
    ws = load_workbook(io.BytesIO(data))["Data"]
    labels = [ws.cell(r, 1).value for r in range(2, 5)]
    return labels, [ws.cell(HEADER_ROW, c).value for c in range(1, 9)]


def _without_meta(data: bytes) -> bytes:
    """The data sheet's cell values copied into a fresh workbook: no hidden metadata left."""
    source = load_workbook(io.BytesIO(data))["Data"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in source.iter_rows(values_only=True):
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_template_downloaded_in_english_has_english_sheets_and_headers(qc, client_as):
    data = _english_template(qc, client_as)
    assert load_workbook(io.BytesIO(data)).sheetnames == ["Data", "Instructions", META_SHEET]
    labels, headers = _headers(data)
    assert labels == ["Institution code", "Report code", "Period"]
    assert headers[:6] == [
        "Indicator code",
        "Indicator name",
        "Unit of measure",
        "Numerator",
        "Denominator",
        "Remarks",
    ]
    assert not any("\u4e00" <= ch <= "\u9fff" for h in labels + headers for ch in str(h))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("keep_meta", [True, False], ids=["template", "copied-sheet"])
def test_english_template_imports_again(qc, client_as, language, keep_meta):
    """GIVEN a template downloaded with the English UI and filled in (remarks included)
    WHEN it is imported, in either language, as the template or as a copied sheet
    THEN every value and remark lands in the unit's draft."""
    data = fill(
        _english_template(qc, client_as), {"GER-P01": (45, 60, "transferred in")}, sheet="Data"
    )
    if not keep_meta:
        data = _without_meta(data)
        assert META_SHEET not in load_workbook(io.BytesIO(data)).sheetnames
    with translation.override(language):
        report = run(data, qc.p.reporter_a)
    assert report.ok and report.committed, texts(report)
    assert report.notices == [], [n.text() for n in report.notices]
    assert values_of(qc.p.tree.hospital_a)["GER-P01"] == (
        Decimal(45),
        Decimal(60),
        "transferred in",
    )


def test_long_sheet_with_english_headers_is_imported(qc):
    header = ("Institution code", "Report code", "Period", "Indicator code", "Numerator",
              "Denominator", "Remarks")  # fmt: skip
    data = workbook([("HA001", "GER-Q", "2026Q3", "GER-P01", 45, 60, "ok")], header=header)
    report = run(data, qc.p.center)
    assert report.ok and report.committed, texts(report)
    assert values_of(qc.p.tree.hospital_a)["GER-P01"] == (Decimal(45), Decimal(60), "ok")
