"""The progress page: the center's province view with prefecture rows, chart and drill-down; a
sub-center's prefecture; a reporter's own unit only; outsiders 403/404; query-count guard."""

from __future__ import annotations

from typing import Any

import pytest

from qc_core.reporting.choices import SubmissionStatus as S
from tests.factories import OrgUnitFactory
from tests.reporting.test_progress import LATE, ON_TIME, make_dataset, sub

URL = "/qc/progress/"


@pytest.fixture
def setup(personas: Any, time_machine: Any) -> dict[str, Any]:
    t = personas.tree
    k2 = OrgUnitFactory(code="HA002", name="昆明测试二院", parent=t.wuhua)
    d2 = OrgUnitFactory(code="HB002", name="大理测试二院", parent=t.dali_city)
    ds = make_dataset("PRG-Q", units=[t.hospital_a, t.hospital_b, k2, d2])
    sub(t.hospital_a, ds, S.APPROVED, ON_TIME, ON_TIME)
    sub(t.hospital_b, ds, S.SUBMITTED, LATE)
    time_machine.move_to(LATE, tick=False)
    return {"ds": ds}


def page(client: Any, **params: str) -> Any:
    return client.get(URL, {"dataset": "PRG-Q", "period": "2026Q3", **params})


def test_center_sees_prefecture_rows_chart_and_lists(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    res = page(client_as(personas.center))

    html = res.content.decode()
    assert res.status_code == 200
    assert 'id="prefecture-table"' in html and 'id="progress-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert "昆明市" in html and "大理白族自治州" in html
    assert "?dataset=PRG-Q&amp;period=2026Q3&amp;prefecture=530100" in html
    assert "昆明测试二院" in html  # in the missing list
    assert 'id="unit-table"' not in html


def test_center_drills_down_into_a_prefecture(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    res = page(client_as(personas.center), prefecture="530100")

    html = res.content.decode()
    assert 'id="unit-table"' in html
    assert "昆明市第一人民医院（测试A）" in html and "昆明测试二院" in html
    assert "大理州人民医院（测试B）" not in html and "大理测试二院" not in html


def test_subcenter_sees_its_units_and_not_other_prefectures(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    client = client_as(personas.subcenter)

    html = page(client).content.decode()

    assert 'id="unit-table"' in html
    assert "昆明测试二院" in html
    assert "大理州人民医院（测试B）" not in html and "大理测试二院" not in html
    assert page(client, prefecture="532900").status_code == 404


def test_reporter_sees_only_the_own_unit_status(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    res = page(client_as(personas.reporter_b))

    html = res.content.decode()
    assert res.status_code == 200
    assert 'id="own-status"' in html
    assert "大理州人民医院（测试B）" in html and "逾期" in html
    assert "昆明" not in html.split('id="own-status"')[1]
    assert 'id="prefecture-table"' not in html and 'id="missing-units"' not in html
    assert page(client_as(personas.reporter_b), prefecture="530100").status_code == 404


@pytest.mark.parametrize("persona", ["expert", "engineer", "nobody"])
def test_roles_outside_qc_reporting_get_403(
    setup: dict[str, Any], personas: Any, client_as: Any, persona: str
) -> None:
    assert page(client_as(getattr(personas, persona))).status_code == 403


def test_anonymous_is_sent_to_login(setup: dict[str, Any], client: Any) -> None:
    res = page(client)

    assert res.status_code == 302 and "login" in res["Location"]


def test_bad_period_shows_the_reason_and_falls_back_to_the_default(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    res = page(client_as(personas.center), period="2026Q9")

    html = res.content.decode()
    assert res.status_code == 200
    assert "周期“2026Q9”格式不正确" in html
    assert 'value="2026Q3"' in html


def test_default_is_the_open_window(setup: dict[str, Any], personas: Any, client_as: Any) -> None:
    res = client_as(personas.center).get(URL)

    assert 'value="2026Q3"' in res.content.decode()


def test_page_query_count_does_not_grow_with_units(
    setup: dict[str, Any], personas: Any, client_as: Any, django_assert_max_num_queries: Any
) -> None:
    t = personas.tree
    units = [OrgUnitFactory(parent=t.wuhua if i % 2 else t.dali_city) for i in range(60)]
    setup["ds"].units.add(*units)
    client = client_as(personas.center)

    with django_assert_max_num_queries(20):
        res = page(client)
    with django_assert_max_num_queries(20):
        drill = page(client, prefecture="532900")

    assert res.status_code == 200 and drill.status_code == 200


def test_reporter_of_a_unit_without_a_report_gets_a_link_to_the_form(
    setup: dict[str, Any], personas: Any, client_as: Any
) -> None:
    from qc_core.accounts.choices import Role
    from qc_core.orgs.models import OrgUnit
    from tests.factories import RoleAssignmentFactory, UserFactory

    reporter = UserFactory(username="reporter_k2")
    RoleAssignmentFactory(user=reporter, role=Role.UNIT_REPORTER,
                          org_unit=OrgUnit.objects.get(code="HA002"))  # fmt: skip

    html = page(client_as(reporter)).content.decode()

    assert "昆明测试二院" in html and "未填报" in html
    assert 'href="/qc/entry/HA002/PRG-Q/2026Q3/"' in html
