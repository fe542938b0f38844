"""Tickets opened by machines, deduplicated by an external key (Alertmanager group, incident id).

``Ticket.external_key`` is unique, so the database itself guarantees one ticket per key even when
two notifications arrive at the same moment: the loser of the race gets an IntegrityError inside
``create_ticket`` (a ``TicketError`` on ``external_key``) and appends to the winner's ticket.

A key whose ticket is already resolved or closed is *retired* (renamed ``<key>#<number>`` with a
conditional UPDATE, so only one racer does it) before a new ticket takes it: the same alert group
firing again weeks later is a new fault with its own SLA clock, not a footnote on a closed ticket.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from ops_portal import services
from ops_portal.choices import DONE_STATUSES
from ops_portal.errors import TicketError
from ops_portal.models import Ticket

# Room for the "#GQ-2026-000123" suffix a retired key gets, inside the 255-character column.
KEY_MAX = 230
# A start time older than this is not taken as the report time (the notification was late).
MAX_START_AGE = timedelta(minutes=15)


def make_key(prefix: str, *parts: Any) -> str:
    """``prefix:part:part``; hashed when it would not fit the column."""
    body = ":".join(str(p) for p in parts)
    key = f"{prefix}:{body}"
    if len(key) <= KEY_MAX:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(body.encode('utf-8')).hexdigest()}"


def current_ticket(key: str) -> Ticket | None:
    return Ticket.objects.filter(external_key=key).first()


def report_time(start: datetime | None, now: datetime) -> datetime:
    """When the machine says the problem started, if that is recent and not in the future;
    otherwise now (the SLA clock starts when we are told)."""
    if start is None or start > now or now - start > MAX_START_AGE:
        return now
    return start


def _retire(ticket: Ticket, key: str) -> None:
    retired = f"{key}#{ticket.number}"
    if Ticket.objects.filter(pk=ticket.pk, external_key=key).update(external_key=retired):
        services.append_alert(
            ticket,
            body=_("同一告警源再次报告问题，本工单已解决或关闭，将另建新工单。"),
            data={"external_key": key, "retired_as": retired},
        )


def open_or_append(
    key: str, create: dict[str, Any], *, body: str, data: dict[str, Any]
) -> tuple[Ticket, bool]:
    """The open ticket for ``key`` with ``body`` appended, or a new one made from ``create``
    (keyword arguments of :func:`ops_portal.services.create_ticket`). Returns ``(ticket, created)``."""
    ticket = current_ticket(key)
    if ticket is not None and ticket.status in DONE_STATUSES:
        _retire(ticket, key)
        create = {**create, "data": {**create.get("data", {}), "follows": ticket.number}}
        ticket = None
    if ticket is None:
        try:
            return services.create_ticket(external_key=key, **create), True
        except TicketError as exc:
            if exc.field != "external_key":
                raise
        ticket = Ticket.objects.get(external_key=key)  # a concurrent notification won the race
    services.append_alert(ticket, body=body, data=data)
    return ticket, False
