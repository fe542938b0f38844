"""Scrape-time on-call figures for /metrics: uncovered primary hours ahead, whether a primary
and a secondary are on call now, pending requests. Three queries per scrape."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from qc_core.system import clock
from qc_core.system.metrics import register_scrape_collector


@register_scrape_collector
def oncall_metrics() -> Iterable[Metric]:
    from ops_portal.choices import ShiftRole
    from ops_portal.models import OncallRequest
    from ops_portal.oncall import current_shift
    from ops_portal.oncall.choices import RequestStatus
    from ops_portal.oncall.coverage import find_gaps

    now = clock.now()
    hours, gap_runs = find_gaps(now)
    uncovered = GaugeMetricFamily(
        "geriqc_ops_oncall_uncovered_hours", "Hours of the next 14 days without a primary on call"
    )
    uncovered.add_metric([], len(hours))
    yield uncovered
    gaps = GaugeMetricFamily(
        "geriqc_ops_oncall_gaps", "Gaps (runs of uncovered hours) in the next 14 days"
    )
    gaps.add_metric([], len(gap_runs))
    yield gaps
    staffed = GaugeMetricFamily(
        "geriqc_ops_oncall_staffed", "1 if someone holds the role now", labels=["role"]
    )
    for role in ShiftRole.values:
        staffed.add_metric([role], 1 if current_shift(role, now) is not None else 0)
    yield staffed
    pending = GaugeMetricFamily(
        "geriqc_ops_oncall_pending_requests", "Override and swap requests awaiting approval"
    )
    pending.add_metric([], OncallRequest.objects.filter(status=RequestStatus.PENDING).count())
    yield pending
