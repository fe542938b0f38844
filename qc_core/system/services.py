"""Starting long jobs."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.utils.translation import gettext as _

from qc_core.system import clock
from qc_core.system.choices import RunStatus
from qc_core.system.models import TaskRun

logger = logging.getLogger(__name__)


def start_job(
    task: Task,
    *,
    label: str,
    user: Any = None,
    org_unit: Any = None,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
) -> TaskRun:
    """Record a TaskRun and enqueue ``task`` once the surrounding transaction commits.

    If the broker cannot take the message the row is marked failed with the reason, so the user
    sees why instead of a job stuck in the queue.
    """
    run = TaskRun.objects.create(
        name=task.name,
        label=label,
        started_by=user if user and user.is_authenticated else None,
        org_unit=org_unit,
    )

    def _enqueue() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs or {}, task_id=str(run.pk))
        except Exception as exc:  # broker down: keep the record honest
            logger.exception("cannot enqueue %s", task.name)
            TaskRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
                status=RunStatus.FAILED,
                finished_at=clock.now(),
                error=_("无法提交到任务队列：%(err)s") % {"err": exc},
            )

    transaction.on_commit(_enqueue)
    return run
