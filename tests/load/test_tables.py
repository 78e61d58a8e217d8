from __future__ import annotations

import pytest
from sqlalchemy import Boolean, DateTime, Integer, String

from itilmigrate.entities import TABLE_MODELS, table_columns
from itilmigrate.load.tables import (
    ENTITY_CLASSES,
    ENTITY_TABLES,
    LINEAGE,
    MIGRATION_RUN,
    QUARANTINE,
    metadata,
)


@pytest.mark.parametrize("table", list(TABLE_MODELS))
def test_entity_table_columns_follow_contract_then_content_hash(table):
    columns = [column.name for column in ENTITY_TABLES[table].c]

    assert columns == [*table_columns(table), "content_hash"]


@pytest.mark.parametrize(
    ("table", "key"),
    [
        pytest.param("incident", ["entity_id"], id="incident"),
        pytest.param("person", ["entity_id"], id="person"),
        pytest.param("problem_incident", ["problem_id", "incident_id"], id="link"),
    ],
)
def test_entity_table_primary_key_matches_identity(table, key):
    assert [c.name for c in ENTITY_TABLES[table].primary_key] == key


def test_entity_table_types_follow_field_annotations():
    incident = ENTITY_TABLES["incident"].c

    assert isinstance(incident.opened_at.type, DateTime)
    assert incident.opened_at.type.timezone is True
    assert isinstance(incident.status.type, String)
    assert incident.status.type.length == 32
    assert isinstance(incident.impact.type, Integer)
    assert isinstance(incident.major.type, Boolean)
    assert incident.content_hash.type.length == 64
    assert incident.status.nullable is False
    assert incident.title.nullable is True
    assert incident.assignment_count.nullable is False


def test_metadata_has_no_foreign_keys():
    assert [fk for table in metadata.tables.values() for fk in table.foreign_keys] == []


@pytest.mark.parametrize(
    ("table", "index_columns"),
    [
        pytest.param("incident", {("source_system", "legacy_id")}, id="incident"),
        pytest.param(
            "assignment",
            {("source_system", "legacy_id"), ("record_id",)},
            id="assignment",
        ),
        pytest.param(
            "work_note",
            {("source_system", "legacy_id"), ("record_id",)},
            id="work-note",
        ),
        pytest.param("problem_incident", set(), id="link"),
    ],
)
def test_entity_table_indexes_cover_legacy_key_and_record(table, index_columns):
    found = {
        tuple(column.name for column in index.columns)
        for index in ENTITY_TABLES[table].indexes
    }

    assert found == index_columns


def test_migration_tables_have_agreed_columns():
    assert [c.name for c in MIGRATION_RUN.c] == [
        "run_id",
        "job_name",
        "mapping_name",
        "mapping_hash",
        "source",
        "target",
        "options",
        "started_at",
        "finished_at",
        "status",
        "counts",
        "dry_run",
    ]
    assert [c.name for c in LINEAGE.primary_key] == [
        "source_system",
        "source_name",
        "legacy_id",
    ]
    assert [c.name for c in LINEAGE.c][3:] == [
        "entity_type",
        "entity_id",
        "content_hash",
        "run_id",
        "first_run_id",
    ]
    assert [c.name for c in QUARANTINE.c] == [
        "id",
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
    ]


def test_entity_classes_map_each_entity_table():
    assert {
        name: cls.__table__ for name, cls in ENTITY_CLASSES.items()
    } == ENTITY_TABLES
