"""Prometheus Alertmanager notifications (webhook payload version 4) → tickets.

One ticket per alert group (``external_key = "am:" + groupKey``): the first *firing* notification
opens a fault ticket with channel *monitor*, repeats append an event to its timeline (never a
second ticket, even when two arrive at once — see :mod:`ops_portal.intake.keyed`), and *resolved*
adds a note: the alert clearing is evidence, but the engineer resolves the ticket.

Severity: *outage* when a ``severity`` label (common to the group, or on any firing alert) is one
of ``ALERTMANAGER_OUTAGE_SEVERITIES`` (default ``critical``, ``page``), else *non-outage*. The report
time is the earliest ``startsAt`` when it is recent (≤ 15 min), else the moment of receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from ops_portal import services
from ops_portal.choices import Category, Channel, Severity
from ops_portal.intake import keyed
from ops_portal.models import Ticket
from qc_core.system import clock

MAX_ALERTS_LISTED = 20
MAX_ALERTS_STORED = 50


@dataclass
class Outcome:
    """What a notification did: ``created`` / ``appended`` / ``noted`` / ``ignored``."""

    action: str
    ticket: Ticket | None = None


def external_key(group_key: str) -> str:
    return keyed.make_key("am", group_key)


def _time(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):  # Alertmanager's "not set"
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def severity_of(payload: dict[str, Any]) -> str:
    outage = set(settings.ALERTMANAGER_OUTAGE_SEVERITIES)
    values = [payload.get("commonLabels", {}).get("severity")]
    values += [a["labels"].get("severity") for a in payload["alerts"] if a["status"] == "firing"]
    return (
        Severity.OUTAGE
        if any(str(v).lower() in outage for v in values if v)
        else Severity.NON_OUTAGE
    )


def title_of(payload: dict[str, Any]) -> str:
    annotations = payload.get("commonAnnotations", {})
    labels = {**payload.get("groupLabels", {}), **payload.get("commonLabels", {})}
    first = payload["alerts"][0]
    return (
        annotations.get("summary")
        or labels.get("alertname")
        or first["annotations"].get("summary")
        or first["labels"].get("alertname")
        or _("Alertmanager 告警")
    )


def _alert_line(alert: dict[str, Any]) -> str:
    labels, annotations = alert["labels"], alert.get("annotations", {})
    name = labels.get("alertname", "")
    where = labels.get("instance") or labels.get("job") or ""
    text = annotations.get("summary") or annotations.get("description") or ""
    started = _time(alert.get("startsAt"))
    since = _("，开始于 %(at)s") % {"at": started.isoformat()} if started else ""
    state = _("触发中") if alert["status"] == "firing" else _("已恢复")
    return f"- [{state}] {name} {where}：{text}{since}".replace("  ", " ")


def describe(payload: dict[str, Any]) -> str:
    alerts = payload["alerts"]
    firing = sum(1 for a in alerts if a["status"] == "firing")
    lines = [
        _("Alertmanager 告警组（接收器 %(receiver)s）：%(firing)d 条触发中，共 %(total)d 条。")
        % {"receiver": payload.get("receiver") or "-", "firing": firing, "total": len(alerts)}
    ]
    description = payload.get("commonAnnotations", {}).get("description")
    if description:
        lines.append(description)
    lines += [_alert_line(a) for a in alerts[:MAX_ALERTS_LISTED]]
    hidden = len(alerts) - MAX_ALERTS_LISTED + int(payload.get("truncatedAlerts") or 0)
    if hidden > 0:
        lines.append(_("……另有 %(n)d 条告警未列出。") % {"n": hidden})
    if payload.get("externalURL"):
        lines.append(_("Alertmanager：%(url)s") % {"url": payload["externalURL"]})
    return "\n".join(lines)


def _stored(payload: dict[str, Any]) -> dict[str, Any]:
    """The part of the payload kept in the ledger (bounded)."""
    return {
        "alertmanager": {
            "status": payload["status"],
            "groupKey": payload["groupKey"],
            "receiver": payload.get("receiver", ""),
            "commonLabels": payload.get("commonLabels", {}),
            "alerts": [
                {
                    "status": a["status"],
                    "labels": a["labels"],
                    "startsAt": a.get("startsAt", ""),
                    "endsAt": a.get("endsAt", ""),
                    "fingerprint": a.get("fingerprint", ""),
                }
                for a in payload["alerts"][:MAX_ALERTS_STORED]
            ],
        }
    }


def receive(payload: dict[str, Any]) -> Outcome:
    """Handle one validated webhook payload."""
    key = external_key(payload["groupKey"])
    if payload["status"] == "firing":
        return _firing(key, payload)
    ticket = keyed.current_ticket(key)
    if ticket is None:  # nothing was opened for it (endpoint was closed, or it never fired here)
        return Outcome("ignored")
    body = (
        _("告警已恢复（Alertmanager）。工单不会自动解决，请工程师确认后处理。")
        + "\n"
        + describe(payload)
    )
    services.append_alert(ticket, body=body, data=_stored(payload))
    return Outcome("noted", ticket)


def _firing(key: str, payload: dict[str, Any]) -> Outcome:
    now = clock.now()
    starts = [_time(a.get("startsAt")) for a in payload["alerts"] if a["status"] == "firing"]
    known = [s for s in starts if s is not None]
    create = {
        "title": title_of(payload)[:200],
        "description": describe(payload),
        "category": Category.FAULT,
        "severity": severity_of(payload),
        "channel": Channel.MONITOR,
        "contact_name": "Alertmanager",
        "reported_at": keyed.report_time(min(known) if known else None, now),
        "data": _stored(payload),
    }
    body = _("告警再次通知（仍在触发）。") + "\n" + describe(payload)
    ticket, created = keyed.open_or_append(key, create, body=body, data=_stored(payload))
    return Outcome("created" if created else "appended", ticket)
