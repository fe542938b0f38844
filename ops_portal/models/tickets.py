"""Tickets and their append-only ledger of events."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ops_portal.choices import (
    OPEN_STATUSES,
    Category,
    Channel,
    EventKind,
    Severity,
    Status,
)
from qc_core.system import clock


class TicketCounter(models.Model):
    """The last ticket number issued in a year; incremented with a row lock in the creating
    transaction so two tickets never share a number."""

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    last = models.PositiveIntegerField(_("最后序号"), default=0)

    class Meta:
        verbose_name = _("工单编号计数器")
        verbose_name_plural = _("工单编号计数器")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(models.Model):
    """A fault report, consultation, requirement or change request.

    ``status``, ``severity``, ``assignee`` are the current projection of the ledger
    (:class:`TicketEvent`); ``sla_due_at`` / ``sla_breached`` summarize the ticket's
    :class:`~ops_portal.models.SlaClock` rows for the queue and are written only by
    ``refresh_clocks`` and ``sla_tick``.
    """

    number = models.CharField(_("工单号"), max_length=20, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("问题描述"), blank=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    severity = models.CharField(
        _("故障等级"), max_length=16, choices=Severity.choices, blank=True, default=""
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        verbose_name=_("报修人"),
    )
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("报修单位"),
    )
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    reported_at = models.DateTimeField(_("报告时间"), db_index=True)
    created_at = models.DateTimeField(_("录入时间"), default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("录入人"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        verbose_name=_("处理人"),
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    policy = models.ForeignKey(
        "ops_portal.SlaPolicy",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("SLA 策略版本"),
    )
    external_key = models.CharField(
        _("外部标识"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Alertmanager groupKey 或监控事件编号，防止重复建单"),
    )
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)
    sla_due_at = models.DateTimeField(_("最近到期"), null=True, blank=True)
    sla_breached = models.BooleanField(_("已超时"), default=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["sla_due_at"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="ops_ticket_open_due",
            ),
            models.Index(fields=["status", "created_at"], name="ops_ticket_status_created"),
            models.Index(fields=["org_unit", "created_at"], name="ops_ticket_unit_created"),
            models.Index(fields=["assignee", "status"], name="ops_ticket_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def requester_display(self) -> str:
        if self.requester_id and self.requester:
            return self.requester.get_full_name()
        return self.contact_name or self.contact_email or self.contact_phone


class LedgerImmutableError(Exception):
    """Raised on any attempt to change or remove a ticket ledger entry."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(_("工单事件记录只能追加，不能修改或删除（%(op)s）。") % {"op": operation})


class TicketEventQuerySet(models.QuerySet["TicketEvent"]):
    """Reading and appending are free; every ORM path that changes rows refuses."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError("QuerySet.update")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise LedgerImmutableError("QuerySet.delete")

    def _raw_delete(self, using: Any) -> NoReturn:  # type: ignore[override]
        raise LedgerImmutableError("QuerySet._raw_delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:  # type: ignore[override]
        raise LedgerImmutableError("QuerySet.bulk_update")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise LedgerImmutableError("QuerySet.update_or_create")

    def public(self) -> TicketEventQuerySet:
        return self.filter(public=True)


class TicketEvent(models.Model):
    """One entry of a ticket's append-only ledger; SLA clocks are computed from these alone.

    ``at`` is when it happened (a phone call or an on-site arrival may be recorded later than
    it happened; ``recorded_at`` is when it was written). ``public`` entries are shown to the
    requester. ``data`` holds the structured part: ``{"cause", "solution"}`` for a response,
    ``{"reason"}`` for a pause, ``{"old", "new", "reason"}`` for a severity change,
    ``{"side"}`` for an on-site confirmation, ``{"place"}`` for a check-in; ``data["staff"]``
    records whether the actor acted for the operations side.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", verbose_name=_("工单")
    )
    kind = models.CharField(_("类型"), max_length=32, choices=EventKind.choices)
    at = models.DateTimeField(_("发生时间"))
    recorded_at = models.DateTimeField(_("记录时间"), default=clock.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=150, blank=True)
    public = models.BooleanField(_("用户可见"), default=True)
    body = models.TextField(_("内容"), blank=True)
    data = models.JSONField(_("结构化内容"), default=dict, blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单事件")
        verbose_name_plural = _("工单事件")
        ordering = ["at", "id"]
        base_manager_name = "objects"
        indexes = [models.Index(fields=["ticket", "at"], name="ops_event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise LedgerImmutableError("save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise LedgerImmutableError("delete")


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    stamp = clock.now()
    return f"tickets/{stamp:%Y/%m}/{instance.ticket_id}/{filename}"


class TicketAttachment(models.Model):
    """A file attached to a ticket, usually to one of its events (a comment, an e-mail)."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("工单")
    )
    event = models.ForeignKey(
        TicketEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("所属事件"),
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    content_type = models.CharField(_("类型"), max_length=150, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), default=clock.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class TicketEmailMessage(models.Model):
    """A mail Message-ID linked to a ticket, so replies (In-Reply-To / References) thread into it."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="email_messages", verbose_name=_("工单")
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    incoming = models.BooleanField(_("收到的邮件"), default=True)
    event = models.ForeignKey(
        TicketEvent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("所属事件"),
    )
    created_at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        verbose_name = _("邮件标识")
        verbose_name_plural = _("邮件标识")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.message_id
