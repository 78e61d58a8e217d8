"""load_context: reading a target into frames; records(); unreadable targets."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, insert, text

from itilmigrate.compliance_checks.context import load_context
from itilmigrate.compliance_checks.policy import load_policy
from itilmigrate.errors import ConfigError, TargetError
from itilmigrate.load.tables import ENTITY_TABLES, MIGRATION_RUN, metadata
from tests.compliance_checks.factories import make_incident, make_run

NOW = pd.Timestamp("2024-03-15T12:00:00Z")


@pytest.fixture
def target_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    row = {
        key: (value.to_pydatetime() if isinstance(value, pd.Timestamp) else value)
        for key, value in make_incident("7").items()
    }
    row.update(assignment_count=1, reassignment_count=0)
    other = {**row, "entity_id": "rec-8", "legacy_id": "8", "source_system": "helpdesk"}
    run = {
        key: (value.to_pydatetime() if isinstance(value, pd.Timestamp) else value)
        for key, value in make_run().items()
    }
    with engine.begin() as conn:
        conn.execute(
            insert(ENTITY_TABLES["incident"]),
            [{**row, "content_hash": "h"}, {**other, "content_hash": "h"}],
        )
        conn.execute(insert(MIGRATION_RUN), [run])
    engine.dispose()
    return url


def test_load_context_reads_tables_with_utc_times(target_url):
    context = load_context(target_url, policy=load_policy(), run_id="c", now=NOW)

    incidents = context.tables["incident"]
    assert incidents["legacy_id"].tolist() == ["7", "8"]
    assert str(incidents["opened_at"].dtype).endswith(", UTC]")
    assert incidents["opened_at"].iloc[0] == pd.Timestamp("2024-03-11T09:00:00Z")
    assert incidents["major"].tolist() == [False, False]
    assert context.tables["migration_run"]["run_id"].tolist() == ["load-run"]
    assert context.now == NOW


def test_load_context_source_system_keeps_its_rows(target_url):
    context = load_context(
        target_url, policy=load_policy(), run_id="c", now=NOW, source_system="heat"
    )

    assert context.tables["incident"]["legacy_id"].tolist() == ["7"]
    assert context.tables["migration_run"]["run_id"].tolist() == ["load-run"]


def test_load_context_missing_table_gives_empty_frame(target_url):
    context = load_context(target_url, policy=load_policy(), run_id="c", now=NOW)

    history = context.table("status_change")
    assert history.empty
    assert "changed_at" in history.columns
    assert context.records()["entity_type"].tolist() == ["incident", "incident"]


def test_load_context_naive_now_is_utc(target_url):
    context = load_context(
        target_url,
        policy=load_policy(),
        run_id="c",
        now=pd.Timestamp("2024-03-15 12:00"),
    )

    assert context.now == NOW


def test_load_context_unreadable_target_raises_target_error(tmp_path):
    path = tmp_path / "not-a-db.db"
    path.write_bytes(b"this is not sqlite" * 100)

    with pytest.raises(TargetError, match="Cannot read target"):
        load_context(f"sqlite:///{path}", policy=load_policy(), run_id="c")


def test_load_context_unknown_dialect_raises_config_error():
    with pytest.raises(ConfigError) as raised:
        load_context("nosuchdialect://x", policy=load_policy(), run_id="c")

    assert str(raised.value) == (
        "Target URL 'nosuchdialect://x' names a database dialect or driver that is "
        "not installed (NoSuchModuleError); expected the form "
        "'dialect+driver://user@host/db' or 'sqlite:///path'."
    )


def test_load_context_unparseable_url_raises_config_error_naming_argument():
    with pytest.raises(ConfigError) as raised:
        load_context("notaurl", policy=load_policy(), run_id="c")

    assert raised.value.exit_code == 3
    assert str(raised.value) == (
        "The TARGET_URL argument 'notaurl' is not a SQLAlchemy database URL; "
        "expected the form 'dialect+driver://user@host/db' or 'sqlite:///path'."
    )


HINT = (
    "hint: check the URL (database name, schema, file path); `itilmigrate run` "
    "writes the target that `check` reads."
)


def test_load_context_missing_sqlite_file_raises_and_creates_nothing(tmp_path):
    missing = tmp_path / "nonexist.db"

    with pytest.raises(TargetError) as raised:
        load_context(f"sqlite:///{missing}", policy=load_policy(), run_id="c")

    assert str(raised.value) == (
        f"Target 'sqlite:///{missing}' holds no itilmigrate migration: there is no "
        f"SQLite database file '{missing}'.\n{HINT}"
    )
    assert list(tmp_path.iterdir()) == []


def test_load_context_empty_sqlite_file_raises_no_migration(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")

    with pytest.raises(TargetError) as raised:
        load_context(f"sqlite:///{empty}", policy=load_policy(), run_id="c")

    assert str(raised.value) == (
        f"Target 'sqlite:///{empty}' holds no itilmigrate migration: it has no "
        f"'migration_run' table (no tables).\n{HINT}"
    )
    assert empty.read_bytes() == b""


def test_load_context_legacy_database_raises_no_migration(tmp_path):
    legacy = tmp_path / "legacy.db"
    engine = create_engine(f"sqlite:///{legacy}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE CallLog (CallID TEXT)"))
        conn.execute(text("CREATE TABLE Journal (CallID TEXT)"))
    engine.dispose()

    with pytest.raises(TargetError) as raised:
        load_context(f"sqlite:///{legacy}", policy=load_policy(), run_id="c")

    assert str(raised.value) == (
        f"Target 'sqlite:///{legacy}' holds no itilmigrate migration: it has no "
        f"'migration_run' table among its 2 table(s).\n{HINT}"
    )


def test_load_context_no_finished_run_raises_no_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'target.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    run = make_run(status="failed", finished_at=None)
    with engine.begin() as conn:
        conn.execute(
            insert(MIGRATION_RUN),
            [
                {
                    k: v.to_pydatetime() if isinstance(v, pd.Timestamp) else v
                    for k, v in run.items()
                }
            ],
        )
    engine.dispose()

    with pytest.raises(TargetError) as raised:
        load_context(url, policy=load_policy(), run_id="c")

    assert str(raised.value) == (
        f"Target {url!r} holds no completed itilmigrate migration: table "
        f"'migration_run' lists 1 run(s) (failed 1) and none finished.\n{HINT}"
    )


def test_load_context_unknown_source_system_lists_the_known_ones(target_url):
    with pytest.raises(TargetError) as raised:
        load_context(
            target_url, policy=load_policy(), run_id="c", source_system="nosuch"
        )

    assert str(raised.value) == (
        f"Target {target_url!r} holds no completed run of source system 'nosuch'; "
        "it holds runs of ['heat'].\n"
        "hint: choose one of them with --source-system, or leave it out."
    )
