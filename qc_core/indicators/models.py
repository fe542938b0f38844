"""The indicator library: indicators with versioned definitions, data sets (forms) and
declarative cross-indicator validation rules.

An :class:`Indicator` is the stable identity (its code); every change of its definition makes a
new :class:`IndicatorVersion`, and reported values keep a reference to the version they were
saved under, so trends can mark where a definition changed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.indicators.choices import (
    Direction,
    IndicatorSet,
    Kind,
    Operator,
    PeriodType,
    RulePart,
    Severity,
    Status,
    Unit,
)
from qc_core.orgs.models import code_validator

MULTIPLIER_CHOICES = [(Decimal("1"), "1"), (Decimal("100"), "100"), (Decimal("1000"), "1000")]


class Indicator(models.Model):
    """The stable identity of an indicator. Its definition lives in its versions."""

    code = models.CharField(_("指标代码"), max_length=32, unique=True, validators=[code_validator])
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    current_version = models.ForeignKey(
        "IndicatorVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("当前版本"),
    )
    # SHA-256 of the library CSV row last applied by load_indicators: a re-run changes nothing
    # unless the CSV row itself changed (edits made in the UI are never reverted).
    source_hash = models.CharField(_("来源行哈希"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        version = self.current_version
        return f"{self.code} {version.name}" if version else self.code


class IndicatorVersion(models.Model):
    """One definition of an indicator, valid from ``effective_from`` until ``effective_to``
    (``None``: the current version). Never edited after a value was reported under it; a change
    makes a new version (see :func:`qc_core.indicators.services.revise_indicator`)."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="versions", verbose_name=_("指标")
    )
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("指标名称"), max_length=200)
    set = models.CharField(_("指标集"), max_length=32, choices=IndicatorSet.choices)
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    numerator_def = models.TextField(_("分子定义"))
    denominator_def = models.TextField(
        _("分母定义"), blank=True, help_text=_("留空表示计数型指标：指标值即分子。")
    )
    unit = models.CharField(_("单位"), max_length=8, choices=Unit.choices)
    multiplier = models.DecimalField(
        _("乘数"), max_digits=6, decimal_places=0, choices=MULTIPLIER_CHOICES, default=Decimal("1")
    )
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices)
    target = models.DecimalField(
        _("目标值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    warning_threshold = models.DecimalField(
        _("预警阈值"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    basis = models.TextField(_("依据"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices)
    integer_only = models.BooleanField(
        _("只允许整数"), default=True, help_text=_("分子、分母为人数、例次、床日等计数时应为整数。")
    )
    numerator_le_denominator = models.BooleanField(
        _("分子不得大于分母"),
        default=False,
        help_text=_("率（%、‰）的分子是分母的子集时勾选；病床使用率等可超过 100% 的指标不勾选。"),
    )
    is_definition_change = models.BooleanField(
        _("口径变化"),
        default=False,
        help_text=_("与上一版本相比分子、分母、单位或乘数发生变化：趋势图在此处断开。"),
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    change_note = models.TextField(_("修订说明"), blank=True)

    class Meta:
        verbose_name = _("指标版本")
        verbose_name_plural = _("指标版本")
        ordering = ["indicator", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "version"], name="unique_indicator_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} v{self.version} {self.name}"

    @property
    def is_current(self) -> bool:
        return self.effective_to is None

    @property
    def has_denominator(self) -> bool:
        """False for a count: the value is the numerator itself."""
        return bool(self.denominator_def.strip())

    @property
    def unit_label(self) -> str:
        """The unit shown after a value (translated: 天 → days); none for ratios, indexes, counts."""
        if self.unit in (Unit.RATIO, Unit.INDEX, Unit.COUNT):
            return ""
        return str(self.get_unit_display())

    def rate(self, numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
        """The indicator value: numerator ÷ denominator × multiplier (the numerator for a count);
        ``None`` when a part is missing or the denominator is zero."""
        if numerator is None:
            return None
        if not self.has_denominator:
            return Decimal(numerator) * self.multiplier
        if denominator is None or denominator == 0:
            return None
        return Decimal(numerator) / Decimal(denominator) * self.multiplier


class DataSet(models.Model):
    """A reporting form: a named list of indicators reported per period by assigned units.

    The entry window of a period opens the day after the period ends, is due ``due_days`` and
    locked ``lock_days`` after the period end (see :mod:`qc_core.indicators.periods`).
    """

    code = models.CharField(_("报表代码"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("报表名称"), max_length=200)
    period_type = models.CharField(_("周期"), max_length=8, choices=PeriodType.choices)
    due_days = models.PositiveSmallIntegerField(
        _("截止天数"), default=15, help_text=_("周期结束后多少天内应上报。")
    )
    lock_days = models.PositiveSmallIntegerField(
        _("锁定天数"), default=30, help_text=_("周期结束后多少天锁定，之后只能由省中心重新开放。")
    )
    subcenter_review = models.BooleanField(
        _("州市分中心初审"),
        default=False,
        help_text=_("勾选后，上报须先经州市分中心审核，再由省中心审核通过。"),
    )
    rate_jump_factor = models.DecimalField(
        _("突变倍数"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("指标值与上期相比变化超过此倍数时给出警告；留空使用系统默认值（3 倍）。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)
    indicators = models.ManyToManyField(
        Indicator, through="DataSetItem", related_name="datasets", verbose_name=_("指标")
    )
    units = models.ManyToManyField(
        "orgs.OrgUnit", blank=True, related_name="datasets", verbose_name=_("填报单位")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("报表")
        verbose_name_plural = _("报表")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def jump_factor(self) -> Decimal:
        if self.rate_jump_factor:
            return self.rate_jump_factor
        return Decimal(str(getattr(settings, "QC_RATE_JUMP_FACTOR", 3)))


class DataSetItem(models.Model):
    """One indicator on a form, in display order."""

    dataset = models.ForeignKey(
        DataSet, on_delete=models.CASCADE, related_name="items", verbose_name=_("报表")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="dataset_items", verbose_name=_("指标")
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)
    required = models.BooleanField(_("必填"), default=True)

    class Meta:
        verbose_name = _("报表指标")
        verbose_name_plural = _("报表指标")
        ordering = ["dataset", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "indicator"], name="unique_dataset_indicator"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset.code} · {self.indicator.code}"


class ValidationRule(models.Model):
    """A cross-indicator check, ``left.part OPERATOR right.part`` (e.g. GER-O02 numerator ≤
    GER-O01 numerator). Applies to every data set holding both indicators, or to one data set."""

    code = models.CharField(_("规则代码"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("规则名称"), max_length=200)
    left_indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="+", verbose_name=_("左侧指标")
    )
    left_part = models.CharField(_("左侧取值"), max_length=16, choices=RulePart.choices)
    operator = models.CharField(_("运算符"), max_length=2, choices=Operator.choices)
    right_indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="+", verbose_name=_("右侧指标")
    )
    right_part = models.CharField(_("右侧取值"), max_length=16, choices=RulePart.choices)
    severity = models.CharField(
        _("级别"),
        max_length=8,
        choices=[
            (Severity.ERROR, Severity.ERROR.label),
            (Severity.WARNING, Severity.WARNING.label),
        ],
        default=Severity.ERROR,
    )
    message = models.CharField(_("提示信息"), max_length=300)
    is_active = models.BooleanField(_("启用"), default=True)
    dataset = models.ForeignKey(
        DataSet,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        verbose_name=_("适用报表"),
        help_text=_("留空表示适用于所有包含这两个指标的报表。"),
    )

    class Meta:
        verbose_name = _("校验规则")
        verbose_name_plural = _("校验规则")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
