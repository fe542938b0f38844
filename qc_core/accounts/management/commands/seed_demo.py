"""``python manage.py seed_demo [--units 53]``: demo institutions and accounts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qc_core.accounts.demo import MAX_UNITS, SeedResult, password_problems, seed_demo
from qc_core.accounts.models import User
from qc_core.orgs.models import OrgUnit


class Command(BaseCommand):
    help = (
        "Create or repair the demo data: the Yunnan divisions, N demo member institutions spread "
        "over the 16 prefectures and the demo accounts (center_admin, subcenter_admin, "
        "reporter01…NN, leader01, official, expert01/02, engineer01/02, ops_manager, tester01). "
        "Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--units",
            type=int,
            default=53,
            help=f"number of demo member institutions (1–{MAX_UNITS}, default 53)",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even when GERIQC_PRODUCTION is true (demo accounts share one password)",
        )
        parser.add_argument(
            "--quiet-table", action="store_true", help="print only the summary line"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        units = options["units"]
        if not 1 <= units <= MAX_UNITS:
            raise CommandError(f"--units must be between 1 and {MAX_UNITS} (got {units}).")
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "GERIQC_PRODUCTION is true: demo accounts share one password. "
                "Pass --allow-production if you really want them here."
            )
        result = seed_demo(units)
        self._report(result, units, show_table=not options["quiet_table"])

    def _report(self, result: SeedResult, units: int, *, show_table: bool) -> None:
        out = self.stdout
        out.write(
            f"seed_demo: {units} demo institutions ({result.institutions_created} created, "
            f"{result.institutions_updated} updated), {len(result.accounts)} demo accounts "
            f"({result.users_created} created, {result.passwords_reset} password(s) reset); "
            f"{OrgUnit.objects.institutions().filter(is_demo=True).count()} demo institutions and "
            f"{User.objects.filter(is_demo=True).count()} demo accounts in the database."
        )
        for username in result.skipped:
            self.stderr.write(
                self.style.WARNING(
                    f"skipped {username}: a non-demo account already has this username"
                )
            )
        if show_table:
            self._table(result)
        if result.password_generated:
            out.write(
                self.style.SUCCESS(f"Demo password (generated, shown once): {result.password}")
            )
            out.write(
                f"It is stored in {result.password_source} (mode 600); set DEMO_PASSWORD to choose one."
            )
        elif result.password_source == "DEMO_PASSWORD":
            out.write("Demo password: the value of DEMO_PASSWORD.")
        else:
            out.write(f"Demo password: stored in {result.password_source}.")
        for problem in password_problems(result.password):
            self.stderr.write(self.style.WARNING(f"demo password is weak: {problem}"))

    def _table(self, result: SeedResult) -> None:
        units = {
            u.code: u.name
            for u in OrgUnit.objects.filter(code__in={a.unit_code for a in result.accounts})
        }
        rows = [("username", "role", "scope")]
        reporters = [a for a in result.accounts if a.role == "unit_reporter"]
        for account in result.accounts:
            if account in reporters[1:-1]:
                continue
            scope = units.get(account.unit_code or "", "—")
            rows.append((account.username, str(account.role), scope))
            if len(reporters) > 2 and account is reporters[0]:
                rows.append(
                    ("…", "unit_reporter", f"one per demo institution ({len(reporters)} in all)")
                )
        width = max(len(r[0]) for r in rows)
        role_width = max(len(r[1]) for r in rows)
        for username, role, scope in rows:
            self.stdout.write(f"  {username:<{width}}  {role:<{role_width}}  {scope}")
