"""The reporting-progress page: the center sees the province with a row per prefecture and a
drill-down into each, a sub-center admin its prefecture's units, reporters and hospital leaders
their own unit's status. Figures come from :mod:`qc_core.reporting.progress`, scoped there."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from qc_core.accounts.choices import Role
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.api_progress import scope_name
from qc_core.reporting.progress import Progress, SelectionError, compute_progress, select
from qc_core.system.permissions import role_required

# Roles that watch other units' progress; everyone else sees only their own unit's status.
OVERSEER_ROLES = (Role.CENTER_ADMIN, Role.HEALTH_OFFICIAL, Role.SUBCENTER_ADMIN)


def _selection(request: HttpRequest) -> tuple[DataSet | None, Period | None, str]:
    """The data set and period asked for; on a bad parameter, the defaults and the message."""
    dataset_code, period_text = request.GET.get("dataset"), request.GET.get("period")
    try:
        return (*select(dataset_code, period_text), "")
    except SelectionError as exc:
        error, bad_field = exc.message, exc.field
    # Fall back to the defaults, keeping the data set when only the period was wrong.
    for fallback in (dataset_code if bad_field == "period" else None, None):
        try:
            return (*select(fallback, None), error)
        except SelectionError:
            continue
    return None, None, error


def _chart(progress: Progress) -> dict[str, Any]:
    groups = progress.groups
    return {
        "height": 72 + 36 * len(groups),
        "names": [g.name for g in groups],
        "series": [
            {"name": _("按时上报"), "color": "#198754",
             "data": [g.tally.submitted_on_time for g in groups]},
            {"name": _("逾期上报"), "color": "#ffc107",
             "data": [g.tally.submitted_late for g in groups]},
            {"name": _("未上报"), "color": "#dc3545", "data": [g.tally.missing for g in groups]},
        ],
    }  # fmt: skip


@role_required(*perms.READ_ROLES)
def progress(request: HttpRequest) -> HttpResponse:
    user = request.user
    dataset, period, error = _selection(request)
    context: dict[str, Any] = {
        "datasets": DataSet.objects.filter(is_active=True).order_by("code"),
        "error": error,
        "dataset": dataset,
        "period": period,
    }
    if dataset is None or period is None:
        return render(request, "reporting/progress.html", context)
    within = None
    code = request.GET.get("prefecture", "").strip()
    if code:
        within = OrgUnit.objects.filter(code=code).first()
        if within is None or not perms.can_read(user, within):
            raise Http404(_("单位不存在，或您无权访问。"))
    result = compute_progress(dataset, period, user=user, within=within)
    overseer = user.is_superuser or user.has_role(*OVERSEER_ROLES)  # type: ignore[union-attr]
    show_groups = overseer and within is None and len(result.groups) > 1
    context.update(
        {
            "progress": result,
            "window": result.window,
            "within": within,
            "scope_name": scope_name(user, within),
            "overseer": overseer,
            "show_groups": show_groups,
            "chart": _chart(result) if show_groups else None,
            "previous_period": period.previous(),
            "next_period": period.next(),
            "is_open": result.window.is_open(result.as_of),
            "not_yet_open": result.window.not_yet_open(result.as_of),
        }
    )
    return render(request, "reporting/progress.html", context)
