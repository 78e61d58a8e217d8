"""Export the target's entity tables and lineage to CSV and JSON Lines files.

Each table is read in partitions from a streaming cursor, so memory stays bounded
however large the table is. Timestamps are written as ISO 8601 in UTC with a ``Z``
and microseconds (``2024-03-01T08:15:00.000000Z``); a stored value without a zone
(MariaDB keeps none) is UTC by the load's rule. In CSV, null is an empty field and
booleans are ``true``/``false``; JSON Lines keeps nulls, numbers and booleans typed.
"""

from __future__ import annotations

import csv
import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.exc import SQLAlchemyError

from itilmigrate.entities import LINEAGE_COLUMNS, table_columns
from itilmigrate.errors import TargetError
from itilmigrate.load.tables import (
    COLUMN_KINDS,
    ENTITY_TABLES,
    LINEAGE,
    ColumnKind,
    primary_key,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

#: Rows fetched and written per partition.
EXPORT_CHUNK = 10_000

#: Lineage columns in the export: the contract's, then the runs that touched it.
LINEAGE_EXPORT_COLUMNS: tuple[str, ...] = (*LINEAGE_COLUMNS, "run_id", "first_run_id")


def iso_utc(value: datetime) -> str:
    """Return a timestamp as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _export_plan(name: str) -> tuple[Table, list[str]]:
    if name == "lineage":
        return LINEAGE, list(LINEAGE_EXPORT_COLUMNS)
    return ENTITY_TABLES[name], table_columns(name)


def _source_filter(name: str, table: Table, source_system: str) -> ColumnElement[bool]:
    if "source_system" in table.c:
        return table.c.source_system == source_system
    # problem_incident has no source column: a link belongs to its problem's source.
    problem = ENTITY_TABLES["problem"]
    problems = select(problem.c.entity_id).where(
        problem.c.source_system == source_system
    )
    return table.c.problem_id.in_(problems)


def _export_table(
    engine: Engine, name: str, out_dir: Path, source_system: str | None
) -> tuple[Path, Path, int]:
    table, columns = _export_plan(name)
    kinds = COLUMN_KINDS.get(name, {})
    stamps = [i for i, c in enumerate(columns) if kinds.get(c) is ColumnKind.TIMESTAMP]
    flags = [i for i, c in enumerate(columns) if kinds.get(c) is ColumnKind.BOOLEAN]

    order = [table.c[column] for column in primary_key(name)]
    stmt = select(*(table.c[column] for column in columns)).order_by(*order)
    if source_system is not None:
        stmt = stmt.where(_source_filter(name, table, source_system))

    csv_path = out_dir / f"{name}.csv"
    jsonl_path = out_dir / f"{name}.jsonl"
    count = 0
    with (
        engine.connect() as conn,
        csv_path.open("w", encoding="utf-8", newline="") as csv_file,
        jsonl_path.open("w", encoding="utf-8") as jsonl_file,
    ):
        writer = csv.writer(csv_file)
        writer.writerow(columns)
        result = conn.execution_options(yield_per=EXPORT_CHUNK).execute(stmt)
        for partition in result.partitions():
            records: list[list[Any]] = [list(row) for row in partition]
            for record in records:
                for i in stamps:
                    if record[i] is not None:
                        record[i] = iso_utc(record[i])
            jsonl_file.writelines(
                json.dumps(dict(zip(columns, record, strict=True)), ensure_ascii=False)
                + "\n"
                for record in records
            )
            for record in records:
                for i in flags:
                    if record[i] is not None:
                        record[i] = "true" if record[i] else "false"
            writer.writerows(records)
            count += len(records)
    return csv_path, jsonl_path, count


def export_tables(
    engine: Engine, out_dir: Path, *, source_system: str | None = None
) -> list[Path]:
    """Write ``<table>.csv`` and ``<table>.jsonl`` for every entity table and lineage.

    Args:
        engine: The target database.
        out_dir: Folder for the files; created if missing, files overwritten.
        source_system: Only rows of this source system (problem links: of its
            problems); every row when None.

    Returns:
        The written paths, CSV then JSON Lines per table, in contract order.

    Raises:
        TargetError: A table cannot be read or a file cannot be written.
    """
    paths: list[Path] = []
    for name in [*ENTITY_TABLES, "lineage"]:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            csv_path, jsonl_path, count = _export_table(
                engine, name, out_dir, source_system
            )
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot read table {name!r} for export ({type(exc).__name__})."
            ) from exc
        except OSError as exc:
            raise TargetError(
                f"Cannot write the export of table {name!r} to {str(out_dir)!r} "
                f"({exc.strerror})."
            ) from exc
        logger.info("table exported table=%s rows=%d", name, count)
        paths += [csv_path, jsonl_path]
    return paths
