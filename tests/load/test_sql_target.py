from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from itilmigrate.errors import TargetError, TransientTargetError
from itilmigrate.load import sql_target
from itilmigrate.load.sql_target import SqlTarget
from itilmigrate.load.tables import ENTITY_TABLES, LINEAGE, MIGRATION_RUN, QUARANTINE
from itilmigrate.run import RunContext, SourceCounts

from .factories import (
    RUN_ID,
    make_batch,
    make_entity_id,
    make_frame,
    make_incident_frame,
    make_quarantined,
)

RUN_2 = "20260201T000000Z-bbbbbb"


def _rows(target: SqlTarget, table, *columns: str) -> list[tuple]:
    selected = [table.c[name] for name in columns]
    with target.engine.connect() as conn:
        return [
            tuple(row) for row in conn.execute(select(*selected).order_by(*selected))
        ]


def _count(target: SqlTarget, table: str) -> int:
    with target.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_load_batch_first_load_inserts_every_row(sqlite_target):
    stats = sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(4)}), source_system="heat"
    )

    assert stats.inserted == {"incident": 4, "lineage": 4}
    assert stats.updated == {"incident": 0, "lineage": 0}
    assert stats.unchanged == {"incident": 0, "lineage": 0}
    assert stats.deleted == {}
    assert _count(sqlite_target, "incident") == 4


def test_load_batch_same_batch_twice_counts_all_unchanged(sqlite_target):
    batch = make_batch({"incident": make_incident_frame(4)})
    sqlite_target.load_batch(batch, source_system="heat")

    stats = sqlite_target.load_batch(batch, source_system="heat")

    assert stats.inserted == {"incident": 0, "lineage": 0}
    assert stats.updated == {"incident": 0, "lineage": 0}
    assert stats.unchanged == {"incident": 4, "lineage": 4}
    assert stats.deleted == {}


def test_load_batch_one_changed_field_updates_exactly_one_row(sqlite_target):
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(4)}), source_system="heat"
    )
    changed = make_incident_frame(4, run_id=RUN_2)
    changed.loc[2, "title"] = "printer on fire"

    stats = sqlite_target.load_batch(
        make_batch({"incident": changed}, run_id=RUN_2), source_system="heat"
    )

    assert stats.inserted == {"incident": 0, "lineage": 0}
    assert stats.updated == {"incident": 1, "lineage": 1}
    assert stats.unchanged == {"incident": 3, "lineage": 3}
    incidents = ENTITY_TABLES["incident"]
    assert _rows(sqlite_target, incidents, "legacy_id", "title", "run_id") == [
        ("1000", "title 0", RUN_ID),
        ("1001", "title 1", RUN_ID),
        ("1002", "printer on fire", RUN_2),
        ("1003", "title 3", RUN_ID),
    ]


def test_load_batch_run_id_alone_changed_leaves_rows_unchanged(sqlite_target):
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(3)}), source_system="heat"
    )

    stats = sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(3, run_id=RUN_2)}, run_id=RUN_2),
        source_system="heat",
    )

    assert stats.updated == {"incident": 0, "lineage": 0}
    assert stats.unchanged == {"incident": 3, "lineage": 3}
    assert _rows(sqlite_target, ENTITY_TABLES["incident"], "run_id") == [(RUN_ID,)] * 3


def test_load_batch_classification_change_moves_record(sqlite_target):
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(3)}), source_system="heat"
    )
    request = make_frame("service_request", 3).iloc[[1]].reset_index(drop=True)

    stats = sqlite_target.load_batch(
        make_batch({"service_request": request}), source_system="heat"
    )

    assert stats.deleted == {"incident": 1}
    assert stats.inserted == {"service_request": 1, "lineage": 0}
    assert stats.updated == {"service_request": 0, "lineage": 1}
    moved = make_entity_id("incident", 1)
    assert _rows(sqlite_target, ENTITY_TABLES["service_request"], "entity_id") == [
        (moved,)
    ]
    assert _count(sqlite_target, "incident") == 2
    assert _rows(sqlite_target, LINEAGE, "legacy_id", "entity_type", "entity_id") == [
        ("1000", "incident", make_entity_id("incident", 0)),
        ("1001", "service_request", moved),
        ("1002", "incident", make_entity_id("incident", 2)),
    ]


def test_load_batch_quarantined_records_written_with_raw_json(sqlite_target):
    record = make_quarantined("4711", {"CallDesc": None, "CustName": "Zoë Ærø"})

    stats = sqlite_target.load_batch(
        make_batch({}, quarantined=[record]), source_system="heat"
    )

    assert stats.inserted == {"lineage": 0, "quarantine": 1}
    assert _rows(
        sqlite_target,
        QUARANTINE,
        "run_id",
        "batch_id",
        "source_system",
        "source_name",
        "legacy_id",
        "stage",
        "reason",
        "detail",
        "raw",
        "quarantined_at",
    ) == [
        (
            RUN_ID,
            f"{RUN_ID}:00001",
            "heat",
            "CallLog",
            "4711",
            "transform",
            "missing_required",
            "field 'CallDesc' is required",
            '{"CallDesc": null, "CustName": "Zoë Ærø"}',
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    ]


def test_load_batch_lineage_many_rows_to_one_entity(sqlite_target):
    person = make_frame("person", 1)
    lineage = pd.DataFrame(
        {
            "source_system": "heat",
            "source_name": "Subset",
            "legacy_id": ["S-1", "S-2", "S-3"],
            "entity_type": "person",
            "entity_id": person.loc[0, "entity_id"],
        }
    )
    batch = make_batch({"person": person}, lineage=lineage)

    first = sqlite_target.load_batch(batch, source_system="heat")
    second = sqlite_target.load_batch(batch, source_system="heat")

    assert first.inserted == {"person": 1, "lineage": 3}
    assert second.unchanged == {"person": 1, "lineage": 3}
    assert sqlite_target.lineage_count("heat", "Subset") == 3
    assert sqlite_target.lineage_count("heat", "CallLog") == 0
    assert (
        _rows(sqlite_target, LINEAGE, "entity_id", "run_id", "first_run_id")
        == [(person.loc[0, "entity_id"], RUN_ID, RUN_ID)] * 3
    )


def test_load_batch_updated_lineage_keeps_first_run_id(
    sqlite_url, run_context, run_summary, sqlite_target
):
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(1)}), source_system="heat"
    )
    sqlite_target.close()  # the first run ends; its target stays readable
    later = SqlTarget(sqlite_url)
    later.prepare(
        RunContext(
            run_id=RUN_2, started_at=run_context.started_at, now=run_context.now
        ),
        run_summary,
    )

    later.load_batch(
        make_batch({"incident": make_incident_frame(1, title="new")}, run_id=RUN_2),
        source_system="heat",
    )
    later.close()

    assert _rows(sqlite_target, LINEAGE, "run_id", "first_run_id") == [(RUN_2, RUN_ID)]


def test_load_batch_problem_incident_rule_change_updates_one_link(sqlite_target):
    links = make_frame("problem_incident", 3)
    sqlite_target.load_batch(
        make_batch({"problem_incident": links}), source_system="heat"
    )
    changed = make_frame(
        "problem_incident", 3, rule=["rule 0", "rule 1", "same caller"]
    )

    stats = sqlite_target.load_batch(
        make_batch({"problem_incident": changed}), source_system="heat"
    )

    assert stats.inserted == {"problem_incident": 0, "lineage": 0}
    assert stats.updated == {"problem_incident": 1, "lineage": 0}
    assert stats.unchanged == {"problem_incident": 2, "lineage": 0}
    assert _rows(sqlite_target, ENTITY_TABLES["problem_incident"], "rule") == [
        ("rule 0",),
        ("rule 1",),
        ("same caller",),
    ]


def test_load_batch_timestamps_stored_as_utc(sqlite_target):
    opened = datetime(2024, 3, 1, 8, 15, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    frame = make_incident_frame(1, opened_at=[opened], closed_at=[None])

    sqlite_target.load_batch(make_batch({"incident": frame}), source_system="heat")

    with sqlite_target.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT opened_at, closed_at FROM incident").one()
    assert tuple(stored) == ("2024-03-01T06:15:00.000500+00:00", None)
    read_back = _rows(sqlite_target, ENTITY_TABLES["incident"], "opened_at")
    assert read_back == [(datetime(2024, 3, 1, 6, 15, 0, 500, tzinfo=UTC),)]


def test_load_batch_null_spellings_and_numpy_types_stored_plainly(sqlite_target):
    frame = make_incident_frame(
        3,
        title=["kept", float("nan"), pd.NA],
        reopen_count=pd.array([2, None, 0], dtype="Int64"),
        impact=pd.Series([1, 2, 3], dtype="int64"),
        resolved_at=[pd.NaT, None, datetime(2024, 1, 1, tzinfo=UTC)],
        major=[True, False, True],
    )

    sqlite_target.load_batch(make_batch({"incident": frame}), source_system="heat")

    with sqlite_target.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT title, reopen_count, impact, resolved_at, major FROM incident "
            "ORDER BY legacy_id"
        ).all()
    assert [tuple(row) for row in stored] == [
        ("kept", 2, 1, None, 1),
        (None, None, 2, None, 0),
        (None, 0, 3, "2024-01-01T00:00:00.000000+00:00", 1),
    ]


def test_load_batch_database_error_rolls_back_whole_batch(sqlite_target):
    frames = {
        "incident": make_incident_frame(2, classification_rule=["ok", None]),
        "person": make_frame("person", 2),
    }

    with pytest.raises(TargetError) as caught:
        sqlite_target.load_batch(make_batch(frames), source_system="heat")

    assert not isinstance(caught.value, TransientTargetError)
    assert str(caught.value).startswith(
        "The target refused table 'incident' (IntegrityError). "
        f"Batch '{RUN_ID}:00001' was rolled back;"
    )
    assert caught.value.exit_code == 4
    assert _count(sqlite_target, "incident") == 0
    assert _count(sqlite_target, "person") == 0
    assert _count(sqlite_target, "lineage") == 0


@pytest.fixture
def locked_sqlite(sqlite_target, sqlite_url):
    """An exclusive lock on the target file, held by another connection."""
    holder = sqlite3.connect(
        sqlite_url.removeprefix("sqlite:///"), isolation_level=None
    )
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def test_load_batch_locked_database_retries_then_raises(
    sqlite_url, sleeps, locked_sqlite, caplog
):
    target = SqlTarget(f"{sqlite_url}?timeout=0", sleep=sleeps.append)
    batch = make_batch({"incident": make_incident_frame(2)})

    with caplog.at_level(logging.WARNING), pytest.raises(TargetError) as caught:
        target.load_batch(batch, source_system="heat")
    target.close()

    assert type(caught.value) is TargetError
    assert isinstance(caught.value.__cause__, TransientTargetError)
    assert caught.value.batch_id == f"{RUN_ID}:00001"
    assert str(caught.value).startswith("The target stayed busy through 4 attempts.")
    assert sleeps == [0.5, 1.0, 2.0]
    assert [record.getMessage() for record in caplog.records] == [
        f"batch retry batch_id={RUN_ID}:00001 attempt={n} delay_s={d} "
        "reason=OperationalError"
        for n, d in ((1, "0.5"), (2, "1.0"), (3, "2.0"))
    ]


def test_load_batch_lock_released_during_backoff_succeeds(
    sqlite_url, locked_sqlite, caplog
):
    target = SqlTarget(
        f"{sqlite_url}?timeout=0", sleep=lambda _: locked_sqlite.execute("ROLLBACK")
    )

    with caplog.at_level(logging.WARNING):
        stats = target.load_batch(
            make_batch({"incident": make_incident_frame(2)}), source_system="heat"
        )
    target.close()

    assert stats.inserted == {"incident": 2, "lineage": 2}
    assert len(caplog.records) == 1


def test_prepare_records_running_run_with_masked_urls(sqlite_target):
    with sqlite_target.engine.connect() as conn:
        run = conn.execute(select(MIGRATION_RUN)).mappings().one()

    assert dict(run) == {
        "run_id": RUN_ID,
        "job_name": "heat-nightly",
        "mapping_name": "heat",
        "mapping_hash": "ab" * 32,
        "source": "mssql+pyodbc://heat:***@dsn",
        "target": "sqlite:///itil.db",
        "options": '{"source": "mssql+pyodbc://heat:***@dsn"}',
        "started_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "finished_at": None,
        "status": "running",
        "counts": None,
        "dry_run": False,
    }


def test_finish_records_counts_status_and_end(sqlite_target, run_summary):
    run_summary.counts.append(
        SourceCounts(
            source_name="CallLog",
            table="calls",
            entity_type="record",
            read_count=3,
            loaded_count=2,
            quarantined_count=1,
            lineage_count=2,
        )
    )
    run_summary.load.inserted["incident"] = 2
    run_summary.status = "succeeded"
    run_summary.finished_at = datetime(
        2026, 1, 2, 4, 0, tzinfo=timezone(timedelta(hours=1))
    )

    sqlite_target.finish(run_summary)

    with sqlite_target.engine.connect() as conn:
        run = conn.execute(select(MIGRATION_RUN)).mappings().one()
    assert run["status"] == "succeeded"
    assert run["finished_at"] == datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    assert json.loads(run["counts"]) == {
        "sources": [
            {
                "source_name": "CallLog",
                "table": "calls",
                "entity_type": "record",
                "read_count": 3,
                "loaded_count": 2,
                "quarantined_count": 1,
                "excluded": {},
                "lineage_count": 2,
                "excluded_count": 0,
                "balanced": True,
            }
        ],
        "load": {
            "inserted": {"incident": 2},
            "updated": {},
            "unchanged": {},
            "deleted": {},
        },
        "dst_adjusted": {},
        "reconciliation_problems": [],
    }


def test_prepare_unreachable_server_raises_target_error_without_password(
    run_context, run_summary
):
    target = SqlTarget("postgresql+psycopg://migrator:s3cret@127.0.0.1:1/itil")

    with pytest.raises(TargetError) as caught:
        target.prepare(run_context, run_summary)
    target.close()

    message = str(caught.value)
    assert message.startswith(
        "Cannot connect to the target 'postgresql+psycopg://migrator:***@127.0.0.1:1/itil'"
        " (OperationalError"
    )
    assert "s3cret" not in message
    assert caught.value.exit_code == 4


def test_prepare_while_another_run_holds_the_target_fails_before_writing(
    sqlite_url, run_context, run_summary, sqlite_target
):
    second = SqlTarget(sqlite_url)

    with pytest.raises(TargetError) as caught:
        second.prepare(
            RunContext(
                run_id=RUN_2, started_at=run_context.started_at, now=run_context.now
            ),
            run_summary,
        )

    assert caught.value.exit_code == 4
    assert str(caught.value) == (
        f"Another itilmigrate run is writing to the target {sqlite_url!r} "
        f"(run {RUN_ID!r} of job 'heat-nightly'); nothing was written.\n"
        "hint: wait for it to finish, then rerun this job."
    )
    assert _rows(sqlite_target, MIGRATION_RUN, "run_id") == [(RUN_ID,)]

    sqlite_target.close()  # the first run ends: the lock is free again
    second.prepare(
        RunContext(
            run_id=RUN_2, started_at=run_context.started_at, now=run_context.now
        ),
        run_summary,
    )
    second.close()
    assert sorted(_rows(sqlite_target, MIGRATION_RUN, "run_id")) == [
        (RUN_ID,),
        (RUN_2,),
    ]


def test_sql_target_missing_sqlite_folder_is_created(
    tmp_path, run_context, run_summary
):
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'itil.db'}"

    target = SqlTarget(url)
    target.prepare(run_context, run_summary)
    target.close()

    assert (tmp_path / "a" / "b" / "itil.db").is_file()


def test_prepare_table_from_older_contract_raises_target_error(
    sqlite_url, run_context, run_summary
):
    target = SqlTarget(sqlite_url)
    with target.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE person (entity_id VARCHAR(64) PRIMARY KEY)")

    with pytest.raises(TargetError) as caught:
        target.prepare(run_context, run_summary)
    target.close()

    assert "table 'person' lacks columns ['source_system', 'source_name'," in str(
        caught.value
    )


@pytest.mark.slow
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    titles=st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
            st.sampled_from(["\\N", "\x1f", "\\", "a\x1fb", ""]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_load_batch_any_text_loads_once_then_unchanged(titles):
    target = SqlTarget("sqlite://")
    target.create_tables()
    batch = make_batch({"incident": make_incident_frame(len(titles), title=titles)})

    first = target.load_batch(batch, source_system="heat")
    second = target.load_batch(batch, source_system="heat")
    stored = _rows(target, ENTITY_TABLES["incident"], "legacy_id", "title")
    target.close()

    assert first.inserted["incident"] == len(titles)
    assert second.unchanged["incident"] == len(titles)
    assert second.updated["incident"] == 0
    assert [title for _, title in stored] == titles


@pytest.fixture
def core_target(sqlite_url, run_context, run_summary, monkeypatch):
    """A SQLite target forced onto the SQLAlchemy Core path other dialects take."""
    monkeypatch.setattr(sql_target, "_writer_for", sql_target._CoreWriter)
    target = SqlTarget(sqlite_url)
    target.prepare(run_context, run_summary)
    yield target
    target.close()


def test_core_path_upsert_counts_like_driver_path(core_target):
    frames = {
        "incident": make_incident_frame(3),
        "problem_incident": make_frame("problem_incident", 2),
    }
    first = core_target.load_batch(make_batch(frames), source_system="heat")
    changed = make_incident_frame(3, run_id=RUN_2)
    changed.loc[1, "closed_at"] = datetime(2025, 1, 1, 12, tzinfo=UTC)
    links = make_frame("problem_incident", 2, rule=["rule 0", "changed"])

    second = core_target.load_batch(
        make_batch({"incident": changed, "problem_incident": links}, run_id=RUN_2),
        source_system="heat",
    )
    moved = core_target.load_batch(
        make_batch({"service_request": make_frame("service_request", 1)}),
        source_system="heat",
    )

    assert first.inserted == {"incident": 3, "problem_incident": 2, "lineage": 3}
    assert second.updated == {"incident": 1, "problem_incident": 1, "lineage": 1}
    assert second.unchanged == {"incident": 2, "problem_incident": 1, "lineage": 2}
    assert moved.deleted == {"incident": 1}
    assert _rows(core_target, ENTITY_TABLES["service_request"], "legacy_id") == [
        ("1000",)
    ]
    with core_target.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT legacy_id, closed_at, run_id FROM incident ORDER BY legacy_id"
        ).all()
    assert [tuple(row) for row in stored] == [
        ("1001", "2025-01-01T12:00:00.000000+00:00", RUN_2),
        ("1002", "2024-03-01T08:17:00.000000+00:00", RUN_ID),
    ]


class _DriverError(Exception):
    def __init__(self, *args, sqlstate=None, sqlite_errorcode=None):
        super().__init__(*args)
        self.sqlstate = sqlstate
        self.sqlite_errorcode = sqlite_errorcode


@pytest.mark.parametrize(
    ("orig", "invalidated", "expected"),
    [
        pytest.param(
            _DriverError("x", sqlstate="40P01"), False, True, id="pg-deadlock"
        ),
        pytest.param(_DriverError("x", sqlstate="55P03"), False, True, id="pg-lock"),
        pytest.param(
            _DriverError(1213, "Deadlock found"), False, True, id="mysql-deadlock"
        ),
        pytest.param(
            _DriverError(1205, "Lock wait"), False, True, id="mysql-lock-wait"
        ),
        pytest.param(
            _DriverError("busy", sqlite_errorcode=517), False, True, id="sqlite-busy"
        ),
        pytest.param(
            _DriverError("database table is locked"), False, True, id="sqlite-text"
        ),
        pytest.param(_DriverError("x"), True, True, id="connection-lost"),
        pytest.param(
            _DriverError(1045, "Access denied"), False, False, id="mysql-login"
        ),
        pytest.param(
            _DriverError("x", sqlstate="42P01"), False, False, id="pg-no-table"
        ),
    ],
)
def test_is_transient_classifies_driver_errors(orig, invalidated, expected):
    error = OperationalError("SELECT 1", None, orig, connection_invalidated=invalidated)

    assert sql_target._is_transient(error) is expected
