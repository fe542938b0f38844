"""The quarterly export: per-unit and pooled figures against an independent computation, annual
roll-ups that pool (never average), approved-only, audit, scope and permissions."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from qc_core.audit.models import AuditEntry
from qc_core.reporting import services
from qc_core.system.models import TaskRun
from tests.factories import OrgUnitFactory
from tests.reporting.conftest import seed_history

pytestmark = pytest.mark.django_db

# Independent inputs: (numerator, denominator) per unit and indicator for 2026Q3.
Q3 = {
    "HA001": {
        "GER-P01": (45, 60),
        "GER-O01": (3, 2100),
        "GER-S01": (40, None),
        "GER-O11": (1210, 100),
    },
    "HB001": {
        "GER-P01": (30, 50),
        "GER-O01": (1, 1800),
        "GER-S01": (25, None),
        "GER-O11": (980, 90),
    },
    "HC001": {
        "GER-P01": (18, 20),
        "GER-O01": (4, 1500),
        "GER-S01": (30, None),
        "GER-O11": (700, 60),
    },
}
MULTIPLIER = {"GER-P01": 100, "GER-O01": 1000, "GER-S01": 1, "GER-O11": 1}


@pytest.fixture
def units(qc):
    t = qc.p.tree
    hospital_c = OrgUnitFactory(code="HC001", name="安宁市人民医院（测试C）", parent=t.wuhua)
    qc.ger.units.add(hospital_c)
    return {"HA001": t.hospital_a, "HB001": t.hospital_b, "HC001": hospital_c}


def _overrides(code):
    """The Q3 pairs of ``code`` (keys with ``_``), the fall-injury denominator kept consistent."""
    pairs = {k.replace("-", "_"): v for k, v in Q3[code].items()}
    pairs["GER_O02"] = (1, Q3[code]["GER-O01"][0])
    return pairs


@pytest.fixture
def reported(qc, units):
    """Complete Q3 forms (the values above, plausible defaults elsewhere): A approved, B and C
    submitted."""
    subs = {code: qc.submitted(unit, **_overrides(code)) for code, unit in units.items()}
    services.approve(subs["HA001"], qc.p.center)
    return subs


def _export(tmp_path, *args):
    out = tmp_path / "export.xlsx"
    call_command("qc_export", "-o", str(out), *args, stdout=io.StringIO())
    return load_workbook(out, read_only=False)


def _summary(wb):
    """{unit code: {indicator code: (numerator, denominator, rate)}} and the status column."""
    ws = wb["汇总"]
    header = [c.value for c in ws[1]]
    columns = {str(v).split(" ")[0]: i for i, v in enumerate(header) if v}
    table, status = {}, {}
    for row in ws.iter_rows(min_row=3, values_only=True):
        if row[0] in (None, "合计"):
            continue
        table[row[0]] = {code: tuple(row[i : i + 3]) for code, i in columns.items()}
        status[row[0]] = row[4]
    total = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == "合计")
    return table, status, {code: tuple(total[i : i + 3]) for code, i in columns.items()}


def _ranking(wb, code):
    ws = wb[code]
    pooled = ws["B5"].value
    rows = [r for r in ws.iter_rows(min_row=8, values_only=True) if r[1]]
    return pooled, [(r[0], r[1], r[7]) for r in rows]


def _rate(num, den, code):
    if den is None:
        return float(num * MULTIPLIER[code])
    return float(Decimal(num) / Decimal(den) * MULTIPLIER[code])


def test_export_rates_equal_an_independent_computation(qc, reported, tmp_path):
    wb = _export(tmp_path, "--period", "2026Q3")
    table, status, total = _summary(wb)
    assert set(table) == {"HA001", "HB001", "HC001"}
    assert status == {"HA001": "已通过", "HB001": "已上报", "HC001": "已上报"}
    for unit, pairs in Q3.items():
        for code, (num, den) in pairs.items():
            got_num, got_den, got_rate = table[unit][code]
            assert (got_num, got_den) == (num, den)
            assert got_rate == pytest.approx(_rate(num, den, code), abs=1e-4)
    for code in MULTIPLIER:
        nums = [Q3[u][code][0] for u in Q3]
        dens = [Q3[u][code][1] for u in Q3]
        pooled_den = None if dens[0] is None else sum(dens)
        expected = _rate(sum(nums), pooled_den, code)
        assert total[code][2] == pytest.approx(expected, abs=1e-4)
        pooled, ranking = _ranking(wb, code)
        assert pooled == pytest.approx(expected, abs=1e-4)
        assert len(ranking) == 3


def test_indicator_sheets_rank_units_in_the_indicators_direction(qc, reported, tmp_path):
    wb = _export(tmp_path, "--period", "2026Q3")
    _pooled, higher = _ranking(wb, "GER-P01")  # higher is better: 90 %, 75 %, 60 %
    assert [(r[0], r[1]) for r in higher] == [(1, "HC001"), (2, "HA001"), (3, "HB001")]
    _pooled, lower = _ranking(wb, "GER-O01")  # lower is better: 0.56 ‰, 1.43 ‰, 2.67 ‰
    assert [(r[0], r[1]) for r in lower] == [(1, "HB001"), (2, "HA001"), (3, "HC001")]
    assert [r[2] for r in lower] == sorted(r[2] for r in lower)


def test_annual_rollup_pools_numerators_and_denominators(qc, units, reported, tmp_path):
    # Q2 and Q1 for A and B (approved); C reported only in Q3.
    seed_history(units["HA001"], qc.ger, "GER-P01", [(10, 100), (5, 10)])
    seed_history(units["HB001"], qc.ger, "GER-P01", [(50, 50), (1, 100)])
    wb = _export(tmp_path, "--period", "2026")
    table, status, total = _summary(wb)
    expected = {
        "HA001": (45 + 10 + 5, 60 + 100 + 10),
        "HB001": (30 + 50 + 1, 50 + 50 + 100),
        "HC001": (18, 20),
    }
    for unit, (num, den) in expected.items():
        got_num, got_den, got_rate = table[unit]["GER-P01"]
        assert (got_num, got_den) == (num, den)
        assert got_rate == pytest.approx(num / den * 100, abs=1e-4)
    province = (sum(n for n, _d in expected.values()), sum(d for _n, d in expected.values()))
    assert total["GER-P01"][:2] == province
    assert total["GER-P01"][2] == pytest.approx(province[0] / province[1] * 100, abs=1e-4)
    # Not the average of the quarterly rates:
    averaged = (45 / 60 + 10 / 100 + 5 / 10) / 3 * 100
    assert table["HA001"]["GER-P01"][2] != pytest.approx(averaged, abs=0.1)
    assert status["HA001"] == "Q1已通过；Q2已通过；Q3已通过；Q4未上报"
    meta = {r[0]: r[1] for r in wb["元数据"].iter_rows(values_only=True) if r and r[0]}
    assert meta["周期"].startswith("2026（年度汇总：2026Q1、2026Q2、2026Q3、2026Q4）")


def test_approved_only_leaves_out_submitted_data_and_says_so(qc, reported, tmp_path):
    wb = _export(tmp_path, "--period", "2026Q3", "--approved-only")
    table, _status, total = _summary(wb)
    assert table["HA001"]["GER-P01"][:2] == (45, 60)
    assert table["HB001"]["GER-P01"] == (None, None, None)
    assert total["GER-P01"][:2] == (45, 60)
    meta = {r[0]: r[1] for r in wb["元数据"].iter_rows(values_only=True) if r and r[0]}
    assert meta["仅含已通过数据"] == "是"
    assert meta["导出时间"] == "2026-10-05 10:00:00（北京时间）"
    assert meta["导出人"].startswith("命令行 qc_export")


def test_drafts_are_not_exported_and_missing_units_are_listed(qc, units, tmp_path):
    qc.filled(units["HA001"], **_overrides("HA001"))
    wb = _export(tmp_path, "--period", "2026Q3")
    table, status, total = _summary(wb)
    assert status == {"HA001": "草稿", "HB001": "未上报", "HC001": "未上报"}
    assert table["HA001"]["GER-P01"] == (None, None, None)
    assert total["GER-P01"] == (None, None, None)


def test_metadata_lists_definitions_and_versions(qc, reported, tmp_path):
    wb = _export(tmp_path, "--period", "2026Q3")
    rows = list(wb["元数据"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "指标代码")
    p01 = next(r for r in rows[header:] if r[0] == "GER-P01")
    assert (
        p01[2] == "v1" and p01[3].startswith("≥65岁出院患者中") and p01[6] == 100 and p01[9] == "v1"
    )


def test_command_export_is_audited(qc, reported, tmp_path):
    _export(tmp_path, "--period", "2026Q3", "--dataset", "GER-Q")
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.object_repr == "质控数据导出 GER-Q 2026Q3"
    assert entry.extra["units"] == 3 and entry.extra["approved_only"] is False


def test_command_refuses_a_bad_period_or_data_set(qc, tmp_path):
    with pytest.raises(CommandError, match="格式不正确"):
        _export(tmp_path, "--period", "2026Q7")
    with pytest.raises(CommandError, match="类型不符"):
        _export(tmp_path, "--period", "2026-09", "--dataset", "GER-Q")
    with pytest.raises(CommandError, match="不存在"):
        _export(tmp_path, "--period", "2026Q3", "--dataset", "NOPE")


def test_command_exports_one_prefecture(qc, reported, tmp_path):
    wb = _export(tmp_path, "--period", "2026Q3", "--unit", "530100")
    table, _status, total = _summary(wb)
    assert set(table) == {"HA001", "HC001"}
    assert total["GER-P01"][:2] == (45 + 18, 60 + 20)


def test_center_downloads_the_export_and_it_is_audited(qc, reported, client_as):
    response = client_as(qc.p.center).post(
        "/qc/excel/export/", {"dataset": "GER-Q", "period": "2026Q3"}
    )
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    table, _status, _total = _summary(wb)
    assert set(table) == {"HA001", "HB001", "HC001"}
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.actor == qc.p.center and entry.extra["scope"] == "全省"


def test_subcenter_exports_only_their_prefecture(qc, reported, client_as):
    response = client_as(qc.p.subcenter).post(
        "/qc/excel/export/", {"dataset": "GER-Q", "period": "2026Q3", "approved_only": "on"}
    )
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    table, _status, total = _summary(wb)
    assert set(table) == {"HA001", "HC001"}
    assert total["GER-P01"][:2] == (45, 60)  # only A is approved
    meta = {r[0]: r[1] for r in wb["元数据"].iter_rows(values_only=True) if r and r[0]}
    assert meta["范围"] == "昆明市" and "subcenter" in meta["导出人"]
    assert AuditEntry.objects.filter(action="export", actor=qc.p.subcenter).exists()


@pytest.mark.parametrize(
    "persona", ["reporter_a", "leader_a", "official", "expert", "engineer", "nobody"]
)
def test_outsiders_cannot_download_the_export(qc, reported, client_as, persona):
    client = client_as(getattr(qc.p, persona))
    assert client.get("/qc/excel/export/").status_code == 403
    response = client.post("/qc/excel/export/", {"dataset": "GER-Q", "period": "2026Q3"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_anonymous_export_goes_to_login(qc, client):
    response = client.post("/qc/excel/export/", {"dataset": "GER-Q", "period": "2026Q3"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_export_form_refuses_a_bad_period(qc, client_as):
    response = client_as(qc.p.center).post(
        "/qc/excel/export/", {"dataset": "GER-Q", "period": "Q3"}
    )
    assert response.status_code == 400 and "格式不正确" in response.content.decode()


def test_large_export_runs_as_a_job_with_a_result_file(
    qc, reported, client_as, settings, django_capture_on_commit_callbacks
):
    settings.QC_EXPORT_INLINE_ROWS = 1
    client = client_as(qc.p.center)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/qc/excel/export/", {"dataset": "GER-Q", "period": "2026"})
    run = TaskRun.objects.get(name="reporting.excel_export")
    assert response.status_code == 302 and response["Location"].endswith(f"/jobs/{run.pk}/")
    assert run.status == "succeeded" and run.result["units"] == 3 and run.result_file
    download = client.get(f"/jobs/{run.pk}/result/")
    wb = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert "汇总" in wb.sheetnames and "元数据" in wb.sheetnames
    assert AuditEntry.objects.filter(action="export", actor=qc.p.center).exists()
