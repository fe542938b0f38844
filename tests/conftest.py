"""Shared fixtures: the org tree, personas for every role (DESIGN.md), API clients.

Personas (usernames are stable so failures read well):
  center      center_admin over the province
  subcenter   subcenter_admin of 昆明市 (530100)
  reporter_a  unit_reporter of hospital A (昆明市 五华区, code HA001)
  reporter_b  unit_reporter of hospital B (大理州 大理市, code HB001) — the outsider for A's data
  leader_a    hospital_leader of hospital A
  official    health_official (province, read-only)
  expert      expert
  engineer    engineer
  ops_manager ops_manager
  tester      tester
  nobody      a signed-in user with no role at all
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from qc_core.accounts.choices import Role
from qc_core.accounts.models import User
from qc_core.orgs.models import OrgUnit
from qc_core.orgs.services import load_divisions
from tests.factories import PASSWORD, OrgUnitFactory, RoleAssignmentFactory, UserFactory


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> Iterator[None]:
    """Small, explicit test settings: fast hasher, local cache, in-memory mail."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cache.clear()
    yield
    # A request in English leaves English active in this thread; start every test in Chinese.
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class OrgTree:
    province: OrgUnit
    kunming: OrgUnit
    dali: OrgUnit
    wuhua: OrgUnit
    dali_city: OrgUnit
    hospital_a: OrgUnit
    hospital_b: OrgUnit


@pytest.fixture
def org_tree(db: Any) -> OrgTree:
    load_divisions()
    by_code = {
        u.code: u
        for u in OrgUnit.objects.filter(code__in=["530000", "530100", "532900", "530102", "532901"])
    }
    hospital_a = OrgUnitFactory(
        code="HA001", name="昆明市第一人民医院（测试A）", parent=by_code["530102"]
    )
    hospital_b = OrgUnitFactory(
        code="HB001", name="大理州人民医院（测试B）", parent=by_code["532901"]
    )
    return OrgTree(
        province=by_code["530000"],
        kunming=by_code["530100"],
        dali=by_code["532900"],
        wuhua=by_code["530102"],
        dali_city=by_code["532901"],
        hospital_a=hospital_a,
        hospital_b=hospital_b,
    )


@dataclass
class Personas:
    center: User
    subcenter: User
    reporter_a: User
    reporter_b: User
    leader_a: User
    official: User
    expert: User
    engineer: User
    ops_manager: User
    tester: User
    nobody: User
    tree: OrgTree

    def all(self) -> dict[str, User]:
        return {k: v for k, v in vars(self).items() if isinstance(v, User)}


def _persona(username: str, role: str | None, unit: OrgUnit | None) -> User:
    user = UserFactory(username=username)
    if role:
        RoleAssignmentFactory(user=user, role=role, org_unit=unit)
    return user


@pytest.fixture
def personas(org_tree: OrgTree) -> Personas:
    t = org_tree
    return Personas(
        center=_persona("center", Role.CENTER_ADMIN, t.province),
        subcenter=_persona("subcenter", Role.SUBCENTER_ADMIN, t.kunming),
        reporter_a=_persona("reporter_a", Role.UNIT_REPORTER, t.hospital_a),
        reporter_b=_persona("reporter_b", Role.UNIT_REPORTER, t.hospital_b),
        leader_a=_persona("leader_a", Role.HOSPITAL_LEADER, t.hospital_a),
        official=_persona("official", Role.HEALTH_OFFICIAL, t.province),
        expert=_persona("expert", Role.EXPERT, None),
        engineer=_persona("engineer", Role.ENGINEER, None),
        ops_manager=_persona("ops_manager", Role.OPS_MANAGER, None),
        tester=_persona("tester", Role.TESTER, None),
        nobody=_persona("nobody", None, None),
        tree=t,
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api: APIClient):  # type: ignore[no-untyped-def]
    """``api_as(user)`` → an APIClient authenticated with the user's session."""

    def _login(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return _login


@pytest.fixture
def client_as(client):  # type: ignore[no-untyped-def]
    """``client_as(user)`` → a Django test client with a real session for ``user``."""
    from django.test import Client

    def _login(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return _login


__all__ = ["PASSWORD"]
