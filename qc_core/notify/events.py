"""The event registry: every notification the platform sends has a registered event code with a
Chinese subject and a body template (plain-text Django templates rendered with the caller's context).

Apps register their own events at import time of their ``events`` module (or in ``AppConfig.ready``)::

    register_event("submission.returned", title=_("数据被退回"),
                   subject=_("数据被退回：{{ unit }} {{ period }}"))

``notify()`` refuses unknown codes with ``ValueError`` so a typo never silently drops a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, engines
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SUBJECT_MAX = 200


@dataclass(frozen=True)
class Event:
    """One kind of notification. ``title`` names the event (channel filters, admin); ``subject``
    is a template string for the message subject (defaults to the title); ``template`` is the body."""

    code: str
    title: str | Promise
    template: str
    subject: str | Promise = ""
    # Reach every enabled channel even when its event filter does not list this event (tests).
    ignore_filters: bool = False

    def render(self, context: dict[str, Any]) -> tuple[str, str]:
        """``(subject, body)`` rendered with ``context``; plain text, so nothing is HTML-escaped."""
        engine = _engine()
        ctx = Context(context, autoescape=False)
        subject = engine.from_string(str(self.subject or self.title)).render(ctx)
        body = engine.get_template(self.template).render(ctx)
        return " ".join(subject.split())[:SUBJECT_MAX], body.strip()


_REGISTRY: dict[str, Event] = {}


def _engine() -> Engine:
    return engines["django"].engine  # type: ignore[attr-defined,no-any-return]


def register_event(
    code: str,
    title: str | Promise,
    template: str | None = None,
    *,
    subject: str | Promise = "",
    ignore_filters: bool = False,
) -> Event:
    """Register (or re-register) ``code``; the body template defaults to ``notify/events/<code>.txt``."""
    event = Event(
        code=code,
        title=title,
        template=template or f"notify/events/{code}.txt",
        subject=subject,
        ignore_filters=ignore_filters,
    )
    _REGISTRY[code] = event
    return event


def get_event(code: str) -> Event:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ValueError(
            f"Unknown notification event {code!r}; register it with register_event() first."
        ) from None


def all_events() -> list[Event]:
    return sorted(_REGISTRY.values(), key=lambda e: e.code)


def event_choices() -> list[tuple[str, str]]:
    """``(code, "title（code）")`` pairs for channel event filters."""
    return [
        (e.code, _("%(name)s（%(code)s）") % {"name": e.title, "code": e.code})
        for e in all_events()
    ]


# --- platform events ---------------------------------------------------------------------------
register_event(
    "system.test", title=_("测试通知"), subject=_("【GeriQC】测试通知"), ignore_filters=True
)
register_event("task.finished", title=_("后台任务完成"), subject=_("后台任务完成：{{ label }}"))
register_event("task.failed", title=_("后台任务失败"), subject=_("后台任务失败：{{ label }}"))
register_event("account.locked", title=_("账户被锁定"), subject=_("账户被锁定：{{ username }}"))
register_event("password.changed", title=_("密码已修改"), subject=_("您的密码已修改"))
