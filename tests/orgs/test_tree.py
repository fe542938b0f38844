import pytest
from django.core.exceptions import ValidationError

from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from qc_core.orgs.services import build_tree, load_divisions, move_unit
from tests.factories import OrgUnitFactory

pytestmark = pytest.mark.django_db


def test_divisions_load_province_prefectures_and_counties_idempotently():
    first = load_divisions()
    second = load_divisions()
    assert first.created == 146
    assert (second.created, second.updated, second.unchanged) == (0, 0, 146)
    counts = {
        lvl: OrgUnit.objects.filter(level=lvl).count()
        for lvl in (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY)
    }
    assert counts == {Level.PROVINCE: 1, Level.PREFECTURE: 16, Level.COUNTY: 129}
    assert OrgUnit.objects.get(code="530115").name == "晋宁区"
    assert OrgUnit.objects.get(code="530115").path == "530000/530100/530115/"


def test_subtree_is_one_query(django_assert_num_queries):
    load_divisions()
    kunming = OrgUnit.objects.get(code="530100")
    with django_assert_num_queries(1):
        units = list(OrgUnit.objects.subtree(kunming))
    assert kunming in units
    assert all(u.path.startswith("530000/530100/") for u in units)
    assert not any(u.code == "532900" for u in units)


def test_moving_a_unit_rehangs_its_whole_subtree():
    load_divisions()
    county = OrgUnit.objects.get(code="530102")
    hospital = OrgUnitFactory(code="HX1", parent=county)
    dept = OrgUnitFactory(code="HX1-GER", level=Level.DEPARTMENT, parent=hospital)
    dali = OrgUnit.objects.get(code="532900")
    move_unit(hospital, dali)
    dept.refresh_from_db()
    assert dept.path == "530000/532900/HX1/HX1-GER/"
    assert dept.depth == 3
    assert OrgUnit.objects.subtree(dali).filter(code="HX1-GER").exists()


def test_unit_cannot_move_under_its_own_descendant():
    load_divisions()
    kunming = OrgUnit.objects.get(code="530100")
    with pytest.raises(ValidationError):
        move_unit(kunming, OrgUnit.objects.get(code="530102"))


def test_a_county_cannot_hang_under_a_county():
    load_divisions()
    with pytest.raises(ValidationError):
        move_unit(OrgUnit.objects.get(code="530103"), OrgUnit.objects.get(code="530102"))


def test_tree_counts_member_institutions_per_node():
    load_divisions()
    OrgUnitFactory(code="HT1", parent=OrgUnit.objects.get(code="530102"))
    OrgUnitFactory(code="HT2", parent=OrgUnit.objects.get(code="532901"))
    OrgUnitFactory(code="HT3", parent=OrgUnit.objects.get(code="532901"), is_member=False)
    tree = build_tree()
    province = tree["roots"][0]
    assert province["members"] == 2
    by_code = {c["code"]: c for c in province["children"]}
    assert by_code["530100"]["members"] == 1
    assert by_code["532900"]["members"] == 1
