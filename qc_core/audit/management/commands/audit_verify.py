"""``python manage.py audit_verify``: check the audit trail's hash chain end to end."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from qc_core.audit.services import verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链；发现第一条被篡改的记录时报告其编号、时间与原因并以非零状态退出。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="每批读取的记录数（默认 5000）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = verify_chain(batch_size=max(1, options["batch_size"]))
        elapsed = time.monotonic() - started
        if result.broken is not None:
            broken = result.broken
            when = (
                timezone.localtime(broken.ts).strftime("%Y-%m-%d %H:%M:%S %Z") if broken.ts else "?"
            )
            raise CommandError(
                f"审计链校验失败：第一条异常记录 id={broken.entry_id}，时间 {when}，原因：{broken.reason}。"
                f"（此前 {result.checked} 条记录完好）"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"审计链完整：共校验 {result.checked} 条记录，用时 {elapsed:.2f} 秒。"
            )
        )
