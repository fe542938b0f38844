"""GeriQC's own monitors and backups → tickets, through the cross-layer signals of
:mod:`qc_core.system.signals` (connected in ``OpsPortalConfig.ready``), and the same for an
external monitor posting to ``/api/v1/intake/monitor/``.

- ``outage_began`` opens an *outage* fault ticket, channel *monitor*, keyed ``mon:<incident id>``
  (a repeated signal for the same incident appends to it);
- ``outage_ended`` adds a note (the engineer resolves: restored service is evidence, not the
  resolution record);
- ``backup_failed`` / ``drill_failed`` open a *non-outage* fault (``backup:<run id>``,
  ``drill:<drill id>``): nothing is down, but the 4 h clause makes someone look at it.

Receivers let exceptions propagate; senders use ``send_robust`` (see the signals module).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from ops_portal import services
from ops_portal.choices import Category, Channel, Severity
from ops_portal.intake import keyed
from ops_portal.models import Ticket
from qc_core.system import clock
from qc_core.system import signals as system_signals

logger = logging.getLogger(__name__)


def incident_key(incident_id: Any) -> str:
    return keyed.make_key("mon", incident_id)


def external_incident_key(monitor: str, incident_id: Any) -> str:
    return keyed.make_key("ext", monitor, incident_id)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def open_outage(
    key: str,
    *,
    monitor: str,
    incident_id: Any,
    started_at: datetime | None,
    detail: str = "",
    url: str = "",
) -> tuple[Ticket, bool]:
    """Open (or append to) the outage ticket of one incident. Returns ``(ticket, created)``."""
    data = {
        "monitor": {
            "name": monitor,
            "incident_id": str(incident_id),
            "started_at": _iso(started_at),
            "url": url,
        }
    }
    lines = [_("监控“%(m)s”报告系统中断。") % {"m": monitor}]
    if detail:
        lines.append(detail)
    if url:
        lines.append(url)
    create = {
        "title": (_("监控发现系统中断：%(m)s") % {"m": monitor})[:200],
        "description": "\n".join(lines),
        "category": Category.FAULT,
        "severity": Severity.OUTAGE,
        "channel": Channel.MONITOR,
        "contact_name": (_("监控：%(m)s") % {"m": monitor})[:64],
        "reported_at": keyed.report_time(started_at, clock.now()),
        "data": data,
    }
    body = _("监控再次报告中断：%(detail)s") % {"detail": detail or monitor}
    return keyed.open_or_append(key, create, body=body, data=data)


def close_outage(
    key: str,
    *,
    monitor: str,
    incident_id: Any,
    ended_at: datetime | None,
    detail: str = "",
    url: str = "",
) -> Ticket | None:
    """Note on the incident's ticket that the monitor sees the service again (no auto-resolve)."""
    ticket = keyed.current_ticket(key)
    if ticket is None:
        logger.info("outage %s ended but no ticket carries key %s", incident_id, key)
        return None
    at = ended_at or clock.now()
    body = _("监控“%(m)s”报告已恢复（%(at)s）。请工程师确认后解决工单。") % {
        "m": monitor,
        "at": at.isoformat(),
    }
    if detail:
        body += "\n" + detail
    data = {
        "monitor": {
            "name": monitor,
            "incident_id": str(incident_id),
            "ended_at": _iso(at),
            "url": url,
        }
    }
    services.append_alert(ticket, body=body, data=data)
    return ticket


def _failure_ticket(
    key: str, title: str, description: str, data: dict[str, Any], name: str
) -> Ticket:
    create = {
        "title": title[:200],
        "description": description,
        "category": Category.FAULT,
        "severity": Severity.NON_OUTAGE,
        "channel": Channel.MONITOR,
        "contact_name": name[:64],
        "data": data,
    }
    ticket, _created = keyed.open_or_append(key, create, body=description, data=data)
    return ticket


# --- signal receivers ----------------------------------------------------------------------------


def on_outage_began(
    sender: Any,
    *,
    monitor: str,
    incident_id: Any,
    started_at: datetime | None = None,
    detail: str = "",
    url: str = "",
    **kwargs: Any,
) -> Ticket:
    ticket, _created = open_outage(
        incident_key(incident_id),
        monitor=monitor,
        incident_id=incident_id,
        started_at=started_at,
        detail=detail,
        url=url,
    )
    return ticket


def on_outage_ended(
    sender: Any,
    *,
    monitor: str,
    incident_id: Any,
    ended_at: datetime | None = None,
    detail: str = "",
    url: str = "",
    **kwargs: Any,
) -> Ticket | None:
    return close_outage(
        incident_key(incident_id),
        monitor=monitor,
        incident_id=incident_id,
        ended_at=ended_at,
        detail=detail,
        url=url,
    )


def on_backup_failed(
    sender: Any,
    *,
    run_id: Any,
    kind: str = "",
    failed_at: datetime | None = None,
    error: str = "",
    url: str = "",
    **kwargs: Any,
) -> Ticket:
    data = {
        "backup": {"run_id": str(run_id), "kind": kind, "failed_at": _iso(failed_at), "url": url}
    }
    description = "\n".join(
        filter(
            None,
            [
                _("备份任务 %(id)s（%(kind)s）失败。") % {"id": run_id, "kind": kind or "-"},
                error,
                url,
            ],
        )
    )
    return _failure_ticket(
        keyed.make_key("backup", run_id),
        _("备份失败：%(kind)s") % {"kind": kind or run_id},
        description,
        data,
        _("备份系统"),
    )


def on_drill_failed(
    sender: Any,
    *,
    drill_id: Any,
    failed_at: datetime | None = None,
    error: str = "",
    url: str = "",
    **kwargs: Any,
) -> Ticket:
    data = {"drill": {"drill_id": str(drill_id), "failed_at": _iso(failed_at), "url": url}}
    description = "\n".join(
        filter(None, [_("恢复演练 %(id)s 失败。") % {"id": drill_id}, error, url])
    )
    return _failure_ticket(
        keyed.make_key("drill", drill_id),
        _("恢复演练失败：%(id)s") % {"id": drill_id},
        description,
        data,
        _("备份系统"),
    )


def connect() -> None:
    """Listen to the cross-layer signals (called once from ``OpsPortalConfig.ready``)."""
    system_signals.outage_began.connect(on_outage_began, dispatch_uid="ops_portal.outage_began")
    system_signals.outage_ended.connect(on_outage_ended, dispatch_uid="ops_portal.outage_ended")
    system_signals.backup_failed.connect(on_backup_failed, dispatch_uid="ops_portal.backup_failed")
    system_signals.drill_failed.connect(on_drill_failed, dispatch_uid="ops_portal.drill_failed")
