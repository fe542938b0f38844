"""Benchmark ``qc_export``: 53 units × 40 indicators (issue 3 target < 5 s) and 1,000 generated
units × 40 indicators (target < 60 s).

    .venv/bin/python benchmarks/bench_export.py [--runs 3] [--units 53 1000]

Runs on a throw-away SQLite database in a temporary folder. To measure PostgreSQL, pass
DATABASE_URL pointing at an empty scratch database (the script refuses a database that already
holds org units). Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INDICATORS = 40


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--units", type=int, nargs="+", default=[53, 1000])
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="export-bench-")
    os.environ.setdefault("GERIQC_VAR_DIR", scratch)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from django.core.management import call_command

    from qc_core.orgs.models import OrgUnit

    call_command("migrate", verbosity=0)
    if OrgUnit.objects.exists():
        print("refusing: this database already holds org units", file=sys.stderr)
        return 2
    indicators = _indicators()
    for count in args.units:
        code = _dataset(count, indicators)
        timings = []
        out = Path(scratch) / f"export-{count}.xlsx"
        for _run in range(args.runs):
            started = time.perf_counter()
            with open(os.devnull, "w") as devnull:
                call_command("qc_export", "--period", "2026Q3", "--dataset", code, "-o", str(out),
                             stdout=devnull)  # fmt: skip
            timings.append(time.perf_counter() - started)
        target = 5 if count <= 53 else 60
        print(
            f"qc_export {count} units × {INDICATORS} indicators: median {statistics.median(timings):.2f} s, "
            f"min {min(timings):.2f} s, max {max(timings):.2f} s over {args.runs} runs "
            f"(target < {target} s); file {out.stat().st_size / 1024:.0f} KB"
        )
    return 0


def _indicators() -> list:
    from qc_core.indicators.services import create_indicator

    specs = [("%", Decimal(100), "higher"), ("‰", Decimal(1000), "lower"), ("天", Decimal(1), "lower"),
             ("张", Decimal(1), "monitor")]  # fmt: skip
    made = []
    for i in range(INDICATORS):
        unit, multiplier, direction = specs[i % len(specs)]
        made.append(create_indicator(f"BX-{i + 1:02d}", {
            "name": f"基准指标 {i + 1}", "set": "geriatric_qc", "kind": "process",
            "numerator_def": f"分子 {i + 1}", "denominator_def": "" if unit == "张" else f"分母 {i + 1}",
            "unit": unit, "multiplier": multiplier, "direction": direction, "status": "official",
            "integer_only": True, "numerator_le_denominator": unit in ("%", "‰"),
        }))  # fmt: skip
    return made


def _dataset(count: int, indicators: list) -> str:
    """A quarterly data set with ``count`` approved 2026Q3 forms, every value filled."""
    import random

    from qc_core.indicators.models import DataSet, DataSetItem
    from qc_core.orgs.models import OrgUnit
    from qc_core.orgs.services import load_divisions
    from qc_core.reporting.models import DataValue, Submission

    if not OrgUnit.objects.filter(level="prefecture").exists():
        load_divisions()
    counties = list(OrgUnit.objects.filter(level="county"))
    code = f"BENCH-{count}"
    dataset = DataSet.objects.create(code=code, name=f"基准报表 {count}", period_type="quarter")
    DataSetItem.objects.bulk_create(
        [DataSetItem(dataset=dataset, indicator=ind, order=i) for i, ind in enumerate(indicators)]
    )
    units = []
    for i in range(count):
        unit = OrgUnit(code=f"B{count}-{i:04d}", name=f"基准医院 {count}-{i}", level="institution",
                       parent=counties[i % len(counties)], hospital_level="3A", is_member=True)  # fmt: skip
        unit.path, unit.depth = unit.compute_path(), 0
        unit.depth = unit.path.count("/") - 1
        units.append(unit)
    OrgUnit.objects.bulk_create(units)
    units = list(OrgUnit.objects.filter(code__startswith=f"B{count}-"))
    dataset.units.add(*units)
    Submission.objects.bulk_create([
        Submission(org_unit=u, dataset=dataset, period="2026Q3", status="approved") for u in units
    ])  # fmt: skip
    rng = random.Random(count)
    values = []
    for sub in Submission.objects.filter(dataset=dataset):
        for ind in indicators:
            version = ind.current_version
            den = rng.randint(50, 5000) if version.has_denominator else None
            num = rng.randint(0, den) if den else rng.randint(10, 80)
            values.append(DataValue(submission=sub, indicator=ind, indicator_version=version,
                                    numerator=num, denominator=den, source="import"))  # fmt: skip
    DataValue.objects.bulk_create(values, batch_size=5000)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
