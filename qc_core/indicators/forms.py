"""Editing an indicator's definition (center admins): every saved change makes a new version."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qc_core.indicators.models import IndicatorVersion
from qc_core.indicators.services import VERSION_FIELDS


class IndicatorVersionForm(forms.ModelForm):
    change_note = forms.CharField(
        label=_("修订说明"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("说明修改了什么、依据是什么；将记入版本历史与审计日志。"),
    )

    class Meta:
        model = IndicatorVersion
        fields = [*VERSION_FIELDS]
        widgets = {
            "numerator_def": forms.Textarea(attrs={"rows": 2}),
            "denominator_def": forms.Textarea(attrs={"rows": 2}),
            "basis": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            widget.attrs.setdefault("id", f"id_{name}")

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in VERSION_FIELDS}
