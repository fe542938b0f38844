"""Home page, long-job pages and the operational endpoints (/healthz, /readyz, /metrics)."""

from __future__ import annotations

import hmac
import ipaddress
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import user_scope
from qc_core.system import health, metrics
from qc_core.system.models import TaskRun


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assignments = user.role_assignments.select_related("org_unit").order_by("role")  # type: ignore[union-attr]
    return render(request, "system/home.html", {"assignments": assignments})


def visible_runs(user) -> QuerySet[TaskRun]:  # type: ignore[no-untyped-def]
    """Jobs a user may see: their own, plus (for administrators) those in their scope."""
    qs = TaskRun.objects.select_related("started_by", "org_unit")
    if user.is_superuser or user.has_role(Role.CENTER_ADMIN, Role.OPS_MANAGER):
        return qs
    scope = user_scope(user, {Role.SUBCENTER_ADMIN})
    if scope.empty:
        return qs.filter(started_by=user)
    return qs.filter(Q(started_by=user) | scope.q("org_unit"))


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(visible_runs(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "system/job_list.html", {"page": page})


def _run_or_404(request: HttpRequest, pk: UUID) -> TaskRun:
    return get_object_or_404(visible_runs(request.user), pk=pk)


@login_required
def job_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    return render(request, "system/job_detail.html", {"run": _run_or_404(request, pk)})


@login_required
@never_cache
def job_progress(request: HttpRequest, pk: UUID) -> HttpResponse:
    """HTMX fragment polled by the job page; it stops polling once the job has finished."""
    return render(request, "system/_job_progress.html", {"run": _run_or_404(request, pk)})


@login_required
def job_result(request: HttpRequest, pk: UUID) -> FileResponse:
    from qc_core.audit.services import record_download

    run = _run_or_404(request, pk)
    if not run.result_file:
        raise Http404
    record_download(request, str(run.result_file.name), obj=run)
    return FileResponse(run.result_file.open("rb"), as_attachment=True)


# --- operational endpoints ---------------------------------------------------------------------


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    report = health.run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def _metrics_allowed(request: HttpRequest) -> bool:
    header = request.headers.get("Authorization", "")
    token = settings.METRICS_TOKEN
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    remote = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
