from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from qc_core.system.models import TaskRun

admin.site.site_header = _("云南省老年医学质控平台 · 系统配置")
admin.site.site_title = "GeriQC"
admin.site.index_title = _("系统配置")


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ["label", "status", "progress", "started_by", "created_at", "finished_at"]
    list_filter = ["status", "name"]
    search_fields = ["label", "name", "started_by__username"]
    readonly_fields = [f.name for f in TaskRun._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
