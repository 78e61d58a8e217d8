"""Business time across weekends, holidays, out-of-hours moments and DST changes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from itilmigrate.compliance_checks.business_time import (
    business_duration,
    elapsed,
    paused_duration,
)
from itilmigrate.compliance_checks.policy import Calendar

LONDON = Calendar(timezone="Europe/London", holidays=[date(2024, 3, 29)])


def _duration(start: str, end: str, calendar: Calendar = LONDON) -> pd.Timedelta:
    result = business_duration(
        pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]), calendar
    )
    return result.iloc[0]


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        pytest.param("2024-01-08T09:00Z", "2024-01-08T11:30Z", 2.5, id="same-day"),
        pytest.param("2024-01-12T17:00Z", "2024-01-15T09:00Z", 2, id="weekend"),
        pytest.param("2024-01-13T10:00Z", "2024-01-14T15:00Z", 0, id="inside-weekend"),
        pytest.param("2024-01-08T06:00Z", "2024-01-08T20:00Z", 10, id="outside-hours"),
        pytest.param("2024-01-08T19:00Z", "2024-01-09T07:00Z", 0, id="overnight"),
        pytest.param("2024-03-28T17:00Z", "2024-04-01T09:00Z", 3, id="holiday-and-dst"),
        pytest.param("2024-07-01T07:00Z", "2024-07-01T08:00Z", 1, id="bst-hours"),
    ],
)
def test_business_duration_counts_working_hours(start, end, hours):
    assert _duration(start, end) == pd.Timedelta(hours=hours)


def test_business_duration_dst_change_keeps_local_hours():
    # Friday 17:00 GMT to Monday 08:00 BST (07:00 UTC): one hour on Friday only,
    # although the clocks went forward on the Sunday.
    assert _duration("2024-03-22T17:00Z", "2024-03-25T07:00Z") == pd.Timedelta(hours=1)
    # After the change 08:00 local is 07:00 UTC: the first hour of Monday counts.
    assert _duration("2024-04-01T07:00Z", "2024-04-01T08:00Z") == pd.Timedelta(hours=1)


def test_business_duration_missing_gives_nat_and_order_is_kept():
    result = business_duration(
        pd.Series([pd.Timestamp("2024-01-08T09:00Z"), pd.NaT], index=[5, 6]),
        pd.Series(
            [pd.Timestamp("2024-01-08T08:00Z"), pd.Timestamp("2024-01-08T09:00Z")],
            index=[5, 6],
        ),
        LONDON,
    )

    assert result.index.tolist() == [5, 6]
    assert result.iloc[0] == pd.Timedelta(hours=-1)
    assert pd.isna(result.iloc[1])


def test_elapsed_continuous_ignores_calendar():
    result = elapsed(
        pd.Series([pd.Timestamp("2024-01-12T17:00Z")]),
        pd.Series([pd.Timestamp("2024-01-15T09:00Z")]),
        LONDON,
        business=False,
    )

    assert result.iloc[0] == pd.Timedelta(hours=64)


def test_paused_duration_sums_pauses_inside_window():
    history = pd.DataFrame(
        {
            "record_id": ["r1", "r1", "r1", "r1", "r2"],
            "seq": [1, 2, 3, 4, 1],
            "status": ["new", "on_hold", "in_progress", "on_hold", "new"],
            "changed_at": pd.to_datetime(
                [
                    "2024-01-08T09:00Z",
                    "2024-01-08T10:00Z",
                    "2024-01-08T11:00Z",
                    "2024-01-08T15:00Z",
                    "2024-01-08T09:00Z",
                ]
            ),
        }
    )
    windows = pd.DataFrame(
        {
            "record_id": ["r1", "r2", "r3"],
            "start": pd.to_datetime(["2024-01-08T09:00Z"] * 3),
            "end": pd.to_datetime(["2024-01-08T16:00Z"] * 3),
        },
        index=[10, 11, 12],
    )

    paused = paused_duration(
        history, windows, pause_states=["on_hold"], calendar=LONDON, business=True
    )

    assert paused.to_dict() == {
        10: pd.Timedelta(hours=2),
        11: pd.Timedelta(0),
        12: pd.Timedelta(0),
    }
