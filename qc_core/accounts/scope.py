"""The one place that decides which org units — and so which rows — a user may see.

Every view and API filters its queryset through :func:`scope_queryset` (or :func:`visible_units`);
none filters by org unit by hand. A scope is "everything" (province-wide and operations roles,
superusers) or a set of subtree roots given by the user's role assignments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet

from qc_core.accounts.choices import (
    OPERATIONS_ROLES,
    PROVINCE_WIDE_ROLES,
    USER_ADMIN_ROLES,
    Role,
)

if TYPE_CHECKING:
    from qc_core.orgs.models import OrgUnit

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """A user's reach: ``everything`` or the subtrees under ``paths``."""

    everything: bool
    paths: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.everything and not self.paths

    def q(self, field: str = "") -> Q:
        """A filter for rows whose org unit (reached through ``field``) lies inside the scope.

        ``field`` is the lookup path to an OrgUnit (``"org_unit"``, ``"submission__org_unit"``);
        the empty string filters OrgUnit rows themselves.
        """
        if self.everything:
            return Q()
        lookup = f"{field}__path__startswith" if field else "path__startswith"
        result = Q(pk__in=[])
        for path in self.paths:
            result |= Q(**{lookup: path})
        return result

    def contains(self, unit: OrgUnit | None) -> bool:
        if self.everything:
            return True
        if unit is None:
            return False
        return any(unit.path.startswith(p) for p in self.paths)


def _assignments(user: Any) -> list[Any]:
    cached = getattr(user, "_scope_assignments", None)
    if cached is None:
        cached = list(user.role_assignments.select_related("org_unit"))
        user._scope_assignments = cached
    return cached


def user_scope(user: Any, roles: Iterable[str] | None = None) -> Scope:
    """The scope granted to ``user`` by the assignments of ``roles`` (default: any role)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(everything=False)
    if user.is_superuser:
        return Scope(everything=True)
    wanted = set(roles) if roles is not None else None
    paths: list[str] = []
    for assignment in _assignments(user):
        if wanted is not None and assignment.role not in wanted:
            continue
        if assignment.role in PROVINCE_WIDE_ROLES or assignment.role in OPERATIONS_ROLES:
            return Scope(everything=True)
        if assignment.org_unit is not None and assignment.org_unit.is_active:
            paths.append(assignment.org_unit.path)
    # Drop roots nested inside other roots so the SQL stays short.
    roots = tuple(
        p for p in sorted(set(paths)) if not any(p != q and p.startswith(q) for q in paths)
    )
    return Scope(everything=False, paths=roots)


def scope_queryset(
    qs: QuerySet[M], user: Any, field: str = "org_unit", roles: Iterable[str] | None = None
) -> QuerySet[M]:
    """Filter ``qs`` to the rows ``user`` may see through ``field`` (an OrgUnit lookup path)."""
    scope = user_scope(user, roles)
    if scope.empty:
        return qs.none()
    if scope.everything:
        return qs
    return qs.filter(scope.q(field))


def visible_units(user: Any, roles: Iterable[str] | None = None) -> QuerySet[OrgUnit]:
    from qc_core.orgs.models import OrgUnit

    return scope_queryset(OrgUnit.objects.all(), user, field="", roles=roles)


def has_role_over(user: Any, roles: Iterable[str], unit: OrgUnit | None) -> bool:
    """True when one of ``roles`` held by ``user`` reaches ``unit``."""
    return user_scope(user, roles).contains(unit)


def visible_users(user: Any) -> QuerySet[Any]:
    """Accounts ``user`` may list: user administrators see those with a role inside their scope
    (center admins and ops managers see all); everyone else sees only themselves."""
    from qc_core.accounts.models import User

    if not user.is_authenticated:
        return User.objects.none()
    if user.is_superuser or user.has_role(Role.CENTER_ADMIN, Role.OPS_MANAGER):
        return User.objects.all()
    scope = user_scope(user, USER_ADMIN_ROLES)
    if scope.empty:
        return User.objects.filter(pk=user.pk)
    in_scope = User.objects.filter(scope.q("role_assignments__org_unit")).values("pk")
    return User.objects.filter(Q(pk__in=in_scope) | Q(pk=user.pk))
