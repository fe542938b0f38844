"""Benchmark reporting progress for many units (issue 3 target: progress page and API for 1,000
units < 500 ms, with a constant number of queries).

    .venv/bin/python benchmarks/bench_progress.py [--units 1000] [--rounds 20]

Builds ``--units`` member hospitals spread over the prefectures of Yunnan, a quarterly form
assigned to all of them and submissions for about three quarters of them (on time, late,
approved, returned, drafts), then times, in process:

- ``compute_progress`` alone (the computation);
- ``GET /api/v1/reporting-progress/`` as a center admin (all units in the JSON);
- ``GET /qc/progress/`` as a center admin (province view) and a prefecture drill-down;

and prints the median, 90th percentile and the number of SQL queries of each. Prints figures
only; it asserts nothing.

By default it runs on a throw-away SQLite database in a temporary folder. To measure PostgreSQL,
pass DATABASE_URL pointing at an empty scratch database (the script refuses a database that
already holds submissions).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="progress-bench-")
    os.environ.setdefault("GERIQC_VAR_DIR", scratch)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qc_core.reporting.models import Submission
    from qc_core.reporting.progress import compute_progress

    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    call_command("migrate", verbosity=0)
    if Submission.objects.exists():
        print("refusing: this database already holds submissions", file=sys.stderr)
        return 2

    center, dataset, prefecture = build(args.units)
    client = Client()
    client.force_login(center)
    query = {"dataset": dataset.code, "period": "2026Q3"}

    def api() -> Any:
        res = client.get("/api/v1/reporting-progress/", query)
        assert res.status_code == 200, res.content[:300]
        return res

    def page() -> Any:
        res = client.get("/qc/progress/", query)
        assert res.status_code == 200, res.content[:300]
        return res

    def drill() -> Any:
        res = client.get("/qc/progress/", {**query, "prefecture": prefecture.code})
        assert res.status_code == 200, res.content[:300]
        return res

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("compute_progress", lambda: compute_progress(dataset, "2026Q3", user=center)),
        ("GET /api/v1/reporting-progress/", api),
        ("GET /qc/progress/ (province)", page),
        (f"GET /qc/progress/ ({prefecture.name})", drill),
    ]
    progress = compute_progress(dataset, "2026Q3")
    print(f"database: {connection.vendor}; units: {progress.total.expected}; "
          f"submitted: {progress.total.submitted}; prefectures: {len(progress.groups)}")  # fmt: skip
    print(f"{'case':<40} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name, func in cases:
        timings = []
        queries = 0
        for round_no in range(args.warmup + args.rounds):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                func()
                elapsed = (time.perf_counter() - start) * 1000
            if round_no >= args.warmup:
                timings.append(elapsed)
                queries = len(ctx.captured_queries)
        timings.sort()
        p90 = timings[max(0, int(len(timings) * 0.9) - 1)]
        print(f"{name:<40} {statistics.median(timings):>10.1f} {p90:>8.1f} {queries:>8}")
    print("target: < 500 ms for 1,000 units (page and API)")
    return 0


def build(n_units: int) -> tuple[Any, Any, Any]:
    """A center admin, a quarterly form for ``n_units`` hospitals and their submissions."""
    from datetime import datetime

    from qc_core.accounts.choices import Role
    from qc_core.accounts.models import RoleAssignment, User
    from qc_core.indicators.choices import PeriodType
    from qc_core.indicators.models import DataSet
    from qc_core.indicators.periods import LOCAL_TZ
    from qc_core.orgs.choices import HospitalLevel, Level
    from qc_core.orgs.models import OrgUnit
    from qc_core.orgs.services import load_divisions
    from qc_core.reporting.choices import SubmissionStatus as S
    from qc_core.reporting.models import Submission

    load_divisions()
    province = OrgUnit.objects.get(level=Level.PROVINCE)
    counties = list(OrgUnit.objects.filter(level=Level.COUNTY).order_by("path"))
    units = []
    for i in range(n_units):
        unit = OrgUnit(code=f"BH{i:05d}", name=f"基准测试医院{i:05d}", level=Level.INSTITUTION,
                       parent=counties[i % len(counties)], hospital_level=HospitalLevel.L2A,
                       is_member=True)  # fmt: skip
        unit.path = unit.compute_path()
        unit.depth = unit.path.count("/") - 1
        units.append(unit)
    OrgUnit.objects.bulk_create(units, batch_size=500)
    units = list(OrgUnit.objects.filter(code__startswith="BH").order_by("code"))
    dataset = DataSet.objects.create(
        code="BENCH-Q", name="基准季报", period_type=PeriodType.QUARTER
    )
    dataset.units.add(*units)
    on_time = datetime(2026, 10, 10, 10, 0, tzinfo=LOCAL_TZ)
    late = datetime(2026, 10, 18, 10, 0, tzinfo=LOCAL_TZ)
    plan = [
        (S.APPROVED, on_time, on_time), (S.SUBMITTED, on_time, None), (S.SUBMITTED, late, None),
        (S.RETURNED, on_time, None), (S.DRAFT, None, None), (S.REVIEWED, on_time, None),
        (S.APPROVED, late, late), (None, None, None),
    ]  # fmt: skip
    subs = []
    for i, unit in enumerate(units):
        status, first, approved = plan[i % len(plan)]
        if status is not None:
            subs.append(Submission(org_unit=unit, dataset=dataset, period="2026Q3", status=status,
                                   first_submitted_at=first, last_submitted_at=first,
                                   approved_at=approved))  # fmt: skip
    Submission.objects.bulk_create(subs, batch_size=500)
    center = User.objects.create_user("bench-center", password="x", full_name="基准中心")
    RoleAssignment.objects.create(user=center, role=Role.CENTER_ADMIN, org_unit=province)
    prefecture = OrgUnit.objects.filter(level=Level.PREFECTURE).order_by("path").first()
    return center, dataset, prefecture


if __name__ == "__main__":
    raise SystemExit(main())
