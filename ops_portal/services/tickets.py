"""Ticket actions: one function each. Every action locks the ticket, checks who may do it in
the current state, appends to the ledger, saves the projection (audited), recomputes the clocks
and notifies — all in one transaction. Refusals raise :mod:`ops_portal.errors` with a Chinese
message naming the reason."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ops_portal import events as ops_events
from ops_portal.access import is_ops_manager, is_ops_staff
from ops_portal.choices import Category, EventKind, OnSiteSide, Severity, Status
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import EscalationFiring, Ticket
from ops_portal.services import common
from ops_portal.services.common import ACTIVE, WORKING
from qc_core.notify.services import notify
from qc_core.system import clock


def acknowledge(ticket: Ticket, actor: Any) -> Ticket:
    """受理: an engineer takes a new ticket (becoming its assignee if it has none); pending
    escalation notices of the ticket count as acknowledged too."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("受理工单"))
        common.require_status(t, [Status.NEW], _("受理"))
        data: dict[str, Any] = {}
        fields = common.set_status(t, Status.ACKNOWLEDGED, data)
        if t.assignee_id is None:
            t.assignee = actor
            data["assignee"] = actor.get_username()
            fields.append("assignee")
        common.append(t, EventKind.ACKNOWLEDGED, actor, body=_("工单已受理。"), data=data)
        _ack_escalations(t, actor)
        common.finish(t, fields)
        common.tell_requester(t, actor, _("已受理"))
    return t


def assign(ticket: Ticket, actor: Any, assignee: Any) -> Ticket:
    """Hand the ticket to an engineer (or the ops manager)."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("指派工单"))
        common.require_status(t, ACTIVE, _("指派"))
        if assignee is None or not is_ops_staff(assignee):
            raise TicketError(_("只能指派给在岗的运维工程师或运维负责人。"), "assignee")
        if t.assignee_id == assignee.pk:
            raise InvalidTransition(
                _("工单已由 %(name)s 处理。") % {"name": assignee.get_full_name()}
            )
        data = {
            "from": t.assignee.get_username() if t.assignee else None,
            "to": assignee.get_username(),
        }
        t.assignee = assignee
        common.append(
            t,
            EventKind.ASSIGNED,
            actor,
            public=False,
            body=_("指派给 %(name)s") % {"name": assignee.get_full_name()},
            data=data,
        )
        common.finish(t, ["assignee"])
        if assignee.pk != actor.pk:
            notify(
                ops_events.TICKET_ASSIGNED,
                [assignee],
                common.context(t, actor=actor.get_full_name(), due_at=t.sla_due_at),
                url=common.ticket_url(t),
                org_unit=t.org_unit,
            )
    return t


def comment(ticket: Ticket, actor: Any, body: str, attachments: Iterable[Any] = ()) -> Ticket:
    """A public reply. A customer's reply to a ticket awaiting them resumes its clocks."""
    files = list(attachments or [])
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        if t.status == Status.CLOSED:
            raise InvalidTransition(_("工单已关闭，如需继续处理请先重新打开。"))
        text = (body or "").strip()
        if not text and not files:
            raise TicketError(_("请填写回复内容。"), "body")
        staff = is_ops_staff(actor)
        fields: list[str] = []
        data: dict[str, Any] = {}
        if staff and t.status in (Status.NEW, Status.ACKNOWLEDGED):
            fields = common.set_status(t, Status.IN_PROGRESS, data)
        event = common.append(t, EventKind.COMMENT, actor, body=text, data=data)
        common.attach(t, event, files, actor)
        if not staff and t.status == Status.AWAITING_CUSTOMER:
            resumed: dict[str, Any] = {"reason": _("用户已回复"), "auto": True}
            fields = common.set_status(t, Status.IN_PROGRESS, resumed)
            common.append(
                t, EventKind.RESUMED, actor, body=_("用户已回复，恢复计时。"), data=resumed
            )
        common.finish(t, fields)
        if staff:
            common.tell_requester(t, actor, _("运维人员回复"), text)
        else:
            common.tell_operations(t, actor, _("用户回复"), text)
    return t


def internal_note(ticket: Ticket, actor: Any, body: str, attachments: Iterable[Any] = ()) -> Ticket:
    """A note only the operations side sees."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("添加内部备注"))
        text = common.require_text(body, "body", _("请填写备注内容。"))
        event = common.append(t, EventKind.INTERNAL_NOTE, actor, public=False, body=text)
        common.attach(t, event, attachments, actor)
        common.finish(t, [])
    return t


def respond(ticket: Ticket, actor: Any, cause: str, solution: str) -> Ticket:
    """The structured answer (cause + workable solution) that meets the 4-hour respond clause."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("答复原因和解决方案"))
        common.require_status(t, ACTIVE, _("答复"))
        fields, event_data = _respond(t, actor, cause, solution)
        common.finish(t, fields)
        common.tell_requester(t, actor, _("答复了故障原因和解决方案"), _format_response(event_data))
    return t


def _format_response(data: dict[str, Any]) -> str:
    return _("原因：%(cause)s\n解决方案：%(solution)s") % data


def _respond(t: Ticket, actor: Any, cause: str, solution: str) -> tuple[list[str], dict[str, Any]]:
    cause = common.require_text(cause, "cause", _("请填写故障原因。"))
    solution = common.require_text(solution, "solution", _("请填写解决方案。"))
    data: dict[str, Any] = {"cause": cause, "solution": solution}
    fields = common.set_status(t, Status.IN_PROGRESS, data) if t.status in WORKING else []
    common.append(t, EventKind.RESPONSE, actor, body=_format_response(data), data=data)
    return fields, data


def pause(ticket: Ticket, actor: Any, reason: str) -> Ticket:
    """Wait for the customer: the clocks stop until resumed; the reason is shown to them."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("暂停计时"))
        reason = common.require_text(reason, "reason", _("暂停计时必须填写原因（用户可见）。"))
        if t.status == Status.NEW:
            raise InvalidTransition(_("请先受理工单，再暂停计时。"))
        common.require_status(t, (Status.ACKNOWLEDGED, Status.IN_PROGRESS), _("暂停计时"))
        data: dict[str, Any] = {"reason": reason}
        fields = common.set_status(t, Status.AWAITING_CUSTOMER, data)
        common.append(t, EventKind.PAUSED, actor, body=reason, data=data)
        common.finish(t, fields)
        common.tell_requester(t, actor, _("等待您的反馈"), reason)
    return t


def resume(ticket: Ticket, actor: Any, note: str = "") -> Ticket:
    """End the wait for the customer; the clocks run again."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        if t.status != Status.AWAITING_CUSTOMER:
            raise InvalidTransition(_("工单没有处于“待用户反馈”状态，无需恢复计时。"))
        data: dict[str, Any] = {"reason": (note or "").strip()}
        fields = common.set_status(t, Status.IN_PROGRESS, data)
        common.append(t, EventKind.RESUMED, actor, body=data["reason"], data=data)
        common.finish(t, fields)
        if is_ops_staff(actor):
            common.tell_requester(t, actor, _("恢复处理"), data["reason"])
        else:
            common.tell_operations(t, actor, _("用户已反馈"), data["reason"])
    return t


def change_severity(ticket: Ticket, actor: Any, severity: str, reason: str) -> Ticket:
    """Reclassify a fault (outage ↔ non-outage); the clocks are recomputed from the ledger."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("调整故障等级"))
        if t.category != Category.FAULT:
            raise TicketError(_("只有故障工单有故障等级。"), "severity")
        if t.status == Status.CLOSED:
            raise InvalidTransition(_("工单已关闭，不能调整故障等级。"))
        if severity not in Severity.values:
            raise TicketError(_("故障等级无效：%(v)s。") % {"v": severity}, "severity")
        if severity == t.severity:
            raise TicketError(_("故障等级没有变化。"), "severity")
        reason = common.require_text(reason, "reason", _("调整故障等级必须填写原因。"))
        data = {"old": t.severity, "new": severity, "reason": reason}
        body = _("故障等级由“%(old)s”调整为“%(new)s”：%(reason)s") % {
            "old": t.get_severity_display(),
            "new": Severity(severity).label,
            "reason": reason,
        }
        t.severity = severity
        common.append(t, EventKind.SEVERITY_CHANGED, actor, body=body, data=data)
        common.finish(t, ["severity"])
    return t


def _side(actor: Any) -> str:
    return OnSiteSide.ENGINEER if is_ops_staff(actor) else OnSiteSide.CUSTOMER


def request_on_site(ticket: Ticket, actor: Any, reason: str) -> Ticket:
    """Either side asks for an on-site visit (counting as that side's confirmation)."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        common.require_status(t, ACTIVE, _("提出到场需求"))
        if common.has_kind(t, EventKind.ON_SITE_REQUESTED):
            raise InvalidTransition(_("本工单已提出过到场需求，请确认或等待对方确认。"))
        reason = common.require_text(reason, "reason", _("请说明需要到场的原因。"))
        side = _side(actor)
        common.append(
            t,
            EventKind.ON_SITE_REQUESTED,
            actor,
            body=reason,
            data={"side": side, "reason": reason},
        )
        common.finish(t, [])
        if side == OnSiteSide.ENGINEER:
            common.tell_requester(t, actor, _("运维方提出到场服务，请确认"), reason)
        else:
            common.tell_operations(t, actor, _("用户提出到场需求，请确认"), reason)
    return t


def confirm_on_site(ticket: Ticket, actor: Any, on_behalf_of_customer: bool = False) -> Ticket:
    """One side confirms the visit; once both have, the 24-hour on-site clock starts. The ops
    manager may confirm for the customer (recorded as such), e.g. after a phone call."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        common.require_status(t, ACTIVE, _("确认到场需求"))
        if on_behalf_of_customer and not is_ops_manager(actor):
            raise ActionForbidden(_("只有运维负责人可以代用户确认到场需求。"))
        side = OnSiteSide.CUSTOMER if on_behalf_of_customer else _side(actor)
        sides = common.on_site_confirmations(t)
        if not sides:
            raise InvalidTransition(_("尚未提出到场需求，请先提出。"))
        if side in sides:
            raise InvalidTransition(
                _("%(side)s已确认到场需求。") % {"side": OnSiteSide(side).label}
            )
        data = {"side": side, "on_behalf": bool(on_behalf_of_customer)}
        body = _("%(side)s确认需要到场服务。") % {"side": OnSiteSide(side).label}
        common.append(t, EventKind.ON_SITE_CONFIRMED, actor, body=body, data=data)
        common.finish(t, [])
    return t


def check_in(ticket: Ticket, actor: Any, arrived_at: datetime | None, place: str) -> Ticket:
    """The engineer's arrival on site (time and place), which meets the on-site clause."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("到场签到"))
        common.require_status(t, ACTIVE, _("到场签到"))
        place = common.require_text(place, "place", _("请填写到场地点。"))
        sides = common.on_site_confirmations(t)
        if len(sides) < 2:
            raise InvalidTransition(_("双方尚未都确认到场需求，不能签到。"))
        if common.has_kind(t, EventKind.ON_SITE_ARRIVED):
            raise InvalidTransition(_("本次到场已签到。"))
        now = clock.now()
        arrived = arrived_at or now
        if arrived > now:
            raise TicketError(_("到场时间不能晚于当前时间。"), "arrived_at")
        if arrived < max(sides.values()):
            raise TicketError(_("到场时间不能早于双方确认到场的时间。"), "arrived_at")
        data: dict[str, Any] = {"place": place}
        fields = common.set_status(t, Status.IN_PROGRESS, data) if t.status in WORKING else []
        body = _("已到场：%(place)s") % {"place": place}
        common.append(t, EventKind.ON_SITE_ARRIVED, actor, at=arrived, body=body, data=data)
        common.finish(t, fields)
        common.tell_requester(t, actor, _("工程师已到场"), body)
    return t


def resolve(
    ticket: Ticket, actor: Any, summary: str, cause: str = "", solution: str = ""
) -> Ticket:
    """Mark the problem solved (meets the restore clause). A non-outage fault needs its
    structured response first — or ``cause`` and ``solution`` given here record it."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("解决工单"))
        common.require_status(t, ACTIVE, _("解决"))
        summary = common.require_text(summary, "summary", _("请填写处理结果。"))
        fields: list[str] = []
        needs_response = t.category == Category.FAULT and t.severity == Severity.NON_OUTAGE
        if needs_response and not common.has_kind(t, EventKind.RESPONSE):
            if not ((cause or "").strip() and (solution or "").strip()):
                raise TicketError(
                    _("一般故障须先答复故障原因和解决方案，或在解决时一并填写。"), "cause"
                )
            fields, _data = _respond(t, actor, cause, solution)
        data: dict[str, Any] = {}
        fields += common.set_status(t, Status.RESOLVED, data)
        t.resolved_at = clock.now()
        common.append(t, EventKind.RESOLVED, actor, body=summary, data=data)
        common.finish(t, [*fields, "resolved_at"])
        common.tell_requester(t, actor, _("已解决"), summary)
    return t


def close(ticket: Ticket, actor: Any, reason: str = "") -> Ticket:
    """Close a resolved ticket (the requester confirming, or the operations side). Closing an
    unresolved one — a duplicate, a report withdrawn — is for the operations side, with a reason;
    its unmet clocks stop there."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        if t.status == Status.CLOSED:
            raise InvalidTransition(_("工单 %(n)s 已关闭。") % {"n": t.number})
        reason = (reason or "").strip()
        if t.status != Status.RESOLVED:
            common.require_staff(actor, _("关闭未解决的工单"))
            if not reason:
                raise TicketError(
                    _("关闭未解决的工单须填写原因（如重复报修、无效报修）。"), "reason"
                )
        data: dict[str, Any] = {"reason": reason}
        fields = common.set_status(t, Status.CLOSED, data)
        t.closed_at = clock.now()
        common.append(t, EventKind.CLOSED, actor, body=reason or _("工单已关闭。"), data=data)
        common.finish(t, [*fields, "closed_at"])
        if is_ops_staff(actor):
            common.tell_requester(t, actor, _("已关闭"), reason)
    return t


def reopen(ticket: Ticket, actor: Any, reason: str) -> Ticket:
    """Reopen a resolved or closed ticket. Met clocks stay met (see ``ops_portal.clocks``)."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_visible(actor, t)
        common.require_status(t, (Status.RESOLVED, Status.CLOSED), _("重新打开"))
        reason = common.require_text(reason, "reason", _("重新打开必须填写原因。"))
        data: dict[str, Any] = {"reason": reason}
        fields = common.set_status(t, Status.IN_PROGRESS, data)
        t.resolved_at = None
        t.closed_at = None
        common.append(t, EventKind.REOPENED, actor, body=reason, data=data)
        common.finish(t, [*fields, "resolved_at", "closed_at"])
        common.tell_operations(t, actor, _("工单被重新打开"), reason)
    return t


def append_alert(ticket: Ticket, *, body: str, data: dict[str, Any] | None = None) -> Ticket:
    """Add a monitoring notification (a repeated or resolved alert) to the ticket's timeline."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.append(
            t,
            EventKind.ALERT_APPENDED,
            None,
            public=False,
            body=body,
            data=data or {},
            name=_("监控系统"),
        )
        common.finish(t, [])
    return t


def add_attachment(ticket: Ticket, actor: Any, files: Iterable[Any], public: bool = True) -> Ticket:
    """Attach files on their own (recorded as a comment or, for staff, an internal note)."""
    files = list(files)
    if not files:
        raise TicketError(_("请选择要上传的文件。"), "attachments")
    if public:
        return comment(ticket, actor, "", files)
    return internal_note(ticket, actor, _("上传附件"), files)


def acknowledge_escalation(ticket: Ticket, actor: Any) -> Ticket:
    """ "I have it": acknowledge the ticket's pending escalation notices so the next step waits."""
    with transaction.atomic():
        t = common.locked(ticket)
        common.require_staff(actor, _("确认升级通知"))
        if not _ack_escalations(t, actor):
            raise InvalidTransition(_("没有待确认的升级通知。"))
        common.finish(t, [])
    return t


def _ack_escalations(t: Ticket, actor: Any) -> int:
    pending = EscalationFiring.objects.filter(ticket=t, acknowledged_at__isnull=True)
    steps = list(pending.values_list("clause", "step__order"))
    count = pending.update(acknowledged_at=clock.now(), acknowledged_by=actor)
    if count:
        common.append(
            t,
            EventKind.ESCALATION_ACKNOWLEDGED,
            actor,
            public=False,
            body=_("已确认升级通知。"),
            data={"steps": [list(s) for s in steps]},
        )
    return count
