"""Benchmark the load stage: 200k incidents into SQLite and PostgreSQL.

Measures rows per second for a first load (every row inserted) and for an
unchanged rerun (every row hashed, looked up and left alone), batch by batch
through ``SqlTarget.load_batch`` exactly as a run does, lineage included.

Usage::

    .venv/bin/python benchmarks/load_target.py [--rows 200000] [--batch-size 50000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--skip-postgres]
        [--mariadb mysql+pymysql://root@127.0.0.1:3306/test]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from itilmigrate.entities import LINEAGE_COLUMNS, entity_id, table_columns
from itilmigrate.load import SqlTarget
from itilmigrate.run import EntityBatch, RunContext, RunSummary

RUN_ID = "20260101T000000Z-bench0"
CLOSED_SHARE = 0.9
MAJOR_SHARE = 0.01


def make_incidents(rows: int, seed: int = 7) -> pd.DataFrame:
    """Return ``rows`` incidents with realistic widths and some nulls."""
    rng = np.random.default_rng(seed)
    keys = [str(100_000 + i) for i in range(rows)]
    opened = pd.Timestamp("2015-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10 * 365 * 86400, rows), unit="s"
    )
    resolved = opened + pd.to_timedelta(rng.integers(60, 86400 * 10, rows), unit="s")
    closed = pd.Series(resolved).where(rng.random(rows) < CLOSED_SHARE)
    words = np.array(["printer", "vpn", "password", "outlook", "laptop", "sap", "wifi"])
    text = pd.Series(words[rng.integers(0, len(words), rows)]).str.cat(
        pd.Series(keys), sep=" issue reported by user #"
    )
    data = {
        "entity_id": [entity_id("heat", "record", key) for key in keys],
        "source_system": "heat",
        "source_name": "CallLog",
        "legacy_id": keys,
        "extension": None,
        "run_id": RUN_ID,
        "title": text,
        "description": text.str.repeat(4),
        "description_raw": text.str.repeat(4),
        "status": "closed",
        "legacy_status": "Closed",
        "status_conflict": None,
        "impact": rng.integers(1, 6, rows),
        "urgency": rng.integers(1, 6, rows),
        "priority": rng.integers(1, 6, rows),
        "legacy_priority": "3",
        "category": "Hardware",
        "subcategory": "Printer",
        "service": None,
        "contact_type": "phone",
        "caller_id": [entity_id("heat", "person", str(i % 5000)) for i in range(rows)],
        "caller_ref": None,
        "assignment_group_id": entity_id("heat", "assignment_group", "desk"),
        "assignee_id": None,
        "opened_at": opened,
        "responded_at": opened,
        "resolved_at": resolved,
        "closed_at": closed,
        "updated_at": resolved,
        "resolution_notes": text,
        "resolution_notes_raw": text,
        "closure_code": "solved",
        "assignment_count": rng.integers(0, 4, rows),
        "reassignment_count": 0,
        "reopen_count": pd.array([None] * rows, dtype="Int64"),
        "classification_rule": "incident.default",
        "major": rng.random(rows) < MAJOR_SHARE,
    }
    # Columns the contract gains later stay empty rather than break the benchmark.
    return pd.DataFrame(data).reindex(columns=table_columns("incident"))


def batches(frame: pd.DataFrame, batch_size: int, run_id: str) -> list[EntityBatch]:
    """Split a frame into batches with their lineage, as the transform hands them."""
    result = []
    for seq, start in enumerate(range(0, len(frame), batch_size), start=1):
        part = frame.iloc[start : start + batch_size].reset_index(drop=True)
        lineage = part[
            ["source_system", "source_name", "legacy_id", "entity_id"]
        ].assign(entity_type="incident")[list(LINEAGE_COLUMNS)]
        result.append(
            EntityBatch(
                batch_id=f"{run_id}:{seq:05d}",
                source_name="CallLog",
                frames={"incident": part},
                lineage=lineage,
            )
        )
    return result


def timed_run(
    url: str, frame: pd.DataFrame, batch_size: int
) -> tuple[float, dict[str, int]]:
    """Run one full load through a fresh SqlTarget; return seconds and counts."""
    target = SqlTarget(url)
    run = RunContext.start()
    summary = RunSummary(
        run_id=run.run_id,
        job_name="benchmark",
        mapping_name="heat",
        mapping_hash="-",
        target_url=url,
        dry_run=False,
        started_at=run.started_at,
    )
    target.prepare(run, summary)
    work = batches(frame, batch_size, run.run_id)
    start, cpu_start = time.perf_counter(), time.process_time()
    for batch in work:
        stats = target.load_batch(batch, source_system="heat")
        summary.load.add(stats)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    summary.status = "succeeded"
    summary.finished_at = datetime.now(UTC)
    target.finish(summary)
    target.close()
    counts = {
        "inserted": summary.load.inserted.get("incident", 0),
        "updated": summary.load.updated.get("incident", 0),
        "unchanged": summary.load.unchanged.get("incident", 0),
    }
    return elapsed, cpu, counts


def report(
    backend: str, phase: str, rows: int, timing: tuple[float, float, dict[str, int]]
) -> None:
    """Print one result line."""
    seconds, cpu, counts = timing
    print(
        f"{backend:<10} {phase:<15} rows={rows:>7} wall_s={seconds:6.2f} "
        f"rows/s={rows / seconds:>8,.0f} client_cpu_s={cpu:6.2f} {counts}"
    )


def bench(backend: str, url: str, frame: pd.DataFrame, batch_size: int) -> None:
    """First load, then an unchanged rerun, against one URL."""
    report(backend, "first load", len(frame), timed_run(url, frame, batch_size))
    report(backend, "unchanged rerun", len(frame), timed_run(url, frame, batch_size))


def main() -> None:
    """Parse options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--mariadb", default=None, help="also benchmark this MariaDB URL"
    )
    args = parser.parse_args()

    frame = make_incidents(args.rows)
    print(f"rows={args.rows} batch_size={args.batch_size} columns={frame.shape[1]}")

    with tempfile.TemporaryDirectory() as folder:
        bench(
            "sqlite", f"sqlite:///{Path(folder) / 'bench.db'}", frame, args.batch_size
        )

    if not args.skip_postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
            bench("postgresql", url, frame, args.batch_size)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()

    if args.mariadb:
        database = f"bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.mariadb)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {database}")
        try:
            url = sa.make_url(args.mariadb).set(database=database)
            bench(
                "mariadb",
                url.render_as_string(hide_password=False),
                frame,
                args.batch_size,
            )
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP DATABASE {database}")
            admin.dispose()


if __name__ == "__main__":
    main()
