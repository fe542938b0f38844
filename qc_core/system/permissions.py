"""Role checks for views and API (the data scope itself lives in ``qc_core.accounts.scope``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


def user_has_any_role(user: Any, roles: Iterable[str]) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(*roles)))


def role_required(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page decorator: anonymous → login page; signed in without one of ``roles`` → 403 page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if roles and not user_has_any_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasAnyRole(BasePermission):
    """DRF permission: ``permission_classes = [HasAnyRole.of(Role.CENTER_ADMIN, …)]``."""

    roles: frozenset[str] = frozenset()
    message = _("您没有执行此操作的权限。")

    @classmethod
    def of(cls, *roles: str) -> type[HasAnyRole]:
        return type("HasAnyRoleOf", (cls,), {"roles": frozenset(roles)})

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_any_role(request.user, self.roles)
