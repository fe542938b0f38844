"""``GET /api/v1/reporting-progress/``: figures, scoping per persona (outsiders get only their
scope, reporters their unit, other roles 403), parameter errors in Chinese, query-count guard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qc_core.accounts.tokens import issue_unit_token
from qc_core.indicators.choices import PeriodType
from qc_core.reporting.choices import SubmissionStatus as S
from tests.factories import OrgUnitFactory
from tests.reporting.test_progress import AFTER_LOCK, LATE, ON_TIME, make_dataset, sub

URL = "/api/v1/reporting-progress/"


@pytest.fixture
def setup(personas: Any, time_machine: Any) -> dict[str, Any]:
    t = personas.tree
    k2 = OrgUnitFactory(code="HA002", name="昆明测试二院", parent=t.wuhua)
    d2 = OrgUnitFactory(code="HB002", name="大理测试二院", parent=t.dali_city)
    ds = make_dataset("PRG-Q", units=[t.hospital_a, t.hospital_b, k2, d2])
    sub(t.hospital_a, ds, S.APPROVED, ON_TIME, ON_TIME)
    sub(t.hospital_b, ds, S.SUBMITTED, LATE)
    time_machine.move_to(AFTER_LOCK, tick=False)
    return {"ds": ds, "k2": k2, "d2": d2}


def test_center_gets_province_prefectures_units_and_lists(
    setup: dict[str, Any], personas: Any, api_as: Any
) -> None:
    res = api_as(personas.center).get(URL, {"period": "2026Q3", "dataset": "PRG-Q"})

    assert res.status_code == 200
    body = res.json()
    assert body["period"] == "2026Q3"
    assert body["total"]["name"] == "全省"
    total = body["total"]
    assert (total["expected"], total["submitted"], total["submitted_on_time"]) == (4, 2, 1)
    assert (total["approved"], total["late"], total["missing"]) == (1, 3, 2)
    assert total["reporting_rate"] == 0.5 and total["on_time_rate"] == 0.25
    prefectures = {p["code"]: p for p in body["prefectures"]}
    assert set(prefectures) == {"530100", "532900"}
    assert (prefectures["530100"]["expected"], prefectures["530100"]["submitted"]) == (2, 1)
    units = {u["code"]: u for u in body["units"]}
    assert units["HA001"]["status"] == "approved" and units["HA001"]["approved_on_time"] == 1
    assert units["HB001"]["late"] == 1 and units["HB001"]["submitted"] == 1
    assert {u["code"] for u in body["missing_units"]} == {"HA002", "HB002"}
    assert {u["code"] for u in body["late_units"]} == {"HB001", "HA002", "HB002"}
    assert body["window"]["due_at"].startswith("2026-10-15T23:59:59")


def test_period_alone_picks_the_only_data_set_of_that_type(
    setup: dict[str, Any], personas: Any, api_as: Any
) -> None:
    res = api_as(personas.center).get(URL, {"period": "2026Q3"})

    assert res.status_code == 200
    assert res.json()["dataset"]["code"] == "PRG-Q"


def test_without_parameters_the_open_window_of_the_first_data_set_is_shown(
    setup: dict[str, Any], personas: Any, api_as: Any, time_machine: Any
) -> None:
    time_machine.move_to(ON_TIME, tick=False)

    body = api_as(personas.center).get(URL).json()

    assert (body["dataset"]["code"], body["period"]) == ("PRG-Q", "2026Q3")


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        ({"period": "2026Q5"}, "period", "周期“2026Q5”格式不正确"),
        ({"period": "Q3-2026", "dataset": "PRG-Q"}, "period", "格式不正确"),
        ({"period": "2026-11", "dataset": "PRG-Q"}, "period", "类型不符"),
        ({"period": "2026Q3", "dataset": "NOPE"}, "dataset", "报表“NOPE”不存在"),
    ],
)
def test_bad_parameters_get_400_with_a_chinese_message(
    setup: dict[str, Any], personas: Any, api_as: Any, params: dict[str, str], field: str,
    text: str,
) -> None:  # fmt: skip
    res = api_as(personas.center).get(URL, params)

    assert res.status_code == 400
    body = res.json()
    assert text in body["message"]
    assert text in body["fields"][field][0]


def test_two_data_sets_of_one_period_type_need_the_dataset_parameter(
    setup: dict[str, Any], personas: Any, api_as: Any
) -> None:
    make_dataset("ZZ-Q", period_type=PeriodType.QUARTER)

    res = api_as(personas.center).get(URL, {"period": "2026Q3"})

    assert res.status_code == 400
    assert "PRG-Q" in res.json()["fields"]["dataset"][0]


def test_subcenter_sees_its_prefecture_only(
    setup: dict[str, Any], personas: Any, api_as: Any
) -> None:
    res = api_as(personas.subcenter).get(URL, {"period": "2026Q3", "dataset": "PRG-Q"})

    body = res.json()
    assert res.status_code == 200
    assert [p["code"] for p in body["prefectures"]] == ["530100"]
    assert {u["code"] for u in body["units"]} == {"HA001", "HA002"}
    assert body["total"]["expected"] == 2
    text = json.dumps(body, ensure_ascii=False)
    assert "HB001" not in text and "大理测试二院" not in text


@pytest.mark.parametrize(("persona", "code"), [("reporter_a", "HA001"), ("leader_a", "HA001"),
                                               ("reporter_b", "HB001")])  # fmt: skip
def test_reporters_and_leaders_see_only_their_unit(
    setup: dict[str, Any], personas: Any, api_as: Any, persona: str, code: str
) -> None:
    res = api_as(getattr(personas, persona)).get(URL, {"period": "2026Q3", "dataset": "PRG-Q"})

    body = res.json()
    assert res.status_code == 200
    assert [u["code"] for u in body["units"]] == [code]
    assert body["total"]["expected"] == 1
    other = "HB001" if code == "HA001" else "HA001"
    assert other not in json.dumps(body)


def test_outsider_asking_for_another_prefecture_gets_404(
    setup: dict[str, Any], personas: Any, api_as: Any
) -> None:
    for user in (personas.reporter_b, personas.subcenter):
        res = api_as(user).get(URL, {"period": "2026Q3", "dataset": "PRG-Q",
                                     "org_unit": "532900" if user == personas.subcenter else "530100"})  # fmt: skip
        assert res.status_code == 404
        assert "HA001" not in res.content.decode() and "HB002" not in res.content.decode()


def test_center_drill_down_by_org_unit(setup: dict[str, Any], personas: Any, api_as: Any) -> None:
    res = api_as(personas.center).get(URL, {"period": "2026Q3", "dataset": "PRG-Q",
                                            "org_unit": "532900"})  # fmt: skip

    body = res.json()
    assert {u["code"] for u in body["units"]} == {"HB001", "HB002"}
    assert body["total"]["name"] == "大理白族自治州"


@pytest.mark.parametrize("persona", ["expert", "engineer", "ops_manager", "tester", "nobody"])
def test_roles_outside_qc_reporting_get_403(
    setup: dict[str, Any], personas: Any, api_as: Any, persona: str
) -> None:
    res = api_as(getattr(personas, persona)).get(URL, {"period": "2026Q3"})

    assert res.status_code == 403


def test_anonymous_gets_no_data(setup: dict[str, Any], api: Any) -> None:
    res = api.get(URL, {"period": "2026Q3"})

    assert res.status_code in (401, 403)


def test_a_unit_token_sees_its_unit_only(setup: dict[str, Any], personas: Any, api: Any) -> None:
    _token, key = issue_unit_token(personas.tree.hospital_b, "HIS", personas.center)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    res = api.get(URL, {"period": "2026Q3", "dataset": "PRG-Q"})

    assert res.status_code == 200
    assert [u["code"] for u in res.json()["units"]] == ["HB001"]


def test_query_count_does_not_grow_with_units(
    setup: dict[str, Any], personas: Any, api_as: Any, django_assert_max_num_queries: Any
) -> None:
    t = personas.tree
    units = [OrgUnitFactory(parent=t.wuhua if i % 2 else t.dali_city) for i in range(80)]
    setup["ds"].units.add(*units)
    for unit in units[::4]:
        sub(unit, setup["ds"], S.SUBMITTED, ON_TIME)
    client = api_as(personas.center)

    with django_assert_max_num_queries(8):
        res = client.get(URL, {"period": "2026Q3", "dataset": "PRG-Q"})

    assert res.json()["total"]["expected"] == 84
