"""The entity contract: what every target ITIL object holds.

The pydantic models are the single definition of each target table's columns:
the transform builds frames with exactly these columns (in this order), the load
stage creates its tables from the same list, and the exports write them. Batches
are validated column-wise in :mod:`itilmigrate.transform.engine`; the models are
also used to validate single entities and to publish the JSON Schema.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

# A fixed namespace makes entity ids deterministic: the same source, table and
# legacy key always give the same id, which is what makes reruns idempotent.
ENTITY_NAMESPACE = uuid.UUID("6f1c2f0e-1d5e-4b8a-9a43-3c1d3b0e7a11")


class EntityType(StrEnum):
    """The ITIL record types a legacy record can become."""

    INCIDENT = "incident"
    PROBLEM = "problem"
    SERVICE_REQUEST = "service_request"


class Status(StrEnum):
    """The ITIL lifecycle states every record status maps onto."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PersonKind(StrEnum):
    """Whether a person is a customer (caller) or service-desk staff."""

    CUSTOMER = "customer"
    STAFF = "staff"


class ProblemOrigin(StrEnum):
    """How a problem record came to exist."""

    CLASSIFIED = "classified"
    PROPOSED = "proposed"


def entity_ids(
    source_system: str, kind: str, keys: pd.Series, *, prefix: str = ""
) -> pd.Series:
    """Return the deterministic ids of many entities (None where a key is missing).

    Gives exactly :func:`entity_id` for ``prefix + key``, without building a
    ``uuid.UUID`` per value, which dominated the transform of large batches.
    """
    head = ENTITY_NAMESPACE.bytes + f"{source_system}\x1f{kind}\x1f{prefix}".encode()
    out: list[str | None] = []
    for key in keys.tolist():
        if not isinstance(key, str):
            out.append(None)
            continue
        digest = bytearray(hashlib.sha1(head + key.encode()).digest()[:16])  # noqa: S324 - RFC 4122 version 5 is defined on SHA-1
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        text = digest.hex()
        out.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return pd.Series(out, index=keys.index, dtype=object)


def entity_id(source_system: str, kind: str, key: str) -> str:
    """Return the deterministic id of an entity.

    Args:
        source_system: The job's source system name (``heat``).
        kind: ``record`` for incidents, requests and problems (so a record keeps its
            id when its classification changes), else the entity table name.
        key: The normalised legacy key.
    """
    return str(uuid.uuid5(ENTITY_NAMESPACE, f"{source_system}\x1f{kind}\x1f{key}"))


_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Entity(BaseModel):
    """Columns every migrated entity has: identity, lineage and audit."""

    model_config = _FROZEN

    entity_id: str
    source_system: str
    source_name: str
    legacy_id: str
    extension: str | None = Field(
        default=None,
        description="JSON object of source columns the mapping left unmapped.",
    )
    run_id: str = Field(description="The run that last inserted or updated this row.")


class Record(Entity):
    """Columns shared by incidents, service requests and problems."""

    title: str | None = None
    description: str | None = None
    description_raw: str | None = None
    status: Status
    legacy_status: str | None = None
    status_conflict: str | None = Field(
        default=None, description="Code when the close fields disagree with the status."
    )
    impact: int | None = Field(default=None, ge=1, le=5)
    urgency: int | None = Field(default=None, ge=1, le=5)
    priority: int | None = Field(default=None, ge=1, le=5)
    legacy_priority: str | None = None
    category: str | None = None
    subcategory: str | None = None
    service: str | None = None
    contact_type: str | None = None
    caller_id: str | None = None
    caller_ref: str | None = None
    opened_by_id: str | None = None
    closed_by_id: str | None = None
    assignment_group_id: str | None = None
    assignee_id: str | None = None
    opened_at: datetime
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    resolution_notes: str | None = None
    resolution_notes_raw: str | None = None
    closure_code: str | None = None
    assignment_count: int = 0
    reassignment_count: int = 0
    reopen_count: int | None = None
    classification_rule: str


class Incident(Record):
    """An unplanned interruption or reduction in quality of a service."""

    major: bool = False


class ServiceRequest(Record):
    """A user request for something provided as part of normal service delivery."""

    request_type: str | None = None


class Problem(Record):
    """A cause, or potential cause, of one or more incidents."""

    origin: ProblemOrigin
    origin_rule: str
    root_cause: str | None = None
    workaround: str | None = None
    known_error: bool = False
    incident_count: int = 0


class Person(Entity):
    """A customer (caller) or a member of staff."""

    kind: PersonKind
    customer_type: str | None = None
    login: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    site: str | None = None
    department: str | None = None


class AssignmentGroup(Entity):
    """A team that records are assigned to."""

    name: str


class Assignment(Entity):
    """One step of a record's assignment history."""

    record_id: str
    record_legacy_id: str
    seq: int
    group_id: str | None = None
    assignee_id: str | None = None
    assigned_by_id: str | None = None
    assigned_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    is_reassignment: bool = False


class WorkNote(Entity):
    """A journal entry on a record: who wrote what, when."""

    record_id: str
    record_legacy_id: str
    seq: int
    author_id: str | None = None
    noted_at: datetime | None = None
    note_type: str | None = None
    text: str | None = None
    text_raw: str | None = None


class StatusChange(Entity):
    """One step of a record's status history (from event-log sources)."""

    record_id: str
    record_legacy_id: str
    seq: int
    status: Status
    legacy_status: str | None = None
    changed_at: datetime | None = None


class ProblemIncident(BaseModel):
    """Links a problem to an incident it explains, with the rule that linked them."""

    model_config = _FROZEN

    problem_id: str
    incident_id: str
    rule: str
    run_id: str


EntityModel: TypeAlias = type[BaseModel]

#: Target table name → the model that defines its columns.
TABLE_MODELS: dict[str, EntityModel] = {
    "incident": Incident,
    "service_request": ServiceRequest,
    "problem": Problem,
    "person": Person,
    "assignment_group": AssignmentGroup,
    "assignment": Assignment,
    "work_note": WorkNote,
    "status_change": StatusChange,
    "problem_incident": ProblemIncident,
}

RECORD_TABLES: tuple[str, ...] = ("incident", "service_request", "problem")

#: Columns of a lineage frame: which source record became which entity.
LINEAGE_COLUMNS: tuple[str, ...] = (
    "source_system",
    "source_name",
    "legacy_id",
    "entity_type",
    "entity_id",
)


def table_columns(table: str) -> list[str]:
    """Return the column names of a target table, in contract order."""
    return list(TABLE_MODELS[table].model_fields)
