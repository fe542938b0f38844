"""Celery tasks (thin wrappers over services)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="ops_portal.sla_tick", ignore_result=True)
def sla_tick() -> dict[str, Any]:
    """Evaluate every running SLA clock (scheduled every minute by beat). Safe to run twice at
    once: each warning, breach notice and escalation step is claimed before it is sent."""
    from ops_portal.services import run_sla_tick

    return run_sla_tick().as_dict()
