"""Reporting progress: figures against an independent count, definitions of submitted / on time /
late / missing, membership, scoping, default period and a constant number of queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qc_core.indicators.choices import PeriodType
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import LOCAL_TZ, Period
from qc_core.reporting import services
from qc_core.reporting.choices import SubmissionStatus as S
from qc_core.reporting.models import Submission
from qc_core.reporting.progress import compute_progress, default_period, select
from tests.factories import OrgUnitFactory

ON_TIME = datetime(2026, 10, 10, 10, 0, tzinfo=LOCAL_TZ)
LAST_MINUTE = datetime(2026, 10, 15, 23, 59, tzinfo=LOCAL_TZ)  # due 2026-10-15 end of day
LATE = datetime(2026, 10, 17, 10, 0, tzinfo=LOCAL_TZ)
APPROVED_OK = datetime(2026, 10, 25, 10, 0, tzinfo=LOCAL_TZ)
APPROVED_LATE = datetime(2026, 11, 2, 10, 0, tzinfo=LOCAL_TZ)  # lock 2026-10-30 end of day
AFTER_LOCK = datetime(2026, 11, 5, 9, 0, tzinfo=LOCAL_TZ)


def make_dataset(
    code: str = "PRG-Q", units: Any = (), period_type: str = PeriodType.QUARTER
) -> DataSet:
    ds = DataSet.objects.create(code=code, name=f"进度测试{code}", period_type=period_type)
    ds.units.add(*units)
    return ds


def sub(unit: Any, ds: DataSet, status: str, first: Any = None, approved: Any = None,
        period: str = "2026Q3") -> Submission:  # fmt: skip
    return Submission.objects.create(
        org_unit=unit, dataset=ds, period=period, status=status, first_submitted_at=first,
        last_submitted_at=first, approved_at=approved,
    )  # fmt: skip


# Ground truth written out by hand: (submitted, on_time, approved, approved_on_time, returned,
# late, missing) of each expected unit, as of AFTER_LOCK.
TRUTH = {
    "K1": (0, 0, 0, 0, 0, 1, 1),  # no form at all
    "K2": (0, 0, 0, 0, 0, 1, 1),  # draft never submitted
    "K3": (1, 1, 0, 0, 0, 0, 0),  # submitted on time, awaiting review
    "K4": (1, 1, 1, 1, 0, 0, 0),  # approved before the lock
    "K5": (1, 1, 0, 0, 1, 0, 0),  # returned for correction: still counts as submitted
    "K6": (1, 0, 0, 0, 0, 1, 0),  # first submitted after the due date
    "D1": (1, 0, 1, 0, 0, 1, 0),  # late, approved after the lock
    "D2": (1, 1, 0, 0, 0, 0, 0),  # submitted on time, then reopened (draft again)
    "D3": (1, 1, 0, 0, 0, 0, 0),  # submitted one minute before the due time
    "D5": (0, 0, 0, 0, 0, 1, 1),  # left after the period ended: still owes it
    "P1": (0, 0, 0, 0, 0, 1, 1),  # institution directly under the province
}
FIELDS = ("submitted", "submitted_on_time", "approved", "approved_on_time", "returned", "late",
          "missing")  # fmt: skip


@pytest.fixture
def scenario(org_tree: Any) -> dict[str, Any]:
    t = org_tree
    units = {code: OrgUnitFactory(code=code, name=f"单位{code}", parent=t.wuhua)
             for code in ("K1", "K2", "K3", "K4", "K5", "K6")}  # fmt: skip
    units.update({code: OrgUnitFactory(code=code, name=f"单位{code}", parent=t.dali_city)
                  for code in ("D1", "D2", "D3", "D4", "D5", "D6")})  # fmt: skip
    units["P1"] = OrgUnitFactory(code="P1", name="单位P1", parent=t.province)
    # D4 left before the period ended; D5 after it; D6 is not assigned to the form.
    units["D4"].is_member, units["D4"].member_until = False, date(2026, 9, 1)
    units["D4"].save()
    units["D5"].is_member, units["D5"].member_until = False, date(2026, 10, 10)
    units["D5"].save()
    ds = make_dataset(units=[u for c, u in units.items() if c != "D6"])
    other = make_dataset("OTHER-Q", units=list(units.values()))
    sub(units["K1"], ds, S.APPROVED, ON_TIME, APPROVED_OK, period="2026Q2")  # another period
    sub(units["K1"], other, S.APPROVED, ON_TIME, APPROVED_OK)  # another form
    sub(units["K2"], ds, S.DRAFT)
    sub(units["K3"], ds, S.SUBMITTED, ON_TIME)
    sub(units["K4"], ds, S.APPROVED, ON_TIME, APPROVED_OK)
    sub(units["K5"], ds, S.RETURNED, ON_TIME)
    sub(units["K6"], ds, S.SUBMITTED, LATE)
    sub(units["D1"], ds, S.APPROVED, LATE, APPROVED_LATE)
    sub(units["D2"], ds, S.DRAFT, ON_TIME)
    sub(units["D3"], ds, S.REVIEWED, LAST_MINUTE)
    sub(units["D4"], ds, S.SUBMITTED, ON_TIME)
    sub(units["D6"], ds, S.SUBMITTED, ON_TIME)
    return {"ds": ds, "units": units, "tree": t}


def independent_counts(codes: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(FIELDS, 0)
    for code in codes:
        for name, flag in zip(FIELDS, TRUTH[code], strict=True):
            counts[name] += flag
    counts["expected"] = len(codes)
    return counts


def tally_counts(tally: Any) -> dict[str, int]:
    return {name: getattr(tally, name) for name in ("expected", *FIELDS)}


def test_progress_figures_equal_an_independent_count(scenario: dict[str, Any]) -> None:
    progress = compute_progress(scenario["ds"], "2026Q3", now=AFTER_LOCK)

    assert sorted(u.code for u in progress.units) == sorted(TRUTH)
    assert tally_counts(progress.total) == independent_counts(list(TRUTH))
    groups = {g.name: g for g in progress.groups}
    assert set(groups) == {"昆明市", "大理白族自治州", "省直属单位"}
    kunming = [c for c in TRUTH if c.startswith("K")]
    dali = [c for c in TRUTH if c.startswith("D")]
    assert tally_counts(groups["昆明市"].tally) == independent_counts(kunming)
    assert tally_counts(groups["大理白族自治州"].tally) == independent_counts(dali)
    assert tally_counts(groups["省直属单位"].tally) == independent_counts(["P1"])
    for unit in progress.units:
        assert tally_counts(unit.tally) == independent_counts([unit.code])
    assert {u.code for u in progress.late_units} == {c for c, f in TRUTH.items() if f[5]}
    assert {u.code for u in progress.missing_units} == {c for c, f in TRUTH.items() if f[6]}
    # 7 of 11 submitted, 5 of them on time.
    assert progress.total.reporting_rate == round(7 / 11, 4)
    assert progress.total.on_time_rate == round(5 / 11, 4)


def test_units_not_yet_submitted_are_missing_but_not_late_before_the_due_date(
    scenario: dict[str, Any],
) -> None:
    progress = compute_progress(scenario["ds"], "2026Q3", now=ON_TIME)

    missing = {u.code for u in progress.missing_units}
    assert missing == {"K1", "K2", "D5", "P1"}
    assert {u.code for u in progress.late_units} == {"K6", "D1"}  # submitted after the due date


def test_scoped_progress_of_a_subcenter_covers_its_prefecture_only(
    scenario: dict[str, Any], personas: Any
) -> None:
    progress = compute_progress(scenario["ds"], "2026Q3", user=personas.subcenter, now=AFTER_LOCK)

    assert sorted(u.code for u in progress.units) == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert [g.name for g in progress.groups] == ["昆明市"]
    assert progress.total.expected == 6


def test_a_reporter_sees_only_the_own_unit(scenario: dict[str, Any], personas: Any) -> None:
    scenario["ds"].units.add(personas.tree.hospital_a, personas.tree.hospital_b)

    progress = compute_progress(scenario["ds"], "2026Q3", user=personas.reporter_b)

    assert [u.code for u in progress.units] == ["HB001"]


def test_people_without_a_qc_role_see_nothing(scenario: dict[str, Any], personas: Any) -> None:
    for user in (personas.expert, personas.nobody):
        assert compute_progress(scenario["ds"], "2026Q3", user=user).units == []


def test_drill_down_limits_to_one_prefecture(scenario: dict[str, Any]) -> None:
    progress = compute_progress(
        scenario["ds"], "2026Q3", within=scenario["tree"].dali, now=AFTER_LOCK
    )

    assert tally_counts(progress.total) == independent_counts(["D1", "D2", "D3", "D5"])


def test_returned_and_resubmitted_form_counts_once_with_its_first_submission(
    qc: Any, time_machine: Any
) -> None:
    """GIVEN a form submitted on time, returned, and resubmitted after the due date
    THEN it counts as submitted on time (the first submission decides) and not as late."""
    sub_a = qc.submitted()
    services.return_submission(sub_a, qc.p.center, "请核对跌倒例次")
    time_machine.move_to(LATE, tick=False)
    returned = compute_progress(qc.ger, "2026Q3")
    services.submit(Submission.objects.get(pk=sub_a.pk), qc.p.reporter_a)

    progress = compute_progress(qc.ger, "2026Q3")

    unit_a = next(u for u in returned.units if u.code == "HA001")
    assert (unit_a.submitted, unit_a.tally.returned, unit_a.late) == (True, 1, False)
    unit_a = next(u for u in progress.units if u.code == "HA001")
    assert (unit_a.submitted, unit_a.submitted_on_time, unit_a.late) == (True, True, False)
    assert unit_a.status == S.SUBMITTED
    unit_b = next(u for u in progress.units if u.code == "HB001")
    assert (unit_b.missing, unit_b.late) == (True, True)


def test_number_of_queries_does_not_grow_with_units(org_tree: Any, personas: Any) -> None:
    def queries(n: int) -> int:
        units = [OrgUnitFactory(parent=org_tree.wuhua if i % 2 else org_tree.dali_city)
                 for i in range(n)]  # fmt: skip
        ds = make_dataset(f"Q{n}", units=units)
        for unit in units[::3]:
            sub(unit, ds, S.SUBMITTED, ON_TIME)
        personas.center._scope_assignments = None  # count the scope lookup too
        with CaptureQueriesContext(connection) as ctx:
            progress = compute_progress(ds, "2026Q3", user=personas.center, now=AFTER_LOCK)
        assert progress.total.expected == n
        return len(ctx.captured_queries)

    few, many = queries(3), queries(60)
    assert few == many
    assert many <= 5


def test_default_period_is_the_latest_one_with_an_open_window(org_tree: Any) -> None:
    quarterly = make_dataset("DQ")
    monthly = make_dataset("DM", period_type=PeriodType.MONTH)

    assert default_period(quarterly, datetime(2026, 10, 5, tzinfo=LOCAL_TZ)) == Period(2026, 3)
    # After the lock of 2026Q3 no window is open: the last ended quarter is shown.
    assert str(default_period(quarterly, datetime(2026, 12, 1, tzinfo=LOCAL_TZ))) == "2026Q3"
    assert str(default_period(monthly, datetime(2026, 11, 20, tzinfo=LOCAL_TZ))) == "2026-10"


def test_select_explains_bad_parameters_in_chinese(org_tree: Any) -> None:
    make_dataset("SQ")
    make_dataset("SM", period_type=PeriodType.MONTH)

    with pytest.raises(ValueError, match="周期“2026Q5”格式不正确") as bad:
        select("SQ", "2026Q5")
    assert bad.value.field == "period"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="类型不符"):
        select("SQ", "2026-11")
    with pytest.raises(ValueError, match="报表“NOPE”不存在"):
        select("NOPE", "2026Q3")
    assert select(None, "2026-11")[0].code == "SM"
