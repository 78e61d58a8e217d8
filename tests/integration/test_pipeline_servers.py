"""The main job through real drivers: ODBC sources and a PostgreSQL target.

HEAT sites reached their database through an ODBC DSN, and PostgreSQL is the real
target. Each test migrates the same generated HEAT data (seed 7, 1,000 calls)
and must give the counts the SQLite run gives (tests/test_pipeline.py).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from itilmigrate.errors import TargetError
from itilmigrate.extract.base import OdbcSourceSpec
from itilmigrate.generator import generate_heat
from itilmigrate.load.sql_target import SqlTarget
from itilmigrate.run import RunContext, RunSummary
from itilmigrate.runner import execute_job
from tests.factories import make_job, table_counts
from tests.test_pipeline import EXPECTED_COUNTS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

RUN_ID = "20260101T000000Z-aaaaaa"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def _odbc_driver(name: str) -> None:
    try:
        import pyodbc
    except ImportError as exc:
        _unavailable(f"pyodbc cannot load unixODBC ({exc}); install unixodbc")
        return
    if name not in pyodbc.drivers():
        _unavailable(f"ODBC driver {name!r} is not installed (have {pyodbc.drivers()})")


def _server(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        _unavailable(f"database server not reachable ({type(exc.orig).__name__})")
    return engine


@pytest.fixture
def legacy_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=1000, seed=7)
    return path


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    engine = _server(MARIADB_URL)
    name = f"itm_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    yield name
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name}")
    engine.dispose()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    engine = _server(POSTGRES_URL)
    name = f"itm_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {name}")
    yield name
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    engine.dispose()


def _odbc_job(tmp_path: Path, connection_string: str):
    job = make_job(tmp_path, "sqlite:///unused.db")
    return job.model_copy(
        update={
            "source": OdbcSourceSpec(kind="odbc", connection_string=connection_string)
        }
    )


def test_heat_job_through_sqlite3_odbc_driver_balances(tmp_path, legacy_sqlite):
    _odbc_driver("SQLite3")
    job = _odbc_job(tmp_path, f"DRIVER={{SQLite3}};Database={legacy_sqlite}")
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS


def test_heat_job_through_mariadb_odbc_driver_balances(tmp_path, mariadb_database):
    _odbc_driver("MariaDB Unicode")
    generate_heat(MARIADB_URL, calls=1000, seed=7, schema=mariadb_database)
    job = _odbc_job(
        tmp_path,
        "DRIVER={MariaDB Unicode};Server=127.0.0.1;Port=3306;"
        f"Database={mariadb_database};User=root;Password=;",
    )
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS


def test_heat_job_into_postgresql_target_is_idempotent(
    tmp_path, legacy_sqlite, pg_schema
):
    target = f"{POSTGRES_URL}?options=-csearch_path%3D{pg_schema}"
    job = make_job(tmp_path, f"sqlite:///{legacy_sqlite}", target=target)
    first = execute_job(job, dry_run=False, limit=None)
    second = execute_job(job, dry_run=False, limit=None)

    assert first.balanced
    assert table_counts(first.summary_dict) == EXPECTED_COUNTS
    assert first.summary_dict["target_changes"]["inserted"]["incident"] == 629
    assert second.balanced
    assert second.summary_dict["target_changes"]["inserted_total"] == 0
    assert second.summary_dict["target_changes"]["updated_total"] == 0
    engine = sa.create_engine(target)
    with engine.connect() as connection:
        assert (
            connection.exec_driver_sql("SELECT COUNT(*) FROM incident").scalar() == 629
        )
        opened = connection.exec_driver_sql(
            "SELECT opened_at FROM incident WHERE legacy_id = '00010100'"
        ).scalar()
        assert opened is not None
        assert opened.utcoffset() is not None
        assert (
            connection.exec_driver_sql("SELECT COUNT(*) FROM migration_run").scalar()
            == 2
        )
    engine.dispose()


def test_heat_job_from_postgresql_source_balances(tmp_path, pg_schema):
    generate_heat(POSTGRES_URL, calls=1000, seed=7, schema=pg_schema)
    job = make_job(tmp_path, f"{POSTGRES_URL}?options=-csearch_path%3D{pg_schema}")
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS


def test_heat_job_into_mariadb_target_refuses_a_second_concurrent_run(
    tmp_path, legacy_sqlite, mariadb_database
):
    target_url = f"{MARIADB_URL.rsplit('/', 1)[0]}/{mariadb_database}"
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = SqlTarget(target_url)
    first.prepare(
        RunContext(run_id=RUN_ID, started_at=started, now=lambda: started),
        RunSummary(
            run_id=RUN_ID,
            job_name="heat-nightly",
            mapping_name="heat",
            mapping_hash="ab" * 32,
            target_url=target_url,
            dry_run=False,
            started_at=started,
        ),
    )
    job = make_job(tmp_path, f"sqlite:///{legacy_sqlite}", target=target_url)

    with pytest.raises(TargetError) as caught:
        execute_job(job, dry_run=False, limit=None)
    first.close()
    outcome = execute_job(job, dry_run=False, limit=None)

    assert caught.value.exit_code == 4
    assert f"(run {RUN_ID!r} of job 'heat-nightly')" in str(caught.value)
    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS


def test_heat_job_with_nul_in_a_key_into_postgresql_quarantines_it(
    tmp_path, legacy_sqlite, pg_schema
):
    import sqlite3

    with sqlite3.connect(legacy_sqlite) as connection:
        connection.execute(
            "UPDATE CallLog SET CallID = '0001' || char(0) || '0100' "
            "WHERE CallID = '00010100'"
        )
    target = f"{POSTGRES_URL}?options=-csearch_path%3D{pg_schema}"
    job = make_job(tmp_path, f"sqlite:///{legacy_sqlite}", target=target)
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    assert table_counts(outcome.summary_dict)["calls"] == (1000, 991, 9, 0)
    engine = sa.create_engine(target)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT legacy_id, reason FROM quarantine "
            "WHERE detail = 'key [''CallID''] holds a control character'"
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("0001\u24000100", "unparseable")]
