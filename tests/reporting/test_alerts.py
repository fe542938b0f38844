"""Progress alerts with moved time: each step fires once, for the right units and people only;
nothing for units that submitted or left; repeated and concurrent passes notify once; the
command, the Celery tasks and the beat schedule."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from qc_core.accounts.choices import Role
from qc_core.indicators.periods import LOCAL_TZ
from qc_core.notify.models import Notification
from qc_core.reporting import alerts
from qc_core.reporting.choices import SubmissionStatus as S
from qc_core.reporting.models import AlertLog, Submission
from qc_core.reporting.tasks_alerts import send_progress_alerts, send_progress_digest
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, UserFactory
from tests.reporting.test_progress import make_dataset, sub


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def world(personas: Any) -> dict[str, Any]:
    """Form PRG-Q (2026Q3: due 2026-10-15, locked after 2026-10-30) for hospitals A (昆明),
    B (大理), C (昆明, submits early) and D (大理, left the QC network on 2026-10-05)."""
    t = personas.tree
    c = OrgUnitFactory(code="HC001", name="昆明测试三院", parent=t.wuhua)
    d = OrgUnitFactory(code="HD001", name="大理测试四院", parent=t.dali_city)
    reporter_c = UserFactory(username="reporter_c")
    RoleAssignmentFactory(user=reporter_c, role=Role.UNIT_REPORTER, org_unit=c)
    reporter_d = UserFactory(username="reporter_d")
    RoleAssignmentFactory(user=reporter_d, role=Role.UNIT_REPORTER, org_unit=d)
    ds = make_dataset("PRG-Q", units=[t.hospital_a, t.hospital_b, c, d])
    sub(c, ds, S.SUBMITTED, at(10, 2))
    d.is_member, d.member_until = False, date(2026, 10, 5)
    d.save()
    return {"ds": ds, "c": c, "d": d, "reporter_c": reporter_c, "reporter_d": reporter_d}


def received(user: Any) -> Counter[str]:
    return Counter(Notification.objects.filter(user=user).values_list("event", flat=True))


def logged() -> set[tuple[str, str]]:
    return set(AlertLog.objects.values_list("org_unit__code", "step"))


def test_each_step_fires_once_for_the_right_units_and_people(
    world: dict[str, Any], personas: Any, time_machine: Any
) -> None:
    """GIVEN a daily pass at 09:00 from 1 October to 5 November, hospital B submitting on
    13 October (after two reminders), C before any reminder and D having left the network
    THEN A gets three reminders and a late notice, its sub-center the late notice, the center one
    escalation for A; B two reminders; C and D nothing; Dali's (absent) sub-center nothing."""
    p = personas
    day = at(10, 1)
    while day <= at(11, 5):
        time_machine.move_to(day, tick=False)
        if day.date() == date(2026, 10, 13):
            sub(p.tree.hospital_b, world["ds"], S.SUBMITTED, at(10, 13, 10))
        alerts.run_alerts()
        day += timedelta(days=1)

    assert received(p.reporter_a) == {"reporting.reminder": 3, "reporting.late": 1}
    assert received(p.reporter_b) == {"reporting.reminder": 2}
    assert received(p.subcenter) == {"reporting.late": 1}
    assert received(p.center) == {"reporting.escalation": 1}
    for quiet in (world["reporter_c"], world["reporter_d"], p.leader_a, p.official, p.expert):
        assert received(quiet) == {}
    assert logged() == {
        ("HA001", "remind_7"), ("HA001", "remind_3"), ("HA001", "remind_1"), ("HA001", "late"),
        ("HA001", "escalate"), ("HB001", "remind_7"), ("HB001", "remind_3"),
    }  # fmt: skip
    sent_on = {
        log.step: log.claimed_at.astimezone(LOCAL_TZ).date()
        for log in AlertLog.objects.filter(org_unit=p.tree.hospital_a)
    }
    assert sent_on == {"remind_7": date(2026, 10, 8), "remind_3": date(2026, 10, 12),
                       "remind_1": date(2026, 10, 14), "late": date(2026, 10, 16),
                       "escalate": date(2026, 10, 22)}  # fmt: skip
    escalation = Notification.objects.get(user=p.center)
    assert "昆明市第一人民医院（测试A）" in escalation.body
    assert "测试B" not in escalation.body and "大理测试四院" not in escalation.body
    assert "逾期 7 天" in escalation.title
    late = Notification.objects.get(user=p.subcenter)
    assert "昆明市第一人民医院（测试A）" in late.title
    reminder = Notification.objects.filter(user=p.reporter_a, event="reporting.reminder").first()
    assert reminder is not None and "2026-10-15" in reminder.title
    assert reminder.url == "/qc/progress/?dataset=PRG-Q&period=2026Q3"


def test_running_the_pass_twice_notifies_once(
    world: dict[str, Any], personas: Any, time_machine: Any
) -> None:
    time_machine.move_to(at(10, 16), tick=False)

    first = alerts.run_alerts()
    second = alerts.run_alerts()

    assert first == {"late": 2}
    assert second == {"skipped": 2}
    assert received(personas.reporter_a) == {"reporting.late": 1}
    assert received(personas.subcenter) == {"reporting.late": 1}
    assert AlertLog.objects.count() == 2


def test_a_missed_reminder_is_superseded_and_a_missed_late_notice_caught_up(
    world: dict[str, Any], personas: Any, time_machine: Any
) -> None:
    time_machine.move_to(at(10, 13), tick=False)
    assert alerts.run_alerts() == {"remind_3": 2}  # the 7-day reminder day was missed
    time_machine.move_to(at(10, 20), tick=False)
    assert alerts.run_alerts() == {"late": 2}  # four days late, still within the catch-up
    time_machine.move_to(at(11, 20), tick=False)
    assert alerts.run_alerts() == {}  # long after: nothing stale is sent

    assert logged() == {("HA001", "remind_3"), ("HB001", "remind_3"), ("HA001", "late"),
                        ("HB001", "late")}  # fmt: skip


def test_nothing_before_the_window_opens(world: dict[str, Any], time_machine: Any) -> None:
    time_machine.move_to(at(9, 28), tick=False)

    assert alerts.run_alerts() == {}
    assert not AlertLog.objects.exists()


def test_a_failed_notification_releases_the_claim_for_the_next_pass(
    world: dict[str, Any], personas: Any, time_machine: Any, monkeypatch: Any
) -> None:
    time_machine.move_to(at(10, 8), tick=False)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("template missing")

    with monkeypatch.context() as patch:
        patch.setattr(alerts, "_notify", broken)
        assert alerts.run_alerts() == {"failed": 2}
    assert not AlertLog.objects.exists()

    assert alerts.run_alerts() == {"remind_7": 2}
    assert received(personas.reporter_a) == {"reporting.reminder": 1}


def test_weekly_digest_goes_to_center_admins_once_a_week_during_open_windows(
    world: dict[str, Any], personas: Any, time_machine: Any
) -> None:
    time_machine.move_to(at(10, 5), tick=False)  # a Monday, window open
    assert alerts.send_digest() == {"digest": 1}
    assert alerts.send_digest() == {"skipped": 1}
    time_machine.move_to(at(10, 12), tick=False)
    assert alerts.send_digest() == {"digest": 1}
    time_machine.move_to(at(11, 2), tick=False)  # locked since 31 October
    assert alerts.send_digest() == {}

    notes = Notification.objects.filter(user=personas.center, event="reporting.digest")
    assert notes.count() == 2
    assert "1/4" in notes.first().title  # type: ignore[union-attr]
    assert "应报 4 家，已报 1 家" in notes.first().body  # type: ignore[union-attr]
    assert received(personas.subcenter) == {} and received(personas.reporter_a) == {}


def test_command_runs_the_pass_at_a_given_time(world: dict[str, Any], personas: Any) -> None:
    out = StringIO()

    call_command("qc_alerts", "--now", "2026-10-16T09:00:00+08:00", "--digest", stdout=out)

    assert "逾期未报通知: 2" in out.getvalue()
    assert "每周上报进度汇总: 1" in out.getvalue()
    assert received(personas.reporter_a) == {"reporting.late": 1}
    assert received(personas.center) == {"reporting.digest": 1}


def test_command_refuses_a_bad_time(world: dict[str, Any]) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效的 ISO 时间"):
        call_command("qc_alerts", "--now", "16/10/2026")


def test_celery_tasks_run_the_same_passes(
    world: dict[str, Any], personas: Any, time_machine: Any
) -> None:
    time_machine.move_to(at(10, 12), tick=False)

    assert send_progress_alerts.apply().get() == {"remind_3": 2}
    assert send_progress_digest.apply().get() == {"digest": 1}
    assert received(personas.reporter_b) == {"reporting.reminder": 1}


@pytest.mark.django_db
def test_beat_schedules_daily_alerts_and_monday_digest_at_nine_beijing_time() -> None:
    daily = PeriodicTask.objects.get(task="reporting.send_progress_alerts")
    weekly = PeriodicTask.objects.get(task="reporting.send_progress_digest")

    for task, weekday in ((daily, "*"), (weekly, "1")):
        cron = task.crontab
        assert task.enabled
        assert (cron.minute, cron.hour, cron.day_of_week) == ("0", "9", weekday)
        assert str(cron.timezone) == "Asia/Shanghai"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_passes_notify_once(world: dict[str, Any], personas: Any) -> None:
    """Two schedulers running the pass at the same moment (threads with their own database
    connections; on PostgreSQL the second insert of a claim waits for the first to commit)."""
    now = at(10, 16)
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connection as own

        try:
            barrier.wait(timeout=10)
            results.append(alerts.run_alerts(now))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=run) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    total = Counter[str]()
    for result in results:
        total.update(result)
    assert total == {"late": 2, "skipped": 2}
    assert received(personas.reporter_a) == {"reporting.late": 1}
    assert received(personas.subcenter) == {"reporting.late": 1}
    assert AlertLog.objects.count() == 2
    assert Submission.objects.filter(dataset=world["ds"]).count() == 1
