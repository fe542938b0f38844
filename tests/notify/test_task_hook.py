"""Background jobs tell the user who started them how they ended."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import transaction

from qc_core.notify.models import Notification
from qc_core.orgs.tasks import rebuild_tree_cache
from qc_core.system.choices import RunStatus
from qc_core.system.services import start_job
from qc_core.system.tasks import TrackedTask


@shared_task(base=TrackedTask, bind=True, name="tests.notify.failing_job")
def failing_job(self: TrackedTask) -> None:
    self.progress(10, "读取文件")
    raise RuntimeError("第 7 行：指标代码不存在")


@pytest.mark.django_db(transaction=True)
def test_finished_job_notifies_its_starter(personas):
    with transaction.atomic():
        run = start_job(rebuild_tree_cache, label="重建组织树缓存", user=personas.center)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    note = Notification.objects.get(user=personas.center)
    assert note.event == "task.finished"
    assert note.title == "后台任务完成：重建组织树缓存"
    assert note.url == f"/jobs/{run.pk}/"


@pytest.mark.django_db(transaction=True)
def test_failed_job_notifies_its_starter_with_the_error(personas, settings):
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    run = start_job(
        failing_job,
        label="导入 2026Q3 数据",
        user=personas.reporter_a,
        org_unit=personas.tree.hospital_a,
    )

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    note = Notification.objects.get(user=personas.reporter_a)
    assert note.event == "task.failed"
    assert note.title == "后台任务失败：导入 2026Q3 数据"
    assert "第 7 行：指标代码不存在" in note.body


@pytest.mark.django_db(transaction=True)
def test_job_without_a_starter_notifies_nobody(personas):
    start_job(rebuild_tree_cache, label="定时重建", user=None)
    assert Notification.objects.count() == 0
