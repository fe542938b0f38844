"""Cross-layer signals: the only way ``monitors`` and ``backup`` tell ``ops_portal`` what happened.

DESIGN.md: dependencies point one way (``qc_core`` ← ``monitors``, ``backup`` ← ``ops_portal``), so
the announcing apps cannot import the portal. They send these signals, defined here in the core;
``ops_portal`` connects its receivers in ``AppConfig.ready`` and opens or annotates tickets.
Inside one app, call the service function directly — signals are for crossing the boundary only.

Send with keyword arguments exactly as documented below, preferably with ``send_robust`` so a
failing receiver never breaks a probe or a backup run (receivers also log their own failures)::

    outage_began.send_robust(
        sender=ProbeService, monitor="门户首页 HTTPS", incident_id=incident.pk,
        started_at=incident.started_at, detail="连续 3 次 HTTP 502",
    )

Every ``*_id`` is stable for the incident / run, so sending the same signal twice is harmless
(receivers deduplicate on it).
"""

from __future__ import annotations

from django.dispatch import Signal

#: A monitor confirmed an outage. Keyword arguments: ``monitor`` (str, the monitor's name),
#: ``incident_id`` (str | int, unique per incident), ``started_at`` (aware datetime, when the
#: outage was detected), ``detail`` (str, what failed), optional ``url`` (str, link to the incident).
outage_began = Signal()

#: The outage is over. Keyword arguments: ``monitor``, ``incident_id`` (the same as when it began),
#: ``ended_at`` (aware datetime), ``detail`` (str), optional ``url``.
outage_ended = Signal()

#: A backup run failed. Keyword arguments: ``run_id`` (str | int), ``kind`` (str: ``full``,
#: ``diff``, ``incr``, ``files`` …), ``failed_at`` (aware datetime), ``error`` (str), optional ``url``.
backup_failed = Signal()

#: A restore drill failed. Keyword arguments: ``drill_id`` (str | int), ``failed_at`` (aware
#: datetime), ``error`` (str), optional ``url``.
drill_failed = Signal()

__all__ = ["backup_failed", "drill_failed", "outage_began", "outage_ended"]
