"""The target schema, generated from the entity contract, and its migration tables.

Every entry of :data:`itilmigrate.entities.TABLE_MODELS` becomes one table with the
model's columns in contract order, plus ``content_hash`` (the SHA-256 that makes
reruns skip unchanged rows). There are no foreign keys: a rerun may load children
before a changed parent, and the load order across batches is not guaranteed.

Three tables belong to the migration itself: ``migration_run`` (one row per run),
``lineage`` (which legacy record became which entity) and ``quarantine`` (records
set aside, with their raw legacy fields: a restricted table).
"""

from __future__ import annotations

import types
from datetime import datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any, Union, cast, get_args, get_origin

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.dialects.mysql import LONGTEXT
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from itilmigrate.entities import TABLE_MODELS, table_columns

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

#: How SQLite stores a timestamp: ISO 8601 in UTC with an explicit offset, so that
#: ``datetime.fromisoformat`` (what SQLAlchemy uses to read it back) returns an aware
#: value and text comparison still sorts in time order.
SQLITE_TIMESTAMP_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d"
    ".%(microsecond)06d+00:00"
)

# MariaDB's DATETIME drops fractional seconds unless asked for them, and has no zone:
# the load converts every value to UTC first, so the stored value is UTC by rule.
UtcDateTime: TypeEngine[datetime] = (
    DateTime(timezone=True)
    .with_variant(
        sqlite.DATETIME(storage_format=SQLITE_TIMESTAMP_FORMAT),  # type: ignore[no-untyped-call]
        "sqlite",
    )
    .with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
)


class ColumnKind(StrEnum):
    """The value kinds the entity contract uses; each has one canonical form."""

    TEXT = "text"
    ENUM = "enum"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"


class Base(DeclarativeBase):
    """Declarative base whose ``metadata`` holds every target table."""


metadata = Base.metadata

CONTENT_HASH = "content_hash"

# Identifier columns get a bounded VARCHAR: MariaDB cannot index TEXT without a
# prefix length, and these are the columns that keys and indexes use.
# LIMITATION: legacy keys longer than 255 characters do not fit `legacy_id`.
# When: a source uses free text as its key and the target is PostgreSQL or MariaDB.
# Then: the batch fails with TargetError (SQLite ignores the length and stores it).
_STRING_LENGTHS = {
    "legacy_id": 255,
    "record_legacy_id": 255,
    "source_system": 64,
    "source_name": 128,
    CONTENT_HASH: 64,
}
_ID_LENGTH = 64
_ENUM_LENGTH = 32

# MariaDB compares text case-insensitively by default, which would merge legacy keys
# such as "ab12" and "AB12"; a binary collation keeps keys exact as on the others.
# LIMITATION: legacy keys that differ only by trailing spaces are one key on MariaDB.
# When: the target is MariaDB or MySQL (PAD SPACE collations) and keys keep padding.
# Then: the second key's batch fails with TargetError (duplicate primary key).
TABLE_OPTIONS: dict[str, Any] = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _column_kind(annotation: object) -> tuple[ColumnKind, bool]:
    """Return the kind of a pydantic field annotation and whether it allows None."""
    origin = get_origin(annotation)
    members: tuple[Any, ...] = (annotation,)
    if origin is Union or origin is types.UnionType:
        members = get_args(annotation)
    nullable = type(None) in members
    concrete = [member for member in members if member is not type(None)]
    if len(concrete) != 1 or not isinstance(concrete[0], type):
        raise TypeError(f"Unsupported entity field annotation {annotation!r}.")

    base = concrete[0]
    # bool is checked before int because it is a subclass of int.
    if issubclass(base, Enum):
        return ColumnKind.ENUM, nullable
    if issubclass(base, bool):
        return ColumnKind.BOOLEAN, nullable
    if issubclass(base, int):
        return ColumnKind.INTEGER, nullable
    if issubclass(base, datetime):
        return ColumnKind.TIMESTAMP, nullable
    if issubclass(base, str):
        return ColumnKind.TEXT, nullable
    raise TypeError(f"Unsupported entity field type {base!r}.")


# MySQL's TEXT holds 64 KB; legacy memo fields (pasted e-mails) can be larger.
LONG_TEXT: TypeEngine[str] = (
    Text().with_variant(LONGTEXT(), "mysql").with_variant(LONGTEXT(), "mariadb")
)


def _string_type(name: str) -> TypeEngine[str]:
    if name in _STRING_LENGTHS:
        return String(_STRING_LENGTHS[name])
    if name.endswith("_id"):
        return String(_ID_LENGTH)
    return LONG_TEXT


def _sql_type(name: str, kind: ColumnKind) -> TypeEngine[Any]:
    match kind:
        case ColumnKind.TEXT:
            return _string_type(name)
        case ColumnKind.ENUM:
            return String(_ENUM_LENGTH)
        case ColumnKind.INTEGER:
            return Integer()
        case ColumnKind.BOOLEAN:
            return Boolean()
        case ColumnKind.TIMESTAMP:
            return UtcDateTime


def _column_kinds(table: str) -> dict[str, ColumnKind]:
    fields = TABLE_MODELS[table].model_fields
    return {name: _column_kind(fields[name].annotation)[0] for name in fields}


def _entity_table(name: str) -> Table:
    """Build the table of one contract model, columns in contract order."""
    fields = TABLE_MODELS[name].model_fields
    keys = primary_key(name)
    columns: list[Column[Any]] = []
    for column_name in table_columns(name):
        kind, nullable = _column_kind(fields[column_name].annotation)
        columns.append(
            Column(
                column_name,
                _sql_type(column_name, kind),
                primary_key=column_name in keys,
                nullable=nullable and column_name not in keys,
            )
        )
    columns.append(Column(CONTENT_HASH, String(64), nullable=False))

    table = Table(name, metadata, *columns, **TABLE_OPTIONS)
    if "legacy_id" in table.c:
        Index(f"ix_{name}_source_key", table.c.source_system, table.c.legacy_id)
    if "record_id" in table.c:
        Index(f"ix_{name}_record_id", table.c.record_id)
    return table


def primary_key(table: str) -> tuple[str, ...]:
    """Return the primary-key columns of a target table."""
    if table == "problem_incident":
        return ("problem_id", "incident_id")
    if table == "lineage":
        return ("source_system", "source_name", "legacy_id")
    return ("entity_id",)


#: Column name → kind, per entity table (the canonical form of its values).
COLUMN_KINDS: dict[str, dict[str, ColumnKind]] = {
    name: _column_kinds(name) for name in TABLE_MODELS
}

#: Entity table name → its SQLAlchemy table, in contract order.
ENTITY_TABLES: dict[str, Table] = {name: _entity_table(name) for name in TABLE_MODELS}

#: Entity table name → a declarative class mapped onto that table, for ORM queries.
ENTITY_CLASSES: dict[str, type[Base]] = {
    name: cast(
        "type[Base]",
        type(TABLE_MODELS[name].__name__ + "Row", (Base,), {"__table__": table}),
    )
    for name, table in ENTITY_TABLES.items()
}


class MigrationRun(Base):
    """One run of a job: what it read, where it wrote, and how it ended."""

    __tablename__ = "migration_run"
    __table_args__ = TABLE_OPTIONS

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_name: Mapped[str | None] = mapped_column(Text)
    mapping_name: Mapped[str | None] = mapped_column(Text)
    mapping_hash: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text, doc="Password masked.")
    target: Mapped[str | None] = mapped_column(Text, doc="Password masked.")
    options: Mapped[str | None] = mapped_column(Text, doc="JSON object.")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(32))
    counts: Mapped[str | None] = mapped_column(Text, doc="JSON object.")
    dry_run: Mapped[bool] = mapped_column(Boolean)


class Lineage(Base):
    """Which legacy record became which entity, and in which runs."""

    __tablename__ = "lineage"
    __table_args__ = TABLE_OPTIONS

    source_system: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(_ENUM_LENGTH))
    entity_id: Mapped[str] = mapped_column(String(_ID_LENGTH))
    content_hash: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(
        String(_ID_LENGTH), doc="The last run that inserted or updated this row."
    )
    first_run_id: Mapped[str] = mapped_column(String(_ID_LENGTH))


class Quarantine(Base):
    """A legacy record set aside by a run; ``raw`` holds its legacy fields as JSON."""

    __tablename__ = "quarantine"
    __table_args__ = TABLE_OPTIONS

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(_ID_LENGTH), index=True)
    batch_id: Mapped[str] = mapped_column(String(_ID_LENGTH))
    source_system: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(128))
    legacy_id: Mapped[str] = mapped_column(String(255))
    stage: Mapped[str] = mapped_column(String(_ENUM_LENGTH))
    reason: Mapped[str] = mapped_column(String(_ENUM_LENGTH))
    detail: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(
        LONG_TEXT, doc="JSON object of legacy fields."
    )
    quarantined_at: Mapped[datetime] = mapped_column(UtcDateTime)


MIGRATION_RUN: Table = cast("Table", MigrationRun.__table__)
LINEAGE: Table = cast("Table", Lineage.__table__)
QUARANTINE: Table = cast("Table", Quarantine.__table__)

#: Lineage columns in insert order; ``run_id`` and ``first_run_id`` come from the run.
LINEAGE_TABLE_COLUMNS: tuple[str, ...] = tuple(column.name for column in LINEAGE.c)
