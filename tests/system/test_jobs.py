"""Long jobs: a TaskRun row follows every user-started job, in eager mode and with a real worker."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from qc_core.orgs.services import cached_tree
from qc_core.orgs.tasks import rebuild_tree_cache
from qc_core.system.choices import RunStatus
from qc_core.system.models import TaskRun
from qc_core.system.services import start_job

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_rebuild_job_records_progress_and_result_in_eager_mode(personas):
    with transaction.atomic():
        run = start_job(rebuild_tree_cache, label="重建组织树缓存", user=personas.center)
        assert TaskRun.objects.get(pk=run.pk).status == RunStatus.QUEUED  # not before commit
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.progress == 100
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    assert run.result == {"units": 148, "members": 2}
    assert "已统计成员单位" in run.log
    assert run.started_by == personas.center
    assert cached_tree()["members"] == 2


@pytest.mark.django_db(transaction=True)
def test_failed_job_is_marked_failed_with_the_reason(personas, monkeypatch):
    from qc_core.orgs import services

    def boom(progress=None):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(services, "rebuild_tree_cache", boom)
    monkeypatch.setattr(django_settings, "CELERY_TASK_EAGER_PROPAGATES", False)
    run = start_job(rebuild_tree_cache, label="重建组织树缓存", user=personas.center)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "磁盘已满" in run.error


def _reset_pool(app):
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_job_with_unreachable_broker_is_marked_failed(personas, settings, monkeypatch):
    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    from config.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.broker_connection_retry = False
    app.conf.broker_connection_max_retries = 0
    app.conf.broker_transport_options = {"max_retries": 0}
    try:
        _reset_pool(app)
        run = start_job(rebuild_tree_cache, label="重建组织树缓存", user=personas.center)
        run.refresh_from_db()
    finally:
        for key in (
            "broker_url",
            "broker_connection_retry",
            "broker_connection_max_retries",
            "broker_transport_options",
        ):
            app.conf.pop(key, None)
        _reset_pool(app)
    assert run.status == RunStatus.FAILED
    assert "任务队列" in run.error


def _db_url_for_subprocess() -> str:
    cfg = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{cfg['NAME']}"
    user = cfg.get("USER") or "postgres"
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{cfg['NAME']}"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_user_started_job_end_to_end(personas, settings, tmp_path):
    """GIVEN a real Celery worker process on the configured broker (Redis in CI)
    WHEN a center admin starts the org-tree rebuild
    THEN the worker runs it and the TaskRun row ends succeeded with progress 100."""
    if connection.vendor == "sqlite" and str(connection.settings_dict["NAME"]).startswith(
        ("file:", ":memory:")
    ):
        pytest.skip("in-memory SQLite cannot be shared with a worker process")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent))
    assert celery_bin, "celery executable not found next to the interpreter"
    env = {
        **os.environ,
        "DATABASE_URL": _db_url_for_subprocess(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "GERIQC_VAR_DIR": str(django_settings.VAR_DIR),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    queue = f"e2e-{os.getpid()}"
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            celery_bin,
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "-l",
            "info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        run = TaskRun.objects.create(
            name=rebuild_tree_cache.name, label="重建组织树缓存", started_by=personas.center
        )
        rebuild_tree_cache.apply_async(task_id=str(run.pk), queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.finished:
                break
            time.sleep(0.3)  # waiting on a real external process, not moving time
        assert run.status == RunStatus.SUCCEEDED, log.read_text()[-3000:]
        assert run.progress == 100
        assert run.result["units"] == 148
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
