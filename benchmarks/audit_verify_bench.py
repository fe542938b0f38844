"""Benchmark ``audit_verify`` on a large chain.

    .venv/bin/python benchmarks/audit_verify_bench.py [--entries 100000] [--batch-size 5000]

By default it runs on a throw-away SQLite database in a temporary folder. To measure PostgreSQL,
pass DATABASE_URL pointing at an empty scratch database (the script refuses to touch a database
whose audit table already holds entries).
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="audit-bench-")
    os.environ.setdefault("GERIQC_VAR_DIR", scratch)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import models, transaction

    from qc_core.audit.choices import Action
    from qc_core.audit.models import AuditEntry
    from qc_core.audit.services import verify_chain
    from qc_core.system import clock

    call_command("migrate", verbosity=0)
    if AuditEntry.objects.exists():
        print("refusing: the audit table of this database is not empty", file=sys.stderr)
        return 2

    started = time.monotonic()
    prev = ""
    base = clock.now()
    batch: list[AuditEntry] = []
    actions = list(Action.values)
    for i in range(args.entries):
        entry = AuditEntry(
            ts=base + timedelta(milliseconds=i),
            actor_username=f"reporter{i % 53 + 1:02d}",
            action=actions[i % len(actions)],
            object_type="orgs.orgunit",
            object_id=str(i),
            object_repr=f"对象 {i}",
            changes={"name": [f"旧名称 {i}", f"新名称 {i}"]},
            ip="10.0.0.1",
            user_agent="Mozilla/5.0 (benchmark)",
            extra={},
            prev_hash=prev,
        )
        entry.hash = entry.compute_hash()
        prev = entry.hash
        batch.append(entry)
        if len(batch) == 5000:
            with transaction.atomic():
                # Bypass the append-only guard on purpose: this is a fixture, chained above.
                models.QuerySet.bulk_create(AuditEntry.objects.all(), batch)
            batch = []
    if batch:
        models.QuerySet.bulk_create(AuditEntry.objects.all(), batch)
    print(f"wrote {args.entries} chained entries in {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    result = verify_chain(batch_size=args.batch_size)
    elapsed = time.monotonic() - started
    print(
        f"verified {result.checked} entries in {elapsed:.2f} s ({result.checked / elapsed:,.0f}/s), ok={result.ok}"
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
