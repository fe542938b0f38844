"""Fixtures for the operations portal: a fixed start time, ticket factory helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ops_portal import services
from ops_portal.choices import Category, Channel, Severity

# Monday 2 March 2026, 09:00 Asia/Shanghai.
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


@pytest.fixture
def clock_at(time_machine: Any):  # type: ignore[no-untyped-def]
    """``clock_at(moment)`` freezes qc_core.system.clock.now() at ``moment`` (starts at T0)."""

    def _move(moment: datetime) -> datetime:
        time_machine.move_to(moment, tick=False)
        return moment

    _move(T0)
    return _move


@pytest.fixture
def make_ticket(personas: Any, clock_at: Any):  # type: ignore[no-untyped-def]
    """Create a ticket through the service (default: an outage reported by reporter_a of
    hospital A through the web form, now)."""

    def _make(**overrides: Any) -> Any:
        values: dict[str, Any] = {
            "title": "系统无法登录",
            "description": "全院无法登录质控平台",
            "category": Category.FAULT,
            "severity": Severity.OUTAGE,
            "channel": Channel.WEB,
            "requester": personas.reporter_a,
            "org_unit": personas.tree.hospital_a,
        }
        values.update(overrides)
        return services.create_ticket(**values)

    return _make


def clock_of(ticket: Any, clause: str) -> Any:
    """The ticket's clock for ``clause`` recomputed from the ledger as of now."""
    ticket.refresh_from_db()
    states = {s.clause: s for s in services.ticket_clocks(ticket)}
    return states.get(clause)
