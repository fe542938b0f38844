"""Helpers shared by the ticket actions: locking, ledger appends, attachments, notifications."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ops_portal import events as ops_events
from ops_portal.access import can_see, is_ops_staff
from ops_portal.choices import EventKind, Status
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import Ticket, TicketAttachment, TicketEvent
from ops_portal.services.sla import refresh_clocks
from qc_core.notify.services import notify
from qc_core.system import clock

# Larger files are refused with a message saying why (e-mail intake replies with it).
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock: concurrent actions on one ticket queue up, and every
    check sees the latest status."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related(
            "policy__calendar", "policy__consult_calendar", "org_unit", "requester", "assignee"
        )
        .get(pk=ticket.pk)
    )


def require_visible(actor: Any, ticket: Ticket) -> None:
    if actor is None or not can_see(actor, ticket):
        raise ActionForbidden(_("您无权操作此工单。"))


def require_staff(actor: Any, action: str) -> None:
    if not is_ops_staff(actor):
        raise ActionForbidden(_("只有运维工程师或运维负责人可以%(action)s。") % {"action": action})


def require_status(ticket: Ticket, allowed: Iterable[str], action: str) -> None:
    if ticket.status not in set(allowed):
        raise InvalidTransition(
            _("工单 %(number)s 当前状态为“%(status)s”，不能%(action)s。")
            % {"number": ticket.number, "status": ticket.get_status_display(), "action": action}
        )


def require_text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise TicketError(message, field)
    return text


def actor_name(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return str(actor.get_full_name())


def append(
    ticket: Ticket,
    kind: str,
    actor: Any,
    *,
    at: datetime | None = None,
    public: bool = True,
    body: str = "",
    data: dict[str, Any] | None = None,
    name: str = "",
) -> TicketEvent:
    """Append one entry to the ticket's ledger (``data["staff"]`` records the actor's side)."""
    now = clock.now()
    payload = dict(data or {})
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if user is not None:
        payload.setdefault("staff", is_ops_staff(user))
    event = TicketEvent(
        ticket=ticket,
        kind=kind,
        at=at or now,
        recorded_at=now,
        actor=user,
        actor_name=(name or actor_name(user))[:150],
        public=public,
        body=body,
        data=payload,
    )
    event.save(force_insert=True)
    return event


def set_status(ticket: Ticket, status: str, data: dict[str, Any]) -> list[str]:
    """Move the projection to ``status``; record the move in the event data."""
    if ticket.status == status:
        return []
    data["status"] = [ticket.status, status]
    ticket.status = status
    return ["status"]


def finish(ticket: Ticket, fields: Iterable[str]) -> Ticket:
    """Save the changed projection fields (audited) and recompute the clocks from the ledger."""
    ticket.updated_at = clock.now()
    ticket.save(update_fields=sorted({*fields, "updated_at"}))
    refresh_clocks(ticket)
    return ticket


def attach(
    ticket: Ticket, event: TicketEvent | None, files: Iterable[Any], actor: Any
) -> list[TicketAttachment]:
    """Store uploaded files on the ticket (refusing any above the size limit, naming it)."""
    files = list(files or [])
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise TicketError(
                _("附件“%(name)s”大小为 %(size).1f MB，超过 %(max)d MB 的上限。")
                % {
                    "name": upload.name,
                    "size": upload.size / 1024 / 1024,
                    "max": MAX_ATTACHMENT_BYTES // 1024 // 1024,
                },
                "attachments",
            )
    stored = []
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    for upload in files:
        item = TicketAttachment(
            ticket=ticket,
            event=event,
            name=str(upload.name)[:255],
            size=upload.size,
            content_type=str(getattr(upload, "content_type", "") or "")[:150],
            uploaded_by=user,
        )
        item.file.save(str(upload.name), upload, save=False)
        item.save()
        stored.append(item)
    return stored


def ticket_url(ticket: Ticket) -> str:
    try:
        return reverse("ops_portal:ticket", args=[ticket.number])
    except NoReverseMatch:
        return ""


def context(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.get_status_display(),
        "category": ticket.get_category_display(),
        "severity": ticket.get_severity_display() if ticket.severity else "",
        "unit": ticket.org_unit.name if ticket.org_unit_id and ticket.org_unit else _("（未指定）"),
        "requester": ticket.requester_display,
        "assignee": ticket.assignee.get_full_name()
        if ticket.assignee_id and ticket.assignee
        else _("未指派"),
        "channel": ticket.get_channel_display(),
        "reported_at": ticket.reported_at,
    }
    values.update(extra)
    return values


def tell(ticket: Ticket, recipients: list[Any], actor: Any, what: str, body: str = "") -> None:
    """A ticket-progress notification to ``recipients`` (never to the actor themself)."""
    acting = getattr(actor, "pk", None)
    wanted = [r for r in recipients if r is not None and (isinstance(r, str) or r.pk != acting)]
    if not wanted:
        return
    notify(
        ops_events.TICKET_UPDATED,
        wanted,
        context(ticket, what=what, body=body),
        url=ticket_url(ticket),
        org_unit=ticket.org_unit,
    )


def tell_requester(ticket: Ticket, actor: Any, what: str, body: str = "") -> None:
    if ticket.requester_id and ticket.requester and ticket.requester.is_active:
        tell(ticket, [ticket.requester], actor, what, body)


def tell_operations(ticket: Ticket, actor: Any, what: str, body: str = "") -> None:
    """The assignee, or every engineer while nobody has taken the ticket."""
    from qc_core.accounts.choices import Role

    target: Any = ticket.assignee if ticket.assignee_id else Role.ENGINEER
    tell(ticket, [target], actor, what, body)


def has_kind(ticket: Ticket, *kinds: str) -> bool:
    return TicketEvent.objects.filter(ticket=ticket, kind__in=kinds).exists()


def on_site_confirmations(ticket: Ticket) -> dict[str, datetime]:
    """Which sides have asked for or confirmed the visit, and when."""
    sides: dict[str, datetime] = {}
    rows = TicketEvent.objects.filter(
        ticket=ticket, kind__in=[EventKind.ON_SITE_REQUESTED, EventKind.ON_SITE_CONFIRMED]
    ).order_by("at", "id")
    for event in rows:
        side = (event.data or {}).get("side")
        if side:
            sides.setdefault(side, event.at)
    return sides


WORKING = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
ACTIVE = (*WORKING, Status.AWAITING_CUSTOMER)
