"""Demo operations data (``seed_demo_ops``): an on-call roster and a dozen tickets whose history
was played through the real ticket services, so ledgers, SLA clocks and notifications are what
the platform itself would have produced.

- On-call: the regular roster 「运维 7×24 值班（演示）」 — engineer01 and engineer02 in a 24-hour
  rotation handing over at 09:00, each the other's secondary — generated four weeks ahead, so the
  14-day coverage check finds no gap.
- Tickets (titles start with 「【演示】」, ``external_key`` ``demo:N``): from every intake channel
  (web, phone, e-mail, monitoring), requested by demo reporters — an outage restored in 40
  minutes, a minor fault from yesterday whose response clock has breached, one waiting for the
  customer (paused, with the reason), one with an on-site visit confirmed by both sides and
  checked in, resolved and closed ones, and new or acknowledged ones at different distances from
  their deadlines.

Each ticket's story is replayed at the moments it happened: while one step runs, the platform
clock (:func:`qc_core.system.clock.now`) is pinned to that step's time, then every clock is
recomputed as of the real now. The command is single-threaded; nothing else reads the clock while
it is pinned. Idempotent: a scenario whose ``demo:N`` ticket exists is skipped, an existing demo
roster is only extended to its horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from ops_portal import services
from ops_portal.choices import Category, Channel, Severity
from ops_portal.models import Roster, Ticket
from ops_portal.oncall import rosters
from qc_core.accounts.choices import Role
from qc_core.accounts.models import RoleAssignment, User
from qc_core.system import clock

TITLE_PREFIX = "【演示】"
KEY_PREFIX = "demo:"
ROSTER_NAME = "运维 7×24 值班（演示）"
ENGINEERS = ("engineer01", "engineer02")
MANAGER = "ops_manager"
HANDOVER = time(9, 0)

M = timedelta(minutes=1)
H = timedelta(hours=1)


class MissingDemoAccounts(LookupError):
    """The demo operations accounts do not exist (``seed_demo`` has not run)."""


@dataclass(frozen=True)
class Step:
    """One action, ``after`` the report, by ``by`` (e1 / e2 / om / requester)."""

    after: timedelta
    action: str
    by: str = "e1"
    text: str = ""
    extra: str = ""


@dataclass(frozen=True)
class Scenario:
    """A demo ticket and its history. ``ago``: reported that long before now; or ``days_ago`` at
    the local time ``at``."""

    key: int
    title: str
    category: str
    channel: str
    description: str
    severity: str = ""
    reporter: int | None = None  # demo reporter number (folded into the existing ones)
    ago: timedelta | None = None
    days_ago: int = 0
    at: time = time(10, 0)
    contact: str = ""
    steps: tuple[Step, ...] = ()

    def reported_at(self, now: datetime) -> datetime:
        if self.ago is not None:
            return now - self.ago
        day = timezone.localtime(now).date() - timedelta(days=self.days_ago)
        return timezone.make_aware(datetime.combine(day, self.at))


FAULT, CONSULT, REQUIREMENT, CHANGE = (
    Category.FAULT,
    Category.CONSULTATION,
    Category.REQUIREMENT,
    Category.CHANGE,
)
OUTAGE, MINOR = Severity.OUTAGE, Severity.NON_OUTAGE

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        1, "平台首页无法访问（/readyz 检查失败）", FAULT, Channel.MONITOR,
        "Alertmanager：GeriQCReadyzDown，web 进程 3 分钟内全部返回 503。",
        OUTAGE, days_ago=3, at=time(10, 12), contact="Alertmanager",
        steps=(
            Step(4 * M, "ack", "e1"),
            Step(18 * M, "note", "e1", "数据库连接数达到上限，web 进程等待连接超时；准备扩大连接池并重启。"),
            Step(40 * M, "resolve", "e1", "已扩大数据库连接池并滚动重启 web 进程，/readyz 恢复正常，服务恢复。"),
            Step(26 * H, "close", "om", "连续 24 小时监控无复发，关闭。"),
        ),
    ),
    Scenario(
        11, "平均住院日的分子应按出院日期还是住院日期统计？", CONSULT, Channel.WEB,
        "填报 GER-O11 时，跨季度住院的患者床日应计入哪个季度？", reporter=2, days_ago=6,
        at=time(9, 35),
        steps=(
            Step(20 * M, "ack", "e2"),
            Step(50 * M, "comment", "e2", "按出院日期统计：本季度出院患者的全部住院床日计入本季度，见指标说明。"),
            Step(55 * M, "resolve", "e2", "已答复统计口径。"),
            Step(5 * H, "close", "requester", "明白了，谢谢。"),
        ),
    ),
    Scenario(
        12, "审核退回后“重新上报”按钮不可用", FAULT, Channel.WEB,
        "报表被退回修改后，点击“重新上报”没有反应。", MINOR, reporter=9, days_ago=2,
        at=time(15, 40),
        steps=(
            Step(12 * M, "ack", "e2"),
            Step(1 * H, "respond", "e2", "浏览器缓存了旧版页面脚本，按钮事件未绑定。",
                 "请按 Ctrl+F5 强制刷新页面；我们已在发布流程中为静态文件加上版本号。"),
            Step(2 * H + 30 * M, "resolve", "e2", "用户强制刷新后可正常重新上报，已确认。"),
        ),
    ),
    Scenario(
        4, "医院内网无法访问质控平台，需到场排查", FAULT, Channel.PHONE,
        "信息科来电：院内所有电脑打开平台地址超时，外网正常。", MINOR, reporter=3, days_ago=2,
        at=time(9, 40),
        steps=(
            Step(5 * M, "ack", "e1"),
            Step(1 * H, "respond", "e1", "医院出口防火墙策略变更，平台地址不在放行名单中。",
                 "协调医院信息科调整防火墙策略并核对 DNS；远程无法完成时安排工程师到场。"),
            Step(1 * H + 10 * M, "request_on_site", "e1", "需到场协助信息科排查防火墙与 DNS 配置。"),
            Step(1 * H + 40 * M, "confirm_on_site", "requester"),
            Step(23 * H, "check_in", "e2", "医院信息科机房"),
            Step(24 * H, "note", "e2", "已在防火墙放行平台地址，院内 3 台电脑验证可访问；待信息科观察一天后确认。"),
        ),
    ),
    Scenario(
        10, "申请变更本院质控联系人", CHANGE, Channel.WEB,
        "原质控专员调岗，申请将联系人变更为新任质控专员。", reporter=1, days_ago=1,
        at=time(11, 5),
        steps=(
            Step(25 * M, "ack", "e1"),
            Step(40 * M, "comment", "e1", "已收到变更申请，请上传加盖医院公章的《联系人变更申请表》。"),
        ),
    ),
    Scenario(
        2, "Excel 导入 OPS-M 月报后部分指标显示为空", FAULT, Channel.WEB,
        "导入 10 月运营月报模板后，OPS-06、OPS-08 两项为空，重新导入仍然如此。", MINOR,
        reporter=7, days_ago=1, at=time(14, 30),
        steps=(
            Step(35 * M, "ack", "e2"),
            Step(50 * M, "comment", "e2", "正在用您上传的文件复现，请稍候。"),
        ),
    ),
    Scenario(
        3, "导出的季度汇总表用 WPS 打开乱码", FAULT, Channel.EMAIL,
        "下载 2026Q3 汇总表后用 WPS 打开，中文全部显示为乱码。", MINOR, reporter=12,
        ago=5 * H,
        steps=(
            Step(15 * M, "ack", "e1"),
            Step(40 * M, "comment", "e1", "我们这边用 WPS 与 Office 打开均正常。"),
            Step(45 * M, "pause", "e1", "请提供出现乱码的文件及 WPS 版本号（帮助 → 关于），收到后恢复计时。"),
        ),
    ),
    Scenario(
        6, "月报保存后“住院总收入”小数位丢失", FAULT, Channel.EMAIL,
        "填写 1234567.89 元，保存后显示 1234568。", MINOR, reporter=21, ago=3 * H + 20 * M,
    ),
    Scenario(
        9, "希望导出模板增加“上期值”对照列", REQUIREMENT, Channel.EMAIL,
        "填报时希望在模板中看到本单位上期数值，便于核对。", reporter=18, ago=2 * H + 30 * M,
        steps=(Step(40 * M, "ack", "e1"),),
    ),
    Scenario(
        7, "重置密码的短信验证码收不到", FAULT, Channel.PHONE,
        "来电：点击“忘记密码”后手机收不到验证码，已等待 10 分钟。", MINOR, reporter=8,
        ago=1 * H + 45 * M,
        steps=(Step(10 * M, "ack", "e2"),),
    ),
    Scenario(
        8, "如何为本院新增一名质控专员账号？", CONSULT, Channel.WEB,
        "科室新来一名质控专员，需要开通填报账号。", reporter=5, ago=30 * M,
    ),
    Scenario(
        5, "提交季度报表时提示“服务器错误（500）”", FAULT, Channel.WEB,
        "点击“上报”后页面显示服务器错误，多次尝试均失败。", OUTAGE, reporter=15,
        ago=40 * M,
    ),
)  # fmt: skip


@dataclass
class OpsSeedResult:
    """What a run did."""

    tickets_created: list[str] = field(default_factory=list)
    tickets_skipped: int = 0
    roster_created: bool = False
    shifts_created: int = 0


@contextmanager
def pinned_clock(moment: datetime) -> Iterator[None]:
    """Run the enclosed service calls as if it were ``moment`` (see the module docstring)."""
    original = clock.now
    clock.now = lambda: moment  # type: ignore[assignment]
    try:
        yield
    finally:
        clock.now = original  # type: ignore[assignment]


@dataclass
class Cast:
    """The demo accounts playing the scenarios."""

    e1: User
    e2: User
    om: User
    reporters: list[tuple[User, Any]]  # (reporter, their institution), by number

    def reporter(self, number: int | None) -> tuple[User | None, Any]:
        if number is None or not self.reporters:
            return None, None
        return self.reporters[(number - 1) % len(self.reporters)]

    def by(self, who: str, requester: User | None) -> User:
        actor = {"e1": self.e1, "e2": self.e2, "om": self.om}.get(who)
        if actor is None:
            if requester is None:
                raise ValueError(f"step by {who!r} needs a requester")
            return requester
        return actor


def cast() -> Cast:
    users = {
        u.username: u for u in User.objects.filter(username__in=[*ENGINEERS, MANAGER], is_demo=True)
    }
    missing = [name for name in (*ENGINEERS, MANAGER) if name not in users]
    if missing:
        raise MissingDemoAccounts(", ".join(missing))
    assignments = (
        RoleAssignment.objects.filter(
            role=Role.UNIT_REPORTER, user__is_demo=True, user__username__startswith="reporter"
        )
        .select_related("user", "org_unit")
        .order_by("user__username")
    )
    reporters = [(a.user, a.org_unit) for a in assignments if a.org_unit is not None]
    return Cast(users[ENGINEERS[0]], users[ENGINEERS[1]], users[MANAGER], reporters)


# --- on-call -------------------------------------------------------------------------------------


def ensure_roster(people: Cast, now: datetime) -> tuple[bool, int]:
    """Create the demo roster through the ops manager's service as of its first handover a week
    ago (so the shift running now began at its real handover, and the past week has its duty),
    then extend it to its horizon; an existing demo roster is only extended. Returns (created,
    shifts created)."""
    roster = Roster.objects.filter(name=ROSTER_NAME).first()
    if roster is not None:
        return False, rosters.generate_roster(roster, now).created
    starts_on: date = timezone.localtime(now).date() - timedelta(days=7)
    values = {
        "name": ROSTER_NAME,
        "shift_hours": 24,
        "handover_time": HANDOVER,
        "secondary_offset": 1,
        "note": "演示数据：engineer01 与 engineer02 每天 09:00 交接，互为主、副值班。",
        "starts_on": starts_on,
        "weeks_ahead": 4,
        "is_active": True,
    }
    with pinned_clock(timezone.make_aware(datetime.combine(starts_on, HANDOVER))):
        roster = rosters.save_roster(people.om, values, [people.e1, people.e2])
    rosters.generate_roster(roster, now)
    return True, roster.shifts.count()


# --- tickets -------------------------------------------------------------------------------------

Action = Callable[[Ticket, User, Step], Any]

ACTIONS: dict[str, Action] = {
    "ack": lambda t, who, s: services.acknowledge(t, who),
    "comment": lambda t, who, s: services.comment(t, who, s.text),
    "note": lambda t, who, s: services.internal_note(t, who, s.text),
    "respond": lambda t, who, s: services.respond(t, who, s.text, s.extra),
    "pause": lambda t, who, s: services.pause(t, who, s.text),
    "request_on_site": lambda t, who, s: services.request_on_site(t, who, s.text),
    "confirm_on_site": lambda t, who, s: services.confirm_on_site(t, who),
    "check_in": lambda t, who, s: services.check_in(t, who, None, s.text),
    "resolve": lambda t, who, s: services.resolve(t, who, s.text),
    "close": lambda t, who, s: services.close(t, who, s.text),
}


def _open(scenario: Scenario, people: Cast, reported: datetime) -> Ticket:
    requester, unit = people.reporter(scenario.reporter)
    fields: dict[str, Any] = {
        "title": f"{TITLE_PREFIX}{scenario.title}",
        "category": scenario.category,
        "channel": scenario.channel,
        "description": scenario.description,
        "severity": scenario.severity,
        "org_unit": unit,
        "requester": requester,
        "contact_name": scenario.contact,
        "reported_at": reported,
        "external_key": f"{KEY_PREFIX}{scenario.key}",
    }
    logged = reported
    if scenario.channel == Channel.PHONE:
        # What log_phone_call records, plus the demo marker it has no parameter for.
        caller = requester.get_full_name() if requester else "来电人"
        phone = f"0871-6{scenario.key:07d}"
        fields.update(
            contact_name=caller,
            contact_phone=phone,
            created_by=people.e1,
            data={"call": {"caller": caller, "phone": phone, "at": reported.isoformat()}},
        )
        logged = reported + 3 * M
    elif scenario.channel == Channel.MONITOR:
        logged = reported + M
    elif scenario.channel == Channel.EMAIL and requester is not None:
        fields["contact_email"] = requester.email
    with pinned_clock(logged):
        return services.create_ticket(**fields)


def play(scenario: Scenario, people: Cast, now: datetime) -> Ticket:
    """Create the scenario's ticket and replay its steps at their moments (one transaction),
    then recompute its clocks as of ``now``."""
    reported = scenario.reported_at(now)
    with transaction.atomic():
        ticket = _open(scenario, people, reported)
        requester = ticket.requester
        for step in scenario.steps:
            moment = min(reported + step.after, now)
            with pinned_clock(moment):
                ACTIONS[step.action](ticket, people.by(step.by, requester), step)
            ticket.refresh_from_db()
        services.refresh_clocks(ticket, now)
    return ticket


def seed_ops(now: datetime | None = None) -> OpsSeedResult:
    """Create what is missing of the demo roster and tickets (see the module docstring)."""
    now = now or clock.now()
    people = cast()
    result = OpsSeedResult()
    result.roster_created, result.shifts_created = ensure_roster(people, now)
    existing = set(
        Ticket.objects.filter(external_key__startswith=KEY_PREFIX).values_list(
            "external_key", flat=True
        )
    )
    for scenario in sorted(SCENARIOS, key=lambda s: s.reported_at(now)):
        if f"{KEY_PREFIX}{scenario.key}" in existing:
            result.tickets_skipped += 1
            continue
        result.tickets_created.append(play(scenario, people, now).number)
    return result
