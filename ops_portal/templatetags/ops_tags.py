from django import template

from ops_portal.display import humanize_seconds

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as ``3 小时 5 分``."""
    return "" if seconds is None else humanize_seconds(seconds)


EVENT_ICONS = {
    "created": "plus-circle",
    "acknowledged": "hand-thumbs-up",
    "assigned": "person-check",
    "comment": "chat-left-text",
    "internal_note": "lock",
    "response": "clipboard-check",
    "paused": "pause-circle",
    "resumed": "play-circle",
    "severity_changed": "arrow-down-up",
    "on_site_requested": "geo",
    "on_site_confirmed": "geo-alt",
    "on_site_arrived": "geo-alt-fill",
    "resolved": "check-circle",
    "closed": "x-circle",
    "reopened": "arrow-counterclockwise",
    "alert_appended": "broadcast",
    "sla_warning": "exclamation-triangle",
    "sla_breached": "exclamation-octagon",
    "escalated": "megaphone",
    "escalation_acknowledged": "bell-slash",
}


@register.filter
def event_icon(kind: str) -> str:
    return EVENT_ICONS.get(kind, "dot")
