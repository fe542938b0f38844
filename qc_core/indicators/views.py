"""Indicator library pages: list with filters, detail with version history, edit (center admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from qc_core.accounts.choices import Role
from qc_core.indicators.choices import QC_ROLES, IndicatorSet, Kind, Status
from qc_core.indicators.forms import IndicatorVersionForm
from qc_core.indicators.models import Indicator
from qc_core.indicators.services import revise_indicator
from qc_core.system.permissions import role_required, user_has_any_role

READER_ROLES = tuple(QC_ROLES)


@role_required(*READER_ROLES)
def indicator_list(request: HttpRequest) -> HttpResponse:
    qs = Indicator.objects.filter(current_version__isnull=False).select_related("current_version")
    filters = {}
    for name, choices in (("set", IndicatorSet), ("kind", Kind), ("status", Status)):
        value = request.GET.get(name, "")
        if value in choices.values:
            qs = qs.filter(**{f"current_version__{name}": value})
            filters[name] = value
    term = request.GET.get("q", "").strip()
    if term:
        qs = qs.filter(Q(code__icontains=term) | Q(current_version__name__icontains=term))
    qs = qs.annotate(version_count=Count("versions")).order_by("sort_order", "code")
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "indicators/indicator_list.html",
        {
            "page": page,
            "sets": IndicatorSet.choices,
            "kinds": Kind.choices,
            "statuses": Status.choices,
            "filters": filters,
            "q": term,
            "can_edit": user_has_any_role(request.user, [Role.CENTER_ADMIN]),
        },
    )


@role_required(*READER_ROLES)
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    indicator = get_object_or_404(Indicator.objects.select_related("current_version"), code=code)
    versions = indicator.versions.select_related("created_by").order_by("-version")
    datasets = indicator.datasets.order_by("code")
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "indicator": indicator,
            "current": indicator.current_version,
            "versions": versions,
            "datasets": datasets,
            "can_edit": user_has_any_role(request.user, [Role.CENTER_ADMIN]),
        },
    )


@role_required(Role.CENTER_ADMIN)
def indicator_edit(request: HttpRequest, code: str) -> HttpResponse:
    indicator = get_object_or_404(Indicator.objects.select_related("current_version"), code=code)
    current = indicator.current_version
    form = IndicatorVersionForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        # The form validated against the current version; the service writes a new one.
        changes = form.changes()
        before = current.pk if current else None
        version = revise_indicator(
            indicator, changes, request.user, form.cleaned_data["change_note"]
        )
        if version.pk == before:
            messages.info(request, _("没有修改任何内容，未创建新版本。"))
        else:
            messages.success(request, _("已保存为第 %(v)d 版。") % {"v": version.version})
        return redirect("indicators:detail", code=indicator.code)
    return render(request, "indicators/indicator_form.html", {"indicator": indicator, "form": form})
