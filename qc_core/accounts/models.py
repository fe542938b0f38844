"""Users and their role assignments. A user may hold several roles, each with an org-unit scope."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from qc_core.accounts.choices import ROLE_UNIT_LEVELS, UNIT_SCOPED_ROLES, Role
from qc_core.orgs.choices import Level


class User(AbstractUser):
    """A GeriQC account. Names are Chinese full names, so one ``full_name`` replaces first/last."""

    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=32, blank=True)
    must_change_password = models.BooleanField(
        _("须修改密码"),
        default=False,
        help_text=_("管理员创建或重置密码的账户在首次登录时必须修改密码。"),
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示账户"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return (
            f"{self.full_name or self.username}（{self.username}）"
            if self.full_name
            else self.username
        )

    def get_full_name(self) -> str:
        return self.full_name or self.username

    @property
    def role_set(self) -> set[str]:
        """The user's role codes, cached on the instance for the request."""
        cached = getattr(self, "_role_set", None)
        if cached is None:
            cached = set(self.role_assignments.values_list("role", flat=True))
            self._role_set = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))


class RoleAssignment(models.Model):
    """``user`` holds ``role`` over ``org_unit``'s subtree (operations and expert roles: no unit)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("用户")
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("范围单位"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"], name="unique_role_assignment"
            ),
        ]

    def __str__(self) -> str:
        where = f" @ {self.org_unit.name}" if self.org_unit_id and self.org_unit else ""
        return f"{self.user.username}: {self.get_role_display()}{where}"

    def clean(self) -> None:
        if self.role in UNIT_SCOPED_ROLES:
            if self.org_unit is None:
                raise ValidationError({"org_unit": _("该角色必须指定范围单位。")})
            allowed = ROLE_UNIT_LEVELS[Role(self.role)]
            if self.org_unit.level not in allowed:
                raise ValidationError(
                    {
                        "org_unit": _("角色“%(role)s”的范围单位层级不符（应为：%(levels)s）。")
                        % {
                            "role": self.get_role_display(),
                            "levels": pgettext("list separator", "、").join(
                                str(Level(level).label) for level in sorted(allowed)
                            ),
                        }
                    }
                )
        elif self.org_unit is not None:
            raise ValidationError({"org_unit": _("该角色不按单位划分范围，请留空。")})


# Per-unit API tokens live in their own module; imported here so Django registers the model.
from qc_core.accounts.tokens import UnitApiToken  # noqa: E402

__all__ = ["RoleAssignment", "UnitApiToken", "User"]
