"""Builders shared by the end-to-end tests: generated HEAT sources and job specs."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

from itilmigrate.extract.base import CsvSourceSpec, SqlSourceSpec
from itilmigrate.jobs import JobOptions, JobSpec

if TYPE_CHECKING:
    from pathlib import Path


def make_job(
    tmp_path: Path,
    source_url: str | None = None,
    *,
    csv_folder: Path | None = None,
    target: str | None = None,
    mapping: str = "heat",
    **options: Any,
) -> JobSpec:
    """Return a job over a generated HEAT database (or CSV folder) into ``tmp_path``."""
    source: SqlSourceSpec | CsvSourceSpec
    if csv_folder is not None:
        source = CsvSourceSpec(kind="csv", path=str(csv_folder), encoding="auto")
    else:
        assert source_url is not None
        source = SqlSourceSpec(kind="sql", url=source_url)
    return JobSpec(
        name="test-job",
        source=source,
        mapping=mapping,
        target=target or f"sqlite:///{tmp_path / 'target.db'}",
        options=JobOptions(report_dir=str(tmp_path / "reports"), **options),
    )


def table_counts(summary: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    """Return source name → (read, loaded, quarantined, excluded)."""
    return {
        t["source_name"]: (t["read"], t["loaded"], t["quarantined"], t["excluded"])
        for t in summary["tables"]
    }


def quarantine_report(report_dir: Path) -> list[dict[str, Any]]:
    """Return the lines of the one quarantine.jsonl under ``report_dir``."""
    (path,) = report_dir.glob("*/quarantine.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def reason_counts(lines: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Count quarantined records per (source, reason)."""
    return Counter((line["source_name"], line["reason"]) for line in lines)


def query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one query against a SQLite file."""
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()
