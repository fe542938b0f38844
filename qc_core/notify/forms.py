"""Channel forms: the user's own channels (profile) and role channels (admin)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qc_core.notify.events import event_choices
from qc_core.notify.models import Channel


class EventsField(forms.MultipleChoiceField):
    """Event filter as checkboxes; choices are read from the registry when the form is built."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("接收的事件"))
        kwargs.setdefault("help_text", _("不选表示接收全部事件。"))
        super().__init__(**kwargs)


class _ChannelFormBase(forms.ModelForm):
    events = EventsField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = event_choices()  # type: ignore[attr-defined]
        self.fields["target"].widget.attrs.setdefault("autocomplete", "off")


class UserChannelForm(_ChannelFormBase):
    """A user adds one of their own channels; the owner is set by the view, never by the form."""

    class Meta:
        model = Channel
        fields = ["name", "kind", "target", "events", "enabled"]


class AdminChannelForm(_ChannelFormBase):
    class Meta:
        model = Channel
        fields = ["role", "user", "name", "kind", "target", "events", "enabled"]
