"""Forms of the operations pages (new ticket, phone log, ticket actions, SLA policy)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ops_portal.access import home_units, is_ops_staff
from ops_portal.choices import Category, Severity
from ops_portal.models import BusinessCalendar
from qc_core.accounts.choices import Role
from qc_core.accounts.models import User
from qc_core.orgs.choices import Level
from qc_core.orgs.models import OrgUnit

TEXTAREA = forms.Textarea(attrs={"rows": 3, "class": "form-control"})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more uploaded files."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class BootstrapMixin:
    """Bootstrap 5 classes on every widget."""

    def _style(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


def _unit_field(user: Any) -> forms.ModelChoiceField:
    if is_ops_staff(user):
        qs = OrgUnit.objects.filter(is_active=True, level=Level.INSTITUTION).order_by("path")
    else:
        qs = OrgUnit.objects.filter(pk__in=[u.pk for u in home_units(user)])
    return forms.ModelChoiceField(
        queryset=qs,
        label=_("报修单位"),
        required=not is_ops_staff(user),
        empty_label=_("（请选择）"),
    )


class FaultFieldsMixin(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=Category.choices, initial=Category.FAULT)
    severity = forms.ChoiceField(
        label=_("故障等级"),
        choices=[("", _("（非故障请留空）")), *Severity.choices],
        required=False,
        help_text=_("系统停止或核心功能不可用：1 小时内恢复；其他故障：4 小时内答复原因和方案。"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("category") == Category.FAULT and not data.get("severity"):
            self.add_error("severity", _("故障工单须选择故障等级。"))
        if data.get("category") != Category.FAULT:
            data["severity"] = ""
        return data


class TicketForm(BootstrapMixin, FaultFieldsMixin):
    """The web form any signed-in user files a ticket with."""

    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(
        label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    attachments = MultipleFileField(label=_("附件（截图等）"))

    field_order = [
        "title",
        "category",
        "severity",
        "org_unit",
        "description",
        "contact_phone",
        "attachments",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = _unit_field(user)
        units = home_units(user)
        if len(units) == 1:
            self.fields["org_unit"].initial = units[0].pk
        self.order_fields(self.field_order)
        self._style()


class PhoneCallForm(BootstrapMixin, FaultFieldsMixin):
    """An engineer logs a phone call as a ticket."""

    caller = forms.CharField(label=_("来电人"), max_length=64)
    phone = forms.CharField(label=_("来电号码"), max_length=32, required=False)
    called_at = forms.DateTimeField(
        label=_("来电时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    title = forms.CharField(
        label=_("标题"), max_length=200, required=False, help_text=_("留空则取摘要第一行")
    )
    summary = forms.CharField(label=_("通话摘要"), widget=forms.Textarea(attrs={"rows": 4}))

    field_order = [
        "caller",
        "phone",
        "called_at",
        "org_unit",
        "category",
        "severity",
        "title",
        "summary",
    ]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"] = _unit_field(user)
        self.order_fields(self.field_order)
        self._style()


class CommentForm(BootstrapMixin, forms.Form):
    body = forms.CharField(label=_("回复内容"), widget=TEXTAREA, required=False)
    attachments = MultipleFileField(label=_("附件"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class NoteForm(CommentForm):
    body = forms.CharField(label=_("内部备注（仅运维人员可见）"), widget=TEXTAREA, required=False)


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), widget=TEXTAREA, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class RespondForm(BootstrapMixin, forms.Form):
    cause = forms.CharField(label=_("故障原因"), widget=TEXTAREA, required=False)
    solution = forms.CharField(label=_("解决方案"), widget=TEXTAREA, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ResolveForm(RespondForm):
    summary = forms.CharField(label=_("处理结果（用户可见）"), widget=TEXTAREA, required=False)
    field_order = ["summary", "cause", "solution"]


class SeverityForm(BootstrapMixin, forms.Form):
    severity = forms.ChoiceField(label=_("新的故障等级"), choices=Severity.choices)
    reason = forms.CharField(label=_("调整原因"), widget=TEXTAREA, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _("%(name)s（%(code)s）") % {"name": obj.get_full_name(), "code": obj.get_username()}


class AssignForm(BootstrapMixin, forms.Form):
    assignee = StaffChoiceField(
        label=_("处理人"),
        queryset=User.objects.filter(
            is_active=True, role_assignments__role__in=[Role.ENGINEER, Role.OPS_MANAGER]
        ).distinct(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ConfirmOnSiteForm(BootstrapMixin, forms.Form):
    on_behalf_of_customer = forms.BooleanField(label=_("代用户确认（运维负责人）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class CheckInForm(BootstrapMixin, forms.Form):
    arrived_at = forms.DateTimeField(
        label=_("到场时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("留空为现在"),
    )
    place = forms.CharField(label=_("到场地点"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class PolicyForm(BootstrapMixin, forms.Form):
    """The terms of a new SLA version (the current one is the starting point)."""

    restore_minutes = forms.IntegerField(label=_("恢复时限（分钟）"), min_value=1)
    respond_minutes = forms.IntegerField(label=_("响应时限（分钟）"), min_value=1)
    on_site_minutes = forms.IntegerField(label=_("到场时限（分钟）"), min_value=1)
    consult_minutes = forms.IntegerField(label=_("咨询/需求响应时限（分钟）"), min_value=1)
    warn_first = forms.IntegerField(label=_("第一级预警（%）"), min_value=1, max_value=99)
    warn_second = forms.IntegerField(label=_("第二级预警（%）"), min_value=1, max_value=99)
    calendar = forms.ModelChoiceField(
        label=_("故障条款日历"), queryset=BusinessCalendar.objects.all()
    )
    consult_calendar = forms.ModelChoiceField(
        label=_("咨询/需求条款日历"), queryset=BusinessCalendar.objects.all(), required=False
    )
    reopen_restarts_clock = forms.BooleanField(label=_("重新打开后重新计时"), required=False)
    note = forms.CharField(label=_("修改说明"), max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("warn_first"), data.get("warn_second")
        if first is not None and second is not None and first >= second:
            self.add_error("warn_second", _("第二级预警必须大于第一级预警。"))
        return data
