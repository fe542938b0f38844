"""Plausible indicator values for the demo reporting history (see :mod:`qc_core.reporting.demo`).

Each demo institution gets a stable profile (geriatric ward size by hospital level, occupancy,
overall quality, an optional trend, how it usually enters data) seeded by its code; each period's
figures are drawn from a generator seeded by unit, form and period, so the same call always gives
the same numbers. Counts derive from one another (patient-days → discharges → patients ≥ 65 …),
so numerators never exceed their denominators and the cross-indicator rules hold.

:func:`justify` mirrors the platform's statistical checks (own history, same-level peers, jumps;
:mod:`qc_core.reporting.outliers`) over the generated history and adds the justification a
reporter would have had to write before submitting a value that warns.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from random import Random
from typing import Any

from qc_core.indicators.models import IndicatorVersion
from qc_core.indicators.periods import Period
from qc_core.reporting.choices import ValueSource
from qc_core.reporting.outliers import (
    HISTORY_PERIODS,
    MIN_HISTORY,
    MIN_PEERS,
    Z_THRESHOLD,
    modified_z,
)

# code → (numerator, denominator or None for a count, justification)
Values = dict[str, tuple[Decimal, Decimal | None, str]]

HIGHER, LOWER, MONITOR = 1, -1, 0
NOISE = 0.07  # period-to-period variation, as a share of the indicator's range
TREND_STEP = 0.05  # per quarter, for units with a trend
GOLDEN = (math.sqrt(5) - 1) / 2
ANCHOR_YEAR = 2026  # trends are measured from 2026Q1, whatever day the seed runs

# Geriatric ward beds and inpatient cost per case (元) by hospital level.
BEDS = {"3A": (48, 110), "3B": (40, 70), "3": (40, 70), "2A": (36, 58)}
SMALL_BEDS = (34, 46)
COST = {"3A": (9000, 16000), "3B": (7500, 12000), "3": (7500, 12000), "2A": (5500, 9000)}
SMALL_COST = (4500, 7000)
FIRST_DEMO_UNIT = "DEMO001"

CENT = Decimal("0.01")
TEN_THOUSANDTH = Decimal("0.0001")


@dataclass(frozen=True)
class Profile:
    """What stays the same for a unit from one period to the next."""

    code: str
    level: str
    beds: int
    occupancy: float
    trend: int  # +1 improving, −1 worsening, 0 flat
    source: str  # how the unit usually enters its data


def profile_of(unit: Any) -> Profile:
    rng = Random(f"{unit.code}|profile")
    lo, hi = BEDS.get(unit.hospital_level, SMALL_BEDS)
    draw = rng.random()
    trend = 1 if draw < 0.15 else (-1 if draw < 0.22 else 0)
    if unit.code == FIRST_DEMO_UNIT:
        trend = 1  # leader01's dashboards show an improving ward
    return Profile(
        code=unit.code,
        level=unit.hospital_level,
        beds=lo + round((hi - lo) * _spread(_unit_number(unit.code), 0.3)),
        occupancy=rng.uniform(0.84, 0.98),
        trend=trend,
        source=rng.choices(
            [ValueSource.WEB, ValueSource.IMPORT, ValueSource.API], weights=[70, 25, 5]
        )[0],
    )


def _spread(k: int, phase: float) -> float:
    """Point ``k`` of a golden-ratio (Weyl) sequence in [0, 1): consecutive points look random
    but any run of them covers the interval evenly, so a group of peers is never bunched so
    tightly that an ordinary unit looks like an outlier."""
    return (k * GOLDEN + phase) % 1.0


def _unit_number(code: str) -> int:
    digits = code[len("DEMO") :] if code.startswith("DEMO") else ""
    return int(digits) if digits.isdigit() else int(Random(code).random() * 10_000)


@lru_cache(maxsize=8192)
def _base(unit_code: str, indicator: str) -> float:
    """The unit's level within the indicator's range, spread evenly over the demo units."""
    return 0.15 + 0.7 * _spread(_unit_number(unit_code), Random(indicator).random())


def _quarters_since_anchor(period: Period) -> float:
    if period.type == "quarter":
        return (period.year - ANCHOR_YEAR) * 4 + period.number - 1
    return ((period.year - ANCHOR_YEAR) * 12 + period.number - 1) / 3


class _Form:
    """Draws one form's values."""

    def __init__(self, profile: Profile, dataset: str, period: Period) -> None:
        self.p = profile
        self.rng = Random(f"{profile.code}|{dataset}|{period}")
        self.t = _quarters_since_anchor(period)
        self.days = (period.end - period.start).days + 1
        self.values: Values = {}

    def share(self, code: str, lo: float, hi: float, direction: int) -> float:
        """A value in [lo, hi]: the unit's own level for this indicator, moved by its trend
        (towards the good end when improving) and by its period-to-period variation."""
        level = _base(self.p.code, code)
        x = level + direction * self.p.trend * TREND_STEP * self.t
        x += self.rng.uniform(-NOISE, NOISE)
        return lo + (hi - lo) * min(1.0, max(0.0, x))

    def rate(self, code: str, den: int, lo: float, hi: float, direction: int) -> int:
        num = min(den, max(0, round(den * self.share(code, lo, hi, direction))))
        self.pair(code, num, den)
        return num

    def pair(self, code: str, num: Any, den: Any) -> None:
        self.values[code] = (Decimal(num), None if den is None else Decimal(den), "")

    def part(self, lo: float, hi: float) -> float:
        return self.rng.uniform(lo, hi)


def _geriatric(f: _Form) -> Values:
    p, part = f.p, f.part
    occupied = round(p.beds * f.days * min(1.03, p.occupancy + part(-0.04, 0.04)))
    alos = f.share("GER-O11", 8.0, 14.0, LOWER)
    dis = max(1, round(occupied / alos))
    adm = max(1, dis + f.rng.randint(-4, 6))
    e65 = round(dis * part(0.78, 0.92))
    f.pair("GER-S01", p.beds, None)
    f.rate("GER-S02", p.beds, 0.22, 0.42, HIGHER)
    f.rate("GER-S03", p.beds, 0.45, 0.75, HIGHER)
    f.rate("GER-P01", e65, 0.40, 0.95, HIGHER)
    f.rate("GER-P02", e65, 0.55, 0.98, HIGHER)
    f.rate("GER-P03", adm, 0.85, 1.0, HIGHER)
    f.rate("GER-P04", adm, 0.80, 1.0, HIGHER)
    f.rate("GER-P05", adm, 0.70, 0.98, HIGHER)
    f.rate("GER-P06", e65, 0.35, 0.90, HIGHER)
    f.rate("GER-P07", e65, 0.40, 0.92, HIGHER)
    poly = round(e65 * part(0.45, 0.70))
    f.rate("GER-P08", poly, 0.50, 0.95, HIGHER)
    f.rate("GER-P09", round(poly * part(0.30, 0.80)), 0.45, 0.90, HIGHER)
    assessed = f.rate("GER-P10", dis, 0.85, 1.0, HIGHER)
    f.rate("GER-P11", round(assessed * part(0.35, 0.60)), 0.60, 0.95, HIGHER)
    f.rate("GER-P12", occupied, 0.005, 0.04, LOWER)
    f.rate("GER-P13", adm, 0.30, 0.85, HIGHER)
    f.rate("GER-P14", dis, 0.60, 0.98, HIGHER)
    deaths = f.rate("GER-O10", dis, 0.005, 0.04, LOWER)
    alive = dis - deaths
    f.rate("GER-P15", alive, 0.40, 0.90, HIGHER)
    falls = f.rate("GER-O01", occupied, 0.0001, 0.0006, LOWER)
    f.rate("GER-O02", falls, 0.15, 0.50, LOWER)
    f.rate("GER-O03", adm, 0.001, 0.008, LOWER)
    f.rate("GER-O04", e65, 0.03, 0.15, LOWER)
    f.rate("GER-O05", round(dis * part(0.60, 0.90)), 0.05, 0.20, LOWER)
    f.rate("GER-O06", round(occupied * part(0.15, 0.30)), 0.0001, 0.001, LOWER)
    f.rate("GER-O07", round(occupied * part(0.08, 0.20)), 0.0005, 0.003, LOWER)
    f.rate("GER-O08", adm, 0.02, 0.07, LOWER)
    f.rate("GER-O09", alive, 0.03, 0.12, LOWER)
    f.pair("GER-O11", round(dis * alos), dis)
    return f.values


def _operational(f: _Form) -> Values:
    p, part = f.p, f.part
    open_days = p.beds * f.days
    occupied = round(open_days * f.share("OPS-03", 0.75, 1.05, MONITOR))
    alos = f.share("OPS-05", 8.0, 14.0, LOWER)
    dis = max(1, round(occupied / alos))
    f.pair("OPS-01", round(p.beds * f.share("OPS-01", 30, 75, MONITOR) * f.days / 30), None)
    f.pair("OPS-02", dis, None)
    f.pair("OPS-03", occupied, open_days)
    f.pair("OPS-04", dis, Decimal(p.beds) - (Decimal("0.5") if f.rng.random() < 0.2 else 0))
    f.pair("OPS-05", round(dis * alos), dis)
    cost = f.share("OPS-06", *COST.get(p.level, SMALL_COST), LOWER)
    inpatient = (Decimal(dis) * Decimal(str(round(cost, 2)))).quantize(CENT)
    f.pair("OPS-06", inpatient, dis)
    medical = round(float(inpatient) * part(1.12, 1.30))
    f.rate("OPS-07", medical, 0.22, 0.38, LOWER)
    materials = Decimal(str(medical * f.share("OPS-08", 0.12, 0.28, LOWER) / 100)).quantize(CENT)
    f.pair("OPS-08", materials, medical)
    cmi = Decimal(str(round(f.share("OPS-09", 0.8, 1.4, HIGHER), 4)))
    f.pair("OPS-09", (dis * cmi).quantize(TEN_THOUSANDTH), dis)
    f.rate("OPS-10", dis, 0.25, 0.55, MONITOR)
    return f.values


GENERATORS = {"GER-Q": _geriatric, "OPS-M": _operational}


def values_for(profile: Profile, dataset: str, period: Period, *, offset: int = -1) -> Values:
    """One form's values; ``offset`` (0 = the latest period) places the deliberate outliers."""
    form = _Form(profile, dataset, period)
    values = GENERATORS[dataset](form) if dataset in GENERATORS else {}
    for unit, ds, at, code in DELIBERATE:
        if (unit, ds, at) == (profile.code, dataset, offset) and code in values:
            OUTLIERS[code](values)
    return values


# --- deliberate outliers (with the reporter's justification) ------------------------------------


def _many_falls(values: Values) -> None:
    falls = max(8, int(values["GER-O01"][0]) * 5)
    values["GER-O01"] = (
        Decimal(falls),
        values["GER-O01"][1],
        "本季度收治高龄失能患者增多，1 名谵妄患者反复跌倒 4 次；已开展根因分析，加强夜间巡视和床旁防护。",
    )
    if "GER-O02" in values:
        values["GER-O02"] = (Decimal(round(falls * 0.3)), Decimal(falls), "")


def _extra_beds(values: Values) -> None:
    _num, den, _why = values["OPS-03"]
    assert den is not None
    values["OPS-03"] = (
        (den * Decimal("1.32")).quantize(Decimal(1)),
        den,
        "病区改造期间临时压缩开放床位，本月流感高峰加床收治较多，已向医务科报备。",
    )


def _heavy_cases(values: Values) -> None:
    _num, den, _why = values["OPS-09"]
    assert den is not None
    values["OPS-09"] = (
        (den * Decimal("2.08")).quantize(TEN_THOUSANDTH),
        den,
        "本月收治多例重症肺炎合并多器官功能障碍、需机械通气的患者，DRG 权重明显偏高，已核实病案首页。",
    )


OUTLIERS = {"GER-O01": _many_falls, "OPS-03": _extra_beds, "OPS-09": _heavy_cases}
# (unit, form, periods before the latest, indicator)
DELIBERATE = (
    ("DEMO013", "GER-Q", 1, "GER-O01"),
    ("DEMO029", "OPS-M", 0, "OPS-03"),
    ("DEMO021", "OPS-M", 3, "OPS-09"),
)


# --- fitting the form ----------------------------------------------------------------------------


def conform(values: Values, pairs: list[tuple[Any, IndicatorVersion]], seed: str) -> Values:
    """The values in form order, one per indicator on the form (indicators the generator does
    not know get a generic plausible pair), integers where the version counts things and
    numerators within their denominators where required."""
    rng = Random(f"{seed}|extra")
    fitted: Values = {}
    for item, version in pairs:
        code = item.indicator.code
        if code in values:
            num, den, why = values[code]
        elif version.has_denominator:
            den = Decimal(rng.randint(100, 500))
            num, why = (den * Decimal(str(rng.uniform(0.3, 0.9)))).quantize(Decimal(1)), ""
        else:
            num, den, why = Decimal(rng.randint(10, 200)), None, ""
        if not version.has_denominator:
            den = None
        if version.integer_only:
            num = num.quantize(Decimal(1))
            den = None if den is None else den.quantize(Decimal(1))
        if version.numerator_le_denominator and den is not None and num > den:
            num = den
        fitted[code] = (num, den, why)
    return fitted


@dataclass(frozen=True)
class Mistake:
    """What the unit had first submitted wrong, and the reviewer's reasons for returning it."""

    values: Values
    reason: str
    items: list[dict[str, str]]


def plan_mistake(dataset: str, final: Values, rng: Random) -> Mistake | None:
    """A plausible entry error a reviewer returns the form for (the first value typed wrong)."""
    choices = []
    if "GER-O11" in final and final["GER-O11"][1]:
        num, den, _w = final["GER-O11"]
        choices.append(
            (
                "GER-O11",
                (num * 10, den, "已核实"),
                "GER-O11 平均住院日超过 100 天，疑似“出院者占用总床日数”多录入一位，请核对。",
            )
        )
    if "GER-P01" in final and final["GER-P01"][1]:
        num, den, _w = final["GER-P01"]
        assert den is not None
        choices.append(
            (
                "GER-P01",
                (num, den + 37, ""),
                "GER-P01 分母（≥65岁出院患者数）与病案统计不一致，请按出院日期重新统计。",
            )
        )
    if "OPS-06" in final:
        num, den, _w = final["OPS-06"]
        choices.append(
            (
                "OPS-06",
                ((num / 10000).quantize(CENT), den, "已核实"),
                "OPS-06 住院总收入疑似按“万元”填写，请按“元”填写后重新上报。",
            )
        )
    if "OPS-03" in final:
        num, den, _w = final["OPS-03"]
        assert den is not None
        choices.append(
            (
                "OPS-03",
                (den, num, ""),
                "OPS-03 实际占用总床日数与实际开放总床日数疑似填反，请核对。",
            )
        )
    if not choices:
        return None
    code, wrong, why = choices[rng.randrange(len(choices))]
    return Mistake(
        {code: wrong}, "请核对标注的指标后重新上报。", [{"indicator": code, "reason": why}]
    )


# --- justifications where the platform's checks warn ---------------------------------------------

JUSTIFICATIONS = {
    "outlier_history": "本期收治病例结构变化（高龄、重症患者比例上升），数据已与病案统计核对无误。",
    "outlier_peers": "本院老年医学科病种结构与同级医院差异较大，数据已核实无误。",
    "rate_jump": "本期例数较少，比率随个别病例波动较大，数据已核实无误。",
}

Key = tuple[str, str, str]  # (unit code, form code, period)
Rates = dict[tuple[str, str], dict[str, dict[str, float]]]  # (form, period) → code → unit → rate

# Values other indicators are derived from (falls → fall injuries, assessed → prophylaxis,
# discharges → turnover): never nudged, only justified.
LINKED = {"GER-O01", "GER-P10", "OPS-02"}
# Rates whose numerator is a linked count: the denominator moves instead (an average).
NUDGE_DENOMINATOR = {"OPS-04"}
NUDGE_ROUNDS = 3
TYPICAL_Z = 2.0


def _typical(x: float, sample: list[float]) -> float | None:
    """None when ``x`` passes the modified z-score check against ``sample``; otherwise the value
    on the same side of the median at z = 2 (inside the ordinary spread, which moving a value
    there leaves as wide as it was)."""
    z = modified_z(x, sample)
    if z is None or abs(z) <= Z_THRESHOLD:
        return None
    med = statistics.median(sample)
    return med + (x - med) * TYPICAL_Z / abs(z)


@dataclass
class _Checks:
    """The platform's statistical checks over the generated history (see the module docstring)."""

    rates: Rates
    levels: dict[str, str]
    factor: float = 3.0

    def warning(
        self, x: float, unit: str, code: str, ds: str, period: str, before: list[str]
    ) -> tuple[str, float] | None:
        """(check, a typical value to move to) of the first check ``x`` fails, or None."""
        own = [
            r
            for p in before
            if (r := self.rates.get((ds, p), {}).get(code, {}).get(unit)) is not None
        ]
        if len(own) >= MIN_HISTORY and (target := _typical(x, own)) is not None:
            return "outlier_history", target
        level = self.levels.get(unit)
        if level:
            here = self.rates.get((ds, period), {}).get(code, {})
            peers = [r for u, r in here.items() if u != unit and self.levels.get(u) == level]
            if len(peers) >= MIN_PEERS and (target := _typical(x, peers)) is not None:
                return "outlier_peers", target
        last = self.rates.get((ds, before[0]), {}).get(code, {}).get(unit) if before else None
        if last is not None and last > 0 and x > 0 and max(x / last, last / x) > self.factor:
            step = self.factor * 0.8
            return "rate_jump", last * step if x > last else last / step
        return None


def _nudge(
    code: str, version: IndicatorVersion, num: Decimal, den: Decimal | None, target: float
) -> tuple[Decimal, Decimal] | None:
    """The pair moved so its rate is ``target`` (None for counts and linked values)."""
    if den is None or not den or code in LINKED or target <= 0:
        return None
    step = Decimal(1) if version.integer_only else CENT
    goal = Decimal(str(target)) / version.multiplier
    if code in NUDGE_DENOMINATOR:
        return num, max(step, (num / goal).quantize(Decimal("0.1") if step == CENT else step))
    moved = (den * goal).quantize(step)
    if version.numerator_le_denominator:
        moved = min(moved, den)
    return moved, den


def _settle_period(
    forms: dict[Key, Values],
    rates: Rates,
    checks: _Checks,
    versions: dict[str, IndicatorVersion],
    ds: str,
    period: Period,
    *,
    nudge: bool,
) -> tuple[int, int]:
    """One pass over a period's reported forms: (values moved, values justified)."""
    before = [str(p) for p in period.previous_n(HISTORY_PERIODS)]
    here = rates.get((ds, str(period)), {})
    moved = justified = 0
    for unit in sorted({u for by_unit in here.values() for u in by_unit}):
        values = forms[(unit, ds, str(period))]
        for code, (num, den, why) in values.items():
            x = here.get(code, {}).get(unit)
            if x is None or why:
                continue
            found = checks.warning(x, unit, code, ds, str(period), before)
            if found is None:
                continue
            pair = _nudge(code, versions[code], num, den, found[1]) if nudge else None
            rate = versions[code].rate(*pair) if pair is not None else None
            if pair is not None and rate is not None:
                values[code] = (pair[0], pair[1], "")
                here[code][unit] = float(rate)
                moved += 1
                continue
            values[code] = (num, den, JUSTIFICATIONS[found[0]])
            justified += 1
    return moved, justified


def _tidy_draft(
    values: Values,
    unit: str,
    ds: str,
    period: Period,
    rates: Rates,
    levels: dict[str, str],
    versions: dict[str, dict[str, IndicatorVersion]],
    factors: dict[str, float],
) -> None:
    """Bring the values of a form not (or no longer) reported within the ordinary spread, so a
    draft left to continue does not open with warnings; values already justified stay."""
    before = [str(p) for p in period.previous_n(HISTORY_PERIODS)]
    checks = _Checks(rates, levels, factors[ds])
    for code, (num, den, why) in values.items():
        rate = versions[ds][code].rate(num, den)
        if rate is None or why:
            continue
        found = checks.warning(float(rate), unit, code, ds, str(period), before)
        pair = _nudge(code, versions[ds][code], num, den, found[1]) if found else None
        if pair is not None:
            values[code] = (pair[0], pair[1], "")


def settle(
    forms: dict[Key, Values],
    reported: set[Key],
    periods: dict[str, list[Period]],
    levels: dict[str, str],
    versions: dict[str, dict[str, IndicatorVersion]],
    factors: dict[str, float],
) -> int:
    """Walk the reported history oldest first and, where the platform would warn about a value
    (own history, same-level peers, a jump against the previous period), bring an ordinary
    value back to a typical one — or, when it cannot move (a count others derive from), add
    the justification the reporter had to write before submitting. Deliberate outliers keep
    their own justification. Returns how many values were justified."""
    rates: Rates = defaultdict(lambda: defaultdict(dict))
    for key in reported:
        unit, ds, period_text = key
        for code, (num, den, _why) in forms[key].items():
            value = versions[ds][code].rate(num, den)
            if value is not None:
                rates[(ds, period_text)][code][unit] = float(value)
    justified = 0
    for ds, ordered in periods.items():
        checks = _Checks(rates, levels, factors[ds])
        for period in sorted(ordered):
            # Moving a value changes its peers' median and spread: repeat until a round moves
            # nothing (the last round only justifies), so every check sees the final figures.
            for round_no in range(NUDGE_ROUNDS + 1):
                moved, added = _settle_period(
                    forms, rates, checks, versions[ds], ds, period, nudge=round_no < NUDGE_ROUNDS
                )
                justified += added
                if not moved:
                    break
    for unit, ds, period_text in set(forms) - reported:
        draft_period = next(p for p in periods[ds] if str(p) == period_text)
        _tidy_draft(
            forms[(unit, ds, period_text)], unit, ds, draft_period, rates, levels, versions, factors
        )
    return justified
