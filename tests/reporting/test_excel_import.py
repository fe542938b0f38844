"""Excel import through the services: real-world quirks accepted, bad input refused with sheet,
row, column and reason, all-or-nothing writes, templates of other units/periods refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from qc_core.audit.models import AuditEntry
from qc_core.indicators.periods import LOCAL_TZ
from qc_core.reporting import services
from qc_core.reporting.excel.layout import FIRST_DATA_ROW
from qc_core.reporting.models import ValueChange
from tests.reporting.conftest import good_values
from tests.reporting.excel_helpers import (
    cache_formula_results,
    db_state,
    edit,
    fill,
    row_of,
    run,
    template,
    texts,
    values_of,
    workbook,
)

pytestmark = pytest.mark.django_db


def _row(qc, code):
    """The template row of ``code`` (the form's order)."""
    codes = list(qc.ger.items.order_by("order", "id").values_list("indicator__code", flat=True))
    return FIRST_DATA_ROW + codes.index(code)


def test_filled_template_is_imported_as_a_draft_through_the_services(qc):
    p = qc.p
    data = fill(
        template(p.tree.hospital_a, qc.ger), {"GER-P01": (45, 60, "含外院转入"), "GER-S01": (38,)}
    )
    report = run(data, p.reporter_a)
    assert report.ok and report.committed, texts(report)
    assert values_of(p.tree.hospital_a) == {
        "GER-P01": (Decimal(45), Decimal(60), "含外院转入"),
        "GER-S01": (Decimal(38), None, ""),
    }
    sub = services.get_or_create_draft(p.tree.hospital_a, qc.ger, "2026Q3", p.reporter_a)[0]
    assert sub.status == "draft"
    assert set(ValueChange.objects.values_list("source", flat=True)) == {"import"}
    assert AuditEntry.objects.filter(
        object_type="reporting.excel_import", actor=p.reporter_a
    ).exists()


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        ("１２３", "２００", (123, 200)),  # full-width digits
        ("1,234", "2，000", (1234, 2000)),  # thousands separators, also full-width
        ("  45 ", " 60\u3000", (45, 60)),  # surrounding spaces
        ("45", "60", (45, 60)),  # numbers stored as text
        (45.00000000001, 59.99999999999, (45, 60)),  # Excel float noise
    ],
)
def test_real_world_number_input_is_accepted(qc, numerator, denominator, expected):
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (numerator, denominator)})
    report = run(data, qc.p.reporter_a)
    assert report.committed, texts(report)
    num, den, _comment = values_of(qc.p.tree.hospital_a)["GER-P01"]
    assert (num, den) == tuple(Decimal(v) for v in expected)


def test_formula_with_a_saved_result_is_accepted(qc):
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": ("=40+5", "=30*2")})
    data = cache_formula_results(data, {"40+5": "45", "30*2": "60"})
    report = run(data, qc.p.reporter_a)
    assert report.committed, texts(report)
    assert values_of(qc.p.tree.hospital_a)["GER-P01"][:2] == (Decimal(45), Decimal(60))


def test_long_sheet_with_merged_title_blank_rows_and_footer_is_accepted(qc):
    rows = [
        ("HA001", "2026Q3", "GER-P01", 45, 60, ""),
        (None, None, None, None, None, None),
        (" HA001 ", "2026年第三季度", "ger-p03", "５０", "100", ""),
        (None, None, None, None, None, None),
        ("填表人：张三", None, None, None, None, None),
    ]
    data = workbook(rows, title="2026年第三季度 老年医学质控数据（合并标题行）")
    report = run(data, qc.p.center)
    assert report.committed, texts(report)
    assert [n.text() for n in report.notices] == [
        "工作表“汇总”第 7 行 A 列：“填表人：张三”不是数据行，已作为说明文字忽略。"
    ]
    assert values_of(qc.p.tree.hospital_a) == {
        "GER-P01": (Decimal(45), Decimal(60), ""),
        "GER-P03": (Decimal(50), Decimal(100), ""),
    }


def test_blank_cells_leave_existing_values_unchanged(qc):
    sub = qc.filled()
    before = values_of(qc.p.tree.hospital_a)

    def blank_out(wb):
        ws = wb["数据"]
        row = row_of(ws, "GER-P01")
        ws[f"D{row}"] = None
        ws[f"E{row}"] = None

    data = fill(edit(template(qc.p.tree.hospital_a, qc.ger), blank_out), {"GER-P02": (41, 100)})
    report = run(data, qc.p.reporter_a)
    assert report.committed, texts(report)
    after = values_of(qc.p.tree.hospital_a)
    assert after["GER-P01"] == before["GER-P01"]
    assert after["GER-P02"][:2] == (Decimal(41), Decimal(100))
    assert [c["indicator"] for c in report.units[0]["changes"]] == ["GER-P02"]
    assert sub.values.count() == len(before)


@pytest.mark.parametrize(
    ("code", "cells", "expected"),
    [
        ("GER-P01", ("12.5%", 60), "第 {row} 行 D 列（分子）：“12.5%”是百分比"),
        ("GER-P01", (0.8, 60), "第 {row} 行 D 列（分子）：“0.8”像是比率"),
        ("GER-P01", (45, 12.5), "第 {row} 行 E 列（分母）：应为整数（填写了 12.5）"),
        ("GER-P01", ("45人", 60), "第 {row} 行 D 列（分子）：“45人”不是数字"),
        ("GER-S01", (40, 50), "第 {row} 行 E 列（分母）：GER-S01 是计数型指标，没有分母"),
        (
            "GER-P01",
            ("=SUM(A1:A2)", 60),
            "第 {row} 行 D 列（分子）：单元格是公式，但文件中没有保存计算结果",
        ),
        ("GER-P01", (61, 60), "第 {row} 行 D 列（分子）：GER-P01 分子（61）不能大于分母（60）"),
        ("GER-P01", (-1, 60), "第 {row} 行 D 列（分子）：GER-P01 分子不能为负数"),
    ],
)
def test_bad_cells_are_refused_naming_sheet_row_column_and_reason(qc, code, cells, expected):
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P02": (10, 20), code: cells})
    before = db_state()
    report = run(data, qc.p.reporter_a)
    assert not report.committed
    message = "工作表“数据”" + expected.format(row=_row(qc, code))
    assert any(t.startswith(message) for t in texts(report)), texts(report)
    assert db_state() == before


def test_a_failing_row_leaves_the_database_unchanged(qc):
    qc.filled()
    before = db_state()
    good = dict.fromkeys(("GER-P01", "GER-P02", "GER-P03", "GER-P04"), (5, 10))
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {**good, "GER-P05": ("abc", 10)})
    report = run(data, qc.p.reporter_a)
    assert not report.committed and len(report.errors) == 1
    assert db_state() == before
    # The same file without the bad cell goes in whole.
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {**good, "GER-P05": (3, 10)})
    assert run(data, qc.p.reporter_a).committed
    assert values_of(qc.p.tree.hospital_a)["GER-P04"][:2] == (Decimal(5), Decimal(10))


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ("HA001", "2026Q3", "GER-X99", 1, 2, ""),
            "第 2 行 C 列（指标代码）：指标代码“GER-X99”不在报表“老年医学质控季度报表”（GER-Q）中",
        ),
        (
            ("ZZ999", "2026Q3", "GER-P01", 1, 2, ""),
            "第 2 行 A 列（单位代码）：单位代码“ZZ999”不存在",
        ),
        (("HA001", "2026Q5", "GER-P01", 1, 2, ""), "第 2 行 B 列（周期）：周期“2026Q5”格式不正确"),
        (("HA001", "2026-09", "GER-P01", 1, 2, ""), "第 2 行 B 列（周期）：周期“2026-09”类型不符"),
        (("HA001", None, "GER-P01", 1, 2, ""), "第 2 行 B 列（周期）：未填写周期"),
        (
            (None, "2026Q3", None, 1, 2, ""),
            "第 2 行 C 列（指标代码）：该行填写了数据，但缺少指标代码",
        ),
    ],
)
def test_bad_codes_and_periods_in_a_long_sheet_are_refused(qc, row, expected):
    before = db_state()
    report = run(workbook([row]), qc.p.center, dataset=qc.ger)
    assert not report.committed
    assert any(t.startswith("工作表“汇总”" + expected) for t in texts(report)), texts(report)
    assert db_state() == before


def test_duplicate_indicator_rows_are_refused(qc):
    data = workbook(
        [("HA001", "2026Q3", "GER-P01", 1, 2, ""), ("HA001", "2026Q3", "GER-P01", 3, 4, "")]
    )
    report = run(data, qc.p.center)
    assert texts(report) == [
        "工作表“汇总”第 3 行 C 列（指标代码）：指标 GER-P01 重复出现（第 2 行已填写过）。"
    ]


def test_template_of_another_unit_is_refused_on_that_units_page(qc):
    data = fill(template(qc.p.tree.hospital_b, qc.ger), {"GER-P01": (1, 2)})
    report = run(data, qc.p.center, unit=qc.p.tree.hospital_a, dataset=qc.ger, period="2026Q3")
    assert not report.committed
    assert "不是当前单位“昆明市第一人民医院（测试A）”（HA001）的" in texts(report)[0]
    assert texts(report)[0].startswith("工作表“数据”第 2 行 B 列（单位代码）")
    assert values_of(qc.p.tree.hospital_b) == {}


def test_template_relabelled_for_another_unit_is_refused(qc):
    def relabel(wb):
        wb["数据"]["B2"] = "HB001"

    data = fill(edit(template(qc.p.tree.hospital_a, qc.ger), relabel), {"GER-P01": (1, 2)})
    report = run(data, qc.p.center)
    assert not report.committed
    assert "表头填写的是“HB001”，但该模板是为“HA001”生成的" in texts(report)[0]


def test_template_of_another_period_is_refused(qc, time_machine):
    time_machine.move_to(datetime(2026, 10, 5, tzinfo=LOCAL_TZ), tick=False)
    data = fill(template(qc.p.tree.hospital_a, qc.ger, "2026Q2"), {"GER-P01": (1, 2)})
    report = run(data, qc.p.reporter_a, unit=qc.p.tree.hospital_a, dataset=qc.ger, period="2026Q3")
    assert texts(report) == [
        "工作表“数据”第 4 行 B 列（周期）：该文件是 2026Q2 的数据，不是当前页面的周期 2026Q3；请下载本期的模板。"
    ]


def test_reporter_cannot_import_for_another_unit(qc):
    p = qc.p
    data = fill(template(p.tree.hospital_b, qc.ger), {"GER-P01": (1, 2)})
    report = run(data, p.reporter_a)
    assert not report.committed and report.status_code == 404
    assert "单位代码“HB001”不存在，或您无权访问该单位" in texts(report)[0]
    assert values_of(p.tree.hospital_b) == {}
    # A hospital leader sees the unit but may not write it.
    report = run(fill(template(p.tree.hospital_a, qc.ger), {"GER-P01": (1, 2)}), p.leader_a)
    assert report.status_code == 403 and "没有填报" in texts(report)[0]
    assert values_of(p.tree.hospital_a) == {}


def test_approved_form_is_refused_with_the_services_reason(qc):
    sub = qc.submitted()
    services.approve(sub, qc.p.center)
    before = db_state()
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (1, 2)})
    report = run(data, qc.p.reporter_a)
    assert not report.committed
    assert texts(report) == [
        "工作表“数据”（HA001 · 2026Q3）：该报表已审核通过，数据不能再修改；如需更正，请联系省质控中心重新开放。"
    ]
    assert db_state() == before


def test_locked_period_is_refused(qc, time_machine):
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (1, 2)})
    time_machine.move_to(datetime(2026, 11, 5, tzinfo=LOCAL_TZ), tick=False)
    report = run(data, qc.p.reporter_a)
    assert not report.committed and "已于 2026-10-30 23:59 锁定" in texts(report)[0]


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"unit,period\nHA001,2026Q3\n", "data.csv", "只接受 Excel .xlsx 工作簿"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls", "不支持旧版 .xls 格式"),
        (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "renamed.xlsx", "实际是旧版 .xls"),
        (b"this is not a workbook", "fake.xlsx", "不是有效的 .xlsx 工作簿"),
        (b"PK\x03\x04broken", "broken.xlsx", "已损坏"),
    ],
)
def test_files_that_are_not_xlsx_workbooks_are_refused(qc, content, name, expected):
    report = run(content, qc.p.center, name=name)
    assert not report.committed and expected in texts(report)[0]


def test_oversized_files_are_refused(qc, settings):
    settings.QC_EXCEL_MAX_UPLOAD_BYTES = 1000
    data = template(qc.p.tree.hospital_a, qc.ger)
    report = run(data, qc.p.reporter_a)
    assert not report.committed and "上传上限为 1 KB" in texts(report)[0]
    settings.QC_EXCEL_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    report = run(b"x" * (6 * 1024 * 1024), qc.p.reporter_a)
    assert texts(report) == ["文件过大（6 MB），上传上限为 5 MB；请删除无关的工作表或分批导入。"]


def test_center_imports_many_units_from_one_long_sheet_all_or_nothing(qc):
    rows = [("HA001", "2026Q3", "GER-P01", 45, 60, ""), ("HB001", "2026Q3", "GER-P01", 30, 50, ""),
            ("HB001", "2026Q3", "GER-P02", "12.5%", 50, "")]  # fmt: skip
    before = db_state()
    report = run(workbook(rows), qc.p.center)
    assert not report.committed
    assert texts(report) == [
        "工作表“汇总”第 4 行 D 列（分子）：“12.5%”是百分比/千分比，这里应填写原始数值（如人数、例次数），系统会自动计算比率。"
    ]
    assert db_state() == before
    rows[2] = ("HB001", "2026Q3", "GER-P02", 25, 50, "")
    report = run(workbook(rows), qc.p.center)
    assert report.committed and len(report.units) == 2
    assert values_of(qc.p.tree.hospital_a)["GER-P01"][:2] == (Decimal(45), Decimal(60))
    assert values_of(qc.p.tree.hospital_b)["GER-P02"][:2] == (Decimal(25), Decimal(50))


def test_a_refused_unit_rolls_back_the_other_units(qc):
    sub = qc.submitted(qc.p.tree.hospital_b)
    services.approve(sub, qc.p.center)
    before = db_state()
    rows = [("HA001", "2026Q3", "GER-P01", 45, 60, ""), ("HB001", "2026Q3", "GER-P01", 30, 50, "")]
    report = run(workbook(rows), qc.p.center)
    assert not report.committed
    assert [u["ok"] for u in report.units] == [True, False]
    assert "（HB001 · 2026Q3）：该报表已审核通过" in texts(report)[0]
    assert db_state() == before


def test_one_sheet_per_unit_workbook_is_imported_atomically(qc):
    import io

    from openpyxl import Workbook, load_workbook

    combined = Workbook()
    combined.remove(combined.active)
    for unit, values in ((qc.p.tree.hospital_a, (45, 60)), (qc.p.tree.hospital_b, (30, 50))):
        source = load_workbook(io.BytesIO(fill(template(unit, qc.ger), {"GER-P01": values})))[
            "数据"
        ]
        target = combined.create_sheet(unit.code)
        for row in source.iter_rows(values_only=True):
            target.append(list(row))
    out = io.BytesIO()
    combined.save(out)
    report = run(out.getvalue(), qc.p.center)
    assert report.committed, texts(report)
    assert values_of(qc.p.tree.hospital_a)["GER-P01"][:2] == (Decimal(45), Decimal(60))
    assert values_of(qc.p.tree.hospital_b)["GER-P01"][:2] == (Decimal(30), Decimal(50))


def test_dry_run_shows_old_and_new_values_and_writes_nothing(qc):
    qc.filled()
    old = values_of(qc.p.tree.hospital_a)["GER-P01"]
    before = db_state()
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (7, 100, "更正")})
    report = run(data, qc.p.reporter_a, commit=False)
    assert report.ok and not report.committed
    changes = {
        (c["field"], c["old"], c["new"], f"{c['column']}{c['row']}")
        for c in report.units[0]["changes"]
    }
    row = _row(qc, "GER-P01")
    assert changes == {
        ("numerator", format(old[0].normalize(), "f"), "7", f"D{row}"),
        ("comment", "", "更正", f"F{row}"),
    }
    assert db_state() == before


def test_commit_refuses_when_the_form_changed_after_the_preview(qc):
    sub = qc.filled()
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (7, 100)})
    preview = run(data, qc.p.reporter_a, commit=False).as_dict()
    services.save_values(
        sub, [{"indicator": "GER-P02", "numerator": 1, "denominator": 2}], qc.p.reporter_a
    )
    before = db_state()
    report = run(data, qc.p.reporter_a, expected_versions=preview["expected_versions"])
    assert not report.committed and "预览之后，该报表的数据已被他人修改" in texts(report)[0]
    assert db_state() == before


def test_warnings_do_not_block_the_import_and_are_listed(qc):
    # GER-R03 (warning): the fall-injury denominator should equal the number of falls.
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-O01": (3, 2100), "GER-O02": (1, 4)})
    report = run(data, qc.p.reporter_a)
    assert report.committed, texts(report)
    warnings = report.units[0]["warnings"]
    assert any(
        "跌倒伤害占比的分母应等于" in w["message"] and w["severity"] == "warning" for w in warnings
    )


def test_stale_template_is_imported_with_a_notice(qc):
    sub = qc.filled()
    data = fill(template(qc.p.tree.hospital_a, qc.ger), {"GER-P01": (7, 100)})
    services.save_values(
        sub, [{"indicator": "GER-P02", "numerator": 1, "denominator": 2}], qc.p.reporter_a
    )
    report = run(data, qc.p.reporter_a)
    assert report.committed
    assert any(
        "模板下载之后，该报表的数据已在网页或其他途径修改过" in n.message for n in report.notices
    )


def test_existing_draft_values_are_prefilled_and_reimport_changes_nothing(qc):
    qc.filled()
    before = db_state()
    report = run(template(qc.p.tree.hospital_a, qc.ger), qc.p.reporter_a)
    assert report.ok and report.units[0]["changes"] == []
    assert db_state() == before
    assert len(good_values()) == report.units[0]["rows"]
