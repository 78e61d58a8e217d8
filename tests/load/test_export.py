from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from itilmigrate.entities import TABLE_MODELS
from itilmigrate.errors import TargetError
from itilmigrate.load import export as export_module

from .factories import (
    RUN_ID,
    make_batch,
    make_entity_id,
    make_frame,
    make_incident_frame,
)


def _assignment_frame():
    return make_frame(
        "assignment",
        2,
        extension=[None, '{"Tier": "2"}'],
        group_id=["g-1", None],
        assignee_id=[None, "p-2"],
        assigned_by_id=[None, None],
        seq=[1, 2],
        assigned_at=[
            datetime(2024, 3, 1, 9, 15, tzinfo=timezone(timedelta(hours=1))),
            datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
        ],
        acknowledged_at=[None, None],
        resolved_at=[None, None],
        resolution=['Reset, "done"', None],
        is_reassignment=[False, True],
    )


def test_export_writes_csv_with_utc_timestamps_and_plain_nulls(sqlite_target, tmp_path):
    sqlite_target.load_batch(
        make_batch({"assignment": _assignment_frame()}), source_system="heat"
    )

    sqlite_target.export(tmp_path)

    record = make_entity_id("incident", 0), make_entity_id("incident", 1)
    ids = make_entity_id("assignment", 0), make_entity_id("assignment", 1)
    lines = {
        0: (
            f"{ids[0]},heat,Asgnmnt,1000,,{RUN_ID},{record[0]},1000,1,g-1,,,"
            '2024-03-01T08:15:00.000000Z,,,"Reset, ""done""",false'
        ),
        1: (
            f'{ids[1]},heat,Asgnmnt,1001,"{{""Tier"": ""2""}}",{RUN_ID},{record[1]},'
            "1001,2,,p-2,,2024-03-01T10:00:00.123456Z,,,,true"
        ),
    }
    header = (
        "entity_id,source_system,source_name,legacy_id,extension,run_id,record_id,"
        "record_legacy_id,seq,group_id,assignee_id,assigned_by_id,assigned_at,"
        "acknowledged_at,resolved_at,resolution,is_reassignment"
    )
    # Rows come out in primary-key order.
    order = sorted(lines, key=lambda position: ids[position])
    expected = "\r\n".join([header, *(lines[position] for position in order)]) + "\r\n"
    assert (tmp_path / "assignment.csv").read_bytes().decode("utf-8") == expected


def test_export_writes_typed_json_lines(sqlite_target, tmp_path):
    sqlite_target.load_batch(
        make_batch({"assignment": _assignment_frame()}), source_system="heat"
    )

    sqlite_target.export(tmp_path)

    lines = (tmp_path / "assignment.jsonl").read_text(encoding="utf-8").splitlines()
    by_seq = {record["seq"]: record for record in map(json.loads, lines)}
    assert by_seq[1] == {
        "entity_id": make_entity_id("assignment", 0),
        "source_system": "heat",
        "source_name": "Asgnmnt",
        "legacy_id": "1000",
        "extension": None,
        "run_id": RUN_ID,
        "record_id": make_entity_id("incident", 0),
        "record_legacy_id": "1000",
        "seq": 1,
        "group_id": "g-1",
        "assignee_id": None,
        "assigned_by_id": None,
        "assigned_at": "2024-03-01T08:15:00.000000Z",
        "acknowledged_at": None,
        "resolved_at": None,
        "resolution": 'Reset, "done"',
        "is_reassignment": False,
    }
    assert by_seq[2]["assigned_at"] == "2024-03-01T10:00:00.123456Z"
    assert by_seq[2]["is_reassignment"] is True
    assert by_seq[2]["extension"] == '{"Tier": "2"}'


def test_export_returns_csv_and_jsonl_per_table_in_contract_order(
    sqlite_target, tmp_path
):
    paths = sqlite_target.export(tmp_path / "out")

    expected = [
        tmp_path / "out" / f"{name}.{suffix}"
        for name in [*TABLE_MODELS, "lineage"]
        for suffix in ("csv", "jsonl")
    ]
    assert paths == expected
    assert (tmp_path / "out" / "incident.jsonl").read_text(encoding="utf-8") == ""
    assert (tmp_path / "out" / "lineage.csv").read_bytes().decode("utf-8") == (
        "source_system,source_name,legacy_id,entity_type,entity_id,run_id,"
        "first_run_id\r\n"
    )


def test_export_source_system_filter_keeps_that_system_only(sqlite_target, tmp_path):
    heat = make_incident_frame(2)
    other = make_incident_frame(
        1, source_system="remedy", entity_id="r-1", legacy_id="R1"
    )
    problem = make_frame("problem", 1)
    links = make_frame("problem_incident", 1)
    orphan = make_frame("problem_incident", 1, problem_id="elsewhere")
    sqlite_target.load_batch(
        make_batch({"incident": heat, "problem": problem, "problem_incident": links}),
        source_system="heat",
    )
    sqlite_target.load_batch(
        make_batch({"incident": other, "problem_incident": orphan}, seq=2),
        source_system="remedy",
    )

    sqlite_target.export(tmp_path, source_system="heat")

    def legacy_ids(name: str) -> list[str]:
        lines = (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line).get("legacy_id", "link") for line in lines]

    assert sorted(legacy_ids("incident")) == ["1000", "1001"]
    assert sorted(legacy_ids("lineage")) == ["1000", "1001", "5000"]
    assert legacy_ids("problem_incident") == ["link"]


def test_export_streams_in_partitions(sqlite_target, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "EXPORT_CHUNK", 2)
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(5)}), source_system="heat"
    )

    sqlite_target.export(tmp_path)

    csv_lines = (tmp_path / "incident.csv").read_text(encoding="utf-8").splitlines()
    json_lines = (tmp_path / "incident.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 6
    assert sorted(json.loads(line)["legacy_id"] for line in json_lines) == [
        "1000",
        "1001",
        "1002",
        "1003",
        "1004",
    ]


def test_export_unwritable_folder_raises_target_error(sqlite_target, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")

    with pytest.raises(
        TargetError, match="Cannot write the export of table 'incident'"
    ):
        sqlite_target.export(blocker / "out")


def test_iso_utc_treats_naive_value_as_utc():
    assert export_module.iso_utc(datetime(2024, 1, 2, 3, 4, 5)) == (  # noqa: DTZ001
        "2024-01-02T03:04:05.000000Z"
    )
