"""Sign-in, sign-out and failed sign-in entries, from Django's auth signals (the login views
belong to the accounts app; the audit trail only listens)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from qc_core.audit.choices import Action


def home_unit(user: Any) -> int | None:
    """The org unit an account (a user or its id) belongs to: the unit of its first unit-scoped
    role, or none."""
    user_id = getattr(user, "pk", user)
    if user_id is None:
        return None
    from qc_core.accounts.models import RoleAssignment

    return (
        RoleAssignment.objects.filter(user_id=user_id, org_unit__isnull=False)
        .order_by("id")
        .values_list("org_unit_id", flat=True)
        .first()
    )


def on_logged_in(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    from qc_core.audit.services import record

    if user is not None:
        record(Action.LOGIN, request=request, user=user, org_unit=home_unit(user))


def on_logged_out(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    from qc_core.audit.services import record

    if user is not None and user.is_authenticated:
        record(Action.LOGOUT, request=request, user=user, org_unit=home_unit(user))


def on_login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **_: Any
) -> None:
    """Record the attempted username only; Django has already masked the password, and it is
    never read here anyway."""
    from qc_core.audit.services import record

    field = get_user_model().USERNAME_FIELD
    attempted = str((credentials or {}).get(field) or "").strip()
    account = (
        get_user_model()._default_manager.filter(**{field: attempted}).first()
        if attempted
        else None
    )
    extra: dict[str, Any] = {}
    if request is not None and getattr(request, "axes_locked_out", False):
        extra["locked"] = True
    if account is None and attempted:
        extra["unknown_user"] = True
    record(
        Action.LOGIN_FAILED,
        request=request,
        user=AnonymousUser(),
        username=attempted,
        org_unit=home_unit(account),
        extra=extra,
    )


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="audit:logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit:logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit:login_failed")
