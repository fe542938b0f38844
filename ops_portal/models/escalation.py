"""Escalation policies (ordered steps) and the record of each step fired for a ticket's clock."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from ops_portal.choices import Clause, EscalationTarget, EscalationTrigger
from qc_core.accounts.choices import Role
from qc_core.system import clock


class EscalationPolicy(models.Model):
    """Who is told, and when, as a clock approaches and passes its deadline.

    ``clauses`` lists the clauses it applies to (empty: all); the active policy with the lowest
    ``priority`` that covers a clause is used.
    """

    name = models.CharField(_("名称"), max_length=100, unique=True)
    clauses = models.JSONField(
        _("适用条款"), default=list, blank=True, help_text=_("留空表示全部条款")
    )
    priority = models.PositiveSmallIntegerField(
        _("优先级"), default=100, help_text=_("数字小者优先")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("升级策略")
        verbose_name_plural = _("升级策略")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        values = self.clauses if isinstance(self.clauses, list) else None
        if values is None or any(v not in Clause.values for v in values):
            raise ValidationError(
                {
                    "clauses": _("适用条款须为条款代码列表：%(codes)s。")
                    % {"codes": pgettext("list separator", "、").join(Clause.values)}
                }
            )

    def covers(self, clause: str) -> bool:
        return not self.clauses or clause in self.clauses


class EscalationStep(models.Model):
    """One step: ``delay_minutes`` after its ``trigger`` (and, for later steps, once the previous
    step has gone unacknowledged for that step's ``ack_timeout_minutes``), notify ``target``.
    ``also_notify_roles`` addresses whole roles as well (their holders and the roles' group
    channels, e.g. the engineers' WeCom bot); which external channels a person is reached on is
    their own notification-channel setting."""

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="steps", verbose_name=_("升级策略")
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    trigger = models.CharField(_("触发条件"), max_length=16, choices=EscalationTrigger.choices)
    delay_minutes = models.PositiveIntegerField(_("延迟（分钟）"), default=0)
    target = models.CharField(_("通知对象"), max_length=20, choices=EscalationTarget.choices)
    ack_timeout_minutes = models.PositiveIntegerField(
        _("确认超时（分钟）"), default=15, help_text=_("超过此时间未确认则触发下一步")
    )
    also_notify_roles = models.JSONField(_("同时通知角色"), default=list, blank=True)

    class Meta:
        verbose_name = _("升级步骤")
        verbose_name_plural = _("升级步骤")
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "order"], name="ops_escalation_step_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_trigger_display()} → {self.get_target_display()}"

    def clean(self) -> None:
        values = self.also_notify_roles if isinstance(self.also_notify_roles, list) else None
        if values is None or any(v not in Role.values for v in values):
            raise ValidationError({"also_notify_roles": _("同时通知角色须为角色代码列表。")})


class EscalationFiring(models.Model):
    """A step fired for one ticket's clause. The unique constraint is the claim: two concurrent
    ``sla_tick`` runs cannot both fire the same step."""

    ticket = models.ForeignKey(
        "ops_portal.Ticket",
        on_delete=models.CASCADE,
        related_name="escalations",
        verbose_name=_("工单"),
    )
    clause = models.CharField(_("条款"), max_length=20, choices=Clause.choices)
    step = models.ForeignKey(
        EscalationStep, on_delete=models.CASCADE, related_name="firings", verbose_name=_("升级步骤")
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("通知对象"),
    )
    fired_at = models.DateTimeField(_("触发时间"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("确认人"),
    )

    class Meta:
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "clause", "step"], name="ops_escalation_fired_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.clause} #{self.step_id}"
