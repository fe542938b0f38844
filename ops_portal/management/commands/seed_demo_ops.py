"""``python manage.py seed_demo_ops``: the demo on-call roster and demo tickets (idempotent)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops_portal.demo import ROSTER_NAME, SCENARIOS, MissingDemoAccounts, seed_ops


class Command(BaseCommand):
    help = (
        "Create the demo on-call roster (engineer01/engineer02, 24-hour rotation, handover 09:00) "
        "and about a dozen demo tickets replayed through the ticket services (resolved, breached, "
        "waiting for the customer, on site, new). Existing demo tickets (external key demo:N) are "
        "skipped, so re-running creates nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even when GERIQC_PRODUCTION is true (demo tickets in a real database)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "GERIQC_PRODUCTION is true: refusing to add demo tickets and rosters. "
                "Pass --allow-production if you really want them here."
            )
        started = time.monotonic()
        try:
            result = seed_ops()
        except MissingDemoAccounts as exc:
            raise CommandError(f"Demo accounts missing ({exc}): run seed_demo first.") from None
        roster = "created" if result.roster_created else "present"
        self.stdout.write(
            f"seed_demo_ops: roster “{ROSTER_NAME}” {roster} ({result.shifts_created} shifts "
            f"added), {len(result.tickets_created)} demo tickets created, "
            f"{result.tickets_skipped} of {len(SCENARIOS)} already present, "
            f"{time.monotonic() - started:.1f} s."
        )
        if result.tickets_created:
            self.stdout.write("  " + " ".join(result.tickets_created))
