"""SLA configuration (business calendars, versioned policies) and the materialized clock rows."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ops_portal.choices import CalendarDayKind, Clause
from qc_core.system import clock

ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]


def _default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


def _default_warn_percents() -> list[int]:
    return [50, 80]


class BusinessCalendar(models.Model):
    """When SLA clocks run. ``is_24x7`` (the contract's default) ignores everything else;
    otherwise a clock runs on ``weekdays`` (0 = Monday) between ``day_start`` and ``day_end``
    local time, except on holidays, plus the weekend days worked in exchange (调休)."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    is_24x7 = models.BooleanField(_("7×24 小时"), default=True)
    weekdays = models.JSONField(
        _("工作日"), default=_default_weekdays, blank=True, help_text=_("0=周一 … 6=周日")
    )
    day_start = models.TimeField(_("上班时间"), default=time(8, 30))
    day_end = models.TimeField(_("下班时间"), default=time(17, 30))
    timezone = models.CharField(_("时区"), max_length=64, default="Asia/Shanghai")
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_24x7:
            return
        days = self.weekdays if isinstance(self.weekdays, list) else []
        if not days or any(d not in ALL_WEEKDAYS for d in days):
            raise ValidationError(
                {"weekdays": _("工作日须为 0（周一）到 6（周日）之间的数字列表。")}
            )
        if self.day_start >= self.day_end:
            raise ValidationError({"day_end": _("下班时间必须晚于上班时间。")})

    def special_days(self) -> dict[date, str]:
        """Holidays and make-up workdays, cached on the instance (one query per calendar)."""
        cached: dict[date, str] | None = getattr(self, "_special_days", None)
        if cached is None:
            cached = dict(self.days.values_list("date", "kind")) if self.pk else {}
            self._special_days = cached
        return cached


class CalendarDay(models.Model):
    """A date that breaks a calendar's weekly pattern."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("日历")
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("特殊日期")
        verbose_name_plural = _("特殊日期")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="ops_calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class SlaPolicy(models.Model):
    """One version of the SLA terms. Versions are never edited: a change creates the next
    version (``ops_portal.services.policies.publish_policy``) and each ticket keeps the version
    it was created under."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    name = models.CharField(_("名称"), max_length=100, default="服务合同 SLA")
    restore_minutes = models.PositiveIntegerField(_("恢复时限（分钟）"), default=60)
    respond_minutes = models.PositiveIntegerField(_("响应时限（分钟）"), default=240)
    on_site_minutes = models.PositiveIntegerField(_("到场时限（分钟）"), default=1440)
    consult_minutes = models.PositiveIntegerField(_("咨询/需求响应时限（分钟）"), default=240)
    warn_percents = models.JSONField(
        _("预警百分比"), default=_default_warn_percents, help_text=_("两级预警，如 [50, 80]")
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="policies",
        verbose_name=_("故障条款日历"),
    )
    consult_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="consult_policies",
        null=True,
        blank=True,
        verbose_name=_("咨询/需求条款日历"),
        help_text=_("留空则与故障条款相同"),
    )
    reopen_restarts_clock = models.BooleanField(
        _("重新打开后重新计时"),
        default=False,
        help_text=_("默认否：已达成的时限保持达成；选是则重新打开时恢复/响应条款重新开始计时。"),
    )
    note = models.CharField(_("修改说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("生效时间"), default=clock.now)

    class Meta:
        verbose_name = _("SLA 策略")
        verbose_name_plural = _("SLA 策略")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def minutes_for(self, clause: str) -> int:
        return {
            Clause.RESTORE: self.restore_minutes,
            Clause.RESPOND: self.respond_minutes,
            Clause.ON_SITE: self.on_site_minutes,
            Clause.CONSULT_RESPONSE: self.consult_minutes,
        }[Clause(clause)]

    def calendar_for(self, clause: str) -> BusinessCalendar:
        if clause == Clause.CONSULT_RESPONSE and self.consult_calendar_id:
            return self.consult_calendar  # type: ignore[return-value]
        return self.calendar

    def warn_fractions(self) -> tuple[float, float]:
        first, second = (list(self.warn_percents) + [50, 80])[:2]
        return float(first) / 100.0, float(second) / 100.0

    def clean(self) -> None:
        values = self.warn_percents
        ok = (
            isinstance(values, list)
            and len(values) == 2
            and all(isinstance(v, int | float) and 0 < v < 100 for v in values)
            and values[0] < values[1]
        )
        if not ok:
            raise ValidationError(
                {
                    "warn_percents": _(
                        "预警百分比须为两个递增的数，介于 0 与 100 之间，如 [50, 80]。"
                    )
                }
            )
        for name in ("restore_minutes", "respond_minutes", "on_site_minutes", "consult_minutes"):
            if not getattr(self, name):
                raise ValidationError({name: _("时限必须大于 0 分钟。")})


class SlaClock(models.Model):
    """The materialized state of one clause's clock for one ticket, rewritten by
    ``refresh_clocks`` after every ledger event so the queue and ``sla_tick`` are indexed
    queries. The ledger stays the truth; the ``warned_*`` / ``breach_notified_at`` columns are the
    claims ``sla_tick`` takes with a conditional UPDATE (each warning fires exactly once).
    ``warned_50_at`` / ``warned_80_at`` belong to the policy's first / second warning level
    (50 % / 80 % by default)."""

    ticket = models.ForeignKey(
        "ops_portal.Ticket", on_delete=models.CASCADE, related_name="clocks", verbose_name=_("工单")
    )
    clause = models.CharField(_("条款"), max_length=20, choices=Clause.choices)
    budget_seconds = models.PositiveIntegerField(_("时限（秒）"))
    started_at = models.DateTimeField(_("开始"))
    due_at = models.DateTimeField(_("到期"))
    warn_50_due = models.DateTimeField(_("一级预警时间"))
    warn_80_due = models.DateTimeField(_("二级预警时间"))
    met_at = models.DateTimeField(_("达成时间"), null=True, blank=True)
    stopped_at = models.DateTimeField(
        _("停止时间"), null=True, blank=True, help_text=_("未达成即解决/关闭时停止计时")
    )
    paused_since = models.DateTimeField(_("暂停开始"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("暂停时长（秒）"), default=0)
    remaining_seconds = models.IntegerField(
        _("剩余（秒）"), default=0, help_text=_("计算时的剩余时间；运行中的时钟以到期时间为准")
    )
    breached = models.BooleanField(_("已超时"), default=False)
    warned_50_at = models.DateTimeField(_("一级预警发出"), null=True, blank=True)
    warned_80_at = models.DateTimeField(_("二级预警发出"), null=True, blank=True)
    breach_notified_at = models.DateTimeField(_("超时通知发出"), null=True, blank=True)
    next_escalation_at = models.DateTimeField(_("下一步升级时间"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("计算时间"), default=clock.now)

    class Meta:
        verbose_name = _("SLA 时钟")
        verbose_name_plural = _("SLA 时钟")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "clause"], name="ops_clock_ticket_clause")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(
                    met_at__isnull=True, stopped_at__isnull=True, paused_since__isnull=True
                ),
                name="ops_clock_running_due",
            ),
            models.Index(
                fields=["warn_50_due"],
                condition=Q(
                    met_at__isnull=True,
                    stopped_at__isnull=True,
                    paused_since__isnull=True,
                    warned_50_at__isnull=True,
                ),
                name="ops_clock_warn1_pending",
            ),
            models.Index(
                fields=["warn_80_due"],
                condition=Q(
                    met_at__isnull=True,
                    stopped_at__isnull=True,
                    paused_since__isnull=True,
                    warned_80_at__isnull=True,
                ),
                name="ops_clock_warn2_pending",
            ),
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(
                    met_at__isnull=True,
                    stopped_at__isnull=True,
                    paused_since__isnull=True,
                    next_escalation_at__isnull=False,
                ),
                name="ops_clock_escalation_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_clause_display()}"

    @property
    def running(self) -> bool:
        return self.met_at is None and self.stopped_at is None and self.paused_since is None

    def trigger_time(self, level: int) -> Any:
        return {1: self.warn_50_due, 2: self.warn_80_due, 3: self.due_at}[level]
