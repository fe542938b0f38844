"""Audit API: ``GET /api/v1/audit/`` — read-only, audit readers only, same filters as the page."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets

from qc_core.accounts.choices import AUDIT_READER_ROLES
from qc_core.audit.filters import AuditEntryFilter
from qc_core.audit.models import AuditEntry
from qc_core.system.permissions import HasAnyRole


class AuditEntrySerializer(serializers.ModelSerializer):
    action_display = serializers.CharField(source="get_action_display", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True, default=None)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, default=None)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "ts",
            "actor_id",
            "actor_username",
            "action",
            "action_display",
            "object_type",
            "object_id",
            "object_repr",
            "org_unit",
            "org_unit_name",
            "changes",
            "ip",
            "user_agent",
            "extra",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, newest first. Filters: ``user`` (username contains), ``org_unit`` (code,
    with its subtree), ``action``, ``object_type``, ``since`` / ``until`` (dates, Asia/Shanghai)."""

    serializer_class = AuditEntrySerializer
    permission_classes = [HasAnyRole.of(*AUDIT_READER_ROLES)]
    filterset_class = AuditEntryFilter
    ordering_fields = ["id", "ts"]

    def get_queryset(self) -> Any:
        from qc_core.audit.views import readable_entries

        return readable_entries(self.request.user).order_by("-id")
