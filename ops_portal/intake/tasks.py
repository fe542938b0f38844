"""Celery task of the intake channels (imported by ``OpsPortalConfig.ready`` so workers know it)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from ops_portal.intake.email import reprocess_pending
from ops_portal.intake.mailbox import MailboxError, poll

logger = logging.getLogger(__name__)


@shared_task(name="ops_portal.poll_mailbox", ignore_result=True)
def poll_mailbox() -> dict[str, Any]:
    """Beat, every 2 minutes: finish stored messages whose processing was interrupted, then read
    the IMAP inbox (returns at once while ``MAILBOX_HOST`` is unset). Idempotent: a message is
    claimed before it is handled and recognized by its Message-ID if read twice."""
    reprocessed = reprocess_pending()
    try:
        result = poll().as_dict()
    except MailboxError as exc:
        logger.warning("poll_mailbox: %s", exc)
        return {"error": str(exc), "reprocessed": reprocessed}
    result["reprocessed"] = reprocessed
    return result
