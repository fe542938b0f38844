"""``manage.py ingest_email`` — one RFC 822 message on stdin (an MTA pipe), e.g. in Postfix::

    geriqc  unix  -  n  n  -  -  pipe
      flags=FR user=geriqc argv=/srv/geriqc/.venv/bin/python /srv/geriqc/manage.py ingest_email

Exit status: 0 once the message is stored (whatever became of it: ticket, reply, ignored
auto-reply, failed-and-reported); 75 (EX_TEMPFAIL, the MTA retries later) only when it could not
even be stored; 65 (EX_DATAERR) for empty input.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops_portal.intake.choices import InboundSource
from ops_portal.intake.email import process, store

logger = logging.getLogger(__name__)

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "读取标准输入中的一封邮件（RFC 822），建立工单或追加到已有工单（供邮件服务器管道调用）。"
    # Called once per received mail by the MTA: skip the system checks, keep it quick.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="从文件读取邮件（.eml）而不是标准输入")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = Path(options["file"]).read_bytes() if options["file"] else sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("标准输入为空，没有邮件可读。", returncode=EX_DATAERR)
        try:
            inbound = store(raw, source=InboundSource.PIPE)
        except Exception as exc:
            logger.exception("ingest_email: the message could not be stored")
            self.stderr.write(f"邮件无法保存，请稍后重试：{exc}")
            sys.exit(EX_TEMPFAIL)
        try:
            inbound = process(inbound)
        except Exception as exc:  # stored: poll_mailbox's task finishes it later
            logger.exception("ingest_email: message %s stored but not processed", inbound.pk)
            self.stderr.write(f"邮件已保存（编号 {inbound.pk}），处理失败，将自动重试：{exc}")
            return
        number = inbound.ticket.number if inbound.ticket_id else "-"  # type: ignore[union-attr]
        detail = inbound.reason or inbound.error
        self.stdout.write(f"{inbound.pk} {inbound.status} {number} {detail}".rstrip())
