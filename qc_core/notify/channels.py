"""Channel drivers: validate a target, send one message, mask secrets for display.

E-mail goes through Django's mail backend (``EMAIL_*`` settings), everything else through apprise.
A failed send raises :class:`DeliveryError` with a readable reason; the task turns it into a retry.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import apprise
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from qc_core.notify.choices import ChannelKind

ERROR_MAX = 2000

# Accepted apprise schemes per kind, and an example shown in error messages.
SCHEMES: dict[str, tuple[str, ...]] = {
    ChannelKind.WECOM: ("wecombot",),
    ChannelKind.DINGTALK: ("dingtalk",),
    ChannelKind.FEISHU: ("feishu",),
    ChannelKind.WEBHOOK: ("json", "jsons", "form", "forms", "xml", "xmls", "http", "https"),
}
EXAMPLES: dict[str, Any] = {
    ChannelKind.EMAIL: "someone@example.org",
    ChannelKind.WECOM: gettext_lazy("wecombot://机器人KEY"),
    ChannelKind.DINGTALK: "dingtalk://access_token",
    ChannelKind.FEISHU: gettext_lazy("feishu://机器人TOKEN"),
    ChannelKind.WEBHOOK: gettext_lazy(
        "https://sms-gateway.example/api/send 或 json://主机:端口/路径"
    ),
}


class DeliveryError(Exception):
    """A channel could not deliver a message (network, server or configuration problem)."""


def apprise_url(kind: str, target: str) -> str:
    """The apprise URL for ``target``; a plain http(s) webhook becomes ``json://`` / ``jsons://``."""
    target = target.strip()
    if kind == ChannelKind.WEBHOOK:
        lowered = target.lower()
        if lowered.startswith("https://"):
            return "jsons://" + target[len("https://") :]
        if lowered.startswith("http://"):
            return "json://" + target[len("http://") :]
    return target


def _scheme(target: str) -> str:
    return target.split("://", 1)[0].lower() if "://" in target else ""


def validate_target(kind: str, target: str) -> None:
    """Raise ``ValidationError`` (Chinese, naming the field and the reason) for an unusable target."""
    label = ChannelKind(kind).label if kind in ChannelKind.values else kind
    target = target.strip()
    if not target:
        raise ValidationError(_("地址：不能为空。"))
    if kind == ChannelKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise ValidationError(
                _("地址：“%(target)s”不是有效的电子邮件地址（例如 %(example)s）。")
                % {"target": target, "example": EXAMPLES[kind]}
            ) from None
        return
    if kind not in SCHEMES:
        raise ValidationError(_("类型：未知的渠道类型“%(kind)s”。") % {"kind": kind})
    if _scheme(target) not in SCHEMES[kind]:
        raise ValidationError(
            _("地址：%(label)s的地址应以 %(schemes)s 开头，例如 %(example)s。")
            % {
                "label": label,
                "schemes": pgettext("list separator", "、").join(f"{s}://" for s in SCHEMES[kind]),
                "example": EXAMPLES[kind],
            }
        )
    if not apprise.Apprise().add(apprise_url(kind, target)):
        raise ValidationError(
            _("地址：无法识别的%(label)s地址“%(target)s”，请检查格式（例如 %(example)s）。")
            % {"label": label, "target": target, "example": EXAMPLES[kind]}
        )


def mask_target(kind: str, target: str) -> str:
    """Hide tokens in bot URLs and webhook paths; e-mail addresses are shown as they are."""
    if kind == ChannelKind.EMAIL or "://" not in target:
        return target
    scheme, rest = target.split("://", 1)
    if kind == ChannelKind.WEBHOOK:
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        tail = "/…" if (parts.path.strip("/") or parts.query) else ""
        return f"{scheme}://{host}{port}{tail}"
    return f"{scheme}://{rest[:4]}****"


def send(kind: str, target: str, subject: str, body: str) -> None:
    """Send one message now; raise :class:`DeliveryError` on any failure."""
    if kind == ChannelKind.EMAIL:
        _send_email(target, subject, body)
    else:
        _send_apprise(apprise_url(kind, target), subject, body)


def _send_email(address: str, subject: str, body: str) -> None:
    try:
        connection = get_connection(fail_silently=False)
        sent = EmailMessage(subject=subject, body=body, to=[address], connection=connection).send()
    except Exception as exc:  # every backend/network error becomes a logged, retryable failure
        raise DeliveryError(_("邮件发送失败：%(err)s") % {"err": _describe(exc)}) from exc
    if sent != 1:
        raise DeliveryError(_("邮件发送失败：邮件服务器未接受该邮件。"))


def _send_apprise(url: str, subject: str, body: str) -> None:
    client = apprise.Apprise()
    if not client.add(url):
        raise DeliveryError(_("发送失败：无法识别的通知地址。"))
    # apprise reports *why* a send failed only through its logger; capture it for the delivery log.
    with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s") as captured:
        ok = client.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT)
    if not ok:
        reason = _summarize(captured.getvalue()) or _("服务未确认收到消息")
        raise DeliveryError(_("发送失败：%(err)s") % {"err": reason})


def _summarize(log_text: str) -> str:
    """Keep apprise's warnings, errors and exception lines; drop debug chatter (payloads, URLs)."""
    keep = []
    for line in log_text.splitlines():
        level, _sep, message = line.partition(" ")
        if level in {"WARNING", "ERROR", "CRITICAL"} or "Exception" in message:
            keep.append(message.strip())
    return "；".join(keep)[:ERROR_MAX]


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"[:ERROR_MAX]
