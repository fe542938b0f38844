"""load_indicators (idempotent, versioning on changed rows, data sets and rules) and
revise_indicator."""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from qc_core.indicators.models import DataSet, Indicator, IndicatorVersion, ValidationRule
from qc_core.indicators.services import LIBRARY_CSV, load_library, revise_indicator
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


def csv_rows() -> list[dict[str, str]]:
    with open(LIBRARY_CSV, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_load_indicators_creates_the_library_data_sets_and_rules(org_tree):
    rows = csv_rows()
    out = StringIO()
    call_command("load_indicators", stdout=out)
    assert Indicator.objects.count() == len(rows)
    assert IndicatorVersion.objects.count() == len(rows)
    assert set(IndicatorVersion.objects.values_list("version", flat=True)) == {1}
    ger = DataSet.objects.get(code="GER-Q")
    ops = DataSet.objects.get(code="OPS-M")
    geriatric = {r["code"] for r in rows if r["set"] == "geriatric_qc"}
    operational = {r["code"] for r in rows if r["set"] == "operational"}
    assert set(ger.items.values_list("indicator__code", flat=True)) == geriatric
    assert set(ops.items.values_list("indicator__code", flat=True)) == operational
    assert (ger.period_type, ger.due_days, ger.lock_days) == ("quarter", 15, 30)
    assert ops.period_type == "month"
    assert set(ger.units.values_list("code", flat=True)) == {"HA001", "HB001"}
    rule = ValidationRule.objects.get(code="GER-R01")
    assert (rule.left_indicator.code, rule.right_indicator.code) == ("GER-O02", "GER-O01")
    assert (rule.left_part, rule.operator, rule.right_part, rule.severity) == (
        "numerator", "<=", "numerator", "error",
    )  # fmt: skip
    assert "跌倒伤害例次数不能超过跌倒例次数" in rule.message
    assert f"新增 {len(rows)} 项" in out.getvalue()


def test_load_indicators_twice_changes_nothing(org_tree):
    load_library()
    before = (
        list(IndicatorVersion.objects.order_by("pk").values_list("pk", "version")),
        DataSet.objects.count(),
        ValidationRule.objects.count(),
    )
    report = load_library()
    after = (
        list(IndicatorVersion.objects.order_by("pk").values_list("pk", "version")),
        DataSet.objects.count(),
        ValidationRule.objects.count(),
    )
    assert before == after
    assert report.created == [] and report.revised == []
    assert len(report.unchanged) == len(csv_rows())


def test_a_changed_row_makes_a_new_version_and_closes_the_old_one(org_tree, tmp_path):
    load_library()
    rows = csv_rows()
    for row in rows:
        if row["code"] == "GER-O01":
            row["denominator"] = "同期住院患者实际占用总床日数（含加床）"
    changed = write_csv(tmp_path / "lib.csv", rows)
    report = load_library(changed)
    assert report.revised == ["GER-O01"]
    versions = list(Indicator.objects.get(code="GER-O01").versions.order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].effective_to is not None
    assert versions[1].effective_to is None
    assert versions[1].is_definition_change
    assert versions[1].denominator_def.endswith("（含加床）")
    assert Indicator.objects.get(code="GER-O01").current_version == versions[1]
    # Loading the same changed file again is a no-op.
    assert load_library(changed).revised == []
    assert Indicator.objects.get(code="GER-O01").versions.count() == 2


def test_rerun_keeps_edits_made_in_the_ui(org_tree, personas):
    load_library()
    indicator = Indicator.objects.get(code="GER-P01")
    revise_indicator(
        indicator, {"status": "official", "basis": "省卫健委确认"}, personas.center, "确认"
    )
    load_library()
    indicator.refresh_from_db()
    assert indicator.current_version.status == "official"
    assert indicator.versions.count() == 2


def test_rerun_assigns_newly_joined_members(org_tree):
    load_library()
    newcomer = OrgUnitFactory(code="HC001", parent=org_tree.wuhua, is_member=True)
    OrgUnitFactory(code="HX001", parent=org_tree.wuhua, is_member=False)
    report = load_library()
    assert report.datasets == {"GER-Q": 1, "OPS-M": 1}
    assert DataSet.objects.get(code="GER-Q").units.filter(pk=newcomer.pk).exists()
    assert not DataSet.objects.get(code="GER-Q").units.filter(code="HX001").exists()


def test_a_bad_row_is_refused_with_its_line_number(org_tree, tmp_path):
    rows = csv_rows()
    rows[4]["unit"] = "percent"
    bad = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ValueError, match="第 6 行“unit”列"):
        load_library(bad)
    assert Indicator.objects.count() == 0


def test_derived_checks_follow_the_unit(org_tree):
    load_library()

    def current(code):
        return Indicator.objects.get(code=code).current_version

    assert current("GER-P01").numerator_le_denominator and current("GER-P01").integer_only
    assert not current("OPS-03").numerator_le_denominator  # bed occupancy may exceed 100 %
    assert not current("OPS-06").integer_only  # money
    assert not current("OPS-09").integer_only  # case-mix weights
    assert not current("OPS-04").integer_only  # 平均开放床位数 is an average
    assert not current("GER-S01").has_denominator
    assert current("GER-O01").multiplier == Decimal("1000")


def test_revise_without_a_change_keeps_the_version(org_tree, personas):
    load_library()
    indicator = Indicator.objects.get(code="GER-O03")
    version = indicator.current_version
    same = revise_indicator(indicator, {"name": version.name}, personas.center, "无变化")
    assert same.pk == version.pk
    assert indicator.versions.count() == 1


def test_revise_of_a_label_is_a_version_but_not_a_definition_change(org_tree, personas):
    load_library()
    indicator = Indicator.objects.get(code="GER-O03")
    new = revise_indicator(
        indicator, {"name": "院内压力性损伤发生率（2期及以上）"}, personas.center, "改名"
    )
    assert new.version == 2 and not new.is_definition_change
    assert new.created_by == personas.center and new.change_note == "改名"


def test_revise_refuses_unknown_fields(org_tree, personas):
    load_library()
    with pytest.raises(ValueError):
        revise_indicator(
            Indicator.objects.get(code="GER-O03"), {"colour": "red"}, personas.center, ""
        )


def test_revisions_are_audited(org_tree, personas):
    from qc_core.audit.models import AuditEntry

    load_library()
    indicator = Indicator.objects.get(code="GER-O03")
    revise_indicator(
        indicator, {"multiplier": Decimal("1000"), "unit": "‰"}, personas.center, "改为千分率"
    )
    entries = AuditEntry.objects.filter(object_type="indicators.indicatorversion", action="create")
    assert entries.filter(changes__version=[None, 2]).exists()
    moved = AuditEntry.objects.filter(object_type="indicators.indicator", action="update")
    assert any("current_version" in e.changes for e in moved)
