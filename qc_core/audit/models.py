"""The audit trail: one append-only, hash-chained table."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from qc_core.audit.chain import HASHED_FIELDS, compute_hash
from qc_core.audit.choices import Action


class AuditImmutableError(Exception):
    """Raised on any attempt to change or remove an audit entry (or to write one around the chain)."""

    def __init__(self, operation: str, message: str = "审计记录只能追加，不能修改或删除") -> None:
        self.operation = operation
        super().__init__(f"{message}（{operation}）。")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reading is free; every bulk write path of the ORM refuses."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditImmutableError("QuerySet.update")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("QuerySet.delete")

    def _raw_delete(self, using: Any) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("QuerySet._raw_delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("QuerySet.bulk_update")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        # Rows created in bulk would skip the chain; qc_core.audit.services.record is the way in.
        raise AuditImmutableError("QuerySet.bulk_create")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("QuerySet.update_or_create")


class AuditEntry(models.Model):
    """One thing that happened: a sign-in, a data change, an export, a download …

    Written only by :func:`qc_core.audit.services.record`, never changed or deleted afterwards.
    ``hash`` is SHA-256 over the content fields and ``prev_hash`` (see :mod:`qc_core.audit.chain`).
    ``changes`` is ``{field: [before, after]}``; masked fields (passwords) hold the string
    ``"changed"`` instead of values. The user and unit references are kept as raw ids without a
    database constraint so that deleting a user or unit never touches (and so never breaks) the
    chain; ``actor_username`` keeps the name readable after the account is gone.
    """

    ts = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_username = models.CharField(_("操作人用户名"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("相关单位"),
    )
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True)
    user_agent = models.CharField(_("浏览器标识"), max_length=300, blank=True)
    extra = models.JSONField(_("附加信息"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        base_manager_name = "objects"
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["actor", "ts"], name="audit_actor_ts"),
            models.Index(fields=["org_unit", "ts"], name="audit_unit_ts"),
            models.Index(fields=["action", "ts"], name="audit_action_ts"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_action_display()} {self.object_repr or self.actor_username}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditImmutableError("save")
        if not self.hash or self.hash != self.compute_hash():
            # Only services.record() computes the chain link; a bare create() would break it.
            raise AuditImmutableError(
                "save", "审计记录缺少有效的链式哈希，只能通过 qc_core.audit.services.record 写入"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AuditImmutableError("delete")

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def compute_hash(self) -> str:
        return compute_hash(self.content(), self.prev_hash)
