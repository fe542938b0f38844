"""Reporting pages. The data-entry and review pages are added by later work; this module holds
the scoped list of submissions that the navigation points to."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from qc_core.indicators.models import DataSet
from qc_core.reporting import permissions as perms
from qc_core.reporting.choices import SubmissionStatus
from qc_core.reporting.models import Submission
from qc_core.system.permissions import role_required


@role_required(*perms.READ_ROLES)
def submission_list(request: HttpRequest) -> HttpResponse:
    qs = perms.scoped_submissions(
        Submission.objects.select_related("org_unit", "dataset"), request.user
    )
    period = request.GET.get("period", "").strip()
    status = request.GET.get("status", "")
    dataset = request.GET.get("dataset", "")
    if period:
        qs = qs.filter(period=period.upper())
    if status in SubmissionStatus.values:
        qs = qs.filter(status=status)
    if dataset:
        qs = qs.filter(dataset__code=dataset)
    page = Paginator(qs.order_by("-period", "org_unit__path", "dataset__code"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reporting/submission_list.html",
        {
            "page": page,
            "statuses": SubmissionStatus.choices,
            "datasets": DataSet.objects.filter(is_active=True).order_by("code"),
            "period": period,
            "status": status,
            "dataset": dataset,
        },
    )
