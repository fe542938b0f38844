"""The org hierarchy: province → prefecture (州/市) → county → institution (→ department).

Each unit stores its materialized path (codes of its ancestors and itself, ``/``-separated and
``/``-terminated), so "this unit and everything under it" is one indexed ``LIKE 'path%'`` query.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.orgs.choices import HospitalLevel, Level

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{2,32}$", _("代码只能包含字母、数字、下划线和连字符（2–32 位）。")
)
credit_code_validator = RegexValidator(
    r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    _("统一社会信用代码应为 18 位（数字与大写字母，不含 I、O、Z、S、V）。"),
)


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def subtree(self, unit: OrgUnit) -> OrgUnitQuerySet:
        """The unit and all its descendants, in one query."""
        return self.filter(path__startswith=unit.path)

    def institutions(self) -> OrgUnitQuerySet:
        return self.filter(level=Level.INSTITUTION)

    def members(self) -> OrgUnitQuerySet:
        return self.filter(level=Level.INSTITUTION, is_member=True, is_active=True)


class OrgUnit(models.Model):
    """A node of the province's org tree: an administrative division or a medical institution."""

    code = models.CharField(_("代码"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices, db_index=True)
    kind = models.CharField(
        _("类别"), max_length=32, blank=True, help_text=_("如 地级市、自治州、县、三级医院")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("深度"), editable=False, default=0)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[credit_code_validator]
    )
    hospital_level = models.CharField(
        _("医院等级"), max_length=8, choices=HospitalLevel.choices, blank=True
    )
    is_member = models.BooleanField(_("质控成员单位"), default=False)
    member_since = models.DateField(_("加入日期"), null=True, blank=True)
    member_until = models.DateField(_("退出日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_demo = models.BooleanField(
        _("演示数据"), default=False, help_text=_("由 seed_demo 生成的演示机构")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织单位")
        verbose_name_plural = _("组织单位")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(member_until__isnull=True)
                | models.Q(member_since__isnull=True)
                | models.Q(member_until__gte=models.F("member_since")),
                name="orgunit_member_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.path = self.compute_path()
        self.depth = self.path.count("/") - 1
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id and self.parent else ""
        return f"{prefix}{self.code}/"

    @property
    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.split("/") if c][:-1]

    def ancestors(self) -> OrgUnitQuerySet:
        """Ancestors from the root down, in one query."""
        return OrgUnit.objects.filter(code__in=self.ancestor_codes).order_by("depth")

    def is_descendant_of(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)

    @property
    def prefecture(self) -> OrgUnit | None:
        codes = self.ancestor_codes + [self.code]
        return OrgUnit.objects.filter(code__in=codes, level=Level.PREFECTURE).first()
