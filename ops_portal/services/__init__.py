"""Business actions of the operations portal (one function per action; transactions here).

Import from this package: ``from ops_portal.services import create_ticket, respond, …``.
"""

from ops_portal.errors import ActionForbidden, InvalidTransition, TicketError
from ops_portal.services.escalation import TickResult, run_sla_tick
from ops_portal.services.intake import create_ticket, log_phone_call, next_number
from ops_portal.services.policies import (
    current_policy,
    default_calendar,
    default_escalation_policy,
    publish_policy,
)
from ops_portal.services.sla import clock_payload, refresh_clocks, ticket_clocks
from ops_portal.services.tickets import (
    acknowledge,
    acknowledge_escalation,
    add_attachment,
    append_alert,
    assign,
    change_severity,
    check_in,
    close,
    comment,
    confirm_on_site,
    internal_note,
    pause,
    reopen,
    request_on_site,
    resolve,
    respond,
    resume,
)

__all__ = [
    "ActionForbidden",
    "InvalidTransition",
    "TickResult",
    "TicketError",
    "acknowledge",
    "acknowledge_escalation",
    "add_attachment",
    "append_alert",
    "assign",
    "change_severity",
    "check_in",
    "clock_payload",
    "close",
    "comment",
    "confirm_on_site",
    "create_ticket",
    "current_policy",
    "default_calendar",
    "default_escalation_policy",
    "internal_note",
    "log_phone_call",
    "next_number",
    "pause",
    "publish_policy",
    "refresh_clocks",
    "reopen",
    "request_on_site",
    "resolve",
    "respond",
    "resume",
    "run_sla_tick",
    "ticket_clocks",
]
