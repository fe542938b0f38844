"""Admin: role channels (center and ops administrators), the read-only delivery log, notifications."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from qc_core.accounts.choices import Role
from qc_core.notify import services
from qc_core.notify.forms import AdminChannelForm
from qc_core.notify.models import Channel, Delivery, Notification
from qc_core.system.permissions import user_has_any_role

CHANNEL_ADMIN_ROLES = {Role.CENTER_ADMIN, Role.OPS_MANAGER}


class _RoleGatedAdmin(admin.ModelAdmin):
    """Staff who are center or ops administrators may manage notifications without extra model
    permissions; other staff need the usual Django permissions."""

    def _role_ok(self, request: HttpRequest) -> bool:
        return bool(
            request.user.is_active
            and request.user.is_staff
            and user_has_any_role(request.user, CHANNEL_ADMIN_ROLES)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_ok(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_ok(request) or super().has_view_permission(request, obj)


@admin.register(Channel)
class ChannelAdmin(_RoleGatedAdmin):
    form = AdminChannelForm
    list_display = ["__str__", "owner", "kind", "masked", "event_list", "enabled"]
    list_filter = ["kind", "enabled", "role"]
    search_fields = ["name", "user__username", "user__full_name"]
    raw_id_fields = ["user"]
    actions = ["send_test"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._role_ok(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_ok(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._role_ok(request) or super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        return super().get_queryset(request).select_related("user")

    @admin.display(description=_("所属"))
    def owner(self, obj: Channel) -> str:
        return obj.owner_display

    @admin.display(description=_("地址"))
    def masked(self, obj: Channel) -> str:
        return obj.masked_target

    @admin.display(description=_("事件"))
    def event_list(self, obj: Channel) -> str:
        return pgettext("list separator", "、").join(obj.events) if obj.events else str(_("全部"))

    @admin.action(description=_("向所选渠道发送测试通知"))
    def send_test(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        count = 0
        for channel in queryset:
            services.send_channel_test(channel, request.user)
            count += 1
        self.message_user(
            request,
            ngettext(
                "已向 %(n)d 个渠道发送测试通知，结果见发送记录。",
                "已向 %(n)d 个渠道发送测试通知，结果见发送记录。",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(Delivery)
class DeliveryAdmin(_RoleGatedAdmin):
    """The delivery log: read-only; failed deliveries can be queued again."""

    list_display = [
        "created_at",
        "event",
        "kind",
        "masked",
        "recipient",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "event"]
    search_fields = ["subject", "user__username", "last_error"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    list_select_related = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("地址"))
    def masked(self, obj: Delivery) -> str:
        return obj.masked_target

    @admin.display(description=_("接收人"))
    def recipient(self, obj: Delivery) -> str:
        return str(obj.user) if obj.user_id else str(obj.get_role_display())

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return self._role_ok(request) or request.user.is_superuser

    @admin.action(description=_("重新发送所选的失败记录"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = sum(1 for d in queryset if services.resend(d))
        self.message_user(
            request, _("已重新加入发送队列：%(n)d 条。") % {"n": count}, messages.SUCCESS
        )


@admin.register(Notification)
class NotificationAdmin(_RoleGatedAdmin):
    list_display = ["created_at", "user", "event", "title", "read_at"]
    list_filter = ["event"]
    search_fields = ["title", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
