"""Who may do what with submissions — decided through :mod:`qc_core.accounts.scope` only.

- read: center admins and health officials (province), sub-center admins (their prefecture),
  reporters and hospital leaders (their institution);
- write values and submit: reporters (their institution) and center admins;
- approve / return: center admins (province) and sub-center admins (their prefecture);
- reopen: center admins;
- a unit API token: read and write the drafts of its one unit, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from qc_core.accounts.choices import Role
from qc_core.accounts.scope import Scope, has_role_over, user_scope
from qc_core.accounts.tokens import UnitApiToken, UnitTokenPrincipal
from qc_core.indicators.choices import QC_ROLES

READ_ROLES = QC_ROLES
WRITE_ROLES = frozenset({Role.UNIT_REPORTER, Role.CENTER_ADMIN})
REVIEW_ROLES = frozenset({Role.CENTER_ADMIN, Role.SUBCENTER_ADMIN})
REOPEN_ROLES = frozenset({Role.CENTER_ADMIN})


def token_of(user: Any) -> UnitApiToken | None:
    """The unit token a request authenticated with, if any."""
    return user.token if isinstance(user, UnitTokenPrincipal) else None


def is_qc_user(user: Any) -> bool:
    """May use the QC reporting features at all (any QC role, or a unit token)."""
    if token_of(user) is not None:
        return True
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_superuser or user.has_role(*READ_ROLES))
    )


def reading_scope(user: Any) -> Scope:
    """The org units whose submissions ``user`` may read."""
    token = token_of(user)
    if token is not None:
        return Scope(everything=False, paths=(token.org_unit.path,))
    return user_scope(user, READ_ROLES)


def scoped_submissions(qs: QuerySet[Any], user: Any, field: str = "org_unit") -> QuerySet[Any]:
    """``qs`` limited to what ``user`` may read (``field`` leads to the OrgUnit)."""
    scope = reading_scope(user)
    if scope.empty:
        return qs.none()
    return qs if scope.everything else qs.filter(scope.q(field))


def can_read(user: Any, unit: Any) -> bool:
    return reading_scope(user).contains(unit)


def can_write(user: Any, unit: Any) -> bool:
    """May write values of ``unit``'s forms (drafts; subject to status and window)."""
    token = token_of(user)
    if token is not None:
        return token.org_unit_id == unit.pk
    return has_role_over(user, WRITE_ROLES, unit)


def can_submit(user: Any, unit: Any) -> bool:
    return token_of(user) is None and has_role_over(user, WRITE_ROLES, unit)


def can_review(user: Any, unit: Any) -> bool:
    return token_of(user) is None and has_role_over(user, REVIEW_ROLES, unit)


def is_center_reviewer(user: Any, unit: Any) -> bool:
    return token_of(user) is None and has_role_over(user, {Role.CENTER_ADMIN}, unit)


def can_reopen(user: Any, unit: Any) -> bool:
    return token_of(user) is None and has_role_over(user, REOPEN_ROLES, unit)
