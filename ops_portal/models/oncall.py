"""On-call duty: shifts, the regular 7×24 rosters and special-duty periods that generate them,
override / swap requests approved by the ops manager, and coverage gaps already announced.

Who is on call is decided from :class:`Shift` rows alone (``ops_portal.oncall.current``); rosters,
special-duty periods and approved requests only write shifts, each tagged with its source, whose
layer sets the precedence (override > special duty > roster).
"""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ops_portal.choices import ShiftRole
from ops_portal.oncall.choices import DutyKind, RequestKind, RequestStatus, ShiftSource
from qc_core.system import clock


def _local(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class RotationBase(models.Model):
    """What a rotation needs: shift length, the local handover time, and how far the secondary
    runs behind the primary in the member order."""

    name = models.CharField(_("名称"), max_length=100)
    shift_hours = models.PositiveSmallIntegerField(
        _("班次时长（小时）"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_("常用 12 或 24 小时"),
    )
    handover_time = models.TimeField(_("交接班时间"), default=time(9, 0), help_text=_("北京时间"))
    secondary_offset = models.PositiveSmallIntegerField(
        _("副值班错位"),
        default=1,
        help_text=_("副值班由轮换顺序中往后第几位担任；0 表示不排副值班"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class Roster(RotationBase):
    """A regular 7×24 rotation: ordered members take turns from ``starts_on`` at the handover
    time; shifts are generated for the next ``weeks_ahead`` weeks (extended hourly)."""

    starts_on = models.DateField(_("轮换起始日"))
    weeks_ahead = models.PositiveSmallIntegerField(
        _("预排周数"), default=4, validators=[MinValueValidator(1), MaxValueValidator(26)]
    )
    is_active = models.BooleanField(_("启用"), default=True)
    generated_until = models.DateTimeField(_("已排至"), null=True, blank=True)

    class Meta:
        verbose_name = _("值班表")
        verbose_name_plural = _("值班表")
        ordering = ["name", "id"]


class RosterMember(models.Model):
    """One member of a roster, at ``position`` in the rotation order (0 first)."""

    roster = models.ForeignKey(
        Roster, on_delete=models.CASCADE, related_name="members", verbose_name=_("值班表")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("成员")
    )
    position = models.PositiveSmallIntegerField(_("顺序"))

    class Meta:
        verbose_name = _("值班表成员")
        verbose_name_plural = _("值班表成员")
        ordering = ["roster", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster", "position"], name="ops_roster_member_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.roster} #{self.position + 1} {self.user}"


class DutyPeriod(RotationBase):
    """A key period (quarterly reporting window, national reporting, provincial inspection) with
    its own team rotating from ``start`` to ``end``; its shifts take precedence over the regular
    roster during the period."""

    kind = models.CharField(_("类型"), max_length=32, choices=DutyKind.choices)
    start = models.DateTimeField(_("开始"))
    end = models.DateTimeField(_("结束"))
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用后未开始的专项班次将被移除")
    )

    class Meta:
        verbose_name = _("专项值守")
        verbose_name_plural = _("专项值守")
        ordering = ["-start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="ops_duty_end_after_start"
            )
        ]

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("结束时间必须晚于开始时间。")})


class DutyMember(models.Model):
    """One member of a special-duty team, at ``position`` in its rotation order."""

    period = models.ForeignKey(
        DutyPeriod, on_delete=models.CASCADE, related_name="members", verbose_name=_("专项值守")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("成员")
    )
    position = models.PositiveSmallIntegerField(_("顺序"))

    class Meta:
        verbose_name = _("专项值守成员")
        verbose_name_plural = _("专项值守成员")
        ordering = ["period", "position"]
        constraints = [
            models.UniqueConstraint(fields=["period", "position"], name="ops_duty_member_position")
        ]

    def __str__(self) -> str:
        return f"{self.period} #{self.position + 1} {self.user}"


class OncallRequest(models.Model):
    """An engineer's request to change who is on call, decided by the ops manager.

    ``cover``: ``substitute`` holds ``role`` from ``start`` to ``end``. ``swap``: the holders of
    ``shift_a`` (the requester's) and ``shift_b`` trade them; ``snapshot`` keeps both shifts'
    details as requested, since a roster edit may regenerate the rows. Approval writes override
    shifts pointing back here.
    """

    kind = models.CharField(_("类型"), max_length=8, choices=RequestKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="oncall_requests",
        verbose_name=_("申请人"),
    )
    counterpart = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("对方"),
        help_text=_("代班人或被代班人、换班对象"),
    )
    reason = models.TextField(_("理由"))
    role = models.CharField(_("值班角色"), max_length=16, choices=ShiftRole.choices, blank=True)
    start = models.DateTimeField(_("开始"), null=True, blank=True)
    end = models.DateTimeField(_("结束"), null=True, blank=True)
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("代班人"),
    )
    shift_a = models.ForeignKey(
        "ops_portal.Shift",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("本人班次"),
    )
    shift_b = models.ForeignKey(
        "ops_portal.Shift",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("对方班次"),
    )
    snapshot = models.JSONField(_("申请时的班次"), default=dict, blank=True)
    created_at = models.DateTimeField(_("申请时间"), default=clock.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("代班/换班申请")
        verbose_name_plural = _("代班/换班申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="ops_oncall_req_status")]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} #{self.pk} {self.requester} ({self.get_status_display()})"
        )


class CoverageGap(models.Model):
    """A run of hours without a primary on call, recorded when first found so the ops manager
    hears about it once; ``resolved_at`` is set when the hours are covered (or have passed).
    At most one open gap per (role, start): inserting that row is the claim to notify."""

    role = models.CharField(
        _("值班角色"), max_length=16, choices=ShiftRole.choices, default=ShiftRole.PRIMARY
    )
    start = models.DateTimeField(_("开始"))
    end = models.DateTimeField(_("结束"))
    found_at = models.DateTimeField(_("发现时间"), default=clock.now)
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("消除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("值班空档")
        verbose_name_plural = _("值班空档")
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "start"],
                condition=models.Q(resolved_at__isnull=True),
                name="ops_coverage_gap_open_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {_local(self.start)}–{_local(self.end)}"


class Shift(models.Model):
    """``user`` is on call as ``role`` from ``start`` (inclusive) to ``end`` (exclusive).

    ``source`` (with the roster, duty period or request that wrote it) sets the precedence
    when shifts of one role overlap; rows added by hand count as the regular roster.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="oncall_shifts",
        verbose_name=_("值班人"),
    )
    role = models.CharField(_("值班角色"), max_length=16, choices=ShiftRole.choices)
    start = models.DateTimeField(_("开始"))
    end = models.DateTimeField(_("结束"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    source = models.CharField(
        _("来源"), max_length=16, choices=ShiftSource.choices, default=ShiftSource.MANUAL
    )
    roster = models.ForeignKey(
        Roster,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("值班表"),
    )
    duty_period = models.ForeignKey(
        DutyPeriod,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("专项值守"),
    )
    request = models.ForeignKey(
        OncallRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("代班/换班申请"),
    )

    class Meta:
        verbose_name = _("值班班次")
        verbose_name_plural = _("值班班次")
        ordering = ["start", "role"]
        indexes = [models.Index(fields=["role", "start", "end"], name="ops_shift_role_window")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="ops_shift_end_after_start"
            ),
            # Generation inserts with ignore_conflicts: two concurrent runs never double a slot.
            models.UniqueConstraint(
                fields=["roster", "role", "start"],
                condition=models.Q(roster__isnull=False),
                name="ops_shift_roster_slot",
            ),
            models.UniqueConstraint(
                fields=["duty_period", "role", "start"],
                condition=models.Q(duty_period__isnull=False),
                name="ops_shift_duty_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.user} {_local(self.start)}–{_local(self.end)}"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("结束时间必须晚于开始时间。")})
