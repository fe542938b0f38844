"""Override and swap requests: an engineer asks, the ops manager approves or rejects.

Approval writes override shifts (the top precedence layer) and is claimed with a conditional
UPDATE of the request's status, so a double click or two managers at once approve only once.
Both parties hear the decision; requests, decisions and the shifts written are all audited
(the models are registered with the audit trail).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ops_portal.access import is_ops_manager, is_ops_staff
from ops_portal.choices import ShiftRole
from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.models import OncallRequest, Shift
from ops_portal.oncall import events
from ops_portal.oncall.choices import RequestKind, RequestStatus, ShiftSource
from ops_portal.oncall.timeline import active_shifts, effective_segments
from qc_core.accounts.choices import Role
from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.notify.services import notify
from qc_core.system import clock

MAX_COVER = timedelta(days=31)


def visible_requests(user: Any) -> QuerySet[OncallRequest]:
    """The ops manager sees every request; an engineer only their own; anyone else none."""
    qs = OncallRequest.objects.select_related(
        "requester", "counterpart", "substitute", "decided_by"
    )
    if is_ops_manager(user):
        return qs
    if is_ops_staff(user):
        return qs.filter(requester=user)
    return qs.none()


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise TicketError(_("理由：请说明代班或换班的原因。"), "reason")
    return text


def _require_staff(user: Any, field: str, who: str) -> None:
    if user is None or not is_ops_staff(user):
        raise TicketError(_("%(who)s：须为在职的运维工程师或运维负责人。") % {"who": who}, field)


def holders(role: str, start: datetime, end: datetime) -> list[Any]:
    """The users effectively holding ``role`` at some time in [start, end)."""
    segments = effective_segments(active_shifts(role, start, end), start, end)
    seen: dict[int, Any] = {}
    for segment in segments:
        if segment.user is not None:
            seen.setdefault(segment.user.pk, segment.user)
    return list(seen.values())


def request_cover(
    requester: Any, *, role: str, start: datetime, end: datetime, substitute: Any, reason: str
) -> OncallRequest:
    """Ask that ``substitute`` hold ``role`` over [start, end). The requester is the substitute
    (offering to cover) or someone on call in that range (asking to be covered)."""
    _require_staff(requester, "requester", _("申请人"))
    reason = _require_reason(reason)
    if role not in ShiftRole.values:
        raise TicketError(_("值班角色：请选择主值班或副值班。"), "role")
    _require_staff(substitute, "substitute", _("代班人"))
    now = clock.now()
    if start is None or end is None or end <= start:
        raise TicketError(_("结束时间：必须晚于开始时间。"), "end")
    if end <= now:
        raise TicketError(_("结束时间：代班时段已经过去。"), "end")
    if end - start > MAX_COVER:
        raise TicketError(_("结束时间：一次代班最长 31 天。"), "end")
    covered = [u for u in holders(role, start, end) if u.pk != substitute.pk]
    if (
        substitute.pk != requester.pk
        and requester.pk not in {u.pk for u in covered}
        and not is_ops_manager(requester)
    ):
        raise TicketError(
            _("代班人：您在该时段没有%(role)s班次，只能申请由自己代班。")
            % {"role": ShiftRole(role).label},
            "substitute",
        )
    counterpart = covered[0] if substitute.pk == requester.pk and covered else substitute
    if counterpart is not None and counterpart.pk == requester.pk:
        counterpart = None
    with transaction.atomic():
        item = OncallRequest.objects.create(
            kind=RequestKind.COVER,
            requester=requester,
            counterpart=counterpart,
            reason=reason,
            role=role,
            start=start,
            end=end,
            substitute=substitute,
            created_at=now,
        )
        _tell_managers(item)
    return item


def _shift_info(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.pk,
        "user": shift.user_id,
        "name": shift.user.get_full_name(),
        "role": shift.role,
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
    }


def request_swap(
    requester: Any, *, my_shift: Shift, their_shift: Shift, reason: str
) -> OncallRequest:
    """Ask to trade the requester's future shift for another engineer's future shift."""
    _require_staff(requester, "requester", _("申请人"))
    reason = _require_reason(reason)
    now = clock.now()
    if my_shift is None or my_shift.user_id != requester.pk:
        raise TicketError(_("本人班次：请选择您自己的班次。"), "my_shift")
    if their_shift is None or their_shift.user_id == requester.pk:
        raise TicketError(_("对方班次：请选择其他同事的班次。"), "their_shift")
    for shift, field in ((my_shift, "my_shift"), (their_shift, "their_shift")):
        if shift.start <= now:
            raise TicketError(
                _("所选班次（%(when)s 开始）已经开始，不能互换。") % {"when": _local(shift.start)},
                field,
            )
    _require_staff(their_shift.user, "their_shift", _("对方"))
    with transaction.atomic():
        item = OncallRequest.objects.create(
            kind=RequestKind.SWAP,
            requester=requester,
            counterpart=their_shift.user,
            reason=reason,
            shift_a=my_shift,
            shift_b=their_shift,
            snapshot={"a": _shift_info(my_shift), "b": _shift_info(their_shift)},
            created_at=now,
        )
        _tell_managers(item)
    return item


def _claim(item: OncallRequest, status: str, actor: Any, note: str, now: datetime) -> None:
    claimed = OncallRequest.objects.filter(pk=item.pk, status=RequestStatus.PENDING).update(
        status=status, decided_by=actor, decided_at=now, decision_note=note
    )
    if claimed != 1:
        current = OncallRequest.objects.get(pk=item.pk)
        raise InvalidTransition(
            _("申请 #%(pk)d 当前状态为“%(status)s”，不能再审批或撤回。")
            % {"pk": item.pk, "status": current.get_status_display()}
        )
    item.refresh_from_db()
    # The conditional UPDATE bypasses the model signals: record the decision explicitly.
    record(
        Action.UPDATE,
        user=actor,
        obj=item,
        changes={"status": [RequestStatus.PENDING.value, status]},
        extra={"note": note} if note else None,
    )


def approve(item: OncallRequest, actor: Any, note: str = "") -> OncallRequest:
    """Approve a pending request (ops manager only): write its override shifts, tell both sides."""
    if not is_ops_manager(actor):
        raise ActionForbidden(_("只有运维负责人可以审批代班/换班申请。"))
    now = clock.now()
    with transaction.atomic():
        _claim(item, RequestStatus.APPROVED, actor, (note or "").strip(), now)
        if item.kind == RequestKind.COVER:
            _apply_cover(item, now)
        else:
            _apply_swap(item, now)
        _tell_parties(item)
    return item


def _apply_cover(item: OncallRequest, now: datetime) -> None:
    assert item.start is not None and item.end is not None and item.substitute is not None
    if item.end <= now:
        raise InvalidTransition(_("代班时段已经过去，无法批准。"))
    # The override holds from approval on: the past is not rewritten.
    Shift.objects.create(
        user=item.substitute,
        role=item.role,
        start=max(item.start, now),
        end=item.end,
        source=ShiftSource.OVERRIDE,
        request=item,
        note=_("代班申请 #%(pk)d") % {"pk": item.pk},
    )


def _apply_swap(item: OncallRequest, now: datetime) -> None:
    a, b = item.shift_a, item.shift_b
    if a is None or b is None:
        raise InvalidTransition(_("申请中的班次已被重新编排，请重新提交换班申请。"))
    if min(a.start, b.start) <= now:
        raise InvalidTransition(_("申请中的班次已经开始，无法互换。"))
    for shift, user in ((a, b.user), (b, a.user)):
        Shift.objects.create(
            user=user,
            role=shift.role,
            start=shift.start,
            end=shift.end,
            source=ShiftSource.OVERRIDE,
            request=item,
            note=_("换班申请 #%(pk)d") % {"pk": item.pk},
        )


def reject(item: OncallRequest, actor: Any, note: str) -> OncallRequest:
    """Reject a pending request with a reason (ops manager only); tell both sides."""
    if not is_ops_manager(actor):
        raise ActionForbidden(_("只有运维负责人可以审批代班/换班申请。"))
    text = (note or "").strip()
    if not text:
        raise TicketError(_("审批意见：驳回时请说明原因。"), "note")
    with transaction.atomic():
        _claim(item, RequestStatus.REJECTED, actor, text, clock.now())
        _tell_parties(item)
    return item


def cancel(item: OncallRequest, actor: Any) -> OncallRequest:
    """The requester withdraws a request that is still pending."""
    if actor is None or item.requester_id != actor.pk:
        raise ActionForbidden(_("只有申请人本人可以撤回申请。"))
    with transaction.atomic():
        _claim(item, RequestStatus.CANCELLED, actor, "", clock.now())
    return item


def pending_for(user: Any) -> QuerySet[OncallRequest]:
    """The approvals queue: pending requests, oldest first (ops manager only)."""
    if not is_ops_manager(user):
        return OncallRequest.objects.none()
    return visible_requests(user).filter(status=RequestStatus.PENDING).order_by("created_at", "id")


def summary(item: OncallRequest) -> str:
    """One line describing what the request changes (notifications, lists)."""
    if item.kind == RequestKind.COVER:
        return _("%(who)s 代%(role)s %(start)s – %(end)s") % {
            "who": item.substitute.get_full_name() if item.substitute else "?",
            "role": ShiftRole(item.role).label if item.role else "",
            "start": _local(item.start) if item.start else "?",
            "end": _local(item.end) if item.end else "?",
        }
    a, b = item.snapshot.get("a", {}), item.snapshot.get("b", {})

    def _part(info: dict[str, Any]) -> str:
        if not info:
            return "?"
        start = datetime.fromisoformat(info["start"])
        return f"{info.get('name', '')} {ShiftRole(info['role']).label} {_local(start)}"

    return _("%(a)s ⇄ %(b)s") % {"a": _part(a), "b": _part(b)}


def _tell_managers(item: OncallRequest) -> None:
    notify(
        events.REQUEST_SUBMITTED,
        [Role.OPS_MANAGER],
        {
            "pk": item.pk,
            "kind": item.get_kind_display(),
            "requester": item.requester.get_full_name(),
            "summary": summary(item),
            "reason": item.reason,
        },
        url=events.page_url(),
    )


def _tell_parties(item: OncallRequest) -> None:
    recipients = [u for u in (item.requester, item.counterpart, item.substitute) if u is not None]
    notify(
        events.REQUEST_DECIDED,
        recipients,
        {
            "pk": item.pk,
            "kind": item.get_kind_display(),
            "status": item.get_status_display(),
            "requester": item.requester.get_full_name(),
            "summary": summary(item),
            "note": item.decision_note,
            "manager": item.decided_by.get_full_name() if item.decided_by else "",
        },
        url=events.page_url(),
    )


__all__ = [
    "approve",
    "cancel",
    "holders",
    "pending_for",
    "reject",
    "request_cover",
    "request_swap",
    "summary",
    "visible_requests",
]
