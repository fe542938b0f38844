"""sla_tick: warnings at 50 % / 80 %, breach at 100 %, escalation steps in order, each exactly
once — also with two schedulers running at the same time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ops_portal import services
from ops_portal.choices import EscalationTarget, EscalationTrigger, EventKind, Severity, ShiftRole
from ops_portal.models import (
    EscalationFiring,
    EscalationPolicy,
    EscalationStep,
    Shift,
    SlaClock,
    TicketEvent,
)
from qc_core.accounts.choices import Role
from qc_core.notify.models import Notification
from qc_core.system import clock
from tests.factories import RoleAssignmentFactory, UserFactory
from tests.ops_portal.conftest import T0, H, M

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_call(personas):
    """engineer holds the primary duty and a second engineer the secondary, all week."""
    second = UserFactory(username="engineer2", full_name="李工")
    RoleAssignmentFactory(user=second, role=Role.ENGINEER, org_unit=None)
    Shift.objects.create(
        user=personas.engineer, role=ShiftRole.PRIMARY, start=T0 - 24 * H, end=T0 + 7 * 24 * H
    )
    Shift.objects.create(
        user=second, role=ShiftRole.SECONDARY, start=T0 - 24 * H, end=T0 + 7 * 24 * H
    )
    return second


def tick_every_minute(clock_at, until, *, twice=True):
    """Run sla_tick at every minute from T0 to ``until`` (twice each minute by default)."""
    moment = T0
    while moment <= until:
        clock_at(moment)
        services.run_sla_tick()
        if twice:
            services.run_sla_tick()
        moment += M


def fired(ticket):
    return [
        (f.step.order, f.fired_at, f.target_user.username if f.target_user else None)
        for f in EscalationFiring.objects.filter(ticket=ticket)
        .select_related("step", "target_user")
        .order_by("id")
    ]


@pytest.mark.django_db
def test_warnings_and_breach_fire_once_each_at_their_thresholds(make_ticket, clock_at, personas):
    ticket = make_ticket()  # outage: restore due T0 + 1 h
    services.acknowledge(ticket, personas.engineer)
    tick_every_minute(clock_at, T0 + 2 * H)
    row = SlaClock.objects.get(ticket=ticket)
    assert row.warned_50_at == T0 + 30 * M
    assert row.warned_80_at == T0 + 48 * M
    assert row.breach_notified_at == T0 + H + M  # breached only after the due instant
    assert row.breached
    kinds = list(
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED]
        )
        .order_by("at", "id")
        .values_list("kind", "data__level")
    )
    assert kinds == [
        (EventKind.SLA_WARNING, 1),
        (EventKind.SLA_WARNING, 2),
        (EventKind.SLA_BREACHED, 3),
    ]
    assert Notification.objects.filter(user=personas.engineer, event="ops.sla_warning").count() == 2
    assert Notification.objects.filter(user=personas.engineer, event="ops.sla_breach").count() == 1
    assert (
        Notification.objects.filter(user=personas.ops_manager, event="ops.sla_breach").count() == 1
    )


@pytest.mark.django_db
def test_escalation_steps_fire_once_each_in_order_after_ack_timeouts(
    make_ticket, clock_at, personas, on_call
):
    ticket = make_ticket()  # unassigned outage
    tick_every_minute(clock_at, T0 + 2 * H)
    # 1: first warning (T0+30m) → assignee; none yet, so the primary on call.
    # 2: second warning (T0+48m), but waits for step 1's 30-minute ack timeout → T0+60m.
    # 3: breach (T0+60m) + step 2's 15-minute timeout → T0+75m, to the secondary.
    # 4: breach + 15 min and step 3's timeout → T0+90m, the ops manager (a role: no single user).
    assert fired(ticket) == [
        (1, T0 + 30 * M, "engineer"),
        (2, T0 + 60 * M, "engineer"),
        (3, T0 + 75 * M, "engineer2"),
        (4, T0 + 90 * M, None),
    ]
    assert Notification.objects.filter(user=on_call, event="ops.escalation").count() == 1
    assert (
        Notification.objects.filter(user=personas.ops_manager, event="ops.escalation").count() == 1
    )
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATED).count() == 4


@pytest.mark.django_db
def test_acknowledging_stops_same_level_steps_but_not_the_breach(
    make_ticket, clock_at, personas, on_call
):
    ticket = make_ticket()
    tick_every_minute(clock_at, T0 + 35 * M)
    services.acknowledge_escalation(ticket, personas.engineer)
    tick_every_minute(clock_at, T0 + 2 * H)
    # step 2 is a higher level (second warning): it fires at its own trigger, no timeout wait.
    assert [order for order, *_ in fired(ticket)] == [1, 2, 3, 4]
    assert fired(ticket)[1][1] == T0 + 48 * M
    assert fired(ticket)[2][1] == T0 + 63 * M  # breach, after step 2's 15-minute timeout


@pytest.mark.django_db
def test_no_escalation_once_the_clock_is_met(make_ticket, clock_at, personas):
    ticket = make_ticket()
    clock_at(T0 + 20 * M)
    services.resolve(ticket, personas.engineer, summary="已恢复")
    tick_every_minute(clock_at, T0 + 3 * H)
    assert fired(ticket) == []
    assert not SlaClock.objects.get(ticket=ticket).warned_50_at


@pytest.mark.django_db
def test_a_paused_clock_neither_warns_nor_escalates(make_ticket, clock_at, personas):
    ticket = make_ticket(severity=Severity.NON_OUTAGE)
    services.acknowledge(ticket, personas.engineer)
    clock_at(T0 + 10 * M)
    services.pause(ticket, personas.engineer, reason="请提供报错截图")
    clock_at(T0 + 10 * H)
    assert services.run_sla_tick().as_dict()["warnings"] == 0
    assert fired(ticket) == []


# --- two schedulers at once --------------------------------------------------------------------


def _subprocess_env() -> dict[str, str]:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ)
    env.update(DATABASE_URL=url, GERIQC_VAR_DIR=str(settings.VAR_DIR), CELERY_TASK_ALWAYS_EAGER="1")
    return env


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sla_tick_processes_fire_every_notice_exactly_once(personas, tmp_path):
    """GIVEN 30 outage tickets reported 3 h ago and a policy whose 4 steps are all due at once
    WHEN two `manage.py sla_tick` processes run at the same time
    THEN every breach notice and every step exists exactly once, steps in order."""
    policy = EscalationPolicy.objects.create(name="测试：立即升级", priority=1)
    for order, target in enumerate(
        [
            EscalationTarget.ASSIGNEE,
            EscalationTarget.ONCALL_PRIMARY,
            EscalationTarget.ONCALL_SECONDARY,
            EscalationTarget.OPS_MANAGER,
        ],
        start=1,
    ):
        EscalationStep.objects.create(
            policy=policy,
            order=order,
            trigger=EscalationTrigger.BREACH,
            target=target,
            ack_timeout_minutes=0,
        )
    reported = clock.now() - 3 * H
    tickets = [
        services.create_ticket(
            title=f"故障 {i}",
            category="fault",
            severity=Severity.OUTAGE,
            channel="web",
            requester=personas.reporter_a,
            org_unit=personas.tree.hospital_a,
            reported_at=reported,
        )
        for i in range(30)
    ]
    env = _subprocess_env()
    barrier = tmp_path / "go"
    command = [sys.executable, "-m", "tests.ops_portal.tick_process", str(barrier)]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        for run in runs:  # both are set up and connected: open the barrier for both at once
            assert run.stdout is not None
            line = run.stdout.readline()
            while line and line.strip() != b"ready":
                line = run.stdout.readline()
            assert line, run.communicate()[1].decode()
        barrier.touch()
        outputs = [run.communicate(timeout=120) for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    for run, (_out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()
    totals = [int(out.decode().split("escalations=")[1].split()[0]) for out, _ in outputs]
    assert sum(totals) == 30 * 4
    for ticket in tickets:
        orders = list(
            EscalationFiring.objects.filter(ticket=ticket)
            .order_by("id")
            .values_list("step__order", flat=True)
        )
        assert orders == [1, 2, 3, 4]
        assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACHED).count() == 1
    assert (
        Notification.objects.filter(event="ops.sla_breach", user=personas.ops_manager).count() == 30
    )
    assert (
        Notification.objects.filter(event="ops.sla_warning").count() == 0
    )  # superseded by the breach


@pytest.mark.django_db
def test_sla_tick_command_reports_its_counts(make_ticket, clock_at):
    from io import StringIO

    from django.core.management import call_command

    make_ticket()
    clock_at(T0 + 31 * M)
    out = StringIO()
    call_command("sla_tick", stdout=out)
    assert "warnings=1" in out.getvalue()


def test_beat_schedule_runs_sla_tick_every_minute(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="ops_portal.sla_tick")
    assert task.enabled
    assert (task.interval.every, task.interval.period) == (1, "minutes")
