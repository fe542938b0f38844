"""Demo data for a fresh platform: member institutions and one account per demo role.

``seed_demo`` is idempotent: running it again with the same ``units`` changes nothing (it only
repairs what drifted — a renamed demo institution, a lost role, a changed demo password). The
usernames are a contract that load tests and testers' scripts rely on (DESIGN.md):
``center_admin``, ``subcenter_admin``, ``reporter01`` … ``reporterNN`` (one per institution),
``leader01``, ``official``, ``expert01``/``02``, ``engineer01``/``02``, ``ops_manager``, ``tester01``.

Institution ``n`` always gets the same code (``DEMO001`` …), name and place, whatever ``units``
is, so a larger run only adds institutions; a smaller one leaves the extra ones alone.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from qc_core.accounts.choices import Role
from qc_core.accounts.models import User
from qc_core.accounts.services import assign_role, create_user
from qc_core.orgs.choices import HospitalLevel, Level
from qc_core.orgs.models import OrgUnit
from qc_core.orgs.services import invalidate_tree_cache, load_divisions, move_unit

PROVINCE_CODE = "530000"
KUNMING_CODE = "530100"
DEMO_CODE_PREFIX = "DEMO"
DEMO_MEMBER_SINCE = date(2025, 1, 1)
MAX_UNITS = 999
PASSWORD_FILE_NAME = "demo_password"

# Short forms used in hospital names (楚雄彝族自治州人民医院 is written 楚雄州人民医院).
PREFECTURE_SHORT = {
    "532300": "楚雄州",
    "532500": "红河州",
    "532600": "文山州",
    "532800": "西双版纳州",
    "532900": "大理州",
    "533100": "德宏州",
    "533300": "怒江州",
    "533400": "迪庆州",
}

# Hospital levels of county hospitals, cycled by institution number: mostly 二级甲等, some
# county hospitals have become 三级, a few are 二级乙等.
COUNTY_LEVELS = [
    HospitalLevel.L3,
    HospitalLevel.L2A,
    HospitalLevel.L2A,
    HospitalLevel.L2B,
    HospitalLevel.L2A,
]
OTHER_COUNTY_LEVELS = [HospitalLevel.L2A, HospitalLevel.L2B, HospitalLevel.L2]

# Django admin access: the center admin configures the QC core and the schedules; the ops
# manager the notification channels and the schedules.
CENTER_GROUP = "中心管理员"
OPS_GROUP = "运维负责人"
CENTER_GROUP_APPS = ("django_celery_beat",)
# Operations apps that do not exist yet simply match no permission.
OPS_GROUP_APPS = ("notify", "django_celery_beat", "ops_portal", "monitors", "backup", "loadtests")


@dataclass(frozen=True)
class DemoInstitution:
    """Where and what demo institution number ``index`` is."""

    index: int
    code: str
    name: str
    parent_code: str
    hospital_level: str
    kind: str


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    unit_code: str | None
    is_staff: bool = False


@dataclass
class SeedResult:
    """What a run did, for the command's summary."""

    password: str
    password_source: str
    password_generated: bool
    institutions_created: int = 0
    institutions_updated: int = 0
    users_created: int = 0
    passwords_reset: int = 0
    skipped: list[str] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)


def institution_code(index: int) -> str:
    return f"{DEMO_CODE_PREFIX}{index:03d}"


def number_width(units: int) -> int:
    """Reporter numbers are two digits (reporter01), three once there are more than 99."""
    return 3 if units > 99 else 2


def plan_institutions(units: int) -> list[DemoInstitution]:
    """The demo institutions 1..units, spread round-robin over the prefectures in code order, so
    every prefecture gets one as soon as ``units`` reaches their count and institution 1 is in
    昆明市. Within a prefecture the n-th institution is, in turn: the prefecture's people's
    hospital, a county people's hospital, the prefecture's TCM hospital, then the other counties'
    hospitals."""
    prefectures = list(
        OrgUnit.objects.filter(level=Level.PREFECTURE, parent__code=PROVINCE_CODE).order_by("code")
    )
    counties: dict[int, list[OrgUnit]] = {p.pk: [] for p in prefectures}
    for county in OrgUnit.objects.filter(level=Level.COUNTY, parent__in=prefectures).order_by(
        "code"
    ):
        counties[county.parent_id].append(county)  # type: ignore[index]
    plan = []
    for index in range(1, units + 1):
        pref_no, rank = (index - 1) % len(prefectures), (index - 1) // len(prefectures)
        prefecture = prefectures[pref_no]
        plan.append(_institution(index, rank, pref_no, prefecture, counties[prefecture.pk]))
    return plan


def _institution(
    index: int, rank: int, pref_no: int, prefecture: OrgUnit, counties: list[OrgUnit]
) -> DemoInstitution:
    short = PREFECTURE_SHORT.get(prefecture.code, prefecture.name)
    city_hospital = f"{short}第一人民医院" if prefecture.kind == "地级市" else f"{short}人民医院"
    if rank == 0:
        name, parent, level, kind = city_hospital, prefecture, HospitalLevel.L3A, "三级综合医院"
    elif rank == 2:
        level = HospitalLevel.L3A if pref_no % 2 == 0 else HospitalLevel.L3B
        name, parent, kind = f"{short}中医医院", prefecture, "三级中医医院"
    else:
        # rank 1 → first county, rank 3.. → the following counties; once every county has a
        # people's hospital, TCM hospitals, then second people's hospitals follow.
        slot = 0 if rank == 1 else rank - 2
        county = counties[slot % len(counties)]
        round_no = slot // len(counties)
        suffix = (
            ("人民医院", "中医医院")[round_no]
            if round_no < 2
            else f"第{_chinese(round_no)}人民医院"
        )
        name, parent = f"{county.name}{suffix}", county
        cycle = COUNTY_LEVELS if round_no == 0 else OTHER_COUNTY_LEVELS
        level = cycle[index % len(cycle)]
        kind = "三级综合医院" if level.startswith("3") else "二级综合医院"
    return DemoInstitution(
        index=index,
        code=institution_code(index),
        name=f"{name}（演示）",
        parent_code=parent.code,
        hospital_level=level,
        kind=kind,
    )


def _chinese(number: int) -> str:
    """2 → 二, 12 → 十二, 23 → 二十三 (hospital names count in Chinese numerals; 1–99)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{digits[tens]}十")
    return head + (digits[ones] if ones or not head else "")


def plan_accounts(units: int) -> list[DemoAccount]:
    """The demo accounts and their roles; usernames are a contract (module docstring)."""
    width = number_width(units)
    accounts = [
        DemoAccount(
            "center_admin",
            "省质控中心管理员（演示）",
            Role.CENTER_ADMIN,
            PROVINCE_CODE,
            is_staff=True,
        ),
        DemoAccount(
            "subcenter_admin", "昆明市分中心管理员（演示）", Role.SUBCENTER_ADMIN, KUNMING_CODE
        ),
    ]
    for n in range(1, units + 1):
        accounts.append(
            DemoAccount(
                f"reporter{n:0{width}d}",
                f"质控专员{n:0{width}d}（演示）",
                Role.UNIT_REPORTER,
                institution_code(n),
            )
        )
    accounts += [
        DemoAccount("leader01", "医院领导01（演示）", Role.HOSPITAL_LEADER, institution_code(1)),
        DemoAccount("official", "卫生行政人员（演示）", Role.HEALTH_OFFICIAL, PROVINCE_CODE),
        DemoAccount("expert01", "督导专家01（演示）", Role.EXPERT, None),
        DemoAccount("expert02", "督导专家02（演示）", Role.EXPERT, None),
        DemoAccount("engineer01", "运维工程师01（演示）", Role.ENGINEER, None),
        DemoAccount("engineer02", "运维工程师02（演示）", Role.ENGINEER, None),
        DemoAccount("ops_manager", "运维负责人（演示）", Role.OPS_MANAGER, None, is_staff=True),
        DemoAccount("tester01", "测试人员01（演示）", Role.TESTER, None),
    ]
    return accounts


# --- password --------------------------------------------------------------------------------


def generate_password() -> str:
    """A readable random password meeting the complexity rules (upper, lower, digit, symbol)."""
    lower = "abcdefghijkmnpqrstuvwxyz"  # no l/o: easier to read aloud
    word = "".join(secrets.choice(lower) for _ in range(5))
    digits = "".join(secrets.choice(string.digits) for _ in range(4))
    return f"Qc-{word}-{digits}-{secrets.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / PASSWORD_FILE_NAME


def demo_password() -> tuple[str, str, bool]:
    """The demo password, where it comes from, and whether it is new (to be stored by
    :func:`store_password` once the accounts using it exist).

    ``DEMO_PASSWORD`` wins; otherwise the password kept in ``VAR_DIR/demo_password``, generated
    on first use."""
    if settings.DEMO_PASSWORD:
        return settings.DEMO_PASSWORD, "DEMO_PASSWORD", False
    path = password_file()
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, str(path), False
    return generate_password(), str(path), True


def store_password(password: str) -> None:
    """Keep a generated password in ``VAR_DIR/demo_password``, readable by its owner only."""
    path = password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(password + "\n", encoding="utf-8")


def password_problems(password: str) -> list[str]:
    """Messages of the password validators the demo password fails (demo accounts skip them)."""
    try:
        validate_password(password)
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- seeding ---------------------------------------------------------------------------------


def seed_demo(units: int = 53) -> SeedResult:
    """Load the divisions and create or repair the demo institutions, accounts and admin groups."""
    if not 1 <= units <= MAX_UNITS:
        raise ValueError(f"units must be between 1 and {MAX_UNITS}")
    password, source, generated = demo_password()
    result = SeedResult(password=password, password_source=source, password_generated=generated)
    with transaction.atomic():
        load_divisions()
        _seed_institutions(plan_institutions(units), result)
        groups = _seed_groups()
        result.accounts = plan_accounts(units)
        _seed_accounts(result.accounts, password, groups, result)
    if generated:
        store_password(password)
    invalidate_tree_cache()
    return result


def _seed_institutions(plan: list[DemoInstitution], result: SeedResult) -> None:
    parents = {u.code: u for u in OrgUnit.objects.filter(code__in={i.parent_code for i in plan})}
    existing = {
        u.code: u
        for u in OrgUnit.objects.filter(code__in=[i.code for i in plan]).select_related("parent")
    }
    for item in plan:
        parent = parents[item.parent_code]
        wanted = {
            "name": item.name,
            "level": Level.INSTITUTION,
            "kind": item.kind,
            "hospital_level": item.hospital_level,
            "is_member": True,
            "is_active": True,
            "is_demo": True,
        }
        unit = existing.get(item.code)
        if unit is None:
            unit = OrgUnit(code=item.code, parent=parent, member_since=DEMO_MEMBER_SINCE, **wanted)
            unit.full_clean()
            unit.save()
            result.institutions_created += 1
            continue
        changed = [name for name, value in wanted.items() if getattr(unit, name) != value]
        if unit.parent_id != parent.pk:
            move_unit(unit, parent)
            changed.append("parent")
        if unit.member_until is not None:
            unit.member_until = None
            changed.append("member_until")
        if changed:
            for name, value in wanted.items():
                setattr(unit, name, value)
            unit.save()
            result.institutions_updated += 1


def _seed_groups() -> dict[str, Group]:
    """Admin groups with model permissions (kept in sync on every run)."""
    qc_apps = tuple(cfg.label for cfg in apps.get_app_configs() if cfg.name.startswith("qc_core."))
    spec = {CENTER_GROUP: qc_apps + CENTER_GROUP_APPS, OPS_GROUP: OPS_GROUP_APPS}
    groups = {}
    for name, labels in spec.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label__in=labels))
        groups[name] = group
    return groups


def _seed_accounts(
    accounts: list[DemoAccount], password: str, groups: dict[str, Group], result: SeedResult
) -> None:
    units = {
        u.code: u
        for u in OrgUnit.objects.filter(code__in={a.unit_code for a in accounts if a.unit_code})
    }
    users = {
        u.username: u for u in User.objects.filter(username__in=[a.username for a in accounts])
    }
    shared_hash = _shared_hash(password, [u for u in users.values() if u.is_demo])
    for account in accounts:
        user = users.get(account.username)
        if user is None:
            user = create_user(
                account.username,
                password,
                full_name=account.full_name,
                created_by_admin=False,
                validate=False,
            )
            result.users_created += 1
        elif not user.is_demo:
            # A real account already has this name: never take it over.
            result.skipped.append(account.username)
            continue
        elif user.password != shared_hash:
            result.passwords_reset += 1
        # One Argon2 hash shared by all demo accounts: a later run verifies it once, not per user.
        fields = {
            "password": shared_hash,
            "is_demo": True,
            "is_active": True,
            "must_change_password": False,
            "is_staff": account.is_staff,
            "is_superuser": False,
        }
        if any(getattr(user, name) != value for name, value in fields.items()):
            User.objects.filter(pk=user.pk).update(**fields)
        assign_role(user, account.role, units[account.unit_code] if account.unit_code else None)
        if account.role == Role.CENTER_ADMIN:
            user.groups.add(groups[CENTER_GROUP])
        elif account.role == Role.OPS_MANAGER:
            user.groups.add(groups[OPS_GROUP])


def _shared_hash(password: str, users: list[User]) -> str:
    """Reuse an existing demo account's hash when it still matches ``password``."""
    seen: set[str] = set()
    for user in users:
        encoded = user.password
        if encoded in seen or not encoded:
            continue
        seen.add(encoded)
        if check_password(password, encoded):
            return encoded
        if len(seen) >= 3:  # all demo accounts share one hash; a few misses mean it changed
            break
    return make_password(password)
