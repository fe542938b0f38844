"""Operations-portal models, split by resource."""

from ops_portal.models.escalation import EscalationFiring, EscalationPolicy, EscalationStep
from ops_portal.models.intake import InboundEmail
from ops_portal.models.oncall import (
    CoverageGap,
    DutyMember,
    DutyPeriod,
    OncallRequest,
    Roster,
    RosterMember,
    Shift,
)
from ops_portal.models.sla import BusinessCalendar, CalendarDay, SlaClock, SlaPolicy
from ops_portal.models.tickets import (
    LedgerImmutableError,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketEmailMessage,
    TicketEvent,
)

__all__ = [
    "BusinessCalendar",
    "CalendarDay",
    "CoverageGap",
    "DutyMember",
    "DutyPeriod",
    "EscalationFiring",
    "EscalationPolicy",
    "EscalationStep",
    "InboundEmail",
    "LedgerImmutableError",
    "OncallRequest",
    "Roster",
    "RosterMember",
    "Shift",
    "SlaClock",
    "SlaPolicy",
    "Ticket",
    "TicketAttachment",
    "TicketCounter",
    "TicketEmailMessage",
    "TicketEvent",
]
