"""Business time: how much of an interval falls inside the service desk's hours.

The calendar's hours are local wall-clock hours (08:00-18:00 in its zone) on its
working days, except holidays. Every timestamp is converted to the calendar's zone
first, so a DST change moves the UTC hours of the working day with it. The
computation is vectorised: ``F(t)``, the business time from a fixed origin to ``t``,
is the number of business days before ``t``'s local date (numpy's business-day
count) times the length of the working day, plus the part of ``t``'s own day that
is past opening time; a duration is ``F(end) - F(start)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Collection

    from itilmigrate.compliance_checks.policy import Calendar

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORIGIN = np.datetime64("1970-01-01", "D")


def _weekmask(calendar: Calendar) -> list[bool]:
    return [day in calendar.working_days for day in _WEEKDAYS]


def _seconds(clock: object) -> int:
    hour, minute, second = (
        getattr(clock, part) for part in ("hour", "minute", "second")
    )
    return int(hour) * 3600 + int(minute) * 60 + int(second)


def _business_clock(moments: pd.Series, calendar: Calendar) -> pd.Series:
    """Return ``F(t)`` in seconds (float, NaN where ``t`` is missing)."""
    local = pd.to_datetime(moments, utc=True).dt.tz_convert(calendar.timezone)
    wall = local.dt.tz_localize(None)
    missing = wall.isna()
    days = wall.dt.floor("D")
    day_numbers = days.fillna(pd.Timestamp(0)).to_numpy(dtype="datetime64[D]")

    weekmask = _weekmask(calendar)
    holidays = np.array(calendar.holidays, dtype="datetime64[D]")
    before = np.busday_count(_ORIGIN, day_numbers, weekmask=weekmask, holidays=holidays)
    working = np.is_busday(day_numbers, weekmask=weekmask, holidays=holidays)

    opens, closes = _seconds(calendar.start), _seconds(calendar.end)
    day_length = closes - opens
    time_of_day = (wall - days).dt.total_seconds().fillna(0).to_numpy()
    today = np.clip(time_of_day - opens, 0, day_length) * working
    clock = pd.Series(before * day_length + today, index=moments.index, dtype="float64")
    return clock.mask(missing.to_numpy())


def business_duration(
    start: pd.Series, end: pd.Series, calendar: Calendar
) -> pd.Series:
    """Return the business time between aligned ``start`` and ``end`` moments.

    Missing moments give NaT; an ``end`` before its ``start`` gives a negative
    duration (rules that need ordered times check the order themselves).
    """
    seconds = _business_clock(end, calendar) - _business_clock(start, calendar)
    return pd.to_timedelta(seconds.round(), unit="s")


def elapsed(
    start: pd.Series, end: pd.Series, calendar: Calendar, *, business: bool
) -> pd.Series:
    """Return business time, or plain elapsed time when ``business`` is False."""
    if business:
        return business_duration(start, end, calendar)
    return pd.to_datetime(end, utc=True) - pd.to_datetime(start, utc=True)


def paused_duration(
    status_change: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    pause_states: Collection[str],
    calendar: Calendar,
    business: bool,
) -> pd.Series:
    """Return, per window, the time spent in a pause state inside it.

    A record is paused from a status change into a pause state until its next status
    change (or the end of the window). Without status history the result is zero.

    Args:
        status_change: Status history (``record_id``, ``seq``, ``status``,
            ``changed_at``).
        windows: One row per record: ``record_id``, ``start``, ``end`` (UTC).
        pause_states: ITIL statuses that stop the clock (``on_hold``).
        calendar: The business calendar.
        business: Whether to count business time (else elapsed time).

    Returns:
        Timedeltas aligned with ``windows``'s index.
    """
    zero = pd.Series(pd.Timedelta(0), index=windows.index)
    if status_change.empty or windows.empty:
        return zero

    history = status_change.sort_values(
        ["record_id", "changed_at", "seq"], kind="stable"
    )
    history = history.assign(
        until=history.groupby("record_id", sort=False)["changed_at"].shift(-1)
    )
    pauses = history.loc[history["status"].isin(list(pause_states))]
    if pauses.empty:
        return zero

    keyed = windows[["record_id", "start", "end"]].reset_index(names="_window")
    spans = pauses[["record_id", "changed_at", "until"]].merge(keyed, on="record_id")
    spans["until"] = spans["until"].fillna(spans["end"])
    begin = spans[["changed_at", "start"]].max(axis=1)
    finish = spans[["until", "end"]].min(axis=1)
    inside = elapsed(begin, finish, calendar, business=business)
    spans["paused"] = inside.where(inside > pd.Timedelta(0), pd.Timedelta(0))
    total = spans.groupby("_window")["paused"].sum()
    return total.reindex(windows.index, fill_value=pd.Timedelta(0))
