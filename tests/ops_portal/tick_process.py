"""Run ``sla_tick`` in a separate process, starting at the same moment as its twin.

Usage: ``python -m tests.ops_portal.tick_process BARRIER_FILE``. Sets up Django, prints
``ready``, waits until the test creates BARRIER_FILE (so both processes start ticking together),
then runs the management command.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    barrier = Path(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    connection.ensure_connection()
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not barrier.exists():
        if time.monotonic() > deadline:
            raise SystemExit("barrier never opened")
        time.sleep(0.002)
    call_command("sla_tick")


if __name__ == "__main__":
    main()
