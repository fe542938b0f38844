"""Received e-mails, kept raw so nothing that reached the mailbox is ever lost."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ops_portal.intake.choices import InboundSource, InboundStatus
from qc_core.system import clock


class InboundEmail(models.Model):
    """One e-mail received by ``ingest_email`` (MTA pipe) or ``poll_mailbox`` (IMAP).

    The raw RFC 822 bytes are stored first, before any parsing, so a message that cannot be
    parsed or processed is kept (``status`` failed, ``error``) and reported to the mailbox owner
    instead of being dropped. A message above ``MAILBOX_MAX_BYTES`` keeps only its header
    (``truncated``). ``ticket`` / ``event`` point at what the message produced; ``replied_at`` is
    when an automatic reply (acknowledgement or refusal) went out, used to cap replies per sender.
    """

    source = models.CharField(_("来源"), max_length=8, choices=InboundSource.choices)
    received_at = models.DateTimeField(_("接收时间"), default=clock.now, db_index=True)
    raw = models.BinaryField(_("原始邮件"))
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    truncated = models.BooleanField(
        _("仅保留邮件头"), default=False, help_text=_("邮件超过大小上限，只保存了邮件头。")
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    from_address = models.CharField(_("发件地址"), max_length=254, blank=True, db_index=True)
    from_name = models.CharField(_("发件人"), max_length=150, blank=True)
    subject = models.CharField(_("主题"), max_length=255, blank=True)
    status = models.CharField(
        _("处理结果"), max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.CharField(_("说明"), max_length=255, blank=True)
    error = models.TextField(_("错误"), blank=True)
    ticket = models.ForeignKey(
        "ops_portal.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_emails",
        verbose_name=_("工单"),
    )
    event = models.ForeignKey(
        "ops_portal.TicketEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("工单事件"),
    )
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("自动回复时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("报告负责人时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("收到的邮件")
        verbose_name_plural = _("收到的邮件")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="ops_inbound_status_received"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address} {self.subject}"
