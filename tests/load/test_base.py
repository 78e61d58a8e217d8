from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from itilmigrate.entities import Status, table_columns
from itilmigrate.errors import ConfigError, MigrationError, TargetError
from itilmigrate.load.base import (
    DryRunTarget,
    open_target,
    prepare_batch,
    prepare_frame,
    register_target,
)
from itilmigrate.load.sql_target import SqlTarget

from .factories import (
    RUN_ID,
    make_batch,
    make_entity_id,
    make_frame,
    make_incident_frame,
    make_quarantined,
)

BATCH_ID = f"{RUN_ID}:00001"


def _hash(table: str, frame: pd.DataFrame) -> list[str]:
    return prepare_frame(table, frame, batch_id=BATCH_ID).hashes


def test_prepare_frame_hash_follows_documented_scheme():
    frame = make_frame(
        "assignment_group",
        1,
        extension=[None],
        name=["Service Desk"],
        run_id=["any run"],
    )
    values = [
        make_entity_id("assignment_group", 0),
        "heat",
        "Asgnmnt",
        "1000",
        "\\N",
        "Service Desk",
    ]
    expected = hashlib.sha256("\x1f".join(["v1", *values]).encode()).hexdigest()

    assert _hash("assignment_group", frame) == [expected]


def test_prepare_frame_typed_columns_hash_as_documented():
    frame = make_frame(
        "assignment",
        1,
        extension=["{}"],
        group_id=[None],
        assignee_id=[None],
        assigned_by_id=[None],
        seq=[3],
        assigned_at=[
            datetime(2024, 3, 1, 10, 15, 30, 250, tzinfo=timezone(timedelta(hours=2)))
        ],
        acknowledged_at=[None],
        resolved_at=[None],
        resolution=["fixed\\done"],
        is_reassignment=[True],
    )
    values = [
        make_entity_id("assignment", 0),
        "heat",
        "Asgnmnt",
        "1000",
        "{}",
        make_entity_id("incident", 0),
        "1000",
        "3",
        "\\N",
        "\\N",
        "\\N",
        "2024-03-01T08:15:30.000250+00:00",
        "\\N",
        "\\N",
        "fixed\\\\done",
        "1",
    ]
    expected = hashlib.sha256("\x1f".join(["v1", *values]).encode()).hexdigest()

    assert _hash("assignment", frame) == [expected]


@pytest.mark.parametrize(
    ("text_null", "time_null", "int_dtype"),
    [
        pytest.param(np.nan, pd.NaT, "Int64", id="nan-nat-masked"),
        pytest.param(pd.NA, None, "float64", id="na-none-float"),
    ],
)
def test_prepare_frame_null_spellings_hash_like_none(text_null, time_null, int_dtype):
    nones = make_incident_frame(
        1,
        title=pd.Series([None], dtype=object),
        resolved_at=pd.Series([None], dtype=object),
        reopen_count=pd.Series([None], dtype=object),
    )
    spelled = make_incident_frame(
        1,
        title=pd.Series([text_null], dtype=object),
        resolved_at=pd.Series([time_null], dtype=object),
        reopen_count=pd.Series([None], dtype=int_dtype),
    )

    assert _hash("incident", spelled) == _hash("incident", nones)


def test_prepare_frame_same_instant_in_other_zone_hashes_alike():
    utc = make_incident_frame(1, opened_at=[datetime(2024, 3, 1, 8, 0, tzinfo=UTC)])
    paris = make_incident_frame(
        1, opened_at=[datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))]
    )
    text = make_incident_frame(1, opened_at=["2024-03-01T08:00:00Z"])

    assert _hash("incident", utc) == _hash("incident", paris) == _hash("incident", text)


def test_prepare_frame_run_id_is_left_out_of_hash():
    first = make_incident_frame(2)
    second = make_incident_frame(2, run_id="20270101T000000Z-bbbbbb")

    assert _hash("incident", first) == _hash("incident", second)


def test_prepare_frame_separator_inside_value_does_not_collide():
    split_early = make_incident_frame(1, title=["a\x1fb"], description=["c"])
    split_late = make_incident_frame(1, title=["a"], description=["b\x1fc"])

    assert _hash("incident", split_early) != _hash("incident", split_late)


def test_prepare_frame_backslash_n_text_differs_from_null():
    text = make_incident_frame(1, title=["\\N"])
    null = make_incident_frame(1, title=[None])

    assert _hash("incident", text) != _hash("incident", null)


def test_prepare_frame_enum_member_hashes_and_writes_as_value():
    member = make_incident_frame(1, status=[Status.RESOLVED])
    value = make_incident_frame(1, status=["resolved"])

    prepared = prepare_frame("incident", member, batch_id=BATCH_ID)
    status = prepared.rows(columns=["status"])[0][0]

    assert prepared.hashes == _hash("incident", value)
    assert type(status) is str
    assert status == "resolved"


def test_prepare_frame_rows_give_python_scalars_and_none():
    frame = make_incident_frame(
        2,
        impact=pd.array([np.int64(4), None], dtype="Int64"),
        major=[np.bool_(True), False],
        closed_at=[datetime(2024, 3, 1, 9, 0, tzinfo=UTC), pd.NaT],
        title=["t", np.nan],
    )
    prepared = prepare_frame("incident", frame, batch_id=BATCH_ID)
    columns = ["impact", "major", "closed_at", "title"]

    as_text = prepared.rows(columns=columns)
    as_objects = prepared.rows([0], columns=columns, timestamps_as_text=False)

    assert as_text == [
        (4, True, "2024-03-01T09:00:00.000000+00:00", "t"),
        (None, False, None, None),
    ]
    assert [type(value) for value in as_text[0]] == [int, bool, str, str]
    assert as_objects == [(4, True, datetime(2024, 3, 1, 9, 0, tzinfo=UTC), "t")]


def test_prepare_frame_duplicate_keys_keep_last_row():
    frame = make_incident_frame(2, entity_id="same", title=["first", "last"])

    prepared = prepare_frame("incident", frame, batch_id=BATCH_ID)

    assert prepared.rows(columns=["title"]) == [("last",)]
    assert prepared.dropped_duplicates == 1


def test_prepare_frame_columns_reordered_to_contract():
    frame = make_incident_frame(1)
    shuffled = frame[list(reversed(frame.columns))]

    prepared = prepare_frame("incident", shuffled, batch_id=BATCH_ID)

    assert prepared.columns == (*table_columns("incident"), "content_hash")
    assert prepared.hashes == _hash("incident", frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        pytest.param(
            make_incident_frame(1).drop(columns=["title"]),
            "missing columns ['title'], unexpected columns []",
            id="missing-column",
        ),
        pytest.param(
            make_incident_frame(1).assign(colour="red"),
            "missing columns [], unexpected columns ['colour']",
            id="extra-column",
        ),
        pytest.param(
            make_incident_frame(1, impact=[2.5]),
            "Column incident.impact holds values that are not of kind 'integer'",
            id="fraction-in-integer",
        ),
    ],
)
def test_prepare_frame_contract_violation_raises_target_error(frame, message):
    with pytest.raises(TargetError) as caught:
        prepare_frame("incident", frame, batch_id=BATCH_ID)

    assert message in str(caught.value)
    assert caught.value.batch_id == BATCH_ID


def test_prepare_frame_unknown_table_raises_target_error():
    with pytest.raises(TargetError, match="unknown table 'ticket'"):
        prepare_batch(make_batch({"ticket": make_incident_frame(1)}))


def test_prepare_batch_lineage_hash_follows_its_entity():
    first = prepare_batch(make_batch({"incident": make_incident_frame(2)}))
    changed = make_incident_frame(2, title=["title 0", "new title"])
    second = prepare_batch(make_batch({"incident": changed}))

    assert first.lineage.hashes[0] == second.lineage.hashes[0]
    assert first.lineage.hashes[1] != second.lineage.hashes[1]
    assert first.run_id == RUN_ID
    assert first.lineage.rows(columns=["run_id", "first_run_id"])[0] == (RUN_ID, RUN_ID)


def test_dry_run_target_counts_what_would_be_written(
    tmp_path, run_context, run_summary
):
    target = DryRunTarget()
    target.prepare(run_context, run_summary)
    frames = {"incident": make_incident_frame(3), "person": make_frame("person", 2)}
    batch = make_batch(frames, quarantined=[make_quarantined()])

    first = target.load_batch(batch, source_system="heat")
    second = target.load_batch(batch, source_system="heat")
    target.finish(run_summary)
    target.close()

    assert first.inserted == {"incident": 3, "person": 2, "lineage": 5, "quarantine": 1}
    assert second.inserted == first.inserted
    assert first.updated == {}
    assert target.lineage_count("heat", "CallLog") == 6
    assert target.lineage_count("heat", "Subset") == 4
    assert target.export(tmp_path / "export") == []
    assert list(tmp_path.iterdir()) == []


def test_dry_run_target_contract_violation_raises_target_error():
    batch = make_batch({"incident": make_incident_frame(1).drop(columns=["status"])})

    with pytest.raises(TargetError, match="missing columns \\['status'\\]"):
        DryRunTarget().load_batch(batch, source_system="heat")


def test_open_target_sqlite_url_returns_sql_target(sqlite_url):
    target = open_target(sqlite_url)
    try:
        assert isinstance(target, SqlTarget)
    finally:
        target.close()


def test_open_target_dry_run_returns_dry_run_target(sqlite_url):
    assert isinstance(open_target(sqlite_url, dry_run=True), DryRunTarget)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("not a url", "is not a SQLAlchemy database URL", id="garbage"),
        pytest.param(
            "postgresql+nosuchdriver://u:pw@host/db",
            "names a database driver that is not installed",
            id="unknown-driver",
        ),
    ],
)
def test_open_target_bad_url_raises_config_error(url, message):
    with pytest.raises(ConfigError, match=message) as caught:
        open_target(url)

    assert caught.value.exit_code == 3
    assert ":pw@" not in str(caught.value)


def test_register_target_duplicate_backend_raises():
    with pytest.raises(MigrationError, match="registered twice"):
        register_target("*")(SqlTarget)


def test_prepare_batch_empty_lineage_without_columns_is_accepted():
    batch = make_batch({}, lineage=pd.DataFrame(), quarantined=[make_quarantined()])

    prepared = prepare_batch(batch)

    assert len(prepared.lineage) == 0


def test_prepare_batch_lineage_missing_column_raises_target_error():
    lineage = pd.DataFrame({"legacy_id": ["1"], "entity_id": ["x"]})

    with pytest.raises(TargetError, match="Lineage frame lacks columns"):
        prepare_batch(make_batch({}, lineage=lineage))
