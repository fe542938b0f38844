"""Benchmark saving a 40-indicator form through ``POST /api/v1/submissions/`` (issue 3 target:
median server time < 100 ms).

    .venv/bin/python benchmarks/bench_save_form.py [--units 53] [--rounds 50]

Each round rewrites all 40 values (so every save writes values, history rows and an audit entry)
and runs the full validation, with 8 quarters of history for the unit and a quarter of reported
peers of the same hospital level. The time measured is the request handled in-process by
Django's test client (middleware, authentication, services, validation, JSON rendering).

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=53, help="member hospitals (peers)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="save-form-bench-")
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

    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    call_command("migrate", verbosity=0)
    if Submission.objects.exists():
        print("refusing: this database already holds submissions", file=sys.stderr)
        return 2

    reporter, unit, dataset, period = build(args.units)
    client = Client()
    client.force_login(reporter)
    codes = list(dataset.items.order_by("order").values_list("indicator__code", flat=True))
    assert len(codes) == 40, len(codes)

    def body(round_no: int) -> dict:
        bump = round_no % 2  # alternate so that every value changes in every round
        values = []
        for n, code in enumerate(codes):
            if code in COUNTS:
                values.append({"indicator": code, "numerator": 100 + n + bump})
            else:
                values.append({"indicator": code, "numerator": 40 + bump, "denominator": 100})
        return {"org_unit": unit.code, "dataset": dataset.code, "period": period, "values": values}

    timings: list[float] = []
    queries: list[int] = []
    for round_no in range(args.warmup + args.rounds):
        payload = body(round_no)
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.post("/api/v1/submissions/", payload, content_type="application/json")
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in (200, 201):
            print(response.status_code, response.content[:2000].decode(), file=sys.stderr)
            return 1
        if round_no >= args.warmup:
            timings.append(elapsed)
            queries.append(len(ctx.captured_queries))
    timings.sort()
    vendor = connection.vendor
    print(f"save 40-indicator form via API ({vendor}, {args.units} units, {args.rounds} rounds)")
    print(
        f"  median {statistics.median(timings):.1f} ms   p90 {timings[int(len(timings) * 0.9) - 1]:.1f} ms"
        f"   min {timings[0]:.1f} ms   max {timings[-1]:.1f} ms"
    )
    print(f"  queries per save: median {statistics.median(queries):.0f}")
    print(f"  validation findings in last answer: {len(response.json()['validation'])}")
    print("  target (issue 3): median < 100 ms")
    return 0


COUNTS = {"GER-S01", "OPS-01", "OPS-02", "BENCH-01"}


def build(units: int):  # type: ignore[no-untyped-def]
    """The library, a 40-indicator quarterly form, ``units`` member hospitals of one level with
    8 quarters of approved history, and this quarter reported by every peer."""
    from decimal import Decimal

    from qc_core.accounts.choices import Role
    from qc_core.accounts.models import RoleAssignment, User
    from qc_core.indicators.models import DataSet, DataSetItem, Indicator
    from qc_core.indicators.periods import Period
    from qc_core.indicators.services import create_indicator, load_library
    from qc_core.orgs.models import OrgUnit
    from qc_core.orgs.services import load_divisions
    from qc_core.reporting.models import DataValue, Submission

    load_divisions()
    county = OrgUnit.objects.get(code="530102")
    hospitals = [
        OrgUnit.objects.create(
            code=f"BH{n:04d}",
            name=f"基准医院{n}",
            level="institution",
            parent=county,
            hospital_level="3A",
            is_member=True,
        )
        for n in range(units)
    ]
    load_library()
    create_indicator(
        "BENCH-01",
        {
            "name": "基准计数指标",
            "set": "geriatric_qc",
            "kind": "volume",
            "numerator_def": "计数",
            "denominator_def": "",
            "unit": "count",
            "multiplier": Decimal(1),
            "direction": "monitor",
            "basis": "",
            "status": "proposed",
            "integer_only": True,
            "numerator_le_denominator": False,
        },
    )
    dataset = DataSet.objects.create(
        code="BENCH-Q", name="基准表单（40 项）", period_type="quarter", lock_days=3650
    )
    for order, indicator in enumerate(Indicator.objects.order_by("sort_order", "code"), start=1):
        DataSetItem.objects.create(dataset=dataset, indicator=indicator, order=order)
    dataset.units.add(*hospitals)
    period = Period.last_ended("quarter")
    versions = {
        i.pk: i.current_version for i in Indicator.objects.select_related("current_version")
    }
    rows = []
    for n, hospital in enumerate(hospitals):
        periods = period.previous_n(8) + ([] if n == 0 else [period])
        for p in periods:
            status = "approved" if p != period else "submitted"
            sub = Submission.objects.create(
                org_unit=hospital, dataset=dataset, period=str(p), status=status
            )
            for indicator_id, version in versions.items():
                rows.append(
                    DataValue(
                        submission=sub,
                        indicator_id=indicator_id,
                        indicator_version=version,
                        numerator=Decimal(40 + n % 7),
                        denominator=Decimal(100) if version.has_denominator else None,
                    )
                )
    DataValue.objects.bulk_create(rows, batch_size=2000)
    reporter = User.objects.create(username="bench_reporter", full_name="基准填报人")
    RoleAssignment.objects.create(user=reporter, role=Role.UNIT_REPORTER, org_unit=hospitals[0])
    return reporter, hospitals[0], dataset, str(period)


if __name__ == "__main__":
    raise SystemExit(main())
