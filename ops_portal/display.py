"""How clocks look on the pages: colour (green > first warning > amber > second warning > red >
breached) and a countdown text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from ops_portal.models import SlaClock
from ops_portal.services.sla import clock_payload


def humanize_seconds(seconds: float) -> str:
    """``1 天 2 小时``, ``3 小时 5 分``, ``12 分``; negative values keep their sign."""
    sign = "-" if seconds < 0 else ""
    total = abs(int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    elif hours:
        text = _("%(h)d 小时 %(m)d 分") % {"h": hours, "m": minutes}
    elif minutes:
        text = _("%(m)d 分") % {"m": minutes}
    else:
        text = _("%(s)d 秒") % {"s": total}
    return sign + text


@dataclass(frozen=True)
class ClockView:
    clause: str
    label: str
    due_at: datetime
    met_at: datetime | None
    remaining_seconds: int
    paused_seconds: int
    breached: bool
    state: str
    color: str
    text: str
    running: bool


def clock_view(row: SlaClock, now: datetime, calendar: Any = None) -> ClockView:
    figures = clock_payload(row, now, calendar)
    remaining = figures["remaining_seconds"]
    breached = figures["breached"]
    if row.met_at is not None or row.stopped_at is not None:
        if breached:
            state, color, text = (
                "missed",
                "danger",
                _("超时完成") if row.met_at else _("超时后停止"),
            )
        elif row.met_at is not None:
            state, color, text = "met", "success", _("已达成")
        else:
            state, color, text = "stopped", "secondary", _("已停止")
    elif row.paused_since is not None:
        state, color = "paused", "secondary"
        text = _("暂停中，剩余 %(t)s") % {"t": humanize_seconds(remaining)}
    elif breached:
        state, color = "breached", "dark"
        text = _("已超时 %(t)s") % {"t": humanize_seconds(-remaining)}
    else:
        state = "running"
        color = (
            "danger"
            if now >= row.warn_80_due
            else "warning"
            if now >= row.warn_50_due
            else "success"
        )
        text = _("剩余 %(t)s") % {"t": humanize_seconds(remaining)}
    return ClockView(
        clause=row.clause,
        label=str(row.get_clause_display()),
        due_at=row.due_at,
        met_at=row.met_at,
        remaining_seconds=remaining,
        paused_seconds=figures["paused_seconds"],
        breached=breached,
        state=state,
        color=color,
        text=text,
        running=state in ("running", "breached"),
    )


def ticket_clock_views(
    ticket: Any, now: datetime, calendars: dict[int, Any] | None = None
) -> list[ClockView]:
    """Views of a ticket's prefetched clock rows (restore/respond/consult first, on-site last)."""
    calendars = {} if calendars is None else calendars
    views = []
    for row in sorted(ticket.clocks.all(), key=lambda r: r.clause == "on_site"):
        calendar = ticket.policy.calendar_for(row.clause)
        views.append(clock_view(row, now, calendars.setdefault(calendar.pk, calendar)))
    return views
