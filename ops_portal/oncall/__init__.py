"""On-call duty: who is primary / secondary at any instant, and the rosters, special-duty
periods, override / swap requests and coverage check that decide it.

``current(role, at)`` is the one interface escalation uses. Precedence among overlapping shifts
of a role: approved override > special duty > regular roster (see ``choices.LAYER``); within a
layer the shift that started last wins. Modules: ``timeline`` (resolution over a window),
``rosters`` (generation), ``requests`` (overrides and swaps), ``coverage`` (the hourly check).
Models are imported lazily here because ``ops_portal.models`` imports ``oncall.choices``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def current_shift(role: str, at: datetime) -> Any | None:
    """The shift deciding who holds ``role`` (``primary`` / ``secondary``) at ``at``, or None."""
    from ops_portal.oncall.timeline import winning_shift

    return winning_shift(role, at)


def current(role: str, at: datetime) -> Any | None:
    """The active user holding ``role`` at ``at`` after the precedence rules, or None."""
    shift = current_shift(role, at)
    return shift.user if shift is not None else None
