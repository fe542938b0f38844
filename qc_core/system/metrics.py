"""Prometheus metrics: request figures come from django-prometheus; this module adds Celery task
counters (incremented in the worker, shared through multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set) and scrape-time collectors that apps register to report
figures read from the database (open tickets, queued jobs …)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

CELERY_TASKS = Counter(
    "geriqc_celery_tasks_total",
    "Celery tasks finished, by task name and outcome",
    ["task", "state"],
)

_SCRAPE_COLLECTORS: list[Callable[[], Iterable[Metric]]] = []


def register_scrape_collector(
    func: Callable[[], Iterable[Metric]],
) -> Callable[[], Iterable[Metric]]:
    """Register a function yielding metric families, called at every scrape (keep it to a few
    aggregate queries)."""
    _SCRAPE_COLLECTORS.append(func)
    return func


class _ScrapeCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        for func in _SCRAPE_COLLECTORS:
            yield from func()


@register_scrape_collector
def _task_runs() -> Iterable[Metric]:
    from django.db.models import Count

    from qc_core.system.models import TaskRun

    family = GaugeMetricFamily(
        "geriqc_task_runs", "User-started long jobs by status", labels=["status"]
    )
    for row in TaskRun.objects.values("status").annotate(n=Count("pk")):
        family.add_metric([row["status"]], row["n"])
    yield family


def render() -> tuple[bytes, str]:
    """The exposition text for the whole process group."""
    from prometheus_client import CONTENT_TYPE_LATEST

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry: Any = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    scrape = CollectorRegistry()
    scrape.register(_ScrapeCollector())
    return output + generate_latest(scrape), CONTENT_TYPE_LATEST


def connect_celery_signals() -> None:
    from celery.signals import task_failure, task_retry, task_success

    def _count(state: str) -> Callable[..., None]:
        def handler(sender: Any = None, **_: Any) -> None:
            CELERY_TASKS.labels(task=getattr(sender, "name", str(sender)), state=state).inc()

        return handler

    task_success.connect(_count("success"), weak=False)
    task_failure.connect(_count("failure"), weak=False)
    task_retry.connect(_count("retry"), weak=False)
