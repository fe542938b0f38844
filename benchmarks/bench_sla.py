"""Benchmark ``sla_tick`` and the engineers' queue page over many open tickets.

    .venv/bin/python benchmarks/bench_sla.py [--tickets 10000] [--hours 5]

Targets (issue 4): one ``sla_tick`` run over 10,000 open tickets < 2 s; the queue page < 300 ms.
Open tickets are spread over the last ``--hours`` hours (10 % outages, 60 % other faults, 30 %
consultations). Three tick runs are timed:

* catch-up — the first run, as after a scheduler outage of ``--hours`` hours: every warning,
  breach and escalation step already due fires at once (an upper bound, not the steady state);
* steady — the next minute's run: only the thresholds crossed during that minute fire;
* idle — the same minute again: nothing left to fire (pure evaluation cost).

By default it runs on a throw-away SQLite database in a temporary folder. To measure PostgreSQL,
pass DATABASE_URL pointing at an empty scratch database (the script refuses a database that
already holds tickets). It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    scratch = tempfile.mkdtemp(prefix="sla-bench-")
    os.environ.setdefault("GERIQC_VAR_DIR", scratch)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    import django

    django.setup()


def _seed(count: int, hours: float) -> None:
    """Open tickets in bulk, their *created* ledger entries, and the clock rows refresh_clocks
    would write (computed by the same engine)."""
    from ops_portal.choices import Category, Channel, EventKind, Severity, Status
    from ops_portal.clocks import compute_clocks
    from ops_portal.models import SlaClock, Ticket, TicketCounter, TicketEvent
    from ops_portal.services import current_policy, default_escalation_policy
    from ops_portal.services.policies import escalation_steps
    from ops_portal.services.sla import _apply, next_escalation
    from qc_core.accounts.models import RoleAssignment, User
    from qc_core.orgs.models import OrgUnit
    from qc_core.system import clock

    random.seed(4)
    now = clock.now()
    policy = current_policy()
    default_escalation_policy()
    for username, role in (("bench_engineer", "engineer"), ("bench_manager", "ops_manager")):
        user = User.objects.create(username=username, full_name=username)
        RoleAssignment.objects.create(user=user, role=role)
    province = OrgUnit.objects.create(code="BENCH53", name="基准省", level="province")
    units = OrgUnit.objects.bulk_create(
        [
            OrgUnit(
                code=f"BH{i:03d}",
                name=f"基准医院{i}",
                level="institution",
                parent=province,
                path=f"BENCH53/BH{i:03d}/",
                depth=1,
                is_member=True,
            )
            for i in range(53)
        ]
    )
    tickets = []
    for i in range(count):
        roll = random.random()
        category = Category.FAULT if roll < 0.7 else Category.CONSULTATION
        severity = (
            (Severity.OUTAGE if roll < 0.1 else Severity.NON_OUTAGE)
            if category == Category.FAULT
            else ""
        )
        reported = now - timedelta(seconds=random.uniform(0, hours * 3600))
        tickets.append(
            Ticket(
                number=f"GQ-{now.year}-{i + 1:06d}",
                title=f"基准工单 {i}",
                category=category,
                severity=severity,
                contact_name="基准联系人",
                org_unit=random.choice(units),
                channel=Channel.WEB,
                reported_at=reported,
                created_at=reported,
                updated_at=reported,
                status=random.choice([Status.NEW, Status.IN_PROGRESS]),
                policy=policy,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    TicketCounter.objects.create(year=now.year, last=count)
    tickets = list(Ticket.objects.select_related("policy__calendar", "policy__consult_calendar"))
    events = [
        TicketEvent(
            ticket=t,
            kind=EventKind.CREATED,
            at=t.reported_at,
            recorded_at=t.reported_at,
            actor_name="基准",
            data={"category": t.category, "severity": t.severity},
        )
        for t in tickets
    ]
    TicketEvent.objects.bulk_create(events, batch_size=2000)
    cache: dict = {}
    rows, summaries = [], []
    for ticket, event in zip(tickets, events, strict=True):
        states = compute_clocks(ticket, [event], ticket.policy, now)
        for state in states:
            row = SlaClock(ticket=ticket, clause=state.clause)
            _apply(row, state, now)
            upcoming = next_escalation(row, escalation_steps(state.clause, cache), [])
            row.next_escalation_at = upcoming[0] if upcoming else None
            rows.append(row)
        ticket.sla_due_at = min(s.due_at for s in states)
        ticket.sla_breached = any(s.breached for s in states)
        summaries.append(ticket)
    SlaClock.objects.bulk_create(rows, batch_size=2000)
    Ticket.objects.bulk_update(summaries, ["sla_due_at", "sla_breached"], batch_size=2000)


class _QueryCounter:
    """Counts every query (CaptureQueriesContext keeps only the last 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def _time_tick(label: str, now) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection

    from ops_portal.services import run_sla_tick

    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        result = run_sla_tick(now)
        elapsed = time.perf_counter() - started
    print(
        f"sla_tick {label:<9} {elapsed * 1000:8.0f} ms  queries={counter.count:6d}  "
        f"warnings={result.warnings} breaches={result.breaches} escalations={result.escalations} "
        f"silent={result.silent} errors={len(result.errors)}"
    )


def _time_queue() -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qc_core.accounts.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(User.objects.get(username="bench_engineer"))
    client.get("/ops/")  # warm templates and the session
    for label, url in (
        ("queue", "/ops/"),
        ("breached", "/ops/?view=breached"),
        ("page 100", "/ops/?page=100"),
    ):
        timings = []
        for _ in range(7):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        print(
            f"queue page {label:<9} median {statistics.median(timings) * 1000:6.0f} ms  "
            f"min {min(timings) * 1000:6.0f} ms  queries={len(queries)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument(
        "--hours", type=float, default=5.0, help="spread of reported_at into the past"
    )
    args = parser.parse_args()
    _setup()

    from django.core.management import call_command
    from django.db import connection

    from ops_portal.models import Ticket
    from qc_core.system import clock

    call_command("migrate", verbosity=0)
    if Ticket.objects.exists():
        print("refusing: this database already holds tickets", file=sys.stderr)
        return 2
    started = time.perf_counter()
    _seed(args.tickets, args.hours)
    print(
        f"database: {connection.vendor}; seeded {args.tickets} open tickets in {time.perf_counter() - started:.1f} s"
    )
    now = clock.now()
    _time_tick("catch-up", now)
    _time_tick("steady", now + timedelta(minutes=1))
    _time_tick("idle", now + timedelta(minutes=1))
    _time_queue()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
