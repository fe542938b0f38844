"""Creating tickets, whatever the channel (web form, phone log, API, e-mail, monitoring)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ops_portal import events as ops_events
from ops_portal.choices import Category, Channel, Clause, EventKind, Severity, Status
from ops_portal.errors import TicketError
from ops_portal.models import Ticket, TicketCounter
from ops_portal.services import common
from ops_portal.services.policies import current_policy
from qc_core.accounts.choices import Role
from qc_core.notify.services import notify
from qc_core.system import clock

# Clocks on different machines disagree a little; a report "from the future" beyond this is refused.
CLOCK_SKEW = timedelta(minutes=2)


def next_number(now: datetime) -> str:
    """``GQ-<year>-<6-digit sequence>``, the year of creation in local time. The counter row is
    incremented with an UPDATE inside the creating transaction, which locks it until commit, so
    concurrent creators queue and never share a number."""
    year = timezone.localtime(now).year
    TicketCounter.objects.get_or_create(year=year)
    TicketCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = TicketCounter.objects.filter(year=year).values_list("last", flat=True).get()
    return f"GQ-{year}-{last:06d}"


def _validate(
    title: str, category: str, severity: str, channel: str, reported_at: datetime, now: datetime
) -> None:
    if not title:
        raise TicketError(_("请填写标题。"), "title")
    if category not in Category.values:
        raise TicketError(_("类别无效：%(v)s。") % {"v": category}, "category")
    if category == Category.FAULT and severity not in Severity.values:
        raise TicketError(
            _("故障工单须选择故障等级：系统停止/核心功能不可用，或一般故障。"), "severity"
        )
    if category != Category.FAULT and severity:
        raise TicketError(_("只有故障工单有故障等级，咨询、需求和变更请留空。"), "severity")
    if channel not in Channel.values:
        raise TicketError(_("来源渠道无效：%(v)s。") % {"v": channel}, "channel")
    if reported_at > now + CLOCK_SKEW:
        raise TicketError(_("报告时间不能晚于当前时间。"), "reported_at")


def create_ticket(
    *,
    title: str,
    category: str,
    channel: str,
    description: str = "",
    severity: str = "",
    org_unit: Any = None,
    requester: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    reported_at: datetime | None = None,
    created_by: Any = None,
    external_key: str | None = None,
    attachments: Iterable[Any] = (),
    data: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket under the current SLA version and start its clocks.

    ``reported_at`` (default: now) is when the problem was reported — a phone call logged later,
    an alert that fired earlier. ``requester`` is the user it is for (or None for an external
    contact, described by the ``contact_*`` fields). ``created_by`` is who entered it (the
    engineer logging a call); ``external_key`` (Alertmanager groupKey, monitor incident id) is
    unique, so the same alert never opens two tickets. ``data`` is stored on the *created* ledger
    event (e.g. the phone call's details or the raw alert labels).
    """
    now = clock.now()
    title = (title or "").strip()
    severity = severity or ""
    reported_at = reported_at or now
    _validate(title, category, severity, channel, reported_at, now)
    if requester is None and not (contact_name or contact_phone or contact_email).strip():
        raise TicketError(_("请填写报修人或联系人（姓名、电话或邮箱）。"), "contact_name")
    if external_key and Ticket.objects.filter(external_key=external_key).exists():
        raise TicketError(_("外部标识“%(k)s”已有工单。") % {"k": external_key}, "external_key")
    actor = created_by or requester
    with transaction.atomic():
        ticket = Ticket(
            number=next_number(now),
            title=title[:200],
            description=description or "",
            category=category,
            severity=severity,
            requester=requester,
            contact_name=(contact_name or "")[:64],
            contact_phone=(contact_phone or "")[:32],
            contact_email=contact_email or "",
            org_unit=org_unit,
            channel=channel,
            reported_at=reported_at,
            created_at=now,
            updated_at=now,
            created_by=created_by,
            status=Status.NEW,
            policy=current_policy(),
            external_key=external_key or None,
        )
        try:
            with transaction.atomic():
                ticket.save(force_insert=True)
        except IntegrityError as exc:
            raise TicketError(
                _("外部标识“%(k)s”已有工单。") % {"k": external_key}, "external_key"
            ) from exc
        payload = {
            "category": category,
            "severity": severity,
            "channel": channel,
            "reported_at": reported_at.isoformat(),
            **(data or {}),
        }
        event = common.append(
            ticket,
            EventKind.CREATED,
            actor,
            at=reported_at,
            body=ticket.description,
            data=payload,
            name="" if actor else ticket.contact_name or ticket.contact_email,
        )
        common.attach(ticket, event, attachments, actor)
        states = common.refresh_clocks(ticket)
        recipients: list[Any] = [Role.ENGINEER]
        if severity == Severity.OUTAGE:
            recipients.append(Role.OPS_MANAGER)
        clocks = [{"clause": str(Clause(s.clause).label), "due_at": s.due_at} for s in states]
        notify(
            ops_events.TICKET_CREATED,
            recipients,
            common.context(ticket, clocks=clocks),
            url=common.ticket_url(ticket),
        )
    return ticket


def log_phone_call(
    actor: Any,
    *,
    caller: str,
    phone: str,
    called_at: datetime,
    summary: str,
    title: str = "",
    category: str = Category.FAULT,
    severity: str = "",
    org_unit: Any = None,
    requester: Any = None,
) -> Ticket:
    """An engineer logs a call as a ticket: channel ``phone``, reported at the call's time."""
    common.require_staff(actor, _("登记电话报修"))
    caller = common.require_text(caller, "caller", _("请填写来电人。"))
    summary = common.require_text(summary, "summary", _("请填写通话摘要。"))
    return create_ticket(
        title=(title or summary.splitlines()[0])[:200],
        description=summary,
        category=category,
        severity=severity,
        channel=Channel.PHONE,
        org_unit=org_unit,
        requester=requester,
        contact_name=caller,
        contact_phone=phone,
        reported_at=called_at,
        created_by=actor,
        data={"call": {"caller": caller, "phone": phone, "at": called_at.isoformat()}},
    )
