"""Gunicorn settings for GeriQC (used by `make run` and the systemd unit).

Read from the environment (documented in docs/configuration.md):
  HOST, PORT          bind address (default 127.0.0.1:8000); GUNICORN_BIND overrides both
  WEB_CONCURRENCY     worker processes (default 2 × CPU cores + 1, at most 8)
  GUNICORN_THREADS    threads per worker (default 4)
  GUNICORN_TIMEOUT    seconds before a silent worker is restarted (default 60)
  PROMETHEUS_MULTIPROC_DIR  when set, metrics of exited workers are cleaned up
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise SystemExit(f"{name}={value!r} is not an integer") from exc


bind = (
    os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 8000)}"
)
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
# Threads let one worker serve several slow clients (uploads from county hospitals over thin
# links) without a worker per client.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "geriqc-web"
# No runtime control socket: it would live in $HOME and clash between instances on one machine.
control_socket_disable = True


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live-gauge files so /metrics does not report it forever."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
