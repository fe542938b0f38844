"""Reporting periods (``2026Q3`` quarters, ``2026-11`` months) and their entry windows.

A period's window opens the day after the period ends (00:00 Asia/Shanghai), is due at the end of
the day ``due_days`` after the period end and is locked at the end of the day ``lock_days`` after
it. Functions that depend on the current time take ``now`` from :mod:`qc_core.system.clock`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from qc_core.indicators.choices import PeriodType
from qc_core.system import clock

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True, order=True)
class Period:
    """A quarter or a month. Ordered within one type; ``str()`` gives the canonical code."""

    year: int
    number: int  # quarter 1–4 or month 1–12
    type: str = PeriodType.QUARTER

    def __post_init__(self) -> None:
        top = 4 if self.type == PeriodType.QUARTER else 12
        if self.type not in PeriodType.values or not 1 <= self.number <= top:
            raise ValueError(_("无效的周期：%(p)r") % {"p": (self.year, self.number, self.type)})

    # --- parsing and formatting ---------------------------------------------------------------

    @classmethod
    def parse(cls, text: Any, period_type: str | None = None) -> Period:
        """``"2026Q3"`` → third quarter of 2026, ``"2026-11"`` → November 2026. With
        ``period_type`` the code must be of that type. Raises ``ValueError`` with a Chinese
        message naming the expected formats."""
        raw = str(text or "").strip().upper()
        match = _QUARTER.match(raw)
        period: Period | None = None
        if match:
            period = cls(int(match[1]), int(match[2]), PeriodType.QUARTER)
        else:
            match = _MONTH.match(raw)
            if match:
                period = cls(int(match[1]), int(match[2]), PeriodType.MONTH)
        if period is None or not 2000 <= period.year <= 2100:
            raise ValueError(
                _("周期“%(text)s”格式不正确：季度写作 2026Q3，月份写作 2026-11。") % {"text": text}
            )
        if period_type and period.type != period_type:
            expected = (
                _("季度（如 2026Q3）")
                if period_type == PeriodType.QUARTER
                else _("月份（如 2026-11）")
            )
            raise ValueError(
                _("周期“%(text)s”类型不符：该报表按%(expected)s填报。")
                % {"text": text, "expected": expected}
            )
        return period

    def __str__(self) -> str:
        if self.type == PeriodType.QUARTER:
            return f"{self.year}Q{self.number}"
        return f"{self.year}-{self.number:02d}"

    @property
    def label(self) -> str:
        """Human-readable Chinese label, e.g. 2026年第3季度 / 2026年11月."""
        if self.type == PeriodType.QUARTER:
            return _("%(y)d年第%(n)d季度") % {"y": self.year, "n": self.number}
        return _("%(y)d年%(n)d月") % {"y": self.year, "n": self.number}

    # --- dates --------------------------------------------------------------------------------

    @property
    def start(self) -> date:
        month = (self.number - 1) * 3 + 1 if self.type == PeriodType.QUARTER else self.number
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        month = self.number * 3 if self.type == PeriodType.QUARTER else self.number
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        if self.number > 1:
            return Period(self.year, self.number - 1, self.type)
        return Period(self.year - 1, 4 if self.type == PeriodType.QUARTER else 12, self.type)

    def next(self) -> Period:
        top = 4 if self.type == PeriodType.QUARTER else 12
        if self.number < top:
            return Period(self.year, self.number + 1, self.type)
        return Period(self.year + 1, 1, self.type)

    def previous_n(self, n: int) -> list[Period]:
        """The ``n`` periods before this one, most recent first."""
        result: list[Period] = []
        current = self
        for _i in range(n):
            current = current.previous()
            result.append(current)
        return result

    @classmethod
    def containing(cls, day: date, period_type: str) -> Period:
        if period_type == PeriodType.QUARTER:
            return cls(day.year, (day.month - 1) // 3 + 1, PeriodType.QUARTER)
        return cls(day.year, day.month, PeriodType.MONTH)

    @classmethod
    def last_ended(cls, period_type: str, now: datetime | None = None) -> Period:
        """The most recent period that has ended (the one whose window is open, or was last)."""
        today = local_date(now)
        return cls.containing(today, period_type).previous()

    # --- entry window -------------------------------------------------------------------------

    def window(self, due_days: int, lock_days: int) -> Window:
        return Window(
            period=self,
            opens_at=datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=LOCAL_TZ),
            due_at=datetime.combine(self.end + timedelta(days=due_days), _END_OF_DAY, LOCAL_TZ),
            lock_at=datetime.combine(self.end + timedelta(days=lock_days), _END_OF_DAY, LOCAL_TZ),
        )


@dataclass(frozen=True)
class Window:
    """The entry window of one period for one data set (aware datetimes, Asia/Shanghai)."""

    period: Period
    opens_at: datetime
    due_at: datetime
    lock_at: datetime

    @property
    def due_date(self) -> date:
        return self.due_at.date()

    @property
    def lock_date(self) -> date:
        return self.lock_at.date()

    def is_open(self, now: datetime | None = None) -> bool:
        """Opened and not yet locked."""
        now = now or clock.now()
        return self.opens_at <= now <= self.lock_at

    def not_yet_open(self, now: datetime | None = None) -> bool:
        return (now or clock.now()) < self.opens_at

    def is_locked(self, now: datetime | None = None) -> bool:
        return (now or clock.now()) > self.lock_at

    def is_late(self, when: datetime | None = None) -> bool:
        """True when ``when`` (default now) is after the due time."""
        return (when or clock.now()) > self.due_at


def local_date(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai."""
    return (now or clock.now()).astimezone(LOCAL_TZ).date()


def window_for(dataset: Any, period: Period | str) -> Window:
    """The entry window of ``period`` for ``dataset``."""
    if isinstance(period, str):
        period = Period.parse(period, dataset.period_type)
    return period.window(dataset.due_days, dataset.lock_days)
