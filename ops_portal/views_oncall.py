"""On-call pages (thin: forms in, services do the work): the board, rosters and special duty,
override / swap requests and the ops manager's approvals."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ops_portal.access import is_ops_manager
from ops_portal.errors import ActionForbidden, TicketError
from ops_portal.models import DutyPeriod, Roster
from ops_portal.oncall import board, requests, rosters
from ops_portal.oncall.choices import RequestKind, RequestStatus
from ops_portal.oncall.forms import (
    CoverRequestForm,
    DecisionForm,
    DutyPeriodForm,
    RosterForm,
    SwapRequestForm,
    staff_users,
)
from qc_core.accounts.choices import Role
from qc_core.system import clock
from qc_core.system.permissions import role_required

staff_only = role_required(Role.ENGINEER, Role.OPS_MANAGER)
manager_only = role_required(Role.OPS_MANAGER)


def _described(items: Any) -> list[Any]:
    """Requests with ``summary_text`` for the templates."""
    rows = list(items)
    for item in rows:
        item.summary_text = requests.summary(item)
    return rows


def _form_error(form: Any, exc: TicketError) -> None:
    if isinstance(exc, ActionForbidden):
        raise PermissionDenied(exc.message)
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@staff_only
def oncall(request: HttpRequest) -> HttpResponse:
    """Who is on call now, the next 14 days, gaps in red, my requests, the approvals queue."""
    user = request.user
    mine = requests.visible_requests(user).filter(requester_id=user.pk)[:10]
    return render(
        request,
        "ops_portal/oncall.html",
        {
            "board": board.build(clock.now()),
            "is_manager": is_ops_manager(user),
            "pending": _described(requests.pending_for(user)),
            "mine": _described(mine),
        },
    )


@staff_only
def roster_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ops_portal/oncall_rosters.html",
        {
            "rosters": Roster.objects.prefetch_related("members__user").order_by(
                "-is_active", "name"
            ),
            "periods": DutyPeriod.objects.prefetch_related("members__user").order_by("-start")[:50],
            "is_manager": is_ops_manager(request.user),
            "now": clock.now(),
        },
    )


def _edit(
    request: HttpRequest, form_class: Any, instance: Any, save: Any, title: str
) -> HttpResponse:
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            save(request.user, form.values(), form.cleaned_data["members"], instance)
        except TicketError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存，并重新编排了未来的班次。"))
            return redirect("ops_portal:oncall_rosters")
    return render(
        request,
        "ops_portal/oncall_rotation_form.html",
        {"form": form, "title": title, "instance": instance, "staff": staff_users()},
    )


@manager_only
def roster_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    roster = get_object_or_404(Roster, pk=pk) if pk else None
    title = _("编辑值班表") if roster else _("新建值班表")
    return _edit(request, RosterForm, roster, rosters.save_roster, title)


@manager_only
def period_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    period = get_object_or_404(DutyPeriod, pk=pk) if pk else None
    title = _("编辑专项值守") if period else _("新建专项值守")
    return _edit(request, DutyPeriodForm, period, rosters.save_period, title)


@staff_only
def request_new(request: HttpRequest, kind: str) -> HttpResponse:
    """An engineer asks for cover (``cover``) or a swap (``swap``)."""
    if kind not in RequestKind.values:
        raise PermissionDenied
    form_class = CoverRequestForm if kind == RequestKind.COVER else SwapRequestForm
    form = form_class(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if kind == RequestKind.COVER:
                item = requests.request_cover(
                    request.user,
                    role=data["role"],
                    start=data["start"],
                    end=data["end"],
                    substitute=data["substitute"],
                    reason=data["reason"],
                )
            else:
                item = requests.request_swap(
                    request.user,
                    my_shift=data["my_shift"],
                    their_shift=data["their_shift"],
                    reason=data["reason"],
                )
        except TicketError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("申请 #%(pk)d 已提交，等待运维负责人审批。") % {"pk": item.pk}
            )
            return redirect("ops_portal:oncall_requests")
    return render(
        request,
        "ops_portal/oncall_request_form.html",
        {"form": form, "kind": kind, "kind_label": RequestKind(kind).label},
    )


@staff_only
def request_list(request: HttpRequest) -> HttpResponse:
    """Requests: the ops manager sees all (filter by status), an engineer only their own."""
    qs = requests.visible_requests(request.user).order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "ops_portal/oncall_requests.html",
        {
            "items": _described(qs[:200]),
            "status": status,
            "statuses": RequestStatus.choices,
            "is_manager": is_ops_manager(request.user),
        },
    )


@require_POST
@staff_only
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """approve / reject (ops manager) or cancel (the requester); others get 403, and a request
    the user may not see is 404."""
    item = get_object_or_404(requests.visible_requests(request.user), pk=pk)
    form = DecisionForm(request.POST)
    note = form.data.get("note", "")
    try:
        if action == "approve":
            requests.approve(item, request.user, note)
            messages.success(request, _("已批准申请 #%(pk)d，并通知了双方。") % {"pk": item.pk})
        elif action == "reject":
            requests.reject(item, request.user, note)
            messages.success(request, _("已驳回申请 #%(pk)d，并通知了双方。") % {"pk": item.pk})
        elif action == "cancel":
            requests.cancel(item, request.user)
            messages.success(request, _("已撤回申请 #%(pk)d。") % {"pk": item.pk})
        else:
            raise PermissionDenied
    except ActionForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except TicketError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    return redirect(
        target
        if target in ("ops_portal:oncall", "ops_portal:oncall_requests")
        else "ops_portal:oncall"
    )
