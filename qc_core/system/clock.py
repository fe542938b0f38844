"""The one source of "now" for time-dependent logic (deadlines, SLA clocks, probes, idle timeout).

Tests move time with ``time_machine``; code never calls ``datetime.now()`` directly.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """Current time, timezone-aware (UTC)."""
    return timezone.now()
