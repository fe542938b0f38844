"""Errors raised by ticket actions; the API turns them into the one error format."""

from __future__ import annotations


class TicketError(Exception):
    """Bad input for an action (HTTP 400). ``field`` names the offending field, if any."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(TicketError):
    """The action is not allowed in the ticket's current state (HTTP 409)."""

    status = 409
    code = "invalid_state"


class ActionForbidden(TicketError):
    """The actor may see the ticket but not take this action (HTTP 403)."""

    status = 403
    code = "permission_denied"
