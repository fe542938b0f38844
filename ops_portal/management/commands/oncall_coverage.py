"""``python manage.py oncall_coverage``: extend the rosters and check the next 14 days' cover."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ops_portal.oncall.coverage import run_coverage_check


class Command(BaseCommand):
    help = "续排常规值班表，检查未来 14 天每小时是否有主值班；新发现的空档通知运维负责人（每个空档只通知一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-extend", action="store_true", help="只检查，不续排值班表")

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_coverage_check(extend=not options["no_extend"])
        self.stdout.write(
            f"gap_hours={len(report.hours)} gaps={len(report.runs)} announced={len(report.announced)} "
            f"resolved={report.resolved} shifts_created={report.shifts_created}"
        )
        for start, end in report.runs:
            local_start, local_end = timezone.localtime(start), timezone.localtime(end)
            self.stdout.write(
                f"  {local_start:%Y-%m-%d %H:%M} – {local_end:%Y-%m-%d %H:%M} 无主值班"
            )
