"""Generator of realistic legacy FrontRange HEAT databases, seeded and sized.

``generate_heat`` writes the five HEAT call tables (CallLog, Asgnmnt, Journal, Subset,
Profile) of a fictional UK charity's service desk into any SQLAlchemy database;
``write_heat_csv`` writes the same tables as CSV files in a legacy code page. Both
return a :class:`HeatManifest` listing exactly what was planted, so tests downstream can
assert exact values. ``itilmigrate demo``, the tests and the benchmarks use them.

What the data looks like:

- 2,000 customers (Employee, Contractor, Volunteer) at 11 sites or remote; 40 analysts
  in 8 groups; calls received from April 2013 to March 2016, with weekly rhythm,
  growth and seasonal peaks. CallIDs are zero-padded numbers from ``00010000`` up,
  in received order.
- Every column is text (varchar or TEXT) except ``HEATSeq`` and ``DTLastMod``
  (integers; ``DTLastMod`` is Unix seconds of ModDate/ModTime in Europe/London).
  Dates are ``yyyy-mm-dd`` and times ``HH:MM:SS`` text unless planted otherwise.
- Closed and Cancelled calls carry ClosedBy/ClosedDate/ClosedTime/CloseDesc/Cause;
  Resolved calls carry only CloseDesc and Cause, with every assignment resolved; other
  statuses leave them blank and their last assignment unresolved. Blank fields are
  ``''`` on most rows and NULL on about 15%.
- Planted defects, in numbers that grow with ``calls`` but appear at least once at
  any size, are listed field by field in :class:`HeatManifest`.

The same seed and size always give the same data, whatever the target, except that
PostgreSQL gets U+001A wherever NUL was planted (it cannot store NUL in text).
"""

from __future__ import annotations

import codecs
import logging
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.build import Sink, write_tables
from itilmigrate.generator.manifest import HeatManifest, build_manifest
from itilmigrate.generator.plan import build_plan
from itilmigrate.generator.schema import TABLES, Case, cased
from itilmigrate.generator.writers import CsvSink, SqlSink

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["MIN_CALLS", "HeatManifest", "generate_heat", "write_heat_csv"]

logger = logging.getLogger(__name__)

MIN_CALLS: Final = 200
"""Fewest calls that leave room for every planted defect."""


def _check_calls(calls: int) -> None:
    if calls < MIN_CALLS:
        raise ValueError(f"calls must be at least {MIN_CALLS}, got {calls}.")


def _engine(target: str | sa.Engine) -> tuple[sa.Engine, bool]:
    """Return the engine for ``target`` and whether this module created it."""
    if isinstance(target, sa.Engine):
        return target, False
    url = target if "://" in target else f"sqlite:///{target}"
    return sa.create_engine(url), True


def _generate(calls: int, seed: int, case: Case, sink: Sink) -> HeatManifest:
    plan = build_plan(calls, seed)
    tally, orphans = write_tables(plan, seed, sink)
    manifest = build_manifest(
        plan,
        tally,
        seed=seed,
        case=case,
        tables=tuple(cased(table, case) for table in TABLES),
        orphans=orphans,
    )
    logger.info(
        "heat database generated calls=%d assignments=%d journals=%d seed=%d",
        manifest.calls,
        manifest.assignments,
        manifest.journals,
        seed,
    )
    return manifest


def generate_heat(
    target: str | sa.Engine,
    *,
    calls: int = 10_000,
    seed: int = 42,
    case: Case = "mixed",
    schema: str | None = None,
) -> HeatManifest:
    """Write a HEAT database of ``calls`` CallLog rows into ``target``.

    The five tables are dropped if they exist and created fresh; other tables are left
    alone. Rows are written in chunks of 50,000 calls, one transaction each, so memory
    stays bounded at any size.

    Args:
        target: A SQLAlchemy URL or engine (SQLite, PostgreSQL, MariaDB, ...), or the
            path of a SQLite file.
        calls: CallLog rows to write, duplicate rows included; at least
            :data:`MIN_CALLS`.
        seed: Seed of every random choice: the same seed gives the same data.
        case: ``"mixed"`` writes ``CallLog.CallID`` as SQL Server sites name it;
            ``"upper"`` writes ``CALLLOG.CALLID`` as the Oracle-style site does.
        schema: Database schema (PostgreSQL) or database (MariaDB) to write into; the
            connection's default when None.

    Returns:
        The manifest of what was written and planted.

    Raises:
        ValueError: ``calls`` is below :data:`MIN_CALLS`.
    """
    _check_calls(calls)
    engine, owned = _engine(target)
    try:
        sink = SqlSink(engine, case=case, schema=schema)
        try:
            manifest = _generate(calls, seed, case, sink)
        finally:
            sink.close()
    finally:
        if owned:
            engine.dispose()
    return manifest


def _check_encoding(encoding: str) -> None:
    """Fail before writing anything if ``encoding`` cannot hold the generated text."""
    codecs.lookup(encoding)
    sample = "".join(
        (*voc.FIRST_NAMES, *voc.LAST_NAMES, *voc.NON_ASCII_TEXTS, "£€\u2013…")
    )
    mojibake = "".join(
        text.encode("utf-8").decode("cp1252") for text in voc.NON_ASCII_TEXTS
    )
    try:
        (sample + mojibake).encode(encoding)
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"Encoding {encoding!r} cannot hold the generated text; "
            "use cp1252 or utf-8."
        ) from exc


def write_heat_csv(
    folder: Path,
    *,
    calls: int = 1_000,
    seed: int = 42,
    encoding: str = "cp1252",
    delimiter: str = ",",
) -> HeatManifest:
    """Write the HEAT tables as ``CallLog.csv``, ``Asgnmnt.csv``, ... into ``folder``.

    The data is the same as :func:`generate_heat` writes for the same ``calls`` and
    ``seed``, with mixed-case names; NULL and ``''`` both become empty fields.

    Args:
        folder: Folder to write into; created if missing, files overwritten.
        calls: CallLog rows to write; at least :data:`MIN_CALLS`.
        seed: Seed of every random choice.
        encoding: Code page of the files, cp1252 as legacy Windows exports use.
        delimiter: Field separator, such as ``","`` or ``";"``.

    Returns:
        The manifest of what was written and planted.

    Raises:
        ValueError: ``calls`` is too small or ``encoding`` cannot encode the text.
        LookupError: ``encoding`` is not a known codec.
    """
    _check_calls(calls)
    _check_encoding(encoding)
    sink = CsvSink(folder, encoding=encoding, delimiter=delimiter)
    try:
        return _generate(calls, seed, "mixed", sink)
    finally:
        sink.close()
