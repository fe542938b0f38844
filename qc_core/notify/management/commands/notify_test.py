"""Check a notification channel from the command line: sends the test message synchronously.

python manage.py notify_test --email ops@example.org
python manage.py notify_test --url "wecombot://KEY"        (or dingtalk://, feishu://, https://…)
python manage.py notify_test --user center_admin           (in-app + that user's channels, via Celery)
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qc_core.notify import channels
from qc_core.notify.choices import ChannelKind
from qc_core.notify.events import get_event
from qc_core.notify.services import notify
from qc_core.system import clock


class Command(BaseCommand):
    help = "发送测试通知，检查邮件服务器或机器人/Webhook 地址是否可用。"

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--email", help="发送测试邮件到该地址（使用 EMAIL_* 设置）")
        group.add_argument("--url", help="apprise 地址或 http(s) Webhook 地址")
        group.add_argument("--user", help="按用户名发送：站内通知及其已启用的渠道")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在。")
            notify("system.test", [user], {"actor": "manage.py notify_test", "time": clock.now()})
            self.stdout.write(self.style.SUCCESS("已生成站内通知；外部渠道的结果见发送记录。"))
            return
        kind, target = (
            (ChannelKind.EMAIL, options["email"]) if options["email"] else _kind_of(options["url"])
        )
        try:
            channels.validate_target(kind, target)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        subject, body = get_event("system.test").render(
            {"actor": "manage.py notify_test", "time": clock.now()}
        )
        try:
            channels.send(kind, target, subject, body)
        except channels.DeliveryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已发送到 {channels.mask_target(kind, target)}。"))


def _kind_of(url: str) -> tuple[str, str]:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    for kind, schemes in channels.SCHEMES.items():
        if scheme in schemes:
            return kind, url
    raise CommandError(f"无法识别的地址“{url}”。")
