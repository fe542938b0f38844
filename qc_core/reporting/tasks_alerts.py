"""Celery tasks of the reporting-progress alerts (scheduled by django-celery-beat: see migration
``reporting.0003_schedule_progress_alerts``). Thin wrappers over :mod:`qc_core.reporting.alerts`;
idempotent, since every alert is claimed once per unit, data set, period and step."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from qc_core.reporting import alerts


@shared_task(
    name="reporting.send_progress_alerts",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def send_progress_alerts() -> dict[str, int]:
    """Daily pass: reminders before the due date, late notices, escalations to the center."""
    return alerts.run_alerts()


@shared_task(
    name="reporting.send_progress_digest",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def send_progress_digest() -> dict[str, int]:
    """Weekly digest of the open entry windows to center admins."""
    return alerts.send_digest()
