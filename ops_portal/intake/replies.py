"""Mail the intake sends itself: acknowledgements, refusals, and failure reports to the owner.

Automatic replies carry ``Auto-Submitted: auto-replied`` (RFC 3834) so well-behaved
autoresponders stay quiet, a Message-ID stored with the ticket so answers thread back into it,
and at most ``MAILBOX_REPLIES_PER_HOUR`` go to one sender per hour (a loop guard).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ops_portal.choices import Severity
from ops_portal.intake.parsing import ParsedMail
from ops_portal.models import InboundEmail, Ticket, TicketEmailMessage
from qc_core.accounts.choices import Role
from qc_core.notify.events import register_event
from qc_core.notify.services import notify
from qc_core.system import clock

logger = logging.getLogger(__name__)

INBOUND_FAILED = "ops.inbound_mail_failed"
register_event(
    INBOUND_FAILED,
    title=gettext_lazy("来信无法处理"),
    subject=gettext_lazy("来信无法处理：{{ sender }} {{ subject }}"),
)

# The owner gets the raw message attached up to this size (larger ones stay in the database).
REPORT_ATTACH_MAX = 10 * 1024 * 1024


def own_addresses() -> set[str]:
    """Addresses this platform sends from; mail from them is our own, coming back (a loop)."""
    found = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1], settings.OPS_MAILBOX_ADDRESS}
    return {a.lower() for a in found if a and "@" in a}


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "geriqc.localhost"


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def may_reply(address: str) -> bool:
    """False once the sender has had ``MAILBOX_REPLIES_PER_HOUR`` automatic replies this hour."""
    limit = settings.MAILBOX_REPLIES_PER_HOUR
    since = clock.now() - timedelta(hours=1)
    sent = InboundEmail.objects.filter(from_address__iexact=address, replied_at__gte=since).count()
    return sent < limit


def send_reply(
    inbound: InboundEmail, mail: ParsedMail, subject: str, body: str, ticket: Ticket | None = None
) -> bool:
    """Answer ``mail`` automatically; record the reply's Message-ID on ``ticket`` for threading.

    Never raises: a reply that cannot be sent is logged and noted on the inbound row.
    """
    if not may_reply(mail.from_address):
        logger.warning("not replying to %s: automatic-reply limit reached", mail.from_address)
        inbound.reason = _("已达每小时自动回复上限，未回复。")[:255]
        return False
    message_id = make_msgid(domain=_domain())
    references = " ".join([*mail.references, mail.message_id]).strip()
    headers = {
        "Message-ID": message_id,
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
    }
    if mail.message_id:
        headers["In-Reply-To"] = mail.message_id
        headers["References"] = references
    if ticket is not None:
        headers["X-GeriQC-Ticket"] = ticket.number
    reply_to = [settings.OPS_MAILBOX_ADDRESS] if settings.OPS_MAILBOX_ADDRESS else None
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.reply_to],
        reply_to=reply_to,
        headers=headers,
    )
    try:
        message.send()
    except Exception as exc:  # SMTP down: the ticket stands, the reply is lost and noted
        logger.warning("automatic reply to %s failed: %s", mail.reply_to, exc)
        inbound.error = _("自动回复发送失败：%(e)s") % {"e": exc}
        return False
    inbound.replied_at = clock.now()
    if ticket is not None:
        TicketEmailMessage.objects.create(
            ticket=ticket, message_id=message_id[:255], incoming=False
        )
    return True


def ticket_link(ticket: Ticket) -> str:
    from ops_portal.services.common import ticket_url

    url = ticket_url(ticket)
    return f"{settings.SITE_URL}{url}" if url and settings.SITE_URL else ""


def refused_lines(refused: list[dict[str, Any]]) -> str:
    items = "\n".join(
        "  - " + _("%(label)s：%(text)s") % {"label": item["name"], "text": item["reason"]}
        for item in refused
    )
    return "\n".join(
        [
            _("以下附件未能接收："),
            items,
            _("请压缩或拆分后回复本邮件重新发送，或登录平台在工单中上传。"),
        ]
    )


def acknowledgement(
    ticket: Ticket, mail: ParsedMail, refused: list[dict[str, Any]]
) -> tuple[str, str]:
    """Subject and body of the acknowledgement for a new ticket."""
    subject = _("[%(number)s] 已收到您的报修：%(title)s") % {
        "number": ticket.number,
        "title": ticket.title,
    }
    parts = [
        _("您好！我们已收到您的来信，并登记为运维工单。"),
        "",
        _("工单号：%(n)s") % {"n": ticket.number},
        _("标题：%(t)s") % {"t": ticket.title},
        _("报告时间：%(at)s") % {"at": _local(ticket.reported_at)},
    ]
    if ticket.sla_due_at:
        promise = (
            _("按服务合同，我们将于 %(at)s 前恢复服务。")
            if ticket.severity == Severity.OUTAGE
            else _("按服务合同，我们将于 %(at)s 前答复故障原因和解决方案。")
        )
        parts.append(promise % {"at": _local(ticket.sla_due_at)})
    link = ticket_link(ticket)
    if link:
        parts.append(_("查看进展：%(url)s") % {"url": link})
    if refused:
        parts += ["", refused_lines(refused)]
    parts += ["", _("补充情况请直接回复本邮件（请保留主题中的工单号），回复会自动追加到该工单。")]
    return subject, "\n".join(parts)


def refusal_for_reply(ticket: Ticket, refused: list[dict[str, Any]]) -> tuple[str, str]:
    """A reply threaded into a ticket had attachments we refused: say which and why."""
    subject = _("[%(number)s] 部分附件未能接收") % {"number": ticket.number}
    body = "\n".join(
        [_("您的回复已追加到工单 %(n)s。") % {"n": ticket.number}, "", refused_lines(refused)]
    )
    return subject, body


def oversize(mail: ParsedMail, size: int) -> tuple[str, str]:
    """The whole message was above ``MAILBOX_MAX_BYTES``."""
    subject = _("邮件过大未能受理：%(subject)s") % {"subject": mail.subject or _("（无主题）")}
    body = "\n".join(
        [
            _(
                "您好！您的邮件大小为 %(size).1f MB，超过运维邮箱 %(max).1f MB 的上限，未能登记为工单。"
            )
            % {"size": size / 1024 / 1024, "max": settings.MAILBOX_MAX_BYTES / 1024 / 1024},
            _("请压缩或删除大附件后重新发送，或登录平台提交报修并上传附件。"),
            _("如系统已无法使用，请直接拨打运维值班电话。"),
        ]
    )
    return subject, body


def report_failure(inbound: InboundEmail) -> bool:
    """Tell the mailbox owner (mail with the raw message) and the ops managers (in the portal)
    that a received message could not be processed. Never raises."""
    context = {
        "inbound_id": inbound.pk,
        "sender": inbound.from_address or _("（未知发件人）"),
        "subject": inbound.subject or _("（无主题）"),
        "received_at": _local(inbound.received_at),
        "error": inbound.error,
        "size": inbound.size,
    }
    told = False
    owner = settings.OPS_MAILBOX_OWNER_EMAIL
    if owner:
        body = "\n".join(
            [
                _("运维邮箱收到一封无法处理的邮件，原始邮件已保存（编号 %(id)s），并附在本邮件中。")
                % {"id": inbound.pk},
                _("发件人：%(s)s") % {"s": context["sender"]},
                _("主题：%(s)s") % {"s": context["subject"]},
                _("接收时间：%(s)s") % {"s": context["received_at"]},
                _("原因：%(s)s") % {"s": inbound.error},
            ]
        )
        message = EmailMessage(
            subject=_("【GeriQC】来信无法处理：%(s)s") % {"s": context["subject"]},
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[owner],
            headers={"Auto-Submitted": "auto-generated"},
        )
        raw = bytes(inbound.raw)
        if len(raw) <= REPORT_ATTACH_MAX:
            message.attach(f"inbound-{inbound.pk}.eml", raw, "application/octet-stream")
        try:
            message.send()
            told = True
        except Exception:
            logger.exception("cannot report unprocessable mail %s to %s", inbound.pk, owner)
    try:
        notify(INBOUND_FAILED, [Role.OPS_MANAGER], context)
        told = True
    except Exception:
        logger.exception("cannot notify the ops managers about unprocessable mail %s", inbound.pk)
    return told
