"""Submissions of a data set by a unit for a period, their values, value history and the review
trail. Business actions live in :mod:`qc_core.reporting.services`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.indicators.periods import Period, Window, window_for
from qc_core.reporting.choices import ReviewAction, SubmissionStatus, ValueSource
from qc_core.system import clock


class Submission(models.Model):
    """One unit's form (data set) for one period, from draft to approval.

    Timestamps keep first and last submission and approval so both "submitted on time" and
    "approved on time" can be reported. ``reopened_until`` is set by an audited reopen (center
    admin): until then the unit may edit even after the lock or after approval.
    ``row_version`` increases on every write of values (optimistic locking of concurrent edits).
    """

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="submissions", verbose_name=_("单位")
    )
    dataset = models.ForeignKey(
        "indicators.DataSet",
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("报表"),
    )
    period = models.CharField(_("周期"), max_length=8, db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.DRAFT,
        db_index=True,
    )
    first_submitted_at = models.DateTimeField(_("首次上报时间"), null=True, blank=True)
    last_submitted_at = models.DateTimeField(_("最近上报时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("分中心审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("分中心审核人"),
    )
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    reopened_until = models.DateTimeField(_("重新开放至"), null=True, blank=True)
    row_version = models.PositiveIntegerField(_("数据版本"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        verbose_name = _("上报")
        verbose_name_plural = _("上报")
        ordering = ["-period", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "dataset", "period"], name="unique_submission_per_period"
            )
        ]
        indexes = [
            models.Index(fields=["dataset", "period", "status"], name="submission_ds_period")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit.name} · {self.dataset.code} · {self.period}"

    @property
    def period_obj(self) -> Period:
        return Period.parse(self.period, self.dataset.period_type)

    @property
    def window(self) -> Window:
        return window_for(self.dataset, self.period)

    def is_reopened(self, now: object = None) -> bool:
        return self.reopened_until is not None and (now or clock.now()) <= self.reopened_until  # type: ignore[operator]


class DataValue(models.Model):
    """One indicator's numerator and denominator in a submission, tied to the indicator version
    it was saved under."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="values", verbose_name=_("上报")
    )
    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.PROTECT, related_name="+", verbose_name=_("指标")
    )
    indicator_version = models.ForeignKey(
        "indicators.IndicatorVersion",
        on_delete=models.PROTECT,
        related_name="values",
        verbose_name=_("指标版本"),
    )
    numerator = models.DecimalField(
        _("分子"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    denominator = models.DecimalField(
        _("分母"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    comment = models.TextField(_("备注"), blank=True)
    justification = models.TextField(
        _("情况说明"), blank=True, help_text=_("有警告的数据须填写情况说明才能上报。")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_by_token = models.ForeignKey(
        "accounts.UnitApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改令牌"),
    )
    updated_at = models.DateTimeField(_("修改时间"), default=clock.now)
    source = models.CharField(
        _("来源"), max_length=8, choices=ValueSource.choices, default=ValueSource.WEB
    )

    class Meta:
        verbose_name = _("指标数据")
        verbose_name_plural = _("指标数据")
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "indicator"], name="unique_value_per_form"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.numerator}/{self.denominator}"

    @property
    def rate(self) -> Decimal | None:
        """numerator ÷ denominator × multiplier (the numerator for a count); ``None`` when the
        denominator is zero or missing."""
        return self.indicator_version.rate(self.numerator, self.denominator)


class ValueChange(models.Model):
    """History of one value: who changed what, when, from where."""

    value = models.ForeignKey(
        DataValue, on_delete=models.CASCADE, related_name="changes", verbose_name=_("指标数据")
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="value_changes", verbose_name=_("上报")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changed_by_token = models.ForeignKey(
        "accounts.UnitApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改令牌"),
    )
    changed_at = models.DateTimeField(_("修改时间"), default=clock.now, db_index=True)
    old_numerator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    new_numerator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    old_denominator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    new_denominator = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    old_comment = models.TextField(blank=True)
    new_comment = models.TextField(blank=True)
    source = models.CharField(
        _("来源"), max_length=8, choices=ValueSource.choices, default=ValueSource.WEB
    )

    class Meta:
        verbose_name = _("数据修改记录")
        verbose_name_plural = _("数据修改记录")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.value_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class ReviewEvent(models.Model):
    """One workflow transition with its reason, per-indicator items and a snapshot of all values
    at that moment (so a resubmission can be compared with what was returned)."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="events", verbose_name=_("上报")
    )
    action = models.CharField(_("动作"), max_length=20, choices=ReviewAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), default=clock.now)
    reason = models.TextField(_("意见"), blank=True)
    items = models.JSONField(_("逐项意见"), default=list, blank=True)
    snapshot = models.JSONField(_("数据快照"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.get_action_display()} @ {self.at:%Y-%m-%d %H:%M}"


# Progress alerts keep their log in their own module; imported here so Django registers the model.
from qc_core.reporting.models_alerts import AlertLog  # noqa: E402

__all__ = ["AlertLog", "DataValue", "ReviewEvent", "Submission", "ValueChange"]
