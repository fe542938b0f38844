"""Enumerations of the intake channels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InboundSource(models.TextChoices):
    PIPE = "pipe", _("邮件管道（ingest_email）")
    IMAP = "imap", _("IMAP 收件箱（poll_mailbox）")


class InboundStatus(models.TextChoices):
    """What became of a received e-mail. Only ``received`` is not final (stored, not yet handled)."""

    RECEIVED = "received", _("已接收，待处理")
    CREATED = "created", _("已建工单")
    THREADED = "threaded", _("已追加到工单")
    IGNORED = "ignored", _("已忽略（自动回复/退信/重复）")
    REJECTED = "rejected", _("已拒收（邮件过大）")
    FAILED = "failed", _("处理失败")


DONE_STATUSES = frozenset({InboundStatus.CREATED, InboundStatus.THREADED})
