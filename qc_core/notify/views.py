"""Notification pages: the list, the bell fragment, and the user's own channels."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from qc_core.notify import services
from qc_core.notify.forms import UserChannelForm
from qc_core.notify.models import Channel
from qc_core.system import clock

RECENT_DELIVERIES = 20


def _back(request: HttpRequest, default: str = "notify:list") -> HttpResponseRedirect:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect(default)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = services.own_notifications(request.user)
    unread_only = request.GET.get("unread") in {"1", "true"}
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/notification_list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread_total": services.unread_count(request.user),
        },
    )


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    note = get_object_or_404(services.own_notifications(request.user), pk=pk)
    services.mark_read(request.user, note.pk)
    if note.url and url_has_allowed_host_and_scheme(
        note.url, {request.get_host()}, request.is_secure()
    ):
        return HttpResponseRedirect(note.url)
    return redirect("notify:list")


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(services.own_notifications(request.user), pk=pk)
    services.mark_read(request.user, pk)
    return _back(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": count})
    return _back(request)


@require_GET
@never_cache
def bell(request: HttpRequest) -> HttpResponse:
    """The badge fragment the navbar polls (with ``X-Background-Poll`` so it is not activity)."""
    if not request.user.is_authenticated:
        # 401 rather than a login redirect: htmx leaves the badge alone on an error response.
        return HttpResponse(status=401)
    return render(
        request, "notify/_bell_badge.html", {"count": services.unread_count(request.user)}
    )


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    """The user's own channels: list, add, and their recent delivery log."""
    form = UserChannelForm(request.POST or None, instance=Channel(user=request.user))  # type: ignore[misc]
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        messages.success(request, _("已添加通知渠道“%(name)s”。") % {"name": channel})
        return redirect("notify:channels")
    channels = services.own_channels(request.user).order_by("id")
    deliveries = services.own_deliveries(request.user).select_related("channel")[:RECENT_DELIVERIES]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "notify/channel_list.html",
        {"form": form, "channels": channels, "deliveries": deliveries},
        status=status,
    )


@login_required
@require_POST
def channel_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(services.own_channels(request.user), pk=pk)
    channel.enabled = not channel.enabled
    channel.save(update_fields=["enabled"])
    state = _("启用") if channel.enabled else _("停用")
    messages.success(
        request, _("已%(state)s通知渠道“%(name)s”。") % {"state": state, "name": channel}
    )
    return redirect("notify:channels")


@login_required
@require_POST
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(services.own_channels(request.user), pk=pk)
    name = str(channel)
    channel.delete()
    messages.success(request, _("已删除通知渠道“%(name)s”。") % {"name": name})
    return redirect("notify:channels")


@login_required
@require_POST
def channel_test(request: HttpRequest) -> HttpResponse:
    services.notify(
        "system.test",
        [request.user],
        {"actor": request.user, "time": clock.now()},
        url=reverse("notify:channels"),
    )
    messages.success(
        request, _("已发送测试通知：站内通知已生成，外部渠道的发送结果见下方发送记录。")
    )
    return redirect("notify:channels")
