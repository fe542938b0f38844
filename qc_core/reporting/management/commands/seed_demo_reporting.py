"""``python manage.py seed_demo_reporting [--quarters 5] [--months 12] [--unit DEMO001 …]``:
demo reporting history for the demo institutions (idempotent)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qc_core.indicators.models import DataSet
from qc_core.reporting.demo import (
    DATASETS,
    DEFAULT_MONTHS,
    DEFAULT_QUARTERS,
    NotDemoUnit,
    seed_reporting,
)
from qc_core.reporting.demo_plan import DRAFT, LATE, LOCKED, MISSING, ON_TIME


class Command(BaseCommand):
    help = (
        "Fill the last N ended quarters of GER-Q and the last M ended months of OPS-M with "
        "plausible demo submissions of the demo institutions (approved history, a mix of on-time, "
        "late, draft and missing forms in the open window). Only demo institutions are touched; "
        "existing forms are never changed, so re-running creates nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarters", type=int, default=DEFAULT_QUARTERS, help="GER-Q quarters")
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="OPS-M months")
        parser.add_argument(
            "--unit",
            action="append",
            dest="units",
            metavar="CODE",
            help="only this demo institution (repeatable); a non-demo code is refused",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even when GERIQC_PRODUCTION is true (demo data in a real database)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "GERIQC_PRODUCTION is true: refusing to add demo reporting data. "
                "Pass --allow-production if you really want it here."
            )
        for name, top in (("quarters", 20), ("months", 36)):
            if not 1 <= options[name] <= top:
                raise CommandError(f"--{name} must be between 1 and {top} (got {options[name]}).")
        if not DataSet.objects.filter(code__in=DATASETS).exists():
            raise CommandError("The forms GER-Q and OPS-M do not exist: run load_indicators first.")
        started = time.monotonic()
        try:
            result = seed_reporting(
                quarters=options["quarters"], months=options["months"], unit_codes=options["units"]
            )
        except NotDemoUnit as exc:
            raise CommandError(str(exc)) from None
        if not result.units:
            self.stderr.write(
                self.style.WARNING("No demo institutions: run seed_demo first. Nothing to do.")
            )
            return
        self.stdout.write(
            f"seed_demo_reporting: {result.submissions} demo submissions created "
            f"({result.values} values, {result.events} review events), {result.skipped} already "
            f"present, {result.units} demo institutions, {time.monotonic() - started:.1f} s."
        )
        for p in result.plans:
            if p.state == LOCKED:
                continue
            tally = p.tally()
            self.stdout.write(
                f"  open window {p.dataset.code} {p.period} (due {p.window.due_date}, locks "
                f"{p.window.lock_date}): {tally[ON_TIME]} on time, {tally[LATE]} late, "
                f"{tally[DRAFT]} drafts, {tally[MISSING]} missing"
            )
