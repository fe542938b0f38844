"""Who may see a ticket and on which side they act.

Visibility goes through the one scope module: a requester sees their own tickets and those of
the org units their unit-scoped roles reach (a reporter of hospital A sees none of hospital B's);
engineers and the ops manager see all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ops_portal.models import Ticket
from qc_core.accounts.choices import UNIT_SCOPED_ROLES, Role
from qc_core.accounts.scope import user_scope

STAFF_ROLES = (Role.ENGINEER, Role.OPS_MANAGER)


def is_ops_staff(user: Any) -> bool:
    """Engineers and the ops manager work tickets (the operations side)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_role(*STAFF_ROLES))
    )


def is_ops_manager(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_role(Role.OPS_MANAGER)))


def visible_tickets(user: Any, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets ``user`` may see."""
    qs = Ticket.objects.all() if qs is None else qs
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_ops_staff(user):
        return qs
    scope = user_scope(user, UNIT_SCOPED_ROLES)
    mine = Q(requester=user)
    return qs.filter(mine if scope.empty else mine | scope.q("org_unit"))


def can_see(user: Any, ticket: Ticket) -> bool:
    if is_ops_staff(user):
        return True
    if ticket.requester_id is not None and ticket.requester_id == getattr(user, "pk", None):
        return True
    return (
        user_scope(user, UNIT_SCOPED_ROLES).contains(ticket.org_unit)
        if ticket.org_unit_id
        else False
    )


def home_units(user: Any) -> list[Any]:
    """The org units of the user's unit-scoped role assignments (a reporter's own hospital)."""
    from qc_core.orgs.models import OrgUnit

    ids = user.role_assignments.filter(role__in=UNIT_SCOPED_ROLES, org_unit__isnull=False).values(
        "org_unit"
    )
    return list(OrgUnit.objects.filter(pk__in=ids, is_active=True).order_by("path"))


def may_file_for(user: Any, unit: Any) -> bool:
    """Whether ``user`` may open a ticket on behalf of ``unit`` (inside their scope; staff: any)."""
    if is_ops_staff(user):
        return True
    return unit is not None and user_scope(user, UNIT_SCOPED_ROLES).contains(unit)
