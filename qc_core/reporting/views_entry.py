"""QC reporting pages for units: the 质控上报 home, the data-entry page of one (unit, data set,
period) with its autosave endpoint, submitting, and the history of one value.

Views stay thin: who may see what comes from :mod:`qc_core.reporting.permissions` (built on the
scope helpers), every write goes through :mod:`qc_core.reporting.services`, and the checks shown
on the page are those of :func:`qc_core.reporting.validation.validate_submission`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import scope_queryset, visible_units
from qc_core.indicators.choices import PeriodType
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.orgs.choices import Level
from qc_core.reporting import permissions as perms
from qc_core.reporting import services
from qc_core.reporting.choices import (
    EDITABLE_STATUSES,
    SubmissionStatus,
    ValueSource,
)
from qc_core.reporting.errors import (
    ConflictError,
    InputError,
    NotEditable,
    ReportingError,
    SubmitBlocked,
)
from qc_core.reporting.models import Submission, ValueChange
from qc_core.reporting.page_rows import (
    STATUS_BADGES,
    SUBMIT_ONLY_CODES,
    FormRef,
    block_reason,
    build_rows,
    form_ref,
    last_return,
    local_time,
    plain,
    severity_rank,
)
from qc_core.reporting.validation import blocking, validate_submission
from qc_core.system import clock
from qc_core.system.permissions import role_required, user_has_any_role

# Recent periods listed per data set on the home page.
HOME_PERIODS = {PeriodType.QUARTER: 4, PeriodType.MONTH: 3}
OWN_UNIT_ROLES = (Role.UNIT_REPORTER, Role.HOSPITAL_LEADER)
REVIEWER_ROLES = tuple(perms.REVIEW_ROLES)


# --- home ----------------------------------------------------------------------------------------


@dataclass
class HomeCell:
    """One period of one form on the home page."""

    period: Period
    window: Any
    submission: Submission | None
    url: str
    todo: bool
    late: bool
    locked: bool = False

    @property
    def status_label(self) -> str:
        if self.submission is None:
            return _("未填报")
        return str(self.submission.get_status_display())

    @property
    def badge(self) -> str:
        if self.submission is None:
            return "text-bg-light border"
        return STATUS_BADGES[SubmissionStatus(self.submission.status)]


def _own_forms(user: Any) -> list[dict[str, Any]]:
    """For each of the user's own institutions and its data sets: the recent periods with the
    form's status, entry window and whether something needs doing."""
    units = list(
        visible_units(user, OWN_UNIT_ROLES)
        .filter(level=Level.INSTITUTION)
        .prefetch_related(Prefetch("datasets", DataSet.objects.filter(is_active=True)))
        .order_by("path")[:20]
    )
    if not units:
        return []
    now = clock.now()
    periods: dict[str, list[Period]] = {
        kind: [Period.last_ended(kind, now), *Period.last_ended(kind, now).previous_n(n - 1)]
        for kind, n in HOME_PERIODS.items()
    }
    codes = {str(p) for ps in periods.values() for p in ps}
    subs = {
        (s.org_unit_id, s.dataset_id, s.period): s
        for s in Submission.objects.filter(org_unit__in=units, period__in=codes)
    }
    writer = {u.pk: perms.can_write(user, u) for u in units}
    blocks = []
    for unit in units:
        for dataset in unit.datasets.all():
            cells = []
            for period in periods.get(dataset.period_type, []):
                if unit.member_since and period.end < unit.member_since:
                    continue  # not yet a member: nothing was owed
                sub = subs.get((unit.pk, dataset.pk, str(period)))
                window = period.window(dataset.due_days, dataset.lock_days)
                pending = (sub.status if sub else SubmissionStatus.DRAFT) in EDITABLE_STATUSES
                open_now = window.is_open(now) or (sub is not None and sub.is_reopened(now))
                todo = writer[unit.pk] and open_now and pending
                url = reverse("reporting:entry", args=[unit.code, dataset.code, str(period)])
                cells.append(
                    HomeCell(period, window, sub, url, todo, late=pending and open_now
                             and window.is_late(now), locked=pending and not open_now
                             and window.is_locked(now))
                )  # fmt: skip
            blocks.append({"unit": unit, "dataset": dataset, "cells": cells})
    return blocks


def _review_queue(user: Any) -> list[dict[str, Any]]:
    """Forms awaiting review in the user's review scope, counted per data set and period."""
    if not user_has_any_role(user, REVIEWER_ROLES):
        return []
    pending = [SubmissionStatus.SUBMITTED]
    if user.is_superuser or user.has_role(Role.CENTER_ADMIN):
        pending.append(SubmissionStatus.REVIEWED)
    qs = scope_queryset(Submission.objects.filter(status__in=pending), user, roles=REVIEWER_ROLES)
    rows = (
        qs.values("dataset__code", "dataset__name", "period", "status")
        .annotate(n=Count("id"))
        .order_by("-period", "dataset__code", "status")
    )
    return [dict(row) for row in rows]


@role_required(*perms.READ_ROLES)
def home(request: HttpRequest) -> HttpResponse:
    """质控上报 home: the user's own forms with what needs doing, and the review queue."""
    user = request.user
    blocks = _own_forms(user)
    queue = _review_queue(user)
    todo = [(block, cell) for block in blocks for cell in block["cells"] if cell.todo]
    return render(
        request,
        "reporting/home.html",
        {
            "blocks": blocks,
            "todo": todo,
            "queue": queue,
            "queue_total": sum(q["n"] for q in queue),
            "is_reviewer": user_has_any_role(user, REVIEWER_ROLES),
            "can_browse": user_has_any_role(user, [Role.HEALTH_OFFICIAL]),
            "badges": STATUS_BADGES,
        },
    )


# --- entry page ----------------------------------------------------------------------------------


def _entry_context(
    request: HttpRequest, ref: FormRef, *, blockers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    user = request.user
    sub = ref.submission
    results = validate_submission(sub, for_submit=True) if sub else []
    returned = last_return(sub)
    failed = blockers is not None
    rows, loose = build_rows(ref, results, returned=returned, inline_all=failed)
    reason = block_reason(user, ref)
    window = ref.period.window(ref.dataset.due_days, ref.dataset.lock_days)
    status = sub.status if sub else SubmissionStatus.DRAFT
    ordered = sorted(blockers if blockers is not None else blocking(results), key=severity_rank)
    return {
        "ref": ref,
        "sub": sub,
        "rows": rows,
        "loose": loose,
        "editable": reason is None,
        "block_reason": reason,
        "can_submit": reason is None and perms.can_submit(user, ref.unit),
        "window": window,
        "status": status,
        "status_label": SubmissionStatus(status).label,
        "badge": STATUS_BADGES[SubmissionStatus(status)],
        "blockers": ordered,
        "missing": [b for b in ordered if b["code"] in SUBMIT_ONLY_CODES],
        "problems": [b for b in ordered if b["code"] not in SUBMIT_ONLY_CODES],
        "submit_failed": failed,
        "returned": returned,
        "row_version": sub.row_version if sub else 0,
        "storage_key": f"geriqc:entry:{user.pk}:{ref.unit.code}:{ref.dataset.code}:{ref.period}",
        "late": status in EDITABLE_STATUSES and window.is_late(),
        "can_review": perms.can_review(user, ref.unit),
        "detail_url": reverse("reporting:submission_detail", args=[sub.pk]) if sub else "",
        "results_json": [r for r in results if r["code"] not in SUBMIT_ONLY_CODES or failed],
    }


@role_required(*perms.READ_ROLES)
@never_cache
def entry(request: HttpRequest, unit: str, dataset: str, period: str) -> HttpResponse:
    """The data-entry page (read-only with the reason when the form cannot be edited)."""
    ref = form_ref(request.user, unit, dataset, period)
    return render(request, "reporting/entry.html", _entry_context(request, ref))


def _json_error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "status": status, "code": code, "message": message, **extra},
                        status=status)  # fmt: skip


def _parse_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("values", []), list):
        raise InputError([{"indicator": "", "field": "values", "message": _("请求格式不正确。")}])
    return body


@require_POST
@never_cache
def entry_save(request: HttpRequest, unit: str, dataset: str, period: str) -> JsonResponse:
    """Autosave endpoint (JSON): ``{"expected_version": n, "values": [{indicator, numerator?,
    denominator?, comment?, justification?}]}`` → the new row version, the time saved and the
    form's validation results. A save made by someone else in between answers 409."""
    user = request.user
    if not user.is_authenticated:
        return _json_error(401, "session_expired", _("登录已失效，请重新登录。"))
    if not perms.is_qc_user(user):
        raise Http404
    ref = form_ref(user, unit, dataset, period)
    if not perms.can_write(user, ref.unit):
        return _json_error(403, "permission_denied", _("您没有填报该单位数据的权限。"))
    try:
        body = _parse_body(request)
        expected = body.get("expected_version")
        expected = int(expected) if expected is not None else None
        sub, _created = services.get_or_create_draft(ref.unit, ref.dataset, ref.period, user)
        services.save_values(sub, body.get("values", []), user, ValueSource.WEB,
                             expected_version=expected)  # fmt: skip
    except ConflictError as exc:
        return _json_error(409, exc.code, exc.message, row_version=exc.current_version)
    except InputError as exc:
        return _json_error(400, exc.code, exc.message, errors=exc.errors)
    except ReportingError as exc:
        return _json_error(409, exc.code, exc.message)
    except (TypeError, ValueError):
        return _json_error(400, "invalid", _("数据版本号应为整数。"))
    except PermissionDenied as exc:
        return _json_error(403, "permission_denied", str(exc) or _("您没有执行此操作的权限。"))
    results = validate_submission(sub, for_submit=True)
    return JsonResponse(
        {
            "ok": True,
            "row_version": sub.row_version,
            "status": sub.status,
            "saved_at": local_time(clock.now()),
            "results": [r for r in results if r["code"] not in SUBMIT_ONLY_CODES],
            "blocking": sorted(blocking(results), key=severity_rank),
        }
    )


@require_POST
def entry_submit(request: HttpRequest, unit: str, dataset: str, period: str) -> HttpResponse:
    """Submit the form; when checks block it, the page comes back listing what to fix."""
    user = request.user
    if not user.is_authenticated or not perms.is_qc_user(user):
        raise Http404
    ref = form_ref(user, unit, dataset, period)
    if not perms.can_submit(user, ref.unit):
        raise PermissionDenied(_("您没有上报该单位数据的权限。"))
    try:
        sub, _created = services.get_or_create_draft(ref.unit, ref.dataset, ref.period, user)
        ref.submission = sub
        services.submit(sub, user)
    except SubmitBlocked as exc:
        messages.error(request, exc.message)
        context = _entry_context(request, ref, blockers=exc.blockers)
        return render(request, "reporting/entry.html", context, status=400)
    except NotEditable as exc:
        messages.error(request, exc.message)
        return redirect(ref.url)
    except ReportingError as exc:
        messages.error(request, exc.message)
        return redirect(ref.url)
    messages.success(
        request,
        _("已上报 %(ds)s（%(period)s），等待审核。")
        % {"ds": ref.dataset.name, "period": ref.period.label},
    )
    return redirect(ref.url)


@require_GET
def value_history(
    request: HttpRequest, unit: str, dataset: str, period: str, code: str
) -> HttpResponse:
    """HTML fragment: who changed this value, when, from where, and what it was before."""
    user = request.user
    if not user.is_authenticated or not perms.is_qc_user(user):
        raise Http404
    ref = form_ref(user, unit, dataset, period)
    changes = (
        ValueChange.objects.filter(submission=ref.submission, value__indicator__code=code)
        .select_related("changed_by", "changed_by_token")
        .order_by("-changed_at", "-id")
        if ref.submission
        else ValueChange.objects.none()
    )
    item = (
        ref.dataset.items.filter(indicator__code=code)
        .select_related("indicator__current_version")
        .first()
    )
    if item is None:
        raise Http404
    rows = [
        {
            "at": c.changed_at,
            "by": c.changed_by.get_full_name() if c.changed_by else "",
            "token": c.changed_by_token.name if c.changed_by_token else "",
            "source": c.get_source_display(),
            "numerator": (plain(c.old_numerator), plain(c.new_numerator)),
            "denominator": (plain(c.old_denominator), plain(c.new_denominator)),
            "comment": (c.old_comment, c.new_comment),
        }
        for c in changes
    ]
    return render(
        request,
        "reporting/_value_history.html",
        {"changes": rows, "indicator": item.indicator, "version": item.indicator.current_version},
    )
