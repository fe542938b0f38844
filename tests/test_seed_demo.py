"""``seed_demo``: idempotent demo institutions and accounts whose usernames are a contract."""

from __future__ import annotations

import io
import stat
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from qc_core.accounts.choices import Role
from qc_core.accounts.demo import plan_accounts
from qc_core.accounts.models import RoleAssignment, User
from qc_core.accounts.scope import user_scope, visible_units
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from tests.factories import UserFactory

DEMO_PASSWORD = "Demo-Passw0rd!2026"
FIXED_ACCOUNTS = {
    "center_admin": (Role.CENTER_ADMIN, "530000"),
    "subcenter_admin": (Role.SUBCENTER_ADMIN, "530100"),
    "leader01": (Role.HOSPITAL_LEADER, "DEMO001"),
    "official": (Role.HEALTH_OFFICIAL, "530000"),
    "expert01": (Role.EXPERT, None),
    "expert02": (Role.EXPERT, None),
    "engineer01": (Role.ENGINEER, None),
    "engineer02": (Role.ENGINEER, None),
    "ops_manager": (Role.OPS_MANAGER, None),
    "tester01": (Role.TESTER, None),
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_settings(settings: Any, tmp_path: Any) -> Any:
    settings.DEMO_PASSWORD = DEMO_PASSWORD
    settings.VAR_DIR = tmp_path
    return settings


def seed(units: int = 53) -> str:
    out = io.StringIO()
    call_command("seed_demo", units=units, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "province": OrgUnit.objects.filter(level=Level.PROVINCE).count(),
        "prefecture": OrgUnit.objects.filter(level=Level.PREFECTURE).count(),
        "county": OrgUnit.objects.filter(level=Level.COUNTY).count(),
        "institution": OrgUnit.objects.filter(level=Level.INSTITUTION).count(),
        "members": OrgUnit.objects.members().count(),
        "users": User.objects.count(),
        "roles": RoleAssignment.objects.count(),
    }


def login(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in ({response.status_code})"
    assert client.session.get("_auth_user_id") == str(User.objects.get(username=username).pk)
    return client


def test_seeding_twice_gives_the_same_counts(demo_settings: Any) -> None:
    seed(53)
    first = counts()
    seed(53)
    assert counts() == first
    assert first["province"] == 1
    assert first["prefecture"] == 16
    assert first["county"] == 129
    assert first["institution"] == 53
    assert first["members"] == 53
    assert first["users"] == 53 + len(FIXED_ACCOUNTS)  # reporters + fixed accounts
    assert OrgUnit.objects.filter(is_demo=True).count() == 53


def test_every_prefecture_gets_a_demo_institution_and_institution_01_is_in_kunming(
    demo_settings: Any,
) -> None:
    seed(53)
    for prefecture in OrgUnit.objects.filter(level=Level.PREFECTURE):
        assert (
            OrgUnit.objects.subtree(prefecture)
            .filter(level=Level.INSTITUTION, is_demo=True)
            .exists()
        ), prefecture
    first = OrgUnit.objects.get(code="DEMO001")
    assert first.prefecture is not None and first.prefecture.code == "530100"
    assert all(
        "（演示）" in name
        for name in OrgUnit.objects.filter(is_demo=True).values_list("name", flat=True)
    )
    assert (
        len(set(OrgUnit.objects.filter(is_demo=True).values_list("hospital_level", flat=True))) >= 3
    )


def test_all_53_reporters_log_in_and_see_only_their_institution(demo_settings: Any) -> None:
    seed(53)
    for n in range(1, 54):
        username = f"reporter{n:02d}"
        login(username, DEMO_PASSWORD)
        reporter = User.objects.get(username=username)
        institution = OrgUnit.objects.get(code=f"DEMO{n:03d}")
        assert user_scope(reporter).paths == (institution.path,)
        assert list(visible_units(reporter)) == [institution]


def test_fixed_accounts_have_their_roles_and_log_in(demo_settings: Any) -> None:
    seed(53)
    for username, (role, unit_code) in FIXED_ACCOUNTS.items():
        user = User.objects.get(username=username)
        assignments = list(user.role_assignments.select_related("org_unit"))
        assert [(a.role, a.org_unit.code if a.org_unit else None) for a in assignments] == [
            (role, unit_code)
        ]
        login(username, DEMO_PASSWORD)


def test_demo_accounts_skip_the_first_login_password_change(demo_settings: Any) -> None:
    seed(5)
    demo = User.objects.filter(is_demo=True)
    assert demo.count() == 5 + len(FIXED_ACCOUNTS)
    assert not demo.filter(must_change_password=True).exists()
    client = login("reporter01", DEMO_PASSWORD)
    # The home page is served, not the forced password change.
    response = client.get(reverse("system:home"))
    assert response.status_code == 200


def test_center_admin_and_ops_manager_get_limited_admin_access(demo_settings: Any) -> None:
    seed(3)
    center = User.objects.get(username="center_admin")
    ops = User.objects.get(username="ops_manager")
    assert center.is_staff and not center.is_superuser
    assert center.has_perm("orgs.change_orgunit")
    assert center.has_perm("django_celery_beat.change_periodictask")
    assert ops.is_staff and not ops.is_superuser
    assert ops.has_perm("django_celery_beat.add_periodictask")
    assert not ops.has_perm("orgs.change_orgunit")
    reporter = User.objects.get(username="reporter01")
    assert not reporter.is_staff
    assert login("center_admin", DEMO_PASSWORD).get(reverse("admin:index")).status_code == 200


def test_generated_password_is_stored_privately_printed_once_and_reused(
    settings: Any, tmp_path: Any
) -> None:
    settings.DEMO_PASSWORD = ""
    settings.VAR_DIR = tmp_path
    first_output = seed(2)
    stored = (tmp_path / "demo_password").read_text(encoding="utf-8").strip()
    assert stat.S_IMODE((tmp_path / "demo_password").stat().st_mode) == 0o600
    validate_password(stored)  # meets the complexity rules
    assert stored in first_output
    second_output = seed(2)
    assert stored not in second_output
    assert (tmp_path / "demo_password").read_text(encoding="utf-8").strip() == stored
    login("reporter02", stored)


def test_changing_demo_password_resets_the_demo_accounts(demo_settings: Any) -> None:
    seed(2)
    demo_settings.DEMO_PASSWORD = "Other-Passw0rd!99"
    output = seed(2)
    assert "password(s) reset" in output
    login("reporter01", "Other-Passw0rd!99")
    response = Client().post(
        reverse("accounts:login"), {"username": "reporter02", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200  # the old password no longer works


def test_a_real_account_with_a_demo_username_is_not_taken_over(demo_settings: Any) -> None:
    real = UserFactory(username="tester01", must_change_password=True)
    old_hash = real.password
    seed(1)
    real.refresh_from_db()
    assert real.password == old_hash
    assert not real.is_demo
    assert real.must_change_password
    assert not real.role_assignments.exists()


def test_more_than_99_units_gives_three_digit_reporter_names() -> None:
    names = [a.username for a in plan_accounts(120) if a.role == Role.UNIT_REPORTER]
    assert names[0] == "reporter001"
    assert names[-1] == "reporter120"
    assert [a.username for a in plan_accounts(53) if a.role == Role.UNIT_REPORTER][
        -1
    ] == "reporter53"


def test_a_larger_run_keeps_existing_institutions_unchanged(demo_settings: Any) -> None:
    seed(16)
    before = dict(OrgUnit.objects.filter(is_demo=True).values_list("code", "path"))
    seed(20)
    after = dict(OrgUnit.objects.filter(is_demo=True).values_list("code", "path"))
    assert len(after) == 20
    assert {code: after[code] for code in before} == before


def test_seed_demo_refuses_production_without_the_flag(demo_settings: Any) -> None:
    demo_settings.PRODUCTION = True
    with pytest.raises(CommandError, match="GERIQC_PRODUCTION"):
        seed(1)
    assert not User.objects.filter(is_demo=True).exists()


def test_units_out_of_range_is_a_clear_error(demo_settings: Any) -> None:
    with pytest.raises(CommandError, match="--units"):
        seed(0)
