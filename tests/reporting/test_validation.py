"""Validation: each built-in check, cross-indicator rules, warnings needing a justification,
outliers against the unit's own history and its peers, suspicious patterns."""

from __future__ import annotations

import pytest

from qc_core.indicators.models import Indicator
from qc_core.indicators.services import revise_indicator
from qc_core.reporting import services
from qc_core.reporting.errors import SubmitBlocked
from qc_core.reporting.validation import modified_z, validate_submission
from tests.factories import OrgUnitFactory
from tests.reporting.conftest import by_code, codes_of, good_values, seed_history

pytestmark = pytest.mark.django_db


def save(qc, sub, *rows):
    return services.save_values(sub, list(rows), qc.p.reporter_a).results


def test_a_complete_plausible_form_has_no_findings(qc):
    sub = qc.draft()
    result = services.save_values(sub, good_values(), qc.p.reporter_a)
    assert result.results == []
    assert validate_submission(sub, for_submit=True) == []


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        ({"indicator": "GER-P01", "numerator": -1, "denominator": 10}, "numerator", "negative"),
        ({"indicator": "GER-P01", "numerator": 1, "denominator": -10}, "denominator", "negative"),
        (
            {"indicator": "GER-P01", "numerator": "2.5", "denominator": 10},
            "numerator",
            "not_integer",
        ),
        ({"indicator": "GER-S01", "numerator": "40.5"}, "numerator", "not_integer"),
        (
            {"indicator": "GER-P01", "numerator": 11, "denominator": 10},
            "numerator",
            "numerator_gt_denominator",
        ),
        (
            {"indicator": "GER-O01", "numerator": 3000, "denominator": 2100},
            "numerator",
            "numerator_gt_denominator",
        ),
        (
            {"indicator": "GER-O11", "numerator": 5, "denominator": 0},
            "denominator",
            "zero_denominator",
        ),
        (
            {"indicator": "GER-P01", "numerator": 5, "denominator": 0},
            "denominator",
            "zero_denominator",
        ),
    ],
)
def test_each_builtin_check_reports_an_error_on_the_right_cell(qc, row, field, code):
    results = save(qc, qc.draft(), row)
    found = [r for r in by_code(results, row["indicator"]) if r["code"] == code]
    assert len(found) == 1
    assert found[0]["field"] == field and found[0]["severity"] == "error"
    assert row["indicator"] in found[0]["message"]


def test_values_with_errors_are_kept_as_a_draft(qc):
    sub = qc.draft()
    save(qc, sub, {"indicator": "GER-P01", "numerator": 11, "denominator": 10})
    assert sub.values.get(indicator__code="GER-P01").numerator == 11


def test_allowed_cases_are_not_flagged(qc):
    results = save(
        qc, qc.draft(),
        {"indicator": "GER-P01", "numerator": 0, "denominator": 0},  # nothing to assess
        {"indicator": "GER-O11", "numerator": 1500, "denominator": 100},  # days: may exceed
        {"indicator": "GER-S02", "numerator": 50, "denominator": 40},  # ratio may exceed 1
    )  # fmt: skip
    assert results == []


def test_bed_occupancy_may_exceed_100_percent_and_money_may_have_decimals(qc):
    sub, _ = services.get_or_create_draft(qc.p.tree.hospital_a, qc.ops, "2026-09", None)
    result = services.save_values(
        sub,
        [
            {"indicator": "OPS-03", "numerator": 3300, "denominator": 3000},
            {"indicator": "OPS-06", "numerator": "1234567.89", "denominator": 120},
        ],
        qc.p.reporter_a,
    )
    assert result.results == []


def test_required_and_half_filled_cells_block_only_submission(qc):
    sub = qc.draft()
    rows = [r for r in good_values() if r["indicator"] != "GER-P05"]
    rows = [dict(r, denominator=None) if r["indicator"] == "GER-P06" else r for r in rows]
    assert services.save_values(sub, rows, qc.p.reporter_a).results == []
    found = codes_of(validate_submission(sub, for_submit=True))
    assert ("GER-P05", "required") in found and ("GER-P06", "required") in found
    item = qc.ger.items.get(indicator__code="GER-P06")
    item.required = False
    item.save()
    found = codes_of(validate_submission(sub, for_submit=True))
    assert ("GER-P06", "incomplete") in found
    with pytest.raises(SubmitBlocked) as blocked:
        services.submit(sub, qc.p.reporter_a)
    assert "GER-P05" in {r["indicator"] for r in blocked.value.blockers}


def test_fall_injuries_cannot_exceed_falls(qc):
    sub = qc.filled(GER_O01=(3, 2100), GER_O02=(5, 3))
    found = [r for r in validate_submission(sub) if r["code"] == "rule:GER-R01"]
    assert len(found) == 1
    assert found[0]["indicator"] == "GER-O02" and found[0]["severity"] == "error"
    assert "跌倒伤害例次数不能超过跌倒例次数" in found[0]["message"]
    with pytest.raises(SubmitBlocked):
        services.submit(sub, qc.p.reporter_a)


def test_vte_high_risk_cannot_exceed_assessed(qc):
    sub = qc.filled(GER_P10=(60, 100), GER_P11=(50, 80))
    found = [r for r in validate_submission(sub) if r["code"] == "rule:GER-R02"]
    assert found and found[0]["field"] == "denominator" and found[0]["severity"] == "error"


def test_rules_skip_missing_values_and_inactive_rules(qc):
    from qc_core.indicators.models import ValidationRule

    sub = qc.draft()
    assert save(qc, sub, {"indicator": "GER-O02", "numerator": 5, "denominator": 5}) == []
    save(qc, sub, {"indicator": "GER-O01", "numerator": 3, "denominator": 2100})
    assert "rule:GER-R01" in {r["code"] for r in validate_submission(sub)}
    ValidationRule.objects.filter(code="GER-R01").update(is_active=False)
    assert "rule:GER-R01" not in {r["code"] for r in validate_submission(sub)}


def test_a_warning_needs_a_justification_to_submit(qc):
    # GER-R03 (warning): the GER-O02 denominator should equal the GER-O01 numerator.
    sub = qc.filled(GER_O01=(3, 2100), GER_O02=(1, 4))
    warning = [r for r in validate_submission(sub) if r["code"] == "rule:GER-R03"]
    assert warning and warning[0]["severity"] == "warning" and warning[0]["justified"] is False
    with pytest.raises(SubmitBlocked) as blocked:
        services.submit(sub, qc.p.reporter_a)
    assert [r["code"] for r in blocked.value.blockers] == ["rule:GER-R03"]
    assert "情况说明" in blocked.value.message
    services.save_values(
        sub, [{"indicator": "GER-O02", "justification": "1 例跌倒发生在季度末，伤害评估次月完成"}],
        qc.p.reporter_a,
    )  # fmt: skip
    services.submit(sub, qc.p.reporter_a)
    sub.refresh_from_db()
    assert sub.status == "submitted"


def test_modified_z_score_matches_the_formula():
    sample = [10, 11, 9, 10, 12, 10, 11, 9]
    # median 10, MAD 1 → z = 0.6745 × (30 − 10) / 1
    assert modified_z(30, sample) == pytest.approx(0.6745 * 20)
    assert modified_z(10, [10, 10, 10]) is None
    # MAD 0 but some spread: falls back to the mean absolute deviation.
    assert modified_z(20, [10, 10, 10, 14]) == pytest.approx(10 / (1.253314 * 1.0))


def test_outlier_against_own_history_warns(qc):
    unit = qc.p.tree.hospital_a
    seed_history(
        unit, qc.ger, "GER-P03", [(90, 100), (91, 100), (89, 100), (90, 100), (92, 100), (90, 100)]
    )
    sub = qc.filled(GER_P03=(30, 100))
    found = [r for r in validate_submission(sub) if r["code"] == "outlier_history"]
    assert [r["indicator"] for r in found] == ["GER-P03"]
    assert found[0]["severity"] == "warning" and "近 6 期" in found[0]["message"]


def test_in_range_value_and_short_history_do_not_warn(qc):
    unit = qc.p.tree.hospital_a
    seed_history(unit, qc.ger, "GER-P03", [(90, 100), (91, 100), (89, 100), (90, 100), (92, 100)])
    seed_history(unit, qc.ger, "GER-P04", [(90, 100), (91, 100), (89, 100)])  # only 3 periods
    sub = qc.filled(GER_P03=(91, 100), GER_P04=(10, 100))
    assert "outlier_history" not in {r["code"] for r in validate_submission(sub)}


def test_unreported_past_drafts_are_not_history(qc):
    unit = qc.p.tree.hospital_a
    seed_history(unit, qc.ger, "GER-P03", [(90, 100)] * 3 + [(89, 100), (91, 100)], status="draft")
    sub = qc.filled(GER_P03=(30, 100))
    assert "outlier_history" not in {r["code"] for r in validate_submission(sub)}


def test_history_before_a_definition_change_is_not_compared(qc):
    unit = qc.p.tree.hospital_a
    seed_history(unit, qc.ger, "GER-P03", [(90, 100), (91, 100), (89, 100), (90, 100), (92, 100)])
    revise_indicator(Indicator.objects.get(code="GER-P03"), {"denominator_def": "同期入院≥65岁患者数"},
                     qc.p.center, "口径调整")  # fmt: skip
    sub = qc.filled(GER_P03=(30, 100))
    assert "outlier_history" not in {r["code"] for r in validate_submission(sub)}


def _peers(qc, level, rates):
    for n, num in enumerate(rates):
        unit = OrgUnitFactory(code=f"HP{n:03d}", parent=qc.p.tree.wuhua, hospital_level=level)
        qc.ger.units.add(unit)
        sub, _ = services.get_or_create_draft(unit, qc.ger, "2026Q3", None)
        services.save_values(
            sub, [{"indicator": "GER-P05", "numerator": num, "denominator": 100}], None
        )
        sub.status = "submitted"
        sub.save()


def test_outlier_against_peers_of_the_same_level_warns(qc):
    _peers(qc, "3A", [80, 82, 78, 81, 79])
    sub = qc.filled(GER_P05=(20, 100))
    found = [r for r in validate_submission(sub) if r["code"] == "outlier_peers"]
    assert [r["indicator"] for r in found] == ["GER-P05"]
    assert "同级医院" in found[0]["message"] and "5 家" in found[0]["message"]


def test_peers_of_another_level_or_too_few_peers_do_not_count(qc):
    _peers(qc, "2A", [80, 82, 78, 81, 79])
    sub = qc.filled(GER_P05=(20, 100))
    assert "outlier_peers" not in {r["code"] for r in validate_submission(sub)}
    OrgUnitFactory(code="HQ000", parent=qc.p.tree.wuhua, hospital_level="3A")
    assert "outlier_peers" not in {r["code"] for r in validate_submission(sub)}


def test_identical_values_four_periods_running_are_flagged_for_review(qc):
    unit = qc.p.tree.hospital_a
    seed_history(unit, qc.ger, "GER-P07", [(40, 100)] * 3)
    seed_history(unit, qc.ger, "GER-S01", [(40, None)] * 3)  # beds: a structure indicator
    sub = qc.filled(GER_P07=(40, 100))
    flagged = [r for r in validate_submission(sub) if r["code"] == "identical_values"]
    assert [r["indicator"] for r in flagged] == ["GER-P07"]
    assert flagged[0]["severity"] == "notice"
    services.submit(sub, qc.p.reporter_a)  # a notice blocks nothing


def test_a_run_broken_by_one_period_is_not_flagged(qc):
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-P07", [(40, 100), (41, 100), (40, 100)])
    sub = qc.filled(GER_P07=(40, 100))
    assert "identical_values" not in {r["code"] for r in validate_submission(sub)}


def test_a_rate_jump_beyond_the_factor_warns(qc):
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-O03", [(1, 100)])
    sub = qc.filled(GER_O03=(4, 100))
    found = [r for r in validate_submission(sub) if r["code"] == "rate_jump"]
    assert [r["indicator"] for r in found] == ["GER-O03"] and "3 倍" in found[0]["message"]
    qc.ger.rate_jump_factor = 5
    qc.ger.save()
    sub.refresh_from_db()
    assert "rate_jump" not in {r["code"] for r in validate_submission(sub)}


def test_a_drop_beyond_the_factor_also_warns_but_a_small_change_does_not(qc):
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-O03", [(8, 100)])
    seed_history(qc.p.tree.hospital_a, qc.ger, "GER-O04", [(8, 100)])
    sub = qc.filled(GER_O03=(2, 100), GER_O04=(6, 100))
    found = {r["indicator"] for r in validate_submission(sub) if r["code"] == "rate_jump"}
    assert found == {"GER-O03"}
