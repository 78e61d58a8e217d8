"""Calendar of the synthetic HEAT site: day numbers, text layouts and the DST days.

Days are integers counted from :data:`FIRST_DAY`; times of day are seconds. Dates and
times are formatted by indexing precomputed lookup arrays, which is how the generator
turns a million numeric timestamps into HEAT's text columns without a Python loop.

Work happens between 07:00 and 22:00. Apart from deliberately planted calls, every
generated time falls in that window, so no ordinary value lands in the Europe/London
spring-forward gap or the repeated autumn hour (both 01:00-02:00 local time).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjArray: TypeAlias = npt.NDArray[np.object_]

FIRST_DAY: Final = date(2013, 1, 1)
LAST_DAY: Final = date(2017, 12, 31)
# Three financial years of a UK charity: calls are received from 1 April 2013 to
# 31 March 2016; later events (closures, journals) may run past the end.
RANGE_START: Final = date(2013, 4, 1)
RANGE_END: Final = date(2016, 3, 31)

WINDOW_START: Final = 7 * 3600
WINDOW: Final = 15 * 3600
"""Length of the working day in seconds; business time is ``day * WINDOW + offset``."""


def day_number(value: date) -> int:
    """Return the day number of ``value`` (days since :data:`FIRST_DAY`)."""
    return (value - FIRST_DAY).days


def _last_sunday(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    last = first_next - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@dataclass(frozen=True, slots=True)
class CalendarTables:
    """Lookup arrays indexed by day number or second of the day."""

    iso_dates: ObjArray
    dmy_dates: ObjArray
    times: ObjArray
    epoch_seconds: IntArray
    bst: BoolArray
    call_day_cdf: FloatArray
    spring_forward_days: tuple[int, ...]
    fall_back_days: tuple[int, ...]

    @property
    def last_index(self) -> int:
        """Highest valid day number."""
        return len(self.iso_dates) - 1


def _call_day_weights(days: list[date]) -> FloatArray:
    """Relative call volume per day: weekdays, growth, seasons and bank holidays."""
    start, end = day_number(RANGE_START), day_number(RANGE_END)
    weights = np.zeros(len(days))
    span = end - start
    for number in range(start, end + 1):
        day = days[number]
        weekday_factor = (1.0, 1.0, 1.0, 1.0, 0.9, 0.12, 0.08)[day.weekday()]
        # Call volume grows by half over the three years (more staff, more kit), with
        # peaks in September and January when new starters and new kit arrive.
        trend = 1.0 + 0.5 * (number - start) / span
        season = 1.25 if day.month in (1, 9) else 1.0
        holiday = 0.1 if (day.month, day.day) in ((12, 25), (12, 26), (1, 1)) else 1.0
        weights[number] = weekday_factor * trend * season * holiday
    return weights


@functools.cache
def calendar_tables() -> CalendarTables:
    """Build (once per process) the lookup arrays for every day of the calendar."""
    count = (LAST_DAY - FIRST_DAY).days + 1
    days = [FIRST_DAY + timedelta(days=offset) for offset in range(count)]
    iso = np.array([day.isoformat() for day in days], dtype=object)
    dmy = np.array([f"{day.day}/{day.month}/{day.year}" for day in days], dtype=object)
    times = np.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)],
        dtype=object,
    )
    epoch = np.array(
        [(day - date(1970, 1, 1)).days * 86400 for day in days], dtype=np.int64
    )
    spring = [
        _last_sunday(year, 3) for year in range(FIRST_DAY.year, LAST_DAY.year + 1)
    ]
    autumn = [
        _last_sunday(year, 10) for year in range(FIRST_DAY.year, LAST_DAY.year + 1)
    ]
    bst = np.zeros(count, dtype=bool)
    for begin, finish in zip(spring, autumn, strict=True):
        bst[day_number(begin) : day_number(finish)] = True

    weights = _call_day_weights(days)
    cdf = np.cumsum(weights) / weights.sum()
    in_range = [RANGE_START <= day <= RANGE_END for day in spring + autumn]
    return CalendarTables(
        iso_dates=iso,
        dmy_dates=dmy,
        times=times,
        epoch_seconds=epoch,
        bst=bst,
        call_day_cdf=cdf,
        spring_forward_days=tuple(
            day_number(day)
            for day, ok in zip(spring, in_range[: len(spring)], strict=True)
            if ok
        ),
        fall_back_days=tuple(
            day_number(day)
            for day, ok in zip(autumn, in_range[len(spring) :], strict=True)
            if ok
        ),
    )
