"""Fixtures of the load-stage tests: a fixed run and a SQLite target per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from itilmigrate.load.sql_target import SqlTarget
from itilmigrate.run import RunContext, RunSummary

from .factories import RUN_ID

if TYPE_CHECKING:
    from collections.abc import Iterator

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def run_context() -> RunContext:
    return RunContext(
        run_id=RUN_ID,
        started_at=NOW,
        options={"source": "mssql+pyodbc://heat:s3cret@dsn"},
        now=lambda: NOW,
    )


@pytest.fixture
def run_summary(run_context: RunContext) -> RunSummary:
    return RunSummary(
        run_id=run_context.run_id,
        job_name="heat-nightly",
        mapping_name="heat",
        mapping_hash="ab" * 32,
        target_url="sqlite:///itil.db",
        dry_run=False,
        started_at=run_context.started_at,
    )


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'target' / 'itil.db'}"


@pytest.fixture
def sleeps() -> list[float]:
    """Delays the target asked to sleep for, recorded instead of slept."""
    return []


@pytest.fixture
def sqlite_target(
    sqlite_url: str, run_context: RunContext, run_summary: RunSummary, sleeps
) -> Iterator[SqlTarget]:
    target = SqlTarget(sqlite_url, sleep=sleeps.append)
    target.prepare(run_context, run_summary)
    yield target
    target.close()
