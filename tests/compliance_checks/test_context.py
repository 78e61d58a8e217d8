"""load_context: reading a target into frames; records(); unreadable targets."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, insert

from itilmigrate.compliance_checks.context import load_context
from itilmigrate.compliance_checks.policy import load_policy
from itilmigrate.errors import TargetError
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


def test_load_context_bad_url_raises_target_error():
    with pytest.raises(TargetError, match="Cannot open target"):
        load_context("nosuchdialect://x", policy=load_policy(), run_id="c")
