"""Notifications: in-app messages, external channels and the delivery log."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from qc_core.accounts.choices import Role
from qc_core.notify.choices import ChannelKind, DeliveryStatus
from qc_core.system import clock


class Notification(models.Model):
    """One in-app message for one user (the bell). Always created, whatever channels exist."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    event = models.CharField(_("事件"), max_length=64, db_index=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=clock.now, db_index=True)

    class Meta:
        verbose_name = _("站内通知")
        verbose_name_plural = _("站内通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notify_unread_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.Model):
    """An external destination (e-mail address, bot, webhook) owned by one user or one role.

    A user's channels receive that user's notifications; a role's channels (configured by
    administrators, e.g. the engineers' WeCom group bot) receive notifications addressed to the
    role. ``events`` lists the event codes to send; empty means every event.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notify_channels",
        verbose_name=_("所属用户"),
    )
    role = models.CharField(
        _("所属角色"), max_length=32, choices=Role.choices, blank=True, default=""
    )
    name = models.CharField(_("名称"), max_length=100, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=ChannelKind.choices)
    target = models.CharField(
        _("地址"),
        max_length=500,
        help_text=_(
            "电子邮件填邮箱地址；机器人与 Webhook 填 apprise 地址，如 wecombot://KEY、dingtalk://TOKEN、"
            "feishu://TOKEN、https://网关/路径。"
        ),
    )
    events = models.JSONField(
        _("事件"), default=list, blank=True, help_text=_("留空表示接收全部事件。")
    )
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        ordering = ["role", "user_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(role=""))
                | (Q(user__isnull=True) & ~Q(role="")),
                name="notify_channel_one_owner",
                violation_error_message=_("通知渠道必须且只能属于一个用户或一个角色。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} · {self.masked_target}"

    @property
    def owner_display(self) -> str:
        return str(self.user) if self.user_id else str(self.get_role_display())

    @property
    def masked_target(self) -> str:
        from qc_core.notify.channels import mask_target

        return mask_target(self.kind, self.target)

    def accepts(self, event: str, *, ignore_filters: bool = False) -> bool:
        return self.enabled and (ignore_filters or not self.events or event in self.events)

    def clean(self) -> None:
        from qc_core.notify.channels import validate_target
        from qc_core.notify.events import get_event

        errors: dict[str, list[str]] = {}
        self.target = (self.target or "").strip()
        if self.kind and self.target:
            try:
                validate_target(self.kind, self.target)
            except ValidationError as exc:
                errors["target"] = exc.messages
        if not isinstance(self.events, list):
            errors["events"] = [str(_("事件：应为事件代码的列表。"))]
        else:
            unknown = []
            for code in self.events:
                try:
                    get_event(code)
                except ValueError:
                    unknown.append(str(code))
            if unknown:
                errors["events"] = [
                    str(
                        _("事件：未知的事件代码 %(codes)s。")
                        % {"codes": pgettext("list separator", "、").join(unknown)}
                    )
                ]
        if errors:
            raise ValidationError(errors)


class Delivery(models.Model):
    """One attempt chain to send one message over one channel: the delivery log.

    Subject, body and target are copied when the delivery is planned, so the log shows exactly
    what was sent even if the channel is later edited or deleted.
    """

    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name=_("站内通知"),
    )
    channel = models.ForeignKey(
        Channel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name=_("渠道"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notify_deliveries",
        verbose_name=_("接收人"),
    )
    role = models.CharField(
        _("接收角色"), max_length=32, choices=Role.choices, blank=True, default=""
    )
    event = models.CharField(_("事件"), max_length=64, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, choices=ChannelKind.choices)
    target = models.CharField(_("地址"), max_length=500)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    status = models.CharField(
        _("状态"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    log = models.TextField(_("发送日志"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.masked_target}: {self.get_status_display()}"

    @property
    def masked_target(self) -> str:
        from qc_core.notify.channels import mask_target

        return mask_target(self.kind, self.target)
