"""``manage.py poll_mailbox`` — read the IMAP inbox once (beat runs the same every 2 minutes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops_portal.intake.email import reprocess_pending
from ops_portal.intake.mailbox import MailboxError, poll


class Command(BaseCommand):
    help = "读取运维邮箱（IMAP）中的未读邮件，逐封建单或追加到工单，处理后标记为已读。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=0, help="本次最多处理的邮件数（默认全部）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MAILBOX_HOST:
            raise CommandError("未设置 MAILBOX_HOST，没有可读取的邮箱。")
        reprocessed = reprocess_pending()
        try:
            result = poll(limit=options["limit"] or None)
        except MailboxError as exc:
            raise CommandError(f"无法读取邮箱：{exc}") from exc
        if result.skipped:
            self.stdout.write(f"跳过：{result.skipped}")
            return
        outcomes = "，".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())) or "无"
        self.stdout.write(
            f"读取 {result.fetched} 封（{outcomes}）；工单：{'、'.join(result.tickets) or '无'}；"
            f"补处理 {reprocessed} 封。"
        )
