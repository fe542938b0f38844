"""Operations pages: the engineers' queue, a ticket, the requester's list, the new-ticket and
phone-log forms, and the SLA policy page. Views are thin: services do the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from ops_portal import forms, services
from ops_portal.access import STAFF_ROLES, is_ops_manager, is_ops_staff, visible_tickets
from ops_portal.choices import OPEN_STATUSES, Channel, Status
from ops_portal.clocks import pause_segments
from ops_portal.display import ticket_clock_views
from ops_portal.errors import ActionForbidden, TicketError
from ops_portal.models import EscalationFiring, SlaPolicy, Ticket, TicketAttachment
from qc_core.accounts.choices import Role
from qc_core.system import clock
from qc_core.system.permissions import role_required

QUEUE_PAGE = 50

QUEUE_FILTERS = {
    "mine": lambda qs, request: qs.filter(assignee=request.user),
    "unassigned": lambda qs, request: qs.filter(assignee__isnull=True),
    "breached": lambda qs, request: qs.filter(Q(sla_breached=True) | Q(sla_due_at__lt=clock.now())),
}


def _with_clocks(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related(
        "org_unit", "assignee", "requester", "policy__calendar", "policy__consult_calendar"
    ).prefetch_related("clocks")


def _rows(tickets: Any) -> list[dict[str, Any]]:
    now = clock.now()
    calendars: dict[int, Any] = {}
    return [{"ticket": t, "clocks": ticket_clock_views(t, now, calendars)} for t in tickets]


def _query_without_page(request: HttpRequest) -> str:
    """The other query parameters, ending in "&" (for the pagination links)."""
    params = request.GET.copy()
    params.pop("page", None)
    return f"{params.urlencode()}&" if params else ""


@role_required(*STAFF_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    """Open tickets, the closest to breaching first (breached ones on top)."""
    qs = visible_tickets(request.user).filter(status__in=OPEN_STATUSES)
    view = request.GET.get("view", "")
    if view in QUEUE_FILTERS:
        qs = QUEUE_FILTERS[view](qs, request)
    unit = request.GET.get("unit", "").strip()
    if unit:
        qs = qs.filter(Q(org_unit__code=unit) | Q(org_unit__name__contains=unit))
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    qs = qs.order_by(F("sla_due_at").asc(nulls_last=True), "reported_at", "id")
    page = Paginator(_with_clocks(qs), QUEUE_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": _rows(page.object_list),
        "view": view,
        "unit": unit,
        "channel": channel,
        "channels": Channel.choices,
        "now": clock.now(),
        "query": _query_without_page(request),
    }
    template = (
        "ops_portal/_queue_rows.html"
        if request.headers.get("HX-Request")
        else "ops_portal/queue.html"
    )
    return render(request, template, context)


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    """ "我的报修": the tickets a requester filed or that concern their unit."""
    qs = visible_tickets(request.user)
    if is_ops_staff(request.user):
        qs = qs.filter(Q(requester=request.user) | Q(created_by=request.user))
    if request.GET.get("open") == "1":
        qs = qs.filter(status__in=OPEN_STATUSES)
    page = Paginator(_with_clocks(qs.order_by("-created_at", "-id")), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request, "ops_portal/my_tickets.html", {"page": page, "rows": _rows(page.object_list)}
    )


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    return get_object_or_404(_with_clocks(visible_tickets(request.user)), number=number)


@login_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    staff = is_ops_staff(request.user)
    events = (
        ticket.events.select_related("actor").prefetch_related("attachments").order_by("at", "id")
    )
    if not staff:
        events = events.filter(public=True)
    ledger = list(events)
    context = {
        "ticket": ticket,
        "staff": staff,
        "manager": is_ops_manager(request.user),
        "clocks": ticket_clock_views(ticket, clock.now()),
        "pauses": pause_segments(ledger),
        "events": ledger,
        "pending_escalations": staff
        and EscalationFiring.objects.filter(ticket=ticket, acknowledged_at__isnull=True).exists(),
        "forms": {
            "comment": forms.CommentForm(),
            "note": forms.NoteForm(),
            "respond": forms.RespondForm(),
            "resolve": forms.ResolveForm(),
            "pause": forms.ReasonForm(),
            "reason": forms.ReasonForm(),
            "severity": forms.SeverityForm(),
            "assign": forms.AssignForm(),
            "check_in": forms.CheckInForm(),
            "confirm": forms.ConfirmOnSiteForm(),
        },
        "Status": Status,
    }
    return render(request, "ops_portal/ticket_detail.html", context)


@login_required
def attachment(request: HttpRequest, number: str, pk: int) -> FileResponse:
    """Download an attachment of a visible ticket (internal ones: operations side only)."""
    from qc_core.audit.services import record_download

    ticket = _ticket_or_404(request, number)
    qs = TicketAttachment.objects.filter(ticket=ticket)
    if not is_ops_staff(request.user):
        qs = qs.filter(Q(event__isnull=True) | Q(event__public=True))
    item = get_object_or_404(qs, pk=pk)
    record_download(request, item.name, obj=ticket)
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)


# Each action: (form class or None, service, success message).
ACTIONS: dict[str, tuple[Any, Callable[..., Any], Any]] = {
    "acknowledge": (None, services.acknowledge, gettext_lazy("工单已受理。")),
    "assign": (forms.AssignForm, services.assign, gettext_lazy("已指派。")),
    "comment": (forms.CommentForm, services.comment, gettext_lazy("回复已发送。")),
    "note": (forms.NoteForm, services.internal_note, gettext_lazy("内部备注已保存。")),
    "respond": (forms.RespondForm, services.respond, gettext_lazy("已答复原因和解决方案。")),
    "pause": (forms.ReasonForm, services.pause, gettext_lazy("已暂停计时，等待用户反馈。")),
    "resume": (forms.ReasonForm, services.resume, gettext_lazy("已恢复计时。")),
    "severity": (
        forms.SeverityForm,
        services.change_severity,
        gettext_lazy("故障等级已调整，SLA 已重新计算。"),
    ),
    "request_on_site": (
        forms.ReasonForm,
        services.request_on_site,
        gettext_lazy("已提出到场需求。"),
    ),
    "confirm_on_site": (
        forms.ConfirmOnSiteForm,
        services.confirm_on_site,
        gettext_lazy("已确认到场需求。"),
    ),
    "check_in": (forms.CheckInForm, services.check_in, gettext_lazy("已签到。")),
    "resolve": (forms.ResolveForm, services.resolve, gettext_lazy("工单已解决。")),
    "close": (forms.ReasonForm, services.close, gettext_lazy("工单已关闭。")),
    "reopen": (forms.ReasonForm, services.reopen, gettext_lazy("工单已重新打开。")),
    "ack_escalation": (None, services.acknowledge_escalation, gettext_lazy("已确认升级通知。")),
}


def _action_kwargs(name: str, data: dict[str, Any]) -> dict[str, Any]:
    if name in ("comment", "note"):
        return {"body": data["body"], "attachments": data["attachments"]}
    if name == "resume":
        return {"note": data["reason"]}
    return data


@login_required
@require_POST
def ticket_action(request: HttpRequest, number: str, name: str) -> HttpResponse:
    if name not in ACTIONS:
        raise Http404
    ticket = _ticket_or_404(request, number)
    form_class, service, done = ACTIONS[name]
    kwargs: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST, request.FILES)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                text = pgettext("list separator", "；").join(errors)
                messages.error(
                    request,
                    _("%(label)s：%(text)s") % {"label": label, "text": text} if label else text,
                )
            return redirect("ops_portal:ticket", number=number)
        kwargs = _action_kwargs(name, dict(form.cleaned_data))
    try:
        service(ticket, request.user, **kwargs)
    except ActionForbidden as exc:
        messages.error(request, exc.message)
    except TicketError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(done))
    return redirect("ops_portal:ticket", number=number)


@login_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    """The web form: any signed-in user reports a fault or asks a question."""
    user: Any = request.user
    form = forms.TicketForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.create_ticket(
                title=data["title"],
                description=data["description"],
                category=data["category"],
                severity=data["severity"],
                channel=Channel.WEB,
                org_unit=data["org_unit"],
                requester=user,
                contact_name=user.get_full_name(),
                contact_phone=data["contact_phone"] or user.phone,
                contact_email=user.email,
                created_by=user,
                attachments=data["attachments"],
            )
        except TicketError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("报修已提交，工单号 %(n)s。") % {"n": ticket.number})
            return redirect("ops_portal:ticket", number=ticket.number)
    return render(request, "ops_portal/ticket_form.html", {"form": form, "phone": False})


@role_required(*STAFF_ROLES)
def phone_call(request: HttpRequest) -> HttpResponse:
    """An engineer logs a phone call; the SLA starts at the time of the call."""
    form = forms.PhoneCallForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.log_phone_call(
                request.user,
                caller=data["caller"],
                phone=data["phone"],
                called_at=data["called_at"],
                summary=data["summary"],
                title=data["title"],
                category=data["category"],
                severity=data["severity"],
                org_unit=data["org_unit"],
            )
        except TicketError as exc:
            field = {"reported_at": "called_at"}.get(exc.field or "", exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, _("电话报修已登记，工单号 %(n)s。") % {"n": ticket.number})
            return redirect("ops_portal:ticket", number=ticket.number)
    elif request.method != "POST":
        form.initial.setdefault("called_at", clock.now())
    return render(request, "ops_portal/ticket_form.html", {"form": form, "phone": True})


@role_required(Role.OPS_MANAGER)
def policy(request: HttpRequest) -> HttpResponse:
    """The ops manager edits the SLA terms; each save publishes a new version."""
    current = services.current_policy()
    initial = {
        "restore_minutes": current.restore_minutes,
        "respond_minutes": current.respond_minutes,
        "on_site_minutes": current.on_site_minutes,
        "consult_minutes": current.consult_minutes,
        "warn_first": current.warn_percents[0],
        "warn_second": current.warn_percents[1],
        "calendar": current.calendar_id,
        "consult_calendar": current.consult_calendar_id,
        "reopen_restarts_clock": current.reopen_restarts_clock,
    }
    form = forms.PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["warn_percents"] = [data.pop("warn_first"), data.pop("warn_second")]
        note = data.pop("note")
        try:
            new = services.publish_policy(request.user, note=note, **data)
        except TicketError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已发布 SLA 策略第 %(v)d 版，之后新建的工单按此版本计时。") % {"v": new.version},
            )
            return redirect("ops_portal:policy")
    versions = SlaPolicy.objects.select_related("created_by", "calendar").order_by("-version")[:20]
    return render(
        request, "ops_portal/policy.html", {"form": form, "current": current, "versions": versions}
    )
