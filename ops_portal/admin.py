"""Admin: SLA versions (saving publishes a new version), calendars, escalation policies, shifts,
and read-only tickets with their ledger."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ops_portal.errors import TicketError
from ops_portal.models import (
    BusinessCalendar,
    CalendarDay,
    EscalationFiring,
    EscalationPolicy,
    EscalationStep,
    Shift,
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from ops_portal.services.policies import POLICY_FIELDS, publish_policy


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "is_24x7", "weekdays", "day_start", "day_end", "timezone"]
    inlines = [CalendarDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Each save publishes a new version; existing versions are never changed."""

    list_display = [
        "version",
        "name",
        "restore_minutes",
        "respond_minutes",
        "on_site_minutes",
        "consult_minutes",
        "warn_percents",
        "created_at",
        "created_by",
    ]
    fields = [*POLICY_FIELDS, "note"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        values = {
            name: form.cleaned_data[name] for name in POLICY_FIELDS if name in form.cleaned_data
        }
        try:
            new = publish_policy(request.user, note=form.cleaned_data.get("note", ""), **values)
        except TicketError as exc:
            messages.error(request, exc.message)
            return
        obj.pk, obj.version = new.pk, new.version
        messages.info(request, _("已发布 SLA 策略第 %(v)d 版。") % {"v": new.version})


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    ordering = ["order"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "clauses", "is_active"]
    inlines = [EscalationStepInline]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["role", "user", "start", "end", "note"]
    list_filter = ["role"]
    date_hierarchy = "start"
    autocomplete_fields = ["user"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = readonly_fields = ("at", "kind", "actor_name", "public", "body", "data")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlaClockInline(admin.TabularInline):
    model = SlaClock
    fields = readonly_fields = (
        "clause",
        "started_at",
        "due_at",
        "met_at",
        "stopped_at",
        "paused_seconds",
        "breached",
        "warned_50_at",
        "warned_80_at",
        "breach_notified_at",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets are worked through the portal's actions (the ledger); the admin only reads."""

    list_display = [
        "number",
        "title",
        "category",
        "severity",
        "status",
        "org_unit",
        "assignee",
        "reported_at",
        "sla_due_at",
        "sla_breached",
    ]
    list_filter = ["status", "category", "severity", "channel", "sla_breached"]
    search_fields = ["number", "title", "contact_name", "contact_phone", "external_key"]
    inlines = [SlaClockInline, TicketEventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Ticket._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EscalationFiring)
class EscalationFiringAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "clause",
        "step",
        "target_user",
        "fired_at",
        "acknowledged_at",
        "acknowledged_by",
    ]
    list_filter = ["clause"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in EscalationFiring._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Received e-mail lives with the intake code; importing it registers its admin.
from ops_portal.intake import admin as _intake_admin  # noqa: E402, F401
