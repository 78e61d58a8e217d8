"""Small, fully filled entity frames and batches for load-stage tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from itilmigrate.entities import (
    LINEAGE_COLUMNS,
    RECORD_TABLES,
    entity_id,
    table_columns,
)
from itilmigrate.load.tables import COLUMN_KINDS, ColumnKind
from itilmigrate.records import LegacyRecord, QuarantinedRecord, QuarantineReason, Stage
from itilmigrate.run import EntityBatch

RUN_ID = "20260101T000000Z-aaaaaa"
SOURCE_SYSTEM = "heat"
OPENED_AT = datetime(2024, 3, 1, 8, 15, tzinfo=UTC)

#: Source name per table, as a HEAT mapping would name them.
SOURCE_NAMES = {
    "incident": "CallLog",
    "service_request": "CallLog",
    "problem": "CallLog",
    "person": "Subset",
    "assignment_group": "Asgnmnt",
    "assignment": "Asgnmnt",
    "work_note": "Journal",
}

# Values for columns whose contract restricts them (enums, 1-5 ranges).
_FIXED: dict[str, Any] = {
    "status": "in_progress",
    "kind": "customer",
    "origin": "classified",
    "impact": 2,
    "urgency": 3,
    "priority": 3,
}


def entity_key(table: str, index: int) -> str:
    """Return the legacy key of row ``index`` of a factory frame.

    Incidents and service requests share keys, so a request frame can stand for
    incidents whose classification changed; problems get keys of their own.
    """
    return f"{5000 + index}" if table == "problem" else f"{1000 + index}"


def make_entity_id(table: str, index: int) -> str:
    """Return the entity_id the factory gives row ``index`` of ``table``."""
    kind = "record" if table in RECORD_TABLES else table
    return entity_id(SOURCE_SYSTEM, kind, entity_key(table, index))


# Columns whose value follows from the table and the row position.
_BY_NAME: dict[str, Callable[[str, int], Any]] = {
    "entity_id": make_entity_id,
    "source_system": lambda table, i: SOURCE_SYSTEM,
    "source_name": lambda table, i: SOURCE_NAMES.get(table, table),
    "legacy_id": entity_key,
    "record_legacy_id": entity_key,
    "run_id": lambda table, i: RUN_ID,
    "record_id": lambda table, i: make_entity_id("incident", i),
    "problem_id": lambda table, i: make_entity_id("problem", i),
    "incident_id": lambda table, i: make_entity_id("incident", i),
}


def _value(table: str, column: str, kind: ColumnKind, index: int) -> Any:
    if column in _BY_NAME:
        return _BY_NAME[column](table, index)
    if column in _FIXED:
        return _FIXED[column]
    match kind:
        case ColumnKind.TIMESTAMP:
            return OPENED_AT + timedelta(minutes=index)
        case ColumnKind.INTEGER:
            return index
        case ColumnKind.BOOLEAN:
            return index % 2 == 1
        case _:
            return f"{column} {index}"


def make_frame(table: str, n: int, **overrides: Any) -> pd.DataFrame:
    """Return ``n`` rows of ``table`` with every contract column filled.

    Each override is a scalar for every row or a sequence with one value per row.
    """
    kinds = COLUMN_KINDS[table]
    data: dict[str, Any] = {}
    for column in table_columns(table):
        if column in overrides:
            value = overrides[column]
            data[column] = value if _is_sequence(value) else [value] * n
        else:
            data[column] = [_value(table, column, kinds[column], i) for i in range(n)]
    frame = pd.DataFrame(data)
    for column, kind in kinds.items():
        if kind is ColumnKind.TIMESTAMP and column not in overrides:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _is_sequence(value: Any) -> bool:
    if isinstance(value, str):
        return False
    return isinstance(value, Sequence | pd.Series | np.ndarray | ExtensionArray)


def make_incident_frame(n: int, **overrides: Any) -> pd.DataFrame:
    """Return ``n`` incidents with every column filled."""
    return make_frame("incident", n, **overrides)


def make_lineage(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return one lineage row per entity of every frame that has a legacy key."""
    parts = [
        pd.DataFrame(
            {
                "source_system": frame["source_system"],
                "source_name": frame["source_name"],
                "legacy_id": frame["legacy_id"],
                "entity_type": table,
                "entity_id": frame["entity_id"],
            }
        )
        for table, frame in frames.items()
        if "legacy_id" in frame.columns
    ]
    if not parts:
        return pd.DataFrame({column: [] for column in LINEAGE_COLUMNS}, dtype=object)
    return pd.concat(parts, ignore_index=True)[list(LINEAGE_COLUMNS)]


def make_quarantined(
    legacy_id: str = "999", fields: dict[str, str | None] | None = None, *, seq: int = 1
) -> QuarantinedRecord:
    """Return a quarantined CallLog record."""
    return QuarantinedRecord(
        legacy_record=LegacyRecord(
            source_name="CallLog",
            legacy_id=legacy_id,
            fields=fields if fields is not None else {"CallID": legacy_id},
            batch_id=f"{RUN_ID}:{seq:05d}",
        ),
        stage=Stage.TRANSFORM,
        reason=QuarantineReason.MISSING_REQUIRED,
        detail="field 'CallDesc' is required",
    )


def make_batch(
    frames: dict[str, pd.DataFrame],
    *,
    lineage: pd.DataFrame | None = None,
    quarantined: Sequence[QuarantinedRecord] = (),
    seq: int = 1,
    run_id: str = RUN_ID,
) -> EntityBatch:
    """Return a batch of the given frames with lineage derived from them."""
    return EntityBatch(
        batch_id=f"{run_id}:{seq:05d}",
        source_name="CallLog",
        frames=frames,
        lineage=make_lineage(frames) if lineage is None else lineage,
        quarantined=list(quarantined),
    )
