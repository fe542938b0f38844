"""Admin for rosters, special-duty periods, requests and coverage gaps (the pages under
/ops/oncall/ are the everyday tools; saving here regenerates shifts the same way)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ops_portal.models import (
    CoverageGap,
    DutyMember,
    DutyPeriod,
    OncallRequest,
    Roster,
    RosterMember,
)
from ops_portal.oncall.rosters import generate_period, generate_roster


class RosterMemberInline(admin.TabularInline):
    model = RosterMember
    extra = 1
    ordering = ["position"]
    autocomplete_fields = ["user"]


class RosterAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "shift_hours",
        "handover_time",
        "starts_on",
        "weeks_ahead",
        "is_active",
        "generated_until",
    ]
    readonly_fields = ["generated_until", "created_by", "created_at", "updated_at"]
    inlines = [RosterMemberInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        generate_roster(form.instance, actor=request.user)


class DutyMemberInline(admin.TabularInline):
    model = DutyMember
    extra = 1
    ordering = ["position"]
    autocomplete_fields = ["user"]


class DutyPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "start", "end", "shift_hours", "is_active"]
    list_filter = ["kind"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [DutyMemberInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        generate_period(form.instance, actor=request.user)


class OncallRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are decided on the on-call page (claimed, notified, audited)."""

    list_display = [
        "pk",
        "kind",
        "status",
        "requester",
        "counterpart",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CoverageGapAdmin(admin.ModelAdmin):
    list_display = ["role", "start", "end", "found_at", "notified_at", "resolved_at"]
    list_filter = ["role"]


def register() -> None:
    for model, model_admin in (
        (Roster, RosterAdmin),
        (DutyPeriod, DutyPeriodAdmin),
        (OncallRequest, OncallRequestAdmin),
        (CoverageGap, CoverageGapAdmin),
    ):
        if not admin.site.is_registered(model):
            admin.site.register(model, model_admin)
