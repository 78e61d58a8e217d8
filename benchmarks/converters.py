"""Micro-benchmark of the transform converters on synthetic HEAT-like columns.

Run from the repository root: ``.venv/bin/python benchmarks/converters.py``.
Prints rows per second for each measured call; not a test, nothing is asserted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from itilmigrate.transform.converters import blank_to_none, parse_timestamps
from itilmigrate.transform.problems import find_repeat_clusters
from itilmigrate.transform.text import clean_text

if TYPE_CHECKING:
    from collections.abc import Callable

RNG = np.random.default_rng(20151025)
LEGACY_LAYOUT_SHARE = 0.01
BLANK_DATE_SHARE = 0.02
BLANK_TIME_SHARE = 0.05


def measure(label: str, rows: int, call: Callable[[], object]) -> None:
    started = time.perf_counter()
    call()
    seconds = time.perf_counter() - started
    print(
        f"{label:<58} {rows:>9,} rows {seconds:7.2f} s {rows / seconds:>12,.0f} rows/s"
    )


def heat_dates(rows: int) -> tuple[pd.Series, pd.Series]:
    """Split RecvdDate/RecvdTime texts over 2013-2017, 2% blank, 1% d/m/yyyy."""
    seconds = RNG.integers(0, 5 * 365 * 86_400, rows)
    stamps = pd.Timestamp("2013-01-01") + pd.to_timedelta(seconds, unit="s")
    dates = pd.Series(stamps.strftime("%Y-%m-%d"), dtype=object)
    times = pd.Series(stamps.strftime("%H:%M:%S"), dtype=object)
    legacy = RNG.random(rows) < LEGACY_LAYOUT_SHARE
    dates[legacy] = pd.Series(
        stamps[legacy].strftime("%d/%m/%Y"), index=dates.index[legacy]
    )
    dates[RNG.random(rows) < BLANK_DATE_SHARE] = ""
    times[RNG.random(rows) < BLANK_TIME_SHARE] = "   "
    return dates, times


def memo_texts(rows: int, unique_share: float) -> pd.Series:
    """Descriptions: mostly plain text, some HTML, RTF and mojibake."""
    kinds = [
        "Printer on floor {n} is jammed again, user cannot print invoices.",
        "<html><body><p>Outlook crashes when opening attachment {n}.</p>"
        "<p>Regards,<br>Service desk</p></body></html>",
        r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 VPN drops every {n} minutes.\par}",
        "CafÃ© terminal {n} shows Â£0.00 on every receipt\r\n\r\n",
    ]
    distinct = int(rows * unique_share)
    pool = [kinds[i % 4].replace("{n}", str(i)) for i in range(distinct)]
    picks = RNG.integers(0, distinct, rows)
    return pd.Series([pool[i] for i in picks], dtype=object)


def incidents(rows: int) -> pd.DataFrame:
    """Incidents over four years in 200 category groups with recurring texts."""
    texts = [f"{word} problem reported by user {i % 7}" for i, word in enumerate(
        ["outlook crashes", "vpn drops", "printer jammed", "password locked",
         "laptop slow", "teams audio", "sap login", "disk full"] * 50
    )]  # fmt: skip
    opened = pd.Timestamp("2013-01-01", tz="UTC") + pd.to_timedelta(
        RNG.integers(0, 4 * 365 * 86_400, rows), unit="s"
    )
    return pd.DataFrame(
        {
            "entity_id": [f"e{i:07d}" for i in range(rows)],
            "opened_at": opened,
            "category": RNG.integers(0, 20, rows).astype(str),
            "subcategory": RNG.integers(0, 10, rows).astype(str),
            "description": [texts[i] for i in RNG.integers(0, len(texts), rows)],
        }
    )


def main() -> None:
    rows = 1_000_000
    dates, times = heat_dates(rows)
    measure("blank_to_none (1M dates)", rows, lambda: blank_to_none(dates))
    clean_dates, clean_times = blank_to_none(dates), blank_to_none(times)
    measure(
        "parse_timestamps (1M date+time pairs, Europe/London)",
        rows,
        lambda: parse_timestamps(
            clean_dates,
            clean_times,
            formats=["%Y-%m-%d", "%d/%m/%Y"],
            timezone="Europe/London",
        ),
    )
    combined = (clean_dates + " " + clean_times.fillna("00:00:00")).where(
        clean_dates.notna(), None
    )
    measure(
        "parse_timestamps (1M combined texts, ~all unique)",
        rows,
        lambda: parse_timestamps(
            combined,
            formats=["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S"],
            timezone="Europe/London",
        ),
    )

    memos = memo_texts(100_000, 0.2)
    measure(
        "clean_text (100k memos, 20% unique)", len(memos), lambda: clean_text(memos)
    )

    frame = incidents(rows)
    measure(
        "find_repeat_clusters (1M incidents, 200 groups, 7 days)",
        rows,
        lambda: find_repeat_clusters(
            frame,
            group_columns=["category", "subcategory"],
            text_column="description",
            time_column="opened_at",
            id_column="entity_id",
            window=pd.Timedelta(days=7),
            min_size=3,
            similarity=0.85,
        ),
    )


if __name__ == "__main__":
    main()
