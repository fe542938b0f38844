"""Org tree page (scoped) and the job that rebuilds its cache."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import visible_units
from qc_core.orgs import services
from qc_core.orgs.choices import Level
from qc_core.orgs.tasks import rebuild_tree_cache
from qc_core.system.permissions import role_required
from qc_core.system.services import start_job


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    units = visible_units(request.user).select_related("parent")
    level = request.GET.get("level", "")
    if level in Level.values:
        units = units.filter(level=level)
    term = request.GET.get("q", "").strip()
    if term:
        units = units.filter(services.search_q(term))
    page = Paginator(units.order_by("path"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/unit_list.html",
        {
            "page": page,
            "levels": Level.choices,
            "level": level,
            "q": term,
            "tree": services.cached_tree(),
        },
    )


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    unit = get_object_or_404(visible_units(request.user).select_related("parent"), code=code)
    children = visible_units(request.user).filter(parent=unit).order_by("code")
    return render(
        request,
        "orgs/unit_detail.html",
        {"unit": unit, "children": children, "ancestors": unit.ancestors()},
    )


@require_POST
@role_required(Role.CENTER_ADMIN)
def rebuild_cache(request: HttpRequest) -> HttpResponse:
    run = start_job(rebuild_tree_cache, label=_("重建组织树缓存"), user=request.user)
    messages.info(request, _("已提交后台任务“%(label)s”。") % {"label": run.label})
    return redirect("system:job_detail", pk=run.pk)
