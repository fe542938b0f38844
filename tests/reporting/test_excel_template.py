"""The per-unit template: header block, one row per indicator with pre-filled draft values,
in-sheet validation with Chinese messages, locked labels, 说明 sheet, hidden metadata; and who may
download it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from qc_core.audit.models import AuditEntry
from qc_core.reporting.excel.layout import FIRST_DATA_ROW, HEADER_ROW
from tests.reporting.excel_helpers import template

pytestmark = pytest.mark.django_db


def _open(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_template_has_header_block_and_a_row_per_indicator_with_draft_values(qc):
    qc.filled()
    wb = _open(template(qc.p.tree.hospital_a, qc.ger, user=qc.p.reporter_a))
    ws = wb["数据"]
    assert (ws["A2"].value, ws["B2"].value, ws["D2"].value) == (
        "单位代码",
        "HA001",
        "昆明市第一人民医院（测试A）",
    )
    assert (ws["A3"].value, ws["B3"].value) == ("报表代码", "GER-Q")
    assert (ws["A4"].value, ws["B4"].value) == ("周期", "2026Q3")
    assert "2026年第3季度" in ws["D4"].value and "2026-10-15 前上报" in ws["D4"].value
    headers = [ws.cell(HEADER_ROW, c).value for c in range(1, 9)]
    assert headers == [
        "指标代码",
        "指标名称",
        "计量单位",
        "分子",
        "分母",
        "备注",
        "分子定义",
        "分母定义",
    ]
    items = list(qc.ger.items.order_by("order", "id").select_related("indicator__current_version"))
    codes = [ws.cell(FIRST_DATA_ROW + i, 1).value for i in range(len(items))]
    assert codes == [item.indicator.code for item in items]
    assert ws.cell(FIRST_DATA_ROW + len(items), 1).value is None
    stored = {v.indicator.code: v for v in qc.draft().values.select_related("indicator")}
    for offset, item in enumerate(items):
        row = FIRST_DATA_ROW + offset
        version = item.indicator.current_version
        value = stored[item.indicator.code]
        assert ws[f"D{row}"].value == value.numerator
        assert ws[f"E{row}"].value == value.denominator
        assert ws[f"G{row}"].value == version.numerator_def
        if version.has_denominator:
            assert ws[f"H{row}"].value == version.denominator_def
    p01 = FIRST_DATA_ROW + [i.indicator.code for i in items].index("GER-P01")
    assert ws[f"C{p01}"].value == "%（分子÷分母×100）"
    assert "（省级提议）" in ws[f"B{p01}"].value


def test_template_cells_carry_chinese_validation_and_labels_are_locked(qc):
    wb = _open(template(qc.p.tree.hospital_a, qc.ger))
    ws = wb["数据"]
    assert ws.protection.sheet
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    row = FIRST_DATA_ROW + 3  # a rate indicator (GER-P01)
    numerator = validations[f"D{row}"]
    assert (numerator.type, numerator.operator, numerator.formula1) == (
        "whole",
        "greaterThanOrEqual",
        "0",
    )
    assert (
        numerator.showInputMessage
        and "整数" in numerator.prompt
        and "不要填写百分比" in numerator.prompt
    )
    assert numerator.promptTitle.endswith("分子")
    assert not ws[f"D{row}"].protection.locked and not ws[f"F{row}"].protection.locked
    for letter in "ABCGH":
        assert ws[f"{letter}{row}"].protection.locked
    # A count (beds): the denominator cell is locked and has no validation.
    assert ws[f"A{FIRST_DATA_ROW}"].value == "GER-S01"
    assert ws[f"E{FIRST_DATA_ROW}"].protection.locked and f"E{FIRST_DATA_ROW}" not in validations


def test_money_indicators_accept_decimals_in_the_monthly_template(qc):
    data = template(qc.p.tree.hospital_a, qc.ops, "2026-09")
    ws = _open(data)["数据"]
    rows = {ws.cell(r, 1).value: r for r in range(FIRST_DATA_ROW, ws.max_row + 1)}
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert validations[f"D{rows['OPS-06']}"].type == "decimal"  # 住院次均费用（元）
    assert validations[f"D{rows['OPS-01']}"].type == "whole"


def test_template_has_instructions_and_hidden_metadata(qc):
    wb = _open(template(qc.p.tree.hospital_a, qc.ger, user=qc.p.reporter_a))
    help_text = "\n".join(str(c.value) for c in wb["说明"]["A"] if c.value)
    assert "本模板仅用于：昆明市第一人民医院（测试A）（HA001）" in help_text
    assert "不要填写百分比" in help_text and "空白单元格不会清除" in help_text
    meta_ws = wb["_meta"]
    assert meta_ws.sheet_state == "veryHidden"
    meta = {row[0]: row[1] for row in meta_ws.iter_rows(values_only=True)}
    assert (
        meta["unit_code"] == "HA001"
        and meta["dataset_code"] == "GER-Q"
        and meta["period"] == "2026Q3"
    )
    assert meta["template_version"] == "1" and meta["generated_by"] == "reporter_a"
    assert wb.active.title == "数据"


def test_reporter_downloads_the_template_of_their_unit_and_it_is_audited(qc, client_as):
    response = client_as(qc.p.reporter_a).get("/qc/excel/template/HA001/GER-Q/2026Q3/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "HA001_GER-Q_2026Q3" in response["Content-Disposition"]
    assert _open(response.content)["数据"]["B2"].value == "HA001"
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.actor == qc.p.reporter_a and entry.org_unit == qc.p.tree.hospital_a


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("reporter_a", "/qc/excel/template/HB001/GER-Q/2026Q3/", 404),
        ("reporter_b", "/qc/excel/template/HA001/GER-Q/2026Q3/", 404),
        ("subcenter", "/qc/excel/template/HA001/GER-Q/2026Q3/", 403),
        ("leader_a", "/qc/excel/template/HA001/GER-Q/2026Q3/", 403),
        ("official", "/qc/excel/template/HA001/GER-Q/2026Q3/", 403),
        ("nobody", "/qc/excel/template/HA001/GER-Q/2026Q3/", 403),
        ("expert", "/qc/excel/template/HA001/GER-Q/2026Q3/", 403),
        ("reporter_a", "/qc/excel/template/HA001/GER-Q/2026Q9/", 404),
        ("reporter_a", "/qc/excel/template/HA001/NOPE/2026Q3/", 404),
        ("center", "/qc/excel/template/HB001/GER-Q/2026Q3/", 200),
    ],
)
def test_template_download_is_limited_to_writers_of_the_unit(qc, client_as, persona, url, status):
    response = client_as(getattr(qc.p, persona)).get(url)
    assert response.status_code == status
    if status != 200:
        assert not AuditEntry.objects.filter(action="export").exists()


def test_anonymous_users_are_sent_to_the_login_page(qc, client):
    response = client.get("/qc/excel/template/HA001/GER-Q/2026Q3/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_excel_home_lists_only_writable_units(qc, client_as, django_assert_max_num_queries):
    client = client_as(qc.p.reporter_a)
    with django_assert_max_num_queries(12):
        response = client.get("/qc/excel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "HA001" in html and "HB001" not in html
    assert "/qc/excel/export/" not in html
    assert "/qc/excel/export/" in client_as(qc.p.center).get("/qc/excel/").content.decode()
