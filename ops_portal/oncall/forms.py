"""Forms of the on-call pages (validation of shape; the rules live in the services)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ops_portal.choices import ShiftRole
from ops_portal.models import DutyPeriod, Roster, Shift
from qc_core.accounts.choices import Role
from qc_core.system import clock

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
SHIFT_HOURS = [
    (8, _("8 小时")),
    (12, _("12 小时")),
    (24, _("24 小时")),
    (48, _("48 小时")),
    (168, _("一周")),
]


def staff_users() -> QuerySet[Any]:
    """Active engineers and ops managers (who may be on call)."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True, role_assignments__role__in=[Role.ENGINEER, Role.OPS_MANAGER]
        )
        .distinct()
        .order_by("username")
    )


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control"}, format=DATETIME_FORMAT
        ),
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _("%(name)s（%(code)s）") % {"name": obj.get_full_name(), "code": obj.get_username()}


class MembersField(forms.CharField):
    """Members in rotation order, one username per line; errors name the line."""

    widget = forms.Textarea(attrs={"rows": 5, "class": "form-control", "autocapitalize": "none"})

    def clean(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().clean(value) or ""
        names = [line.strip() for line in text.splitlines()]
        users = {
            u.get_username(): u for u in staff_users().filter(username__in=[n for n in names if n])
        }
        members: list[Any] = []
        errors: list[str] = []
        for number, name in enumerate(names, start=1):
            if not name:
                continue
            if name not in users:
                errors.append(
                    str(_("第 %(n)d 行：“%(name)s”不是在职的运维工程师或运维负责人的用户名。"))
                    % {"n": number, "name": name}
                )
                continue
            members.append(users[name])
        if errors:
            raise forms.ValidationError(errors)
        if not members:
            raise forms.ValidationError(_("请至少填写一名值班人员。"))
        return members


class RotationForm(forms.ModelForm):
    members = MembersField(label=_("成员（按轮换顺序，每行一个用户名）"))
    shift_hours = forms.TypedChoiceField(
        label=_("班次时长"), choices=SHIFT_HOURS, coerce=int, initial=24
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and not self.is_bound:
            self.initial["members"] = "\n".join(
                m.user.get_username()
                for m in instance.members.select_related("user").order_by("position")
            )
        for name, field in self.fields.items():
            if name in ("is_active",):
                field.widget.attrs.setdefault("class", "form-check-input")
            else:
                field.widget.attrs.setdefault(
                    "class",
                    "form-select" if isinstance(field.widget, forms.Select) else "form-control",
                )

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "members"}


class RosterForm(RotationForm):
    class Meta:
        model = Roster
        fields = [
            "name",
            "starts_on",
            "shift_hours",
            "handover_time",
            "secondary_offset",
            "weeks_ahead",
            "is_active",
            "note",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "handover_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class DutyPeriodForm(RotationForm):
    start = _datetime_field(_("开始"))
    end = _datetime_field(_("结束"))

    class Meta:
        model = DutyPeriod
        fields = [
            "name",
            "kind",
            "start",
            "end",
            "shift_hours",
            "handover_time",
            "secondary_offset",
            "is_active",
            "note",
        ]
        widgets = {"handover_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}


class CoverRequestForm(forms.Form):
    role = forms.ChoiceField(label=_("值班角色"), choices=ShiftRole.choices)
    start = _datetime_field(_("开始"))
    end = _datetime_field(_("结束"))
    substitute = StaffChoiceField(label=_("代班人"), queryset=get_user_model().objects.none())
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["substitute"].queryset = staff_users()  # type: ignore[attr-defined]
        self.fields["substitute"].initial = user.pk
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )


class ShiftChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        start, end = timezone.localtime(obj.start), timezone.localtime(obj.end)
        return f"{obj.user.get_full_name()} · {obj.get_role_display()} · {start:%m-%d %H:%M}–{end:%m-%d %H:%M}"


# Swaps are offered for shifts starting within this horizon (the choice lists stay short).
SWAP_HORIZON = timedelta(weeks=8)


class SwapRequestForm(forms.Form):
    my_shift = ShiftChoiceField(label=_("本人班次"), queryset=Shift.objects.none())
    their_shift = ShiftChoiceField(label=_("对方班次"), queryset=Shift.objects.none())
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        now = clock.now()
        upcoming = Shift.objects.filter(
            start__gt=now, start__lt=now + SWAP_HORIZON, user__is_active=True
        ).select_related("user")
        self.fields["my_shift"].queryset = upcoming.filter(user=user).order_by("start")  # type: ignore[attr-defined]
        self.fields["their_shift"].queryset = upcoming.exclude(user=user).order_by("start")  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("审批意见"), required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
