"""E-mail intake: one received message → a new ticket, a reply on an existing one, or nothing.

The one path for both ``ingest_email`` (MTA pipe) and ``poll_mailbox`` (IMAP):

1. :func:`store` keeps the raw bytes first (an :class:`InboundEmail` row). Only a failure *here*
   makes the caller exit non-zero, so the MTA retries; everything after is already safe.
2. :func:`process` parses and decides:
   - machine-generated mail (auto-replies, bounces, our own mail coming back) is ignored — no
     ticket, no reply, so no loop;
   - a message above ``MAILBOX_MAX_BYTES`` is refused with a reply saying why;
   - a Message-ID handled before (MTA retry, IMAP re-read) is ignored as a duplicate;
   - a reply threads into its ticket (``In-Reply-To`` / ``References`` matching a stored
     Message-ID, or the ticket number in the subject) as a comment — unless that ticket is
     closed, then a new ticket is opened that names the old one;
   - anything else opens a fault ticket (channel e-mail, reported at the Date header when it is
     plausible) and the sender gets an acknowledgement carrying the ticket number.
   Attachments above the per-file limit are refused (the ticket is still created) and the reply
   says which and why. A message that cannot be parsed or processed is kept with status failed
   and reported to ``OPS_MAILBOX_OWNER_EMAIL`` and the ops managers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from ops_portal import services
from ops_portal.access import can_see, home_units
from ops_portal.choices import Category, Channel, EventKind, Severity, Status
from ops_portal.intake import replies
from ops_portal.intake.choices import DONE_STATUSES, InboundSource, InboundStatus
from ops_portal.intake.parsing import MailAttachment, ParsedMail, parse, strip_quoted
from ops_portal.models import InboundEmail, Ticket, TicketEmailMessage, TicketEvent
from ops_portal.services import common
from qc_core.system import clock

logger = logging.getLogger(__name__)

# A Date header older than this (or in the future) is not trusted as the report time.
MAX_DATE_AGE = timedelta(hours=24)
# A message left "received" this long (its processing died) is picked up again by the poller.
STALE_CLAIM = timedelta(minutes=10)
HEADER_KEEP = 256 * 1024


# --- storing -----------------------------------------------------------------------------------


def header_block(raw: bytes) -> bytes:
    """The header section of a message (kept when the whole is too large to store)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(separator)
        if index >= 0:
            return raw[: index + len(separator)][:HEADER_KEEP]
    return raw[:HEADER_KEEP]


def store(raw: bytes, *, source: str = InboundSource.PIPE, size: int | None = None) -> InboundEmail:
    """Keep the message before anything else. ``size`` is the full size when ``raw`` is only a
    part (IMAP fetches just the header of an oversized message)."""
    total = len(raw) if size is None else size
    truncated = total > settings.MAILBOX_MAX_BYTES
    if truncated:
        raw = header_block(raw)
    return InboundEmail.objects.create(
        source=source, raw=raw, size=total, truncated=truncated, received_at=clock.now()
    )


def ingest(
    raw: bytes, *, source: str = InboundSource.PIPE, size: int | None = None
) -> InboundEmail:
    """Store and process one message. Raises only when it could not even be stored."""
    inbound = store(raw, source=source, size=size)
    return process(inbound)


# --- processing ------------------------------------------------------------------------------


def _claim(inbound: InboundEmail, stale_before: datetime | None = None) -> bool:
    """Take the row for processing (conditional UPDATE: two pollers never handle one message)."""
    rows = InboundEmail.objects.filter(pk=inbound.pk, status=InboundStatus.RECEIVED)
    unclaimed = Q(processed_at__isnull=True)
    if stale_before is not None:
        unclaimed |= Q(processed_at__lt=stale_before)
    return rows.filter(unclaimed).update(processed_at=clock.now()) == 1


def process(inbound: InboundEmail, *, stale_before: datetime | None = None) -> InboundEmail:
    """Handle a stored message once; returns the row with its outcome."""
    if not _claim(inbound, stale_before):
        inbound.refresh_from_db()
        return inbound
    try:
        mail = parse(bytes(inbound.raw), replies.own_addresses())
    except Exception as exc:
        logger.warning("inbound mail %s cannot be parsed: %s", inbound.pk, exc)
        return _fail(inbound, _("邮件无法解析：%(e)s") % {"e": exc})
    inbound.message_id = mail.message_id
    inbound.from_address = mail.from_address[:254]
    inbound.from_name = mail.from_name[:150]
    inbound.subject = mail.subject[:255]
    try:
        _handle(inbound, mail)
    except Exception as exc:
        logger.exception("inbound mail %s could not be processed", inbound.pk)
        return _fail(inbound, _("处理时出错：%(e)s") % {"e": f"{type(exc).__name__}: {exc}"})
    return inbound


def reprocess_pending(limit: int = 100) -> int:
    """Handle stored messages whose processing never finished (a crash between store and
    process). Returns how many were picked up."""
    stale = clock.now() - STALE_CLAIM
    rows = InboundEmail.objects.filter(status=InboundStatus.RECEIVED).filter(
        Q(processed_at__isnull=True, received_at__lt=stale) | Q(processed_at__lt=stale)
    )
    count = 0
    for inbound in rows.order_by("received_at")[:limit]:
        process(inbound, stale_before=stale)
        count += 1
    return count


# Everything processing writes (never ``raw``: it is stored once and kept as received).
OUTCOME_FIELDS = (
    "message_id", "from_address", "from_name", "subject", "status", "reason", "error",
    "ticket", "event", "processed_at", "replied_at",
)  # fmt: skip


def _save(inbound: InboundEmail, status: str, **values: Any) -> None:
    inbound.status = status
    for name, value in values.items():
        setattr(inbound, name, value)
    inbound.processed_at = clock.now()
    inbound.reason = (inbound.reason or "")[:255]
    inbound.save(update_fields=OUTCOME_FIELDS)


def _fail(inbound: InboundEmail, error: str) -> InboundEmail:
    _save(inbound, InboundStatus.FAILED, error=error[:5000])
    if replies.report_failure(inbound):
        InboundEmail.objects.filter(pk=inbound.pk).update(reported_at=clock.now())
        inbound.reported_at = clock.now()
    return inbound


def _already_handled(mail: ParsedMail, inbound: InboundEmail) -> bool:
    if not mail.message_id:
        return False
    if TicketEmailMessage.objects.filter(message_id=mail.message_id).exists():
        return True
    done = InboundEmail.objects.filter(message_id=mail.message_id, status__in=DONE_STATUSES)
    return done.exclude(pk=inbound.pk).exists()


def _handle(inbound: InboundEmail, mail: ParsedMail) -> None:
    if mail.auto_reason:
        _save(inbound, InboundStatus.IGNORED, reason=mail.auto_reason)
        return
    if inbound.truncated:
        subject, body = replies.oversize(mail, inbound.size)
        replies.send_reply(inbound, mail, subject, body)
        reason = _("邮件大小 %(size)d 字节，超过上限 %(max)d 字节。") % {
            "size": inbound.size,
            "max": settings.MAILBOX_MAX_BYTES,
        }
        _save(inbound, InboundStatus.REJECTED, reason=reason)
        return
    if _already_handled(mail, inbound):
        _save(inbound, InboundStatus.IGNORED, reason=_("重复邮件：该 Message-ID 已处理过。"))
        return
    files, refused = split_attachments(mail.attachments)
    thread = find_ticket(mail)
    try:
        with transaction.atomic():
            if thread is not None and thread.status != Status.CLOSED:
                ticket, event = thread, _thread(thread, mail, files)
                status = InboundStatus.THREADED
            else:
                ticket, event = _open(mail, files, refused, follows=thread)
                status = InboundStatus.CREATED
            if mail.message_id:
                TicketEmailMessage.objects.create(
                    ticket=ticket, message_id=mail.message_id, incoming=True, event=event
                )
            _save(inbound, status, ticket=ticket, event=event)
    except IntegrityError:
        if not TicketEmailMessage.objects.filter(message_id=mail.message_id).exists():
            raise
        _save(inbound, InboundStatus.IGNORED, reason=_("重复邮件：该 Message-ID 已处理过。"))
        return
    if status == InboundStatus.CREATED:
        ticket.refresh_from_db()
        subject, body = replies.acknowledgement(ticket, mail, refused)
        replies.send_reply(inbound, mail, subject, body, ticket)
    elif refused:
        subject, body = replies.refusal_for_reply(ticket, refused)
        replies.send_reply(inbound, mail, subject, body, ticket)
    inbound.save(update_fields=["replied_at", "reason", "error"])


# --- pieces ----------------------------------------------------------------------------------


def split_attachments(
    items: list[MailAttachment],
) -> tuple[list[SimpleUploadedFile], list[dict[str, Any]]]:
    """Files to store, and the refused ones with the reason (size above the per-file limit)."""
    limit = common.MAX_ATTACHMENT_BYTES
    files: list[SimpleUploadedFile] = []
    refused: list[dict[str, Any]] = []
    for item in items:
        if item.size > limit:
            refused.append(
                {
                    "name": item.name,
                    "size": item.size,
                    "reason": _("大小 %(size).1f MB，超过单个附件 %(max)d MB 的上限")
                    % {"size": item.size / 1024 / 1024, "max": limit // 1024 // 1024},
                }
            )
            continue
        if not item.data:
            continue
        files.append(SimpleUploadedFile(item.name, item.data, content_type=item.content_type))
    return files, refused


def find_ticket(mail: ParsedMail) -> Ticket | None:
    """The ticket a message answers: by a stored Message-ID it replies to, else by the ticket
    number in its subject."""
    ids = mail.thread_ids
    if ids:
        known = {
            row.message_id: row.ticket
            for row in TicketEmailMessage.objects.filter(message_id__in=ids).select_related(
                "ticket"
            )
        }
        for mid in ids:
            if mid in known:
                return known[mid]
    numbers = mail.ticket_numbers
    if numbers:
        found = {t.number: t for t in Ticket.objects.filter(number__in=numbers)}
        for number in numbers:
            if number in found:
                return found[number]
    return None


def match_user(address: str) -> Any:
    """The one active account with this e-mail address (case-insensitive), else None."""
    users = list(get_user_model().objects.filter(email__iexact=address, is_active=True)[:2])
    return users[0] if len(users) == 1 else None


def reported_at(mail: ParsedMail, now: datetime) -> datetime:
    """The Date header when plausible (not in the future, not older than a day), else now."""
    if mail.date is None or mail.date > now or now - mail.date > MAX_DATE_AGE:
        return now
    return mail.date


def _mail_data(mail: ParsedMail) -> dict[str, Any]:
    return {
        "message_id": mail.message_id,
        "from": mail.from_address,
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
    }


def _open(
    mail: ParsedMail, files: list[Any], refused: list[dict[str, Any]], follows: Ticket | None
) -> tuple[Ticket, TicketEvent]:
    user = match_user(mail.from_address)
    units = home_units(user) if user is not None else []
    description = mail.text or _("（邮件无正文）")
    if follows is not None:
        description = (
            _("（此邮件回复的是已关闭的工单 %(n)s，已另建新工单。）") % {"n": follows.number}
            + "\n\n"
            + description
        )
    if refused:
        description += "\n\n" + "\n".join(
            _("［附件“%(name)s”未接收：%(reason)s］") % item for item in refused
        )
    data: dict[str, Any] = {"email": _mail_data(mail)}
    if refused:
        data["refused_attachments"] = refused
    if follows is not None:
        data["follows"] = follows.number
    ticket = services.create_ticket(
        title=mail.subject or _("（无主题邮件）"),
        description=description,
        category=Category.FAULT,
        severity=Severity.NON_OUTAGE,
        channel=Channel.EMAIL,
        org_unit=units[0] if len(units) == 1 else None,
        requester=user,
        contact_name=mail.from_name[:64],
        contact_email=mail.from_address[:254],
        reported_at=reported_at(mail, clock.now()),
        attachments=files,
        data=data,
    )
    event = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).order_by("id").first()
    assert event is not None
    return ticket, event


def _is_contact(ticket: Ticket, address: str) -> bool:
    address = address.lower()
    if ticket.contact_email and ticket.contact_email.lower() == address:
        return True
    requester = ticket.requester if ticket.requester_id else None
    return bool(requester and requester.email and requester.email.lower() == address)


def _thread(ticket: Ticket, mail: ParsedMail, files: list[Any]) -> TicketEvent:
    """A reply on ``ticket``: a comment by the account or contact that wrote it, or an internal
    note when the sender is neither (someone forwarded the thread)."""
    body = strip_quoted(mail.text) or (_("（见附件）") if files else _("（空白回复）"))
    user = match_user(mail.from_address)
    if user is not None and can_see(user, ticket):
        services.comment(ticket, user, body, files)
        event = (
            TicketEvent.objects.filter(ticket=ticket, kind=EventKind.COMMENT, actor=user)
            .order_by("-id")
            .first()
        )
    elif _is_contact(ticket, mail.from_address):
        event = _contact_reply(ticket, mail, body, files)
    else:
        event = _outsider_note(ticket, mail, body, files)
    assert event is not None
    return event


def _sender(mail: ParsedMail, known_name: str = "") -> str:
    name = mail.from_name or known_name
    return f"{name} <{mail.from_address}>" if name else mail.from_address


def _contact_reply(ticket: Ticket, mail: ParsedMail, body: str, files: list[Any]) -> TicketEvent:
    """A public comment by the ticket's external contact (no account). Like a requester's
    comment, it resumes clocks paused while awaiting the customer."""
    with transaction.atomic():
        t = common.locked(ticket)
        name = _sender(mail, t.contact_name)[:150]
        event = common.append(
            t, EventKind.COMMENT, None, body=body, data={"email": _mail_data(mail)}, name=name
        )
        common.attach(t, event, files, None)
        fields: list[str] = []
        if t.status == Status.AWAITING_CUSTOMER:
            resumed: dict[str, Any] = {"reason": _("用户已回复"), "auto": True}
            fields = common.set_status(t, Status.IN_PROGRESS, resumed)
            common.append(
                t,
                EventKind.RESUMED,
                None,
                body=_("用户已回复，恢复计时。"),
                data=resumed,
                name=name,
            )
        common.finish(t, fields)
        common.tell_operations(t, None, _("用户邮件回复"), body)
    return event


def _outsider_note(ticket: Ticket, mail: ParsedMail, body: str, files: list[Any]) -> TicketEvent:
    """Mail about the ticket from someone who is not its requester: kept for the operations
    side only (a stranger learns nothing and cannot speak for the requester)."""
    with transaction.atomic():
        t = common.locked(ticket)
        name = _sender(mail)[:150]
        text = _("来自 %(sender)s 的邮件（非本工单报修人，仅运维人员可见）：") % {"sender": name}
        event = common.append(
            t,
            EventKind.INTERNAL_NOTE,
            None,
            public=False,
            body=f"{text}\n{body}",
            data={"email": _mail_data(mail)},
            name=name,
        )
        common.attach(t, event, files, None)
        common.finish(t, [])
        common.tell_operations(t, None, _("收到非报修人的邮件"), body)
    return event
