from django.contrib import admin

from qc_core.orgs.models import OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "kind",
        "parent",
        "hospital_level",
        "is_member",
        "is_active",
    ]
    list_filter = ["level", "hospital_level", "is_member", "is_active", "is_demo"]
    search_fields = ["code", "name", "credit_code"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth", "created_at", "updated_at"]
    ordering = ["path"]
