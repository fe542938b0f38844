from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from qc_core.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail can be browsed here but never added to, changed or deleted."""

    list_display = [
        "id",
        "ts",
        "actor_username",
        "action",
        "object_type",
        "object_repr",
        "org_unit",
        "ip",
    ]
    list_filter = ["action", "object_type", "ts"]
    search_fields = ["actor_username", "object_repr", "object_id", "ip"]
    list_select_related = ["org_unit"]
    date_hierarchy = "ts"
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
