"""The one mechanism that fills :class:`TaskRun` rows: a Celery base task.

A task declared with ``base=TrackedTask`` gets its row moved to *running* before it starts and to
*succeeded* / *failed* when it ends, and can report ``self.progress(pct, message)`` and
``self.log(line)``. Tasks started without a TaskRun row (beat schedules) run unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext

from qc_core.system import clock
from qc_core.system.choices import RunStatus
from qc_core.system.models import TaskRun

logger = logging.getLogger(__name__)


def _line(message: str) -> str:
    return f"[{clock.now().astimezone().strftime('%H:%M:%S')}] {message}\n"


class TrackedTask(Task):
    """Base for user-started long jobs. The task id is the TaskRun's primary key."""

    abstract = True

    def _run_rows(self, task_id: str | None = None) -> Any:
        return TaskRun.objects.filter(pk=task_id or self.request.id)

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        self._run_rows(task_id).update(status=RunStatus.RUNNING, started_at=clock.now())

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        result = (
            retval
            if isinstance(retval, dict | list | str | int | float | type(None))
            else str(retval)
        )
        self._run_rows(task_id).update(
            status=RunStatus.SUCCEEDED,
            progress=100,
            finished_at=clock.now(),
            result=result,
            log=Concat(F("log"), Value(_line(gettext("完成")))),
        )
        self._notify_starter(task_id)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        logger.warning("task %s (%s) failed: %s", self.name, task_id, exc)
        self._run_rows(task_id).update(
            status=RunStatus.FAILED,
            finished_at=clock.now(),
            error=str(exc)[:2000],
            log=Concat(F("log"), Value(_line(gettext("失败：%(error)s") % {"error": exc}))),
        )
        self._notify_starter(task_id)

    def _notify_starter(self, task_id: str) -> None:
        """Tell the user who started the run that it ended; never let that fail the job."""
        try:
            from qc_core.notify.services import notify_run_finished  # here: notify imports system

            notify_run_finished(task_id)
        except Exception:
            logger.exception("cannot notify the starter of task run %s", task_id)

    def progress(self, percent: int, message: str = "") -> None:
        """Report progress (0–100) and, when given, the current step (also appended to the log)."""
        percent = max(0, min(100, int(percent)))
        updates: dict[str, Any] = {"progress": percent}
        if message:
            updates["message"] = message[:300]
            updates["log"] = Concat(F("log"), Value(_line(message)))
        self._run_rows().update(**updates)

    def log(self, message: str) -> None:
        self._run_rows().update(log=Concat(F("log"), Value(_line(message))))

    def run_record(self) -> TaskRun | None:
        return self._run_rows().first()
