"""Statistical checks: outliers against the unit's own history and against peers of the same
hospital level (modified z-score), and suspicious patterns (identical values period after period,
rate jumps). Part of :mod:`qc_core.reporting.validation`."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from qc_core.indicators.choices import Kind, Severity
from qc_core.indicators.models import IndicatorVersion
from qc_core.indicators.periods import Period
from qc_core.reporting.choices import REPORTED_STATUSES
from qc_core.reporting.findings import Cell, fmt, result
from qc_core.reporting.models import DataValue, Submission

Z_THRESHOLD = 3.5
HISTORY_PERIODS = 8
MIN_HISTORY = 4
MIN_PEERS = 5
IDENTICAL_RUN = 4  # the current period and the three before it


def modified_z(x: float, sample: Sequence[float]) -> float | None:
    """Iglewicz–Hoaglin modified z-score of ``x`` against ``sample``; falls back to the mean
    absolute deviation when the MAD is zero; ``None`` when the sample has no spread at all."""
    med = statistics.median(sample)
    deviations = [abs(s - med) for s in sample]
    mad = statistics.median(deviations)
    if mad > 0:
        return 0.6745 * (x - med) / mad
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return (x - med) / (1.253314 * mean_ad)
    return None


@dataclass
class Past:
    numerator: Decimal | None
    denominator: Decimal | None
    version: int


def break_versions(versions: Iterable[IndicatorVersion]) -> dict[int, int]:
    """Per indicator: the version number of its latest definition change (values reported under
    an older version are not comparable)."""
    ids = {v.indicator_id for v in versions}
    breaks: dict[int, int] = {}
    for indicator_id, number in IndicatorVersion.objects.filter(
        indicator_id__in=ids, is_definition_change=True
    ).values_list("indicator_id", "version"):
        breaks[indicator_id] = max(number, breaks.get(indicator_id, 0))
    return breaks


def load_history(
    submission: Submission, indicator_ids: Iterable[int], periods: list[Period]
) -> dict[int, dict[str, Past]]:
    """``{indicator_id: {period: Past}}`` of the same unit and form over ``periods``."""
    history: dict[int, dict[str, Past]] = defaultdict(dict)
    rows = DataValue.objects.filter(
        submission__org_unit_id=submission.org_unit_id,
        submission__dataset_id=submission.dataset_id,
        submission__period__in=[str(p) for p in periods],
        submission__status__in=REPORTED_STATUSES,
        indicator_id__in=list(indicator_ids),
    ).values_list(
        "indicator_id",
        "submission__period",
        "numerator",
        "denominator",
        "indicator_version__version",
    )
    for indicator_id, period, num, den, version in rows:
        history[indicator_id][period] = Past(num, den, version)
    return history


# Peer figures are cached per (form, period, hospital level) under a stamp of the reported
# submissions (how many, last change): any submit, approval, return or reopen changes the stamp.
PEER_CACHE_SECONDS = 600
PeerRates = dict[int, list[tuple[int, int, float]]]  # indicator → [(unit id, version, rate)]


def load_peer_rates(submission: Submission) -> PeerRates:
    """Rates of every indicator of the form reported by units of the same hospital level in the
    same period (the submission's own unit included; callers leave it out)."""
    level = submission.org_unit.hospital_level
    if not level:
        return {}
    reported = Submission.objects.filter(
        dataset_id=submission.dataset_id,
        period=submission.period,
        status__in=REPORTED_STATUSES,
        org_unit__hospital_level=level,
    )
    stamp = reported.aggregate(n=Count("id"), last=Max("updated_at"))
    if not stamp["n"]:
        return {}
    key = (
        f"qc:peers:{submission.dataset_id}:{submission.period}:{level}:"
        f"{stamp['n']}:{stamp['last'].timestamp()}"
    )
    cached: PeerRates | None = cache.get(key)
    if cached is not None:
        return cached
    rates: PeerRates = defaultdict(list)
    rows = DataValue.objects.filter(submission__in=reported, numerator__isnull=False).values_list(
        "indicator_id",
        "submission__org_unit_id",
        "indicator_version__version",
        "numerator",
        "denominator",
        "indicator_version__multiplier",
        "indicator_version__denominator_def",
    )
    for indicator_id, unit_id, version, num, den, multiplier, den_def in rows:
        if num is None:
            continue
        if den_def.strip():
            if den is None or den == 0:
                continue
            rate = float(num) / float(den) * float(multiplier)
        else:
            rate = float(num) * float(multiplier)
        rates[indicator_id].append((unit_id, version, rate))
    result = dict(rates)
    cache.set(key, result, PEER_CACHE_SECONDS)
    return result


def _rates(cell: Cell, pasts: Iterable[Past], min_version: int) -> list[float]:
    rates = []
    for past in pasts:
        if past.version < min_version:
            continue
        rate = cell.version.rate(past.numerator, past.denominator)
        if rate is not None:
            rates.append(float(rate))
    return rates


def statistical_checks(
    submission: Submission,
    cells: dict[int, Cell],
    history: dict[int, dict[str, Past]],
    peers: PeerRates,
    breaks: dict[int, int],
    previous: list[Period],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    factor = float(submission.dataset.jump_factor)
    for indicator_id, cell in cells.items():
        rate = cell.rate
        if rate is None:
            continue
        x = float(rate)
        own = history.get(indicator_id, {})
        min_version = breaks.get(indicator_id, 0)
        unit = cell.version.unit_label
        past_rates = _rates(cell, (own[str(p)] for p in previous if str(p) in own), min_version)
        if len(past_rates) >= MIN_HISTORY:
            z = modified_z(x, past_rates)
            if z is not None and abs(z) > Z_THRESHOLD:
                out.append(
                    result(
                        cell,
                        "rate",
                        Severity.WARNING,
                        "outlier_history",
                        _(
                            "%(code)s 指标值 %(x)s%(u)s 明显偏离本单位近 %(n)d 期水平（中位数 %(m)s%(u)s），请核实或填写情况说明。"
                        )
                        % {
                            "code": cell.code,
                            "x": fmt(x),
                            "u": unit,
                            "n": len(past_rates),
                            "m": fmt(statistics.median(past_rates)),
                        },
                    )
                )
        peer_rates = [
            rate
            for unit_id, version, rate in peers.get(indicator_id, [])
            if unit_id != submission.org_unit_id and version >= min_version
        ]
        if len(peer_rates) >= MIN_PEERS:
            z = modified_z(x, peer_rates)
            if z is not None and abs(z) > Z_THRESHOLD:
                out.append(
                    result(
                        cell,
                        "rate",
                        Severity.WARNING,
                        "outlier_peers",
                        _(
                            "%(code)s 指标值 %(x)s%(u)s 明显偏离同级医院本期水平（%(n)d 家，中位数 %(m)s%(u)s），请核实或填写情况说明。"
                        )
                        % {
                            "code": cell.code,
                            "x": fmt(x),
                            "u": unit,
                            "n": len(peer_rates),
                            "m": fmt(statistics.median(peer_rates)),
                        },
                    )
                )
        out.extend(_pattern_checks(cell, x, own, previous, min_version, factor))
    return out


def _pattern_checks(
    cell: Cell,
    x: float,
    own: dict[str, Past],
    previous: list[Period],
    min_version: int,
    factor: float,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last = own.get(str(previous[0])) if previous else None
    if last is not None and last.version >= min_version:
        prev_rate = cell.version.rate(last.numerator, last.denominator)
        if prev_rate is not None and prev_rate > 0 and x > 0:
            ratio = max(x / float(prev_rate), float(prev_rate) / x)
            if ratio > factor:
                out.append(
                    result(
                        cell,
                        "rate",
                        Severity.WARNING,
                        "rate_jump",
                        _(
                            "%(code)s 指标值 %(x)s%(u)s 较上期（%(p)s%(u)s）变化超过 %(f)s 倍，请核实或填写情况说明。"
                        )
                        % {
                            "code": cell.code,
                            "x": fmt(x),
                            "p": fmt(prev_rate),
                            "u": cell.version.unit_label,
                            "f": fmt(factor),
                        },
                    )
                )
    # Structure indicators (beds, staff ratios) legitimately stay the same for years.
    if cell.version.kind != Kind.STRUCTURE and len(previous) >= IDENTICAL_RUN - 1:
        run = [own.get(str(p)) for p in previous[: IDENTICAL_RUN - 1]]
        if all(
            p is not None
            and p.version >= min_version
            and p.numerator == cell.numerator
            and p.denominator == cell.denominator
            for p in run
        ):
            out.append(
                result(
                    cell,
                    "rate",
                    Severity.NOTICE,
                    "identical_values",
                    _("%(code)s 连续 %(n)d 期分子、分母完全相同，请确认不是沿用了上期数据。")
                    % {"code": cell.code, "n": IDENTICAL_RUN},
                )
            )
    return out
