"""The coverage check: every hour of the next 14 days without a primary is found exactly, and
the ops manager hears about each gap once — across re-runs, a sliding window and two runs at
once."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from ops_portal.choices import ShiftRole
from ops_portal.models import CoverageGap, Shift
from ops_portal.oncall import requests
from ops_portal.oncall.coverage import find_gaps, run_coverage_check
from qc_core.notify.models import Notification
from tests.ops_portal.conftest import T0, H, M
from tests.ops_portal.oncall_support import make_roster, make_team, manual_shift

D = 24 * H
END = T0 + 14 * D


def gap_notices(personas):
    return Notification.objects.filter(user=personas.ops_manager, event="ops.oncall_gap").count()


@pytest.fixture
def holey(personas, clock_at):
    """Primary: engineer until 13:30 today, eng_b from 16:00 to 30 minutes before the window
    ends. The secondary is empty (it is not checked)."""
    team = make_team(personas)
    manual_shift(team.a, T0 - H, T0 + 4 * H + 30 * M)
    manual_shift(team.b, T0 + 7 * H, END - 30 * M)
    return team


@pytest.mark.django_db
def test_gaps_are_found_to_the_hour(holey):
    hours, runs = find_gaps()
    assert hours == [T0 + 4 * H, T0 + 5 * H, T0 + 6 * H, END - H]
    assert runs == [(T0 + 4 * H, T0 + 7 * H), (END - H, END)]


@pytest.mark.django_db
def test_an_hour_already_past_is_not_a_gap(holey, clock_at):
    clock_at(T0 + 6 * H + 59 * M)
    hours, _ = find_gaps()
    assert hours[0] == T0 + 6 * H  # the current hour still has an uncovered minute ahead
    clock_at(T0 + 7 * H)
    assert T0 + 6 * H not in find_gaps()[0]


@pytest.mark.django_db
def test_an_inactive_users_shift_leaves_a_gap(holey):
    holey.a.is_active = False
    holey.a.save()
    hours, runs = find_gaps()
    assert runs[0] == (T0, T0 + 7 * H)


@pytest.mark.django_db
def test_each_gap_is_announced_once_across_reruns(holey, personas, clock_at):
    first = run_coverage_check()
    assert len(first.announced) == 2
    assert gap_notices(personas) == 2
    assert len(run_coverage_check().announced) == 0
    clock_at(T0 + 5 * H)  # inside the first gap, which is now shorter
    assert len(run_coverage_check().announced) == 0
    assert gap_notices(personas) == 2
    assert CoverageGap.objects.filter(resolved_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_a_gap_that_grows_is_not_announced_again_but_a_new_one_is(holey, personas, clock_at):
    run_coverage_check()
    Shift.objects.filter(user=holey.a).update(end=T0 + 3 * H)  # the first gap now starts earlier
    assert run_coverage_check().announced == []
    shift = Shift.objects.get(user=holey.b)
    shift.end = T0 + 3 * D
    shift.save()
    manual_shift(holey.b, T0 + 3 * D + 2 * H, END + D)  # a new gap on day 3, 2 hours
    report = run_coverage_check()
    assert [(g.start, g.end) for g in report.announced] == [(T0 + 3 * D, T0 + 3 * D + 2 * H)]
    assert gap_notices(personas) == 3
    note = Notification.objects.filter(event="ops.oncall_gap").order_by("-id").first()
    assert "2026-03-05 09:00" in note.title and "11:00" in note.title


@pytest.mark.django_db
def test_a_covered_gap_is_resolved_and_announced_again_if_it_returns(holey, personas):
    run_coverage_check()
    item = requests.request_cover(
        holey.c,
        role=ShiftRole.PRIMARY,
        start=T0 + 4 * H,
        end=T0 + 7 * H,
        substitute=holey.c,
        reason="补位",
    )
    requests.approve(item, holey.boss)
    report = run_coverage_check()
    assert report.resolved == 1
    assert find_gaps()[1] == [(END - H, END)]
    Shift.objects.filter(request=item).delete()
    again = run_coverage_check()
    assert [(g.start, g.end) for g in again.announced] == [(T0 + 4 * H, T0 + 7 * H)]
    assert gap_notices(personas) == 3


@pytest.mark.django_db
def test_an_empty_schedule_is_one_gap_announced_once_while_the_window_slides(personas, clock_at):
    report = run_coverage_check()
    assert report.runs == [(T0, END)]
    assert len(report.hours) == 14 * 24
    for hour in range(1, 6):
        clock_at(T0 + hour * H)
        assert run_coverage_check().announced == []
    assert gap_notices(personas) == 1
    assert CoverageGap.objects.get().end == END + 5 * H


@pytest.mark.django_db
def test_the_check_extends_the_rosters_first(personas, clock_at):
    team = make_team(personas)
    make_roster(team, [team.a, team.b], weeks_ahead=1)  # generated 15 days ahead
    clock_at(T0 + 10 * D)
    report = run_coverage_check()
    assert report.shifts_created > 0
    assert report.runs == []
    assert gap_notices(personas) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads with their own connections: PostgreSQL"
)
def test_two_concurrent_checks_announce_each_gap_once(personas, clock_at):
    team = make_team(personas)
    manual_shift(team.a, T0, T0 + 2 * D)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            run_coverage_check(T0, extend=False)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert CoverageGap.objects.count() == 1
    assert gap_notices(personas) == 1


@pytest.mark.django_db
def test_command_prints_the_gaps(holey):
    out = StringIO()
    call_command("oncall_coverage", stdout=out)
    text = out.getvalue()
    assert "gap_hours=4 gaps=2 announced=2" in text
    assert "2026-03-02 13:00 – 2026-03-02 16:00 无主值班" in text


@pytest.mark.django_db
def test_beat_runs_the_check_every_hour():
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    task = PeriodicTask.objects.get(task="ops_portal.oncall_coverage")
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 1, "hours")
    assert "ops_portal.oncall_coverage" in app.tasks
