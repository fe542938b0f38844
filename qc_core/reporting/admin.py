from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _

from qc_core.accounts.tokens import UnitApiToken, issue_unit_token, revoke_unit_token
from qc_core.reporting.models import DataValue, ReviewEvent, Submission

VALUE_COLUMNS = (
    "indicator",
    "indicator_version",
    "numerator",
    "denominator",
    "comment",
    "justification",
    "updated_by",
    "updated_at",
    "source",
)
EVENT_COLUMNS = ("action", "actor", "at", "reason", "items")


class DataValueInline(admin.TabularInline):
    model = DataValue
    extra = 0
    can_delete = False
    fields = VALUE_COLUMNS
    readonly_fields = VALUE_COLUMNS

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    can_delete = False
    fields = EVENT_COLUMNS
    readonly_fields = EVENT_COLUMNS

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Read-only: values and transitions change only through the reporting services (audited)."""

    list_display = ["org_unit", "dataset", "period", "status", "last_submitted_at", "approved_at"]
    list_filter = ["status", "dataset", "period"]
    search_fields = ["org_unit__name", "org_unit__code", "period"]
    inlines = [DataValueInline, ReviewEventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class UnitApiTokenForm(forms.ModelForm):
    class Meta:
        model = UnitApiToken
        fields = ["org_unit", "name"]

    def clean_org_unit(self):  # type: ignore[no-untyped-def]
        from qc_core.orgs.choices import Level

        unit = self.cleaned_data["org_unit"]
        if unit.level != Level.INSTITUTION:
            raise forms.ValidationError(_("接口令牌只能发给医疗机构。"))
        return unit


@admin.register(UnitApiToken)
class UnitApiTokenAdmin(admin.ModelAdmin):
    """Create shows the key once (in the success message); delete is replaced by revoke."""

    form = UnitApiTokenForm
    list_display = [
        "name",
        "org_unit",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "org_unit__name", "org_unit__code"]
    autocomplete_fields = ["org_unit"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return (
            ["org_unit", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
            if obj
            else []
        )

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            return
        token, key = issue_unit_token(obj.org_unit, obj.name, request.user)
        obj.pk = token.pk
        messages.warning(
            request, _("新令牌密钥（只显示这一次，请立即复制）：%(key)s") % {"key": key}
        )

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):  # type: ignore[no-untyped-def]
        for token in queryset:
            revoke_unit_token(token, request.user)
