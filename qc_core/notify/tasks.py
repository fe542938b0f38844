"""Celery task that sends one planned delivery, with declared retries."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from qc_core.notify import services
from qc_core.notify.channels import DeliveryError


@shared_task(
    bind=True,
    name="notify.send_delivery",
    autoretry_for=(DeliveryError,),
    retry_backoff=settings.NOTIFY_RETRY_BACKOFF,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=5,
    ignore_result=True,
)
def send_delivery(self: Task, delivery_id: int) -> str:
    """Send delivery ``delivery_id`` once; idempotent (a sent delivery is never sent again).

    A failed attempt raises :class:`DeliveryError`, which Celery retries with exponential
    backoff up to ``NOTIFY_MAX_RETRIES`` times; the last attempt marks the delivery failed
    instead of raising, so the failure ends in the delivery log, not in a traceback.
    """
    limit = settings.NOTIFY_MAX_RETRIES
    # The retry limit is a setting, read per run rather than frozen at import time.
    self.override_max_retries = limit
    return services.attempt_delivery(delivery_id, final=self.request.retries >= limit)
