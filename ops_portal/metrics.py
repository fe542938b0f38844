"""Scrape-time figures for /metrics: open tickets, SLA warnings and breaches, time to breach.
A few aggregate queries per scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Min, Q
from prometheus_client.core import GaugeMetricFamily, Metric

from ops_portal.choices import OPEN_STATUSES
from qc_core.system import clock
from qc_core.system.metrics import register_scrape_collector


@register_scrape_collector
def ops_metrics() -> Iterable[Metric]:
    from ops_portal.models import SlaClock, Ticket

    tickets = GaugeMetricFamily(
        "geriqc_ops_open_tickets",
        "Open tickets by severity and status",
        labels=["severity", "status"],
    )
    rows = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values("severity", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        tickets.add_metric([row["severity"] or "none", row["status"]], row["n"])
    yield tickets

    now = clock.now()
    open_clock = Q(ticket__status__in=OPEN_STATUSES)
    warnings = GaugeMetricFamily(
        "geriqc_ops_sla_warnings",
        "SLA warnings issued on open tickets' clocks, by clause and level",
        labels=["clause", "level"],
    )
    breaches = GaugeMetricFamily(
        "geriqc_ops_sla_breaches",
        "Breached SLA clocks of open tickets, by clause",
        labels=["clause"],
    )
    breaches_total = GaugeMetricFamily(
        "geriqc_ops_sla_breaches_total_clocks",
        "Breached SLA clocks of all tickets, by clause",
        labels=["clause"],
    )
    running_breached = Q(
        met_at__isnull=True, stopped_at__isnull=True, paused_since__isnull=True, due_at__lt=now
    )
    per_clause = SlaClock.objects.values("clause").annotate(
        warn1=Count("pk", filter=open_clock & Q(warned_50_at__isnull=False)),
        warn2=Count("pk", filter=open_clock & Q(warned_80_at__isnull=False)),
        open_breached=Count("pk", filter=open_clock & (Q(breached=True) | running_breached)),
        all_breached=Count("pk", filter=Q(breached=True) | running_breached),
    )
    for clause_row in per_clause:
        warnings.add_metric([clause_row["clause"], "1"], clause_row["warn1"])
        warnings.add_metric([clause_row["clause"], "2"], clause_row["warn2"])
        breaches.add_metric([clause_row["clause"]], clause_row["open_breached"])
        breaches_total.add_metric([clause_row["clause"]], clause_row["all_breached"])
    yield warnings
    yield breaches
    yield breaches_total

    remaining = GaugeMetricFamily(
        "geriqc_ops_sla_min_remaining_seconds",
        "Smallest time to breach among running clocks (negative: overdue), by clause",
        labels=["clause"],
    )
    running = SlaClock.objects.filter(
        met_at__isnull=True, stopped_at__isnull=True, paused_since__isnull=True
    )
    for due_row in running.values("clause").annotate(first=Min("due_at")):
        remaining.add_metric([due_row["clause"]], (due_row["first"] - now).total_seconds())
    yield remaining
