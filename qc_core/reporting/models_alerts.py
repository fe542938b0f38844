"""The log of reporting-progress alerts. Each row is also the claim that makes an alert go out
once per (unit, data set, period, step) even when two schedulers run the alert pass at once."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.reporting.choices import AlertStep
from qc_core.system import clock


class AlertLog(models.Model):
    """One progress alert: a reminder, late notice or escalation for one unit, or a weekly digest
    (``org_unit`` is then the province and ``occurrence`` the ISO week, e.g. ``2026-W42``).

    The row is inserted in the same transaction as the notification, before it is sent; the unique
    constraint turns a second scheduler's attempt into an ``IntegrityError`` (it then skips), and a
    failed notification rolls the claim back so the next pass tries again.
    """

    org_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.CASCADE, related_name="+", verbose_name=_("单位")
    )
    dataset = models.ForeignKey(
        "indicators.DataSet", on_delete=models.CASCADE, related_name="+", verbose_name=_("报表")
    )
    period = models.CharField(_("周期"), max_length=8)
    step = models.CharField(_("提醒步骤"), max_length=16, choices=AlertStep.choices)
    occurrence = models.CharField(
        _("周次"),
        max_length=16,
        blank=True,
        default="",
        help_text=_("每周汇总的周次；其他步骤为空。"),
    )
    claimed_at = models.DateTimeField(_("发送时间"), default=clock.now, db_index=True)
    recipients = models.PositiveIntegerField(_("接收人数"), default=0)
    detail = models.JSONField(_("内容摘要"), default=dict, blank=True)

    class Meta:
        verbose_name = _("上报提醒记录")
        verbose_name_plural = _("上报提醒记录")
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "dataset", "period", "step", "occurrence"],
                name="unique_alert_per_step",
            )
        ]
        indexes = [models.Index(fields=["dataset", "period"], name="alertlog_ds_period")]

    def __str__(self) -> str:
        return f"{self.org_unit_id} · {self.dataset_id} · {self.period} · {self.step}"
