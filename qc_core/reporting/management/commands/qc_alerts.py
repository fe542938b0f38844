"""``python manage.py qc_alerts [--now ISO] [--digest]``: run the reporting-progress alert pass
(the same work as the daily Celery task); ``--digest`` also sends this week's digest."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qc_core.indicators.periods import LOCAL_TZ
from qc_core.reporting import alerts
from qc_core.reporting.choices import AlertStep


def parse_now(text: str) -> datetime:
    """An ISO 8601 date-time; without a time zone it is read as Beijing time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            _("--now 的值“%(v)s”不是有效的 ISO 时间，例如 2026-10-16T09:00+08:00。") % {"v": text}
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


class Command(BaseCommand):
    help = _("发送质控上报提醒、逾期通知和逾期上报（每条每单位每期只发一次）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help=_("按此时间运行（ISO 8601，默认当前时间）"))
        parser.add_argument("--digest", action="store_true", help=_("同时发送本周上报进度汇总"))

    def handle(self, *args: Any, **options: Any) -> None:
        now = parse_now(options["now"]) if options.get("now") else None
        counts = Counter(alerts.run_alerts(now))
        if options["digest"]:
            counts.update(alerts.send_digest(now))
        labels: dict[str, str] = {key: str(label) for key, label in AlertStep.choices}
        labels["skipped"] = _("已发送过（跳过）")
        labels["failed"] = _("发送失败（下次重试）")
        if not counts:
            self.stdout.write(_("没有需要发送的提醒。"))
        for key, n in sorted(counts.items()):
            self.stdout.write(f"{labels.get(key, key)}: {n}")
