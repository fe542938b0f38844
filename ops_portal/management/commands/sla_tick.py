"""``python manage.py sla_tick``: evaluate every running SLA clock once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ops_portal.services import run_sla_tick


class Command(BaseCommand):
    help = "评估所有运行中的 SLA 时钟：50%/80% 预警、超时通知和升级步骤（每项只发一次）。"

    def handle(self, *args: Any, **options: Any) -> None:
        result = run_sla_tick()
        self.stdout.write(
            f"warnings={result.warnings} breaches={result.breaches} "
            f"escalations={result.escalations} silent={result.silent} errors={len(result.errors)}"
        )
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise SystemExit(1)
