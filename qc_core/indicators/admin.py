from django.contrib import admin

from qc_core.indicators.models import (
    DataSet,
    DataSetItem,
    Indicator,
    IndicatorVersion,
    ValidationRule,
)

VERSION_COLUMNS = (
    "version",
    "name",
    "unit",
    "multiplier",
    "status",
    "effective_from",
    "effective_to",
)


class IndicatorVersionInline(admin.TabularInline):
    model = IndicatorVersion
    fk_name = "indicator"
    extra = 0
    can_delete = False
    fields = VERSION_COLUMNS
    readonly_fields = VERSION_COLUMNS
    show_change_link = True

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    """Definitions are edited in the library pages (/indicators/) so that each change becomes a
    version; the admin only toggles activity and order."""

    list_display = ["code", "current_version", "is_active", "sort_order"]
    list_filter = ["is_active", "current_version__set", "current_version__status"]
    search_fields = ["code", "current_version__name"]
    fields = ["code", "is_active", "sort_order", "current_version"]
    readonly_fields = ["code", "current_version"]
    inlines = [IndicatorVersionInline]


@admin.register(IndicatorVersion)
class IndicatorVersionAdmin(admin.ModelAdmin):
    list_display = ["indicator", "version", "name", "status", "effective_from", "effective_to"]
    list_filter = ["status", "set", "kind"]
    search_fields = ["indicator__code", "name"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


class DataSetItemInline(admin.TabularInline):
    model = DataSetItem
    extra = 0
    autocomplete_fields = ["indicator"]


@admin.register(DataSet)
class DataSetAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "period_type",
        "due_days",
        "lock_days",
        "subcenter_review",
        "is_active",
    ]
    list_filter = ["period_type", "is_active", "subcenter_review"]
    search_fields = ["code", "name"]
    filter_horizontal = ["units"]
    inlines = [DataSetItemInline]


@admin.register(ValidationRule)
class ValidationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "left_indicator",
        "left_part",
        "operator",
        "right_indicator",
        "right_part",
        "severity",
        "is_active",
    ]
    list_filter = ["severity", "is_active", "dataset"]
    search_fields = ["code", "name", "message"]
    autocomplete_fields = ["left_indicator", "right_indicator"]
