"""Review pages: the list of submissions awaiting review in the caller's scope, one submission's
review page (values, rates, checks with justifications, what changed since the return, the
trail) and the approve / return / reopen actions.

Rows are limited through the scope helpers; every action goes through
:mod:`qc_core.reporting.services`, which decides (again) whether the caller may do it — so a
reporter posting to an action URL directly gets 403, and an outsider 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import Scope, scope_queryset, visible_units
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.orgs.choices import Level
from qc_core.reporting import permissions as perms
from qc_core.reporting import services
from qc_core.reporting.choices import ReviewAction, SubmissionStatus
from qc_core.reporting.errors import InputError, ReportingError
from qc_core.reporting.models import Submission
from qc_core.reporting.page_rows import STATUS_BADGES, FormRef, build_rows, entry_url
from qc_core.reporting.validation import validate_submission
from qc_core.system import clock
from qc_core.system.permissions import role_required

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LIST_ROLES = (Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN, Role.HEALTH_OFFICIAL)
REVIEWABLE = (SubmissionStatus.SUBMITTED, SubmissionStatus.REVIEWED)
PAGE_SIZE = 50
DEFAULT_REOPEN_DAYS = 7
FIELD_LABELS = {
    "numerator": "分子",
    "denominator": "分母",
    "comment": "备注",
    "justification": "情况说明",
}


def pending_statuses(user: Any) -> list[str]:
    """The states waiting for this reviewer: sub-center admins act on submitted forms, center
    admins also on forms a sub-center has reviewed."""
    if user.is_superuser or user.has_role(Role.CENTER_ADMIN, Role.HEALTH_OFFICIAL):
        return [SubmissionStatus.SUBMITTED, SubmissionStatus.REVIEWED]
    return [SubmissionStatus.SUBMITTED]


def prefecture_code(path: str) -> str:
    """The prefecture's code in a unit's materialized path (province/prefecture/…)."""
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 1 else ""


@role_required(*LIST_ROLES)
def review_list(request: HttpRequest) -> HttpResponse:
    """Submissions in scope, by default those awaiting this user's review; filters period,
    data set, prefecture and status."""
    user = request.user
    base = scope_queryset(Submission.objects.all(), user, roles=LIST_ROLES)
    qs = base.select_related("org_unit", "dataset")
    status = request.GET.get("status", "pending")
    if status == "pending":
        qs = qs.filter(status__in=pending_statuses(user))
    elif status in SubmissionStatus.values:
        qs = qs.filter(status=status)
    else:
        status = "all"
    period = request.GET.get("period", "").strip().upper()
    if period:
        qs = qs.filter(period=period)
    datasets = list(DataSet.objects.order_by("code"))
    dataset = request.GET.get("dataset", "")
    if dataset:
        qs = qs.filter(dataset__code=dataset)
    prefectures = list(
        visible_units(user, LIST_ROLES).filter(level=Level.PREFECTURE).order_by("code")
    )
    prefecture = request.GET.get("prefecture", "")
    chosen = next((p for p in prefectures if p.code == prefecture), None)
    if chosen is not None:
        qs = qs.filter(Scope(everything=False, paths=(chosen.path,)).q("org_unit"))
    else:
        prefecture = ""
    order = ("last_submitted_at", "id") if status == "pending" else ("-period", "org_unit__path")
    page = Paginator(qs.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
    names = {p.code: p.name for p in prefectures}
    rows = []
    for sub in page.object_list:
        window = sub.window
        rows.append(
            {
                "sub": sub,
                "prefecture": names.get(prefecture_code(sub.org_unit.path), ""),
                "label": Period.parse(sub.period, sub.dataset.period_type).label,
                "badge": STATUS_BADGES[SubmissionStatus(sub.status)],
                "late": sub.first_submitted_at is not None
                and window.is_late(sub.first_submitted_at),
            }
        )
    periods = list(base.order_by("-period").values_list("period", flat=True).distinct()[:24])
    query = {"status": status, "period": period, "dataset": dataset, "prefecture": prefecture}
    return render(
        request,
        "reporting/review_list.html",
        {
            "page": page,
            "rows": rows,
            "datasets": datasets,
            "prefectures": prefectures,
            "periods": periods,
            "statuses": SubmissionStatus.choices,
            "filters": query,
            "query": "".join(f"{k}={v}&" for k, v in query.items() if v),
        },
    )


def _submission_or_404(user: Any, pk: int) -> Submission:
    qs = Submission.objects.select_related("org_unit", "dataset", "approved_by", "reviewed_by")
    return get_object_or_404(perms.scoped_submissions(qs, user), pk=pk)


def _review_context(request: HttpRequest, sub: Submission, **extra: Any) -> dict[str, Any]:
    user = request.user
    unit = sub.org_unit
    period = Period.parse(sub.period, sub.dataset.period_type)
    ref = FormRef(unit, sub.dataset, period, sub)
    events = list(sub.events.select_related("actor"))
    returned = next((e for e in reversed(events) if e.action == ReviewAction.RETURN), None)
    changes = services.changes_since_return(sub) if returned else []
    for change in changes:
        change["label"] = _(FIELD_LABELS.get(change["field"], change["field"]))
    results = validate_submission(sub)
    rows, loose = build_rows(ref, results, returned=returned, changes=changes)
    drafts = extra.get("return_data", {})
    for row in rows:
        row.draft_reason = drafts.get(row.code, "")
    window = sub.window
    center = perms.is_center_reviewer(user, unit)
    can_review = perms.can_review(user, unit) and sub.status in REVIEWABLE
    awaiting_center = can_review and not center and sub.status == SubmissionStatus.REVIEWED
    until = timezone.localtime(clock.now() + timedelta(days=DEFAULT_REOPEN_DAYS), LOCAL_TZ)
    return {
        "sub": sub,
        "ref": ref,
        "rows": rows,
        "loose": loose,
        "events": events,
        "returned": returned,
        "changes": changes,
        "changed_codes": {c["indicator"] for c in changes},
        "window": window,
        "badge": STATUS_BADGES[SubmissionStatus(sub.status)],
        "submitted_late": sub.first_submitted_at is not None
        and window.is_late(sub.first_submitted_at),
        "can_review": can_review and not awaiting_center,
        "awaiting_center": awaiting_center,
        "is_center": center,
        "can_reopen": perms.can_reopen(user, unit),
        "can_edit_link": perms.can_write(user, unit),
        "entry_url": entry_url(sub),
        "reopen_until": until.strftime("%Y-%m-%dT%H:%M"),
        "return_data": {},
        **extra,
    }


@role_required(*perms.READ_ROLES)
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission: the review page for reviewers, read-only for readers; reporters go to
    their entry page (which shows the review trail)."""
    sub = _submission_or_404(request.user, pk)
    if perms.can_write(request.user, sub.org_unit) and not perms.can_review(
        request.user, sub.org_unit
    ):
        return redirect(entry_url(sub))
    return render(request, "reporting/review.html", _review_context(request, sub))


def _done(request: HttpRequest, sub: Submission, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("reporting:submission_detail", pk=sub.pk)


@require_POST
@role_required(*perms.READ_ROLES)
def review_approve(request: HttpRequest, pk: int) -> HttpResponse:
    sub = _submission_or_404(request.user, pk)
    try:
        services.approve(sub, request.user, request.POST.get("reason", ""))
    except ReportingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:submission_detail", pk=sub.pk)
    sub.refresh_from_db(fields=["status"])
    if sub.status == SubmissionStatus.REVIEWED:
        return _done(request, sub, _("分中心审核通过，已提交省质控中心审核。"))
    return _done(request, sub, _("已审核通过。"))


@require_POST
@role_required(*perms.READ_ROLES)
def review_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Return with an overall reason and per-indicator reasons (fields ``item_<code>``)."""
    sub = _submission_or_404(request.user, pk)
    if not perms.can_review(request.user, sub.org_unit):
        raise PermissionDenied(_("您没有审核该单位数据的权限。"))
    reason = request.POST.get("reason", "")
    items = [
        {"indicator": key[len("item_") :], "reason": text.strip()}
        for key in request.POST
        if key.startswith("item_") and (text := request.POST.get(key, "")).strip()
    ]
    try:
        services.return_submission(sub, request.user, reason, items)
    except InputError as exc:
        messages.error(request, exc.message)
        data = {"reason": reason, **{i["indicator"]: i["reason"] for i in items}}
        context = _review_context(request, sub, return_data=data, return_open=True)
        return render(request, "reporting/review.html", context, status=400)
    except ReportingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:submission_detail", pk=sub.pk)
    return _done(request, sub, _("已退回，并已通知填报单位。"))


def parse_local_datetime(text: str) -> datetime:
    """``2026-12-01T18:00`` (Beijing time, as a datetime-local field sends it) → aware."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            [{"indicator": "", "field": "until",
              "message": _("重新开放截止时间格式不正确，应为 2026-12-01 18:00。")}]
        ) from None  # fmt: skip
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


@require_POST
@role_required(*perms.READ_ROLES)
def review_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Center admins: let the unit edit this form again until a date (audited by the service)."""
    sub = _submission_or_404(request.user, pk)
    if not perms.can_reopen(request.user, sub.org_unit):
        raise PermissionDenied(_("只有省质控中心管理员可以重新开放报表。"))
    try:
        until = parse_local_datetime(request.POST.get("until", ""))
        services.reopen(sub, request.user, until, request.POST.get("reason", ""))
    except ReportingError as exc:
        messages.error(request, exc.message)
        return redirect("reporting:submission_detail", pk=sub.pk)
    local = timezone.localtime(until, LOCAL_TZ)
    return _done(
        request,
        sub,
        _("已重新开放至 %(until)s，并已通知填报单位。") % {"until": f"{local:%Y-%m-%d %H:%M}"},
    )
