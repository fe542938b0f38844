"""Celery task of the on-call module (a thin wrapper over the coverage service)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="ops_portal.oncall_coverage", ignore_result=True)
def oncall_coverage() -> dict[str, Any]:
    """Extend the rosters and flag hours of the next 14 days without a primary on call
    (scheduled hourly by beat). Safe to run twice at once: each gap is claimed before it is
    announced."""
    from ops_portal.oncall.coverage import run_coverage_check

    return run_coverage_check().as_dict()
