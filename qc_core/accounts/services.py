"""Account operations: creating users, assigning roles, password changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from qc_core.accounts.models import RoleAssignment, User
from qc_core.system import clock


@transaction.atomic
def create_user(
    username: str,
    password: str,
    *,
    full_name: str = "",
    email: str = "",
    roles: list[tuple[str, Any]] | None = None,
    created_by_admin: bool = True,
    validate: bool = True,
) -> User:
    """Create an account. Accounts created by an administrator must change their password at
    first login."""
    user = User(
        username=username, full_name=full_name, email=email, must_change_password=created_by_admin
    )
    if validate:
        validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    for role, unit in roles or []:
        assign_role(user, role, unit)
    return user


def assign_role(user: User, role: str, org_unit: Any = None) -> RoleAssignment:
    """Give ``user`` ``role`` over ``org_unit`` (validated: the unit level must fit the role)."""
    # Validate before writing, so a refused assignment leaves nothing behind.
    RoleAssignment(user=user, role=role, org_unit=org_unit).full_clean(
        validate_unique=False, validate_constraints=False
    )
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, role=role, org_unit=org_unit
    )
    return assignment


def record_password_change(user: User) -> None:
    """Called after a user sets their own password: lifts the first-login requirement."""
    User.objects.filter(pk=user.pk).update(
        must_change_password=False, password_changed_at=clock.now()
    )
    user.must_change_password = False


def admin_reset_password(user: User, new_password: str) -> None:
    """An administrator sets a password: the user must change it at next login."""
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
