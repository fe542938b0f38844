"""The reporting workflow: drafts, saving values (from any source), submit, approve, return,
reopen, and the units expected to report.

Every function checks the caller's rights through :mod:`qc_core.reporting.permissions` (pass
``user=None`` only from trusted system code such as ``seed_demo``), runs in a transaction, writes
the audit trail and, for transitions, notifies the people concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from qc_core.accounts.choices import Role
from qc_core.audit.choices import Action
from qc_core.audit.services import record
from qc_core.indicators.models import DataSet
from qc_core.indicators.periods import Period
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit
from qc_core.reporting import permissions as perms
from qc_core.reporting.choices import (
    EDITABLE_STATUSES,
    ReviewAction,
    SubmissionStatus,
)
from qc_core.reporting.errors import (
    ConflictError,
    InputError,
    NotEditable,
    SubmitBlocked,
    WorkflowError,
)
from qc_core.reporting.models import ReviewEvent, Submission
from qc_core.reporting.validation import blocking, validate_submission
from qc_core.reporting.values import SaveResult, save_values, snapshot
from qc_core.system import clock

__all__ = [
    "ConflictError",
    "InputError",
    "NotEditable",
    "SaveResult",
    "SubmitBlocked",
    "WorkflowError",
    "approve",
    "changes_since_return",
    "edit_block_reason",
    "expected_units",
    "get_or_create_draft",
    "reopen",
    "return_submission",
    "save_values",
    "submit",
]

# A submission returned close to (or after) its lock stays editable at least this long.
RETURN_GRACE = timedelta(days=7)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("您没有执行此操作的权限。"))


def edit_block_reason(submission: Submission, now: datetime | None = None) -> str | None:
    """Why values of ``submission`` cannot be changed now (``None``: they can)."""
    now = now or clock.now()
    status = submission.status
    if status == SubmissionStatus.APPROVED:
        return _("该报表已审核通过，数据不能再修改；如需更正，请联系省质控中心重新开放。")
    if status not in EDITABLE_STATUSES:
        return _("该报表已上报、正在审核，不能修改；如需修改，请联系审核人退回。")
    if submission.is_reopened(now):
        return None
    window = submission.window
    if window.not_yet_open(now):
        return _("本期尚未结束：%(period)s 的填报自 %(opens)s 起开放。") % {
            "period": submission.period,
            "opens": f"{window.opens_at:%Y-%m-%d}",
        }
    if window.is_locked(now):
        return _(
            "%(period)s 的填报已于 %(lock)s 锁定；如需补报或修改，请联系省质控中心重新开放。"
        ) % {
            "period": submission.period,
            "lock": f"{window.lock_at:%Y-%m-%d %H:%M}",
        }
    return None


def get_or_create_draft(
    org_unit: OrgUnit, dataset: DataSet, period: str | Period, user: Any
) -> tuple[Submission, bool]:
    """The unit's submission of ``dataset`` for ``period`` (whatever its status), created as a
    draft when missing and the entry window has opened. Returns ``(submission, created)``."""
    if user is not None:
        _require(perms.can_write(user, org_unit))
    try:
        parsed = Period.parse(str(period), dataset.period_type)
    except ValueError as exc:
        raise InputError([{"indicator": "", "field": "period", "message": str(exc)}]) from None
    existing = Submission.objects.filter(
        org_unit=org_unit, dataset=dataset, period=str(parsed)
    ).first()
    if existing is not None:
        return existing, False
    if not dataset.is_active:
        raise WorkflowError(_("报表“%(ds)s”已停用。") % {"ds": dataset.name})
    if not dataset.units.filter(pk=org_unit.pk).exists():
        raise WorkflowError(
            _("单位“%(unit)s”未被分配填报报表“%(ds)s”。")
            % {"unit": org_unit.name, "ds": dataset.name}
        )
    window = parsed.window(dataset.due_days, dataset.lock_days)
    if window.not_yet_open():
        raise WorkflowError(
            _("本期尚未结束：%(period)s 的填报自 %(opens)s 起开放。")
            % {"period": parsed, "opens": f"{window.opens_at:%Y-%m-%d}"}
        )
    with transaction.atomic():
        submission, created = Submission.objects.get_or_create(
            org_unit=org_unit, dataset=dataset, period=str(parsed)
        )
    return submission, created


# --- transitions -------------------------------------------------------------------------------


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update()
        .select_related("org_unit", "dataset")
        .get(pk=submission.pk)
    )


def _transition(
    submission: Submission,
    user: Any,
    action: ReviewAction,
    old_status: str,
    changes: dict[str, Any],
    *,
    reason: str = "",
    items: list[dict[str, str]] | None = None,
) -> ReviewEvent:
    """Apply ``changes`` with a conditional update (the status must still be ``old_status``),
    then record the review event and the audit entry."""
    now = changes.setdefault("updated_at", clock.now())
    updated = Submission.objects.filter(pk=submission.pk, status=old_status).update(**changes)
    if not updated:
        raise WorkflowError(_("该报表的状态刚被他人更改，请刷新后重试。"))
    submission.refresh_from_db()
    actor = user if getattr(user, "pk", None) else None
    event = ReviewEvent.objects.create(
        submission=submission,
        action=action,
        actor=actor,
        at=now,
        reason=reason,
        items=items or [],
        snapshot=snapshot(submission),
    )
    audit_changes: dict[str, Any] = {"status": [old_status, submission.status]}
    for name in ("reopened_until", "approved_at", "reviewed_at", "returned_at"):
        if name in changes:
            audit_changes[name] = [None, changes[name]]
    record(
        Action.UPDATE,
        user=actor,
        obj=submission,
        changes=audit_changes,
        extra={"workflow": str(action), "reason": reason, "items": items or []},
    )
    return event


def submit(submission: Submission, user: Any) -> Submission:
    """Submit (or resubmit after a return). Refused while errors or unjustified warnings
    remain (:class:`SubmitBlocked` carries the results)."""
    with transaction.atomic():
        sub = _lock(submission)
        if user is not None:
            _require(perms.can_submit(user, sub.org_unit))
        reason = edit_block_reason(sub)
        if reason:
            raise NotEditable(reason)
        results = validate_submission(sub, for_submit=True)
        blockers = blocking(results)
        if blockers:
            raise SubmitBlocked(results, blockers)
        now = clock.now()
        action = ReviewAction.RESUBMIT if sub.first_submitted_at else ReviewAction.SUBMIT
        changes: dict[str, Any] = {
            "status": SubmissionStatus.SUBMITTED,
            "first_submitted_at": sub.first_submitted_at or now,
            "last_submitted_at": now,
            "reopened_until": None,
            "updated_at": now,
        }
        _transition(sub, user, action, sub.status, changes)
        _notify_submitted(sub, user)
    return sub


def approve(submission: Submission, user: Any, reason: str = "") -> Submission:
    """Approve a submitted form. With sub-center review configured on the data set, a sub-center
    admin's approval moves it to *reviewed* and a center admin's to *approved* (a center admin
    may approve directly); otherwise either approves."""
    with transaction.atomic():
        sub = _lock(submission)
        _require(user is not None and perms.can_review(user, sub.org_unit))
        center = perms.is_center_reviewer(user, sub.org_unit)
        now = clock.now()
        if sub.status not in (SubmissionStatus.SUBMITTED, SubmissionStatus.REVIEWED):
            raise WorkflowError(
                _("当前状态为“%(s)s”，只有已上报的报表可以审核。") % {"s": sub.get_status_display()}
            )
        if sub.dataset.subcenter_review and not center:
            if sub.status == SubmissionStatus.REVIEWED:
                raise WorkflowError(_("分中心已审核该报表，等待省质控中心审核。"))
            _transition(
                sub,
                user,
                ReviewAction.SUBCENTER_APPROVE,
                sub.status,
                {"status": SubmissionStatus.REVIEWED, "reviewed_at": now, "reviewed_by": user},
                reason=reason,
            )
            _notify(sub, "submission.reviewed", [Role.CENTER_ADMIN], user, reason)
            return sub
        _transition(
            sub,
            user,
            ReviewAction.APPROVE,
            sub.status,
            {
                "status": SubmissionStatus.APPROVED,
                "approved_at": now,
                "approved_by": user,
                "reopened_until": None,
            },
            reason=reason,
        )
        _notify(sub, "submission.approved", [Role.UNIT_REPORTER], user, reason)
    return sub


def return_submission(
    submission: Submission, user: Any, reason: str, items: list[dict[str, str]] | None = None
) -> Submission:
    """Return a submitted form to the unit with a reason and per-indicator reasons
    (``[{"indicator": code, "reason": text}]``). The unit can edit and resubmit; if the entry
    window locks within a week, the form stays open for a week (:data:`RETURN_GRACE`)."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError([{"indicator": "", "field": "reason", "message": _("请填写退回原因。")}])
    with transaction.atomic():
        sub = _lock(submission)
        _require(user is not None and perms.can_review(user, sub.org_unit))
        clean_items = _clean_items(sub, items or [])
        center = perms.is_center_reviewer(user, sub.org_unit)
        allowed = {SubmissionStatus.SUBMITTED} | ({SubmissionStatus.REVIEWED} if center else set())
        if sub.status not in allowed:
            raise WorkflowError(
                _("当前状态为“%(s)s”，不能退回。") % {"s": sub.get_status_display()}
            )
        now = clock.now()
        changes: dict[str, Any] = {"status": SubmissionStatus.RETURNED, "returned_at": now}
        if sub.window.lock_at < now + RETURN_GRACE:
            changes["reopened_until"] = now + RETURN_GRACE
        _transition(
            sub, user, ReviewAction.RETURN, sub.status, changes, reason=reason, items=clean_items
        )
        _notify(sub, "submission.returned", [Role.UNIT_REPORTER], user, reason, clean_items)
    return sub


def reopen(submission: Submission, user: Any, until: datetime, reason: str) -> Submission:
    """Let the unit edit again until ``until`` — after the lock or after approval (center admins
    only, audited). A submitted or approved form goes back to draft and must be resubmitted."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError(
            [{"indicator": "", "field": "reason", "message": _("请填写重新开放的原因。")}]
        )
    if until <= clock.now():
        raise InputError(
            [
                {
                    "indicator": "",
                    "field": "until",
                    "message": _("重新开放的截止时间必须晚于当前时间。"),
                }
            ]
        )
    with transaction.atomic():
        sub = _lock(submission)
        _require(user is not None and perms.can_reopen(user, sub.org_unit))
        status = sub.status if sub.status in EDITABLE_STATUSES else SubmissionStatus.DRAFT
        _transition(
            sub,
            user,
            ReviewAction.REOPEN,
            sub.status,
            {"status": status, "reopened_until": until},
            reason=reason,
        )
        _notify(sub, "submission.reopened", [Role.UNIT_REPORTER], user, reason)
    return sub


def _clean_items(sub: Submission, items: list[Any]) -> list[dict[str, str]]:
    codes = set(sub.dataset.items.values_list("indicator__code", flat=True))
    clean: list[dict[str, str]] = []
    errors = []
    for n, item in enumerate(items, start=1):
        code = str((item or {}).get("indicator", "")).strip() if isinstance(item, dict) else ""
        text = str(item.get("reason", "")).strip() if isinstance(item, dict) else ""
        if code not in codes:
            errors.append(
                {
                    "indicator": code,
                    "field": "items",
                    "message": _("第 %(n)d 条逐项意见：指标“%(code)s”不在该报表中。")
                    % {"n": n, "code": code},
                }
            )
        elif not text:
            errors.append(
                {
                    "indicator": code,
                    "field": "items",
                    "message": _("第 %(n)d 条逐项意见（%(code)s）未填写原因。")
                    % {"n": n, "code": code},
                }
            )
        else:
            clean.append({"indicator": code, "reason": text})
    if errors:
        raise InputError(errors)
    return clean


# --- notifications -----------------------------------------------------------------------------


def submission_url(sub: Submission, *, for_unit: bool = False) -> str:
    """A link for notifications: the unit's data-entry page (``for_unit``) or the review page,
    whichever pages are installed; the submission list as a fallback."""
    from django.urls import NoReverseMatch, reverse

    candidates: list[tuple[str, list[Any]]] = [("reporting:submission_detail", [sub.pk])]
    if for_unit:
        entry_args: list[Any] = [sub.org_unit.code, sub.dataset.code, sub.period]
        candidates.insert(0, ("reporting:entry", entry_args))
    candidates.append(("reporting:submission_list", []))
    for name, args in candidates:
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return ""


def _context(sub: Submission, user: Any, reason: str = "", items: Any = None) -> dict[str, Any]:
    return {
        "unit": sub.org_unit.name,
        "unit_code": sub.org_unit.code,
        "dataset": sub.dataset.name,
        "period": sub.period,
        "period_label": Period.parse(sub.period, sub.dataset.period_type).label,
        "status": sub.get_status_display(),
        "actor": user.get_full_name() if user is not None else _("系统"),
        "reason": reason,
        "items": items or [],
    }


def _notify(
    sub: Submission,
    event: str,
    roles: Sequence[str],
    user: Any,
    reason: str = "",
    items: Any = None,
) -> None:
    from qc_core.notify.services import notify

    for_unit = Role.UNIT_REPORTER in roles
    notify(
        event,
        roles,
        _context(sub, user, reason, items),
        url=submission_url(sub, for_unit=for_unit),
        org_unit=sub.org_unit,
    )


def _notify_submitted(sub: Submission, user: Any) -> None:
    roles = [Role.SUBCENTER_ADMIN]
    if not sub.dataset.subcenter_review:
        roles.append(Role.CENTER_ADMIN)
    _notify(sub, "submission.submitted", roles, user)


# --- reading -----------------------------------------------------------------------------------


def expected_units(dataset: DataSet, period: str | Period) -> QuerySet[OrgUnit]:
    """Institutions assigned to ``dataset`` that were members on the period's last day
    (``member_since``/``member_until`` respected; units that left later still owe the period)."""
    if isinstance(period, str):
        period = Period.parse(period, dataset.period_type)
    end = period.end
    return (
        dataset.units.filter(level=Level.INSTITUTION, is_active=True)
        .filter(Q(member_since__isnull=True) | Q(member_since__lte=end))
        .filter(Q(member_until__isnull=True, is_member=True) | Q(member_until__gte=end))
        .order_by("path")
    )


def changes_since_return(submission: Submission) -> list[dict[str, Any]]:
    """What changed since the form was last returned: ``[{indicator, field, old, new}]`` comparing
    the snapshot taken at the return with the current values (empty if never returned)."""
    last_return = (
        submission.events.filter(action=ReviewAction.RETURN).order_by("-at", "-id").first()
    )
    if last_return is None:
        return []
    before = last_return.snapshot or {}
    after = snapshot(submission)
    diff = []
    for code in sorted(set(before) | set(after)):
        old, new = before.get(code, {}), after.get(code, {})
        for name in ("numerator", "denominator", "comment", "justification"):
            if old.get(name) != new.get(name):
                diff.append(
                    {"indicator": code, "field": name, "old": old.get(name), "new": new.get(name)}
                )
    return diff
