"""Regroup an event log so that every record's events arrive in one batch.

Event logs are not always sorted by record (the BPIC 2014 activity export
interleaves incidents), yet a record's current state needs all of its events at
once. The events are staged in a temporary SQLite file, keyed by the normalised
record key and their position in the source, then read back in key order. Memory
stays bounded by the batch size; disk use is about the size of the table.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator


def grouped_batches(
    batches: Iterable[pd.DataFrame],
    key_of: Callable[[pd.DataFrame], pd.Series],
    *,
    batch_size: int,
) -> Iterator[pd.DataFrame]:
    """Yield frames of about ``batch_size`` rows that never split a record.

    Rows keep their source order within a record. A record with more events than
    ``batch_size`` comes as one larger frame. Rows whose key is blank come last,
    in one or more frames, so the transform can quarantine them.
    """
    with tempfile.TemporaryDirectory(prefix="itilmigrate-stage-") as folder:
        path = Path(folder) / "events.sqlite"
        connection = sqlite3.connect(path)
        try:
            columns = _stage(connection, batches, key_of)
            if columns is None:
                return
            yield from _read_back(connection, columns, batch_size)
        finally:
            connection.close()


def _stage(
    connection: sqlite3.Connection,
    batches: Iterable[pd.DataFrame],
    key_of: Callable[[pd.DataFrame], pd.Series],
) -> list[str] | None:
    columns: list[str] | None = None
    position = 0
    for df in batches:
        if columns is None:
            columns = [str(c) for c in df.columns]
            placeholders = ", ".join(f"c{i} TEXT" for i in range(len(columns)))
            connection.execute(
                f"CREATE TABLE staged (k TEXT, n INTEGER, {placeholders})"
            )
        keys = key_of(df)
        rows = zip(
            keys.where(keys.notna(), None).tolist(),
            range(position, position + len(df)),
            *(df[c].tolist() for c in df.columns),
            strict=True,
        )
        marks = ", ".join("?" for _ in range(len(columns) + 2))
        connection.executemany(f"INSERT INTO staged VALUES ({marks})", rows)
        position += len(df)
    if columns is None:
        return None
    connection.commit()
    # Blank keys sort last (NULLs first would put them before every record).
    connection.execute("CREATE INDEX staged_order ON staged (k IS NULL, k, n)")
    return columns


def _read_back(
    connection: sqlite3.Connection, columns: list[str], batch_size: int
) -> Iterator[pd.DataFrame]:
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    cursor = connection.execute(
        f"SELECT k, {names} FROM staged ORDER BY k IS NULL, k, n"
    )
    carry: list[tuple[object, ...]] = []
    while True:
        chunk = cursor.fetchmany(batch_size)
        if not chunk:
            break
        rows = carry + chunk
        # Hold back the last record: its events may continue in the next chunk.
        last_key = rows[-1][0]
        cut = len(rows)
        while cut > 0 and rows[cut - 1][0] == last_key:
            cut -= 1
        if cut == 0:
            carry = rows
            continue
        carry = rows[cut:]
        yield _to_frame(rows[:cut], columns)
    if carry:
        yield _to_frame(carry, columns)


def _to_frame(rows: list[tuple[object, ...]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame([r[1:] for r in rows], columns=columns, dtype=object)
    return frame.astype(object).where(frame.notna(), None)
