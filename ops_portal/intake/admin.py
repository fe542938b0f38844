"""Admin for received e-mail: the ops manager sees every message as received, downloads the raw
.eml of one that failed and, once the cause is fixed, hands failed messages to the intake again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ops_portal.intake.choices import InboundStatus
from ops_portal.models import InboundEmail
from qc_core.audit.services import record_download


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "from_address", "subject", "status", "ticket", "size"]
    list_filter = ["status", "source", "truncated"]
    search_fields = ["from_address", "from_name", "subject", "message_id"]
    date_hierarchy = "received_at"
    exclude = ["raw"]
    actions = ["retry_failed"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [f.name for f in InboundEmail._meta.fields if f.name not in {"id", "raw"}]
        return [*fields, "raw_download"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("原始邮件"))
    def raw_download(self, obj: InboundEmail) -> str:
        url = reverse("admin:ops_portal_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("下载 .eml"))

    def get_urls(self) -> list[Any]:
        raw = path(
            "<int:pk>/raw/",
            self.admin_site.admin_view(self.raw_view),
            name="ops_portal_inboundemail_raw",
        )
        return [raw, *super().get_urls()]

    def raw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        inbound = get_object_or_404(InboundEmail, pk=pk)
        name = f"inbound-{inbound.pk}.eml"
        record_download(request, name, obj=inbound)
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @admin.action(description=gettext_lazy("重新处理选中的失败邮件"))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        from ops_portal.intake.email import process

        failed = list(queryset.filter(status=InboundStatus.FAILED))
        # Back to "received" so the intake claims it like a fresh message.
        InboundEmail.objects.filter(pk__in=[m.pk for m in failed]).update(
            status=InboundStatus.RECEIVED, processed_at=None, error=""
        )
        outcomes = [process(InboundEmail.objects.get(pk=m.pk)).status for m in failed]
        still = sum(1 for s in outcomes if s == InboundStatus.FAILED)
        messages.info(
            request,
            _("已重新处理 %(n)d 封邮件，其中 %(f)d 封仍然失败。")
            % {"n": len(outcomes), "f": still},
        )
