"""Apply a mapping to one batch of legacy records: entities plus quarantine.

One :class:`SourcePlan` per source table says which actual columns hold what the
mapping names. :class:`RunState` carries what a run learns across batches: the
keys already loaded (for references and de-duplication), the assignment history
aggregated per record, and the incidents kept for repeat-incident clustering.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.entities import (
    LINEAGE_COLUMNS,
    EntityType,
    PersonKind,
    ProblemOrigin,
    Status,
    entity_ids,
    table_columns,
)
from itilmigrate.mappings.spec import EntityKind, FieldMapping, field_kind
from itilmigrate.records import LegacyRecord, QuarantinedRecord, QuarantineReason, Stage
from itilmigrate.run import EntityBatch
from itilmigrate.transform import converters
from itilmigrate.transform.fields import (
    DstCounter,
    FieldProblems,
    convert_field,
    evaluate,
    first_true,
    join_key,
    nan_to_none,
)

if TYPE_CHECKING:
    from itilmigrate.mappings.spec import MappingDefinition, SourceMapping

logger = logging.getLogger(__name__)

DERIVED_STAFF = "derived_staff"
DERIVED_GROUPS = "derived_groups"
DERIVED_CUSTOMERS = "derived_customers"
DERIVED_PROBLEMS = "derived_problems"
LIMIT_RULE = "option_limit"
PARENT_RULE = "parent_excluded"
#: C0 and C1 control characters; a legacy key holding one is quarantined.
_KEY_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_OPEN_STATES = {Status.NEW.value, Status.IN_PROGRESS.value, Status.ON_HOLD.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePlan:
    """A source mapping bound to the actual table and column names of a source."""

    mapping: SourceMapping
    table: str
    columns: dict[str, str]
    read_columns: list[str]

    @property
    def mapped_actual(self) -> set[str]:
        """Actual names of the columns the mapping reads."""
        return set(self.columns.values())


# LIMITATION: a run keeps every record and person key, and each incident's clustering
# When: sources of many millions of records (~150 bytes a record, ~600 an incident).
# Then: memory grows with the source, not the batch; results stay exact.
@dataclass(slots=True)
class RunState:
    """What a run learns across batches."""

    definition: MappingDefinition
    source_system: str
    run_id: str
    customer_keys: set[str] = field(default_factory=set)
    staff_keys: set[str] = field(default_factory=set)
    group_keys: set[str] = field(default_factory=set)
    loaded_records: dict[str, set[str]] = field(default_factory=dict)
    excluded_records: dict[str, set[str]] = field(default_factory=dict)
    known_records: dict[str, set[str]] = field(default_factory=dict)
    duplicates: dict[str, set[str]] = field(default_factory=dict)
    record_aggregates: dict[str, pd.DataFrame] = field(default_factory=dict)
    reassignment_flags: dict[str, pd.Series] = field(default_factory=dict)
    cluster_parts: list[pd.DataFrame] = field(default_factory=list)
    dst: DstCounter = field(default_factory=DstCounter)
    limit_active: bool = False
    unresolved_callers: int = 0

    @property
    def derives_customers(self) -> bool:
        """Whether callers become people of their own (no person source exists)."""
        return not any(s.entity is EntityKind.PERSON for s in self.definition.sources)


@dataclass(slots=True, kw_only=True)
class BatchResult:
    """One transformed batch and its reconciliation counts."""

    batch: EntityBatch
    loaded_count: int
    quarantined_count: int
    excluded: dict[str, int]


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in table_columns(table)})


def _frame(table: str, data: dict[str, object], index: pd.Index) -> pd.DataFrame:
    """Build a frame with exactly the contract columns of ``table``."""
    out = pd.DataFrame(index=index)
    for column in table_columns(table):
        value = data.get(column)
        out[column] = (
            value
            if isinstance(value, pd.Series)
            else pd.Series([value] * len(index), index=index, dtype=object)
        )
    return out.reset_index(drop=True)


class Transformer:
    """Turns batches of one source table into entity batches."""

    def __init__(self, plan: SourcePlan, state: RunState) -> None:
        self.plan = plan
        self.state = state
        self.mapping = plan.mapping
        self.definition = state.definition
        self.blanks = state.definition.blank_values

    # -- shared steps -------------------------------------------------------

    def _convert(
        self, df: pd.DataFrame, problems: FieldProblems, fields: dict[str, FieldMapping]
    ) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
        values: dict[str, pd.Series] = {}
        originals: dict[str, pd.Series] = {}
        for name, spec in fields.items():
            kind = field_kind(self.mapping.entity, name)
            converted, original = convert_field(
                name,
                kind,
                spec,
                df,
                self.plan.columns,
                self.definition,
                problems,
                self.state.dst,
            )
            values[name] = converted
            if original is not None:
                originals[name] = original
        return values, originals

    def _quarantine(
        self,
        df: pd.DataFrame,
        legacy_ids: pd.Series,
        mask: pd.Series,
        reason: pd.Series,
        detail: pd.Series,
        batch_id: str,
    ) -> list[QuarantinedRecord]:
        out = []
        for index in df.index[mask.to_numpy(dtype=bool)]:
            row = df.loc[index]
            legacy_id = legacy_ids.get(index)
            out.append(
                QuarantinedRecord(
                    legacy_record=LegacyRecord(
                        source_name=self.mapping.name,
                        legacy_id=legacy_id if isinstance(legacy_id, str) else "",
                        fields={
                            str(k): (v if isinstance(v, str) else None)
                            for k, v in row.items()
                        },
                        batch_id=batch_id,
                    ),
                    stage=Stage.TRANSFORM,
                    reason=QuarantineReason(reason[index]),
                    detail=str(detail[index]),
                )
            )
        return out

    def _screen(
        self, df: pd.DataFrame, legacy_ids: pd.Series, problems: FieldProblems
    ) -> tuple[pd.Series, dict[str, int]]:
        """Apply exclusion rules, blank keys and duplicate keys.

        Returns the mask of excluded records and the counts per exclusion rule.
        """
        excluded = pd.Series(False, index=df.index)
        counts: dict[str, int] = {}
        for rule in self.mapping.exclude:
            hit = evaluate(rule.when, df, self.plan.columns, self.blanks) & ~excluded
            if hit.any():
                counts[rule.name] = int(hit.sum())
                excluded |= hit
        problems.add(
            legacy_ids.isna() & ~excluded,
            QuarantineReason.MISSING_REQUIRED,
            f"key {self.mapping.key} is blank",
        )
        # A key is the record's identity: a NUL or other control character in it is
        # corruption that no target stores alike (PostgreSQL refuses NUL outright),
        # so the record is set aside rather than loaded under an altered key.
        problems.add(
            legacy_ids.str.contains(_KEY_CONTROL, regex=True, na=False) & ~excluded,
            QuarantineReason.UNPARSEABLE,
            f"key {self.mapping.key} holds a control character",
        )
        duplicates = self.state.duplicates.get(self.mapping.name)
        if duplicates:
            problems.add(
                legacy_ids.isin(duplicates) & ~excluded,
                QuarantineReason.DUPLICATE_KEY,
                f"key {self.mapping.key} occurs more than once in table "
                f"{self.plan.table!r}",
            )
        return excluded, counts

    def _lineage(
        self, legacy_ids: pd.Series, entity_type: pd.Series | str, ids: pd.Series
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "source_system": self.state.source_system,
                "source_name": self.mapping.name,
                "legacy_id": legacy_ids.to_numpy(dtype=object),
                "entity_type": entity_type
                if isinstance(entity_type, str)
                else entity_type.to_numpy(dtype=object),
                "entity_id": ids.to_numpy(dtype=object),
            },
            columns=list(LINEAGE_COLUMNS),
        )

    def _derive_new(
        self,
        keys: pd.Series,
        names: pd.Series,
        ids: pd.Series,
        known: set[str],
        *,
        table: str,
        source_name: str,
        named: tuple[str, ...],
        extra: dict[str, object],
        out: tuple[list[tuple[str, pd.DataFrame]], list[pd.DataFrame]],
    ) -> None:
        """Create the derived entities (staff, groups, callers) not yet met this run.

        They have no source table of their own: each is created the first time a
        reference names it, and ``known`` remembers it for the rest of the run.
        """
        new = keys.notna() & ~keys.isin(known)
        if not new.any():
            return
        first = pd.DataFrame(
            {"key": keys[new], "name": names[new], "id": ids[new]}
        ).drop_duplicates("key")
        known.update(first["key"])
        system = self.state.source_system
        data: dict[str, object] = {
            "entity_id": first["id"],
            "source_system": system,
            "source_name": source_name,
            "legacy_id": first["key"],
            "run_id": self.state.run_id,
            **extra,
            **dict.fromkeys(named, first["name"]),
        }
        frames, lineage = out
        frames.append((table, _frame(table, data, first.index)))
        lineage.append(
            _derived_lineage(system, source_name, first["key"], table, first["id"])
        )

    def _staff(
        self,
        names: pd.Series,
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> pd.Series:
        """Return staff person ids for ``names``, creating the staff not seen yet."""
        keys = names.str.casefold()
        ids = entity_ids(self.state.source_system, "staff", keys)
        self._derive_new(
            keys,
            names,
            ids,
            self.state.staff_keys,
            table="person",
            source_name=DERIVED_STAFF,
            named=("login", "display_name"),
            extra={"kind": PersonKind.STAFF.value},
            out=(frames, lineage),
        )
        return ids

    def _groups(
        self,
        names: pd.Series,
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> pd.Series:
        """Return assignment group ids for ``names``, creating new groups."""
        keys = names.str.casefold()
        ids = entity_ids(self.state.source_system, "group", keys)
        self._derive_new(
            keys,
            names,
            ids,
            self.state.group_keys,
            table="assignment_group",
            source_name=DERIVED_GROUPS,
            named=("name",),
            extra={},
            out=(frames, lineage),
        )
        return ids

    def _refs(
        self,
        values: dict[str, pd.Series],
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> dict[str, pd.Series]:
        """Turn reference fields into entity ids (staff, groups, customers)."""
        out: dict[str, pd.Series] = {}
        for name, series in values.items():
            kind = field_kind(self.mapping.entity, name)
            if kind == "staff_ref":
                out[name] = self._staff(series, frames, lineage)
            elif kind == "group_ref":
                out[name] = self._groups(series, frames, lineage)
            elif kind == "customer_ref":
                out[name] = self._customers(series, frames, lineage)
        return out

    def _customers(
        self,
        keys: pd.Series,
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> pd.Series:
        ids = entity_ids(self.state.source_system, "person", keys)
        if self.state.derives_customers:
            self._derive_new(
                keys,
                keys,
                ids,
                self.state.customer_keys,
                table="person",
                source_name=DERIVED_CUSTOMERS,
                named=("display_name",),
                extra={"kind": PersonKind.CUSTOMER.value},
                out=(frames, lineage),
            )
            return ids
        resolved = keys.isin(self.state.customer_keys)
        self.state.unresolved_callers += int((keys.notna() & ~resolved).sum())
        return ids.where(resolved, None)

    def _result(
        self,
        batch_id: str,
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
        quarantined: list[QuarantinedRecord],
        loaded: int,
        excluded: dict[str, int],
    ) -> BatchResult:
        by_table: dict[str, list[pd.DataFrame]] = {}
        for table, frame in frames:
            if not frame.empty:
                by_table.setdefault(table, []).append(frame)
        merged = {
            t: pd.concat(fs, ignore_index=True) if len(fs) > 1 else fs[0]
            for t, fs in by_table.items()
        }
        lineage_frames = [f for f in lineage if not f.empty]
        lineage_frame = (
            pd.concat(lineage_frames, ignore_index=True)
            if lineage_frames
            else pd.DataFrame(columns=list(LINEAGE_COLUMNS))
        )
        batch = EntityBatch(
            batch_id=batch_id,
            source_name=self.mapping.name,
            frames=merged,
            lineage=lineage_frame,
            quarantined=quarantined,
        )
        return BatchResult(
            batch=batch,
            loaded_count=loaded,
            quarantined_count=len(quarantined),
            excluded=excluded,
        )


def _derived_lineage(
    system: str, source_name: str, keys: pd.Series, entity_type: str, ids: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_system": system,
            "source_name": source_name,
            "legacy_id": keys.to_numpy(dtype=object),
            "entity_type": entity_type,
            "entity_id": ids.to_numpy(dtype=object),
        },
        columns=list(LINEAGE_COLUMNS),
    )


def record_status_conflict(
    status: pd.Series, closed_at: pd.Series, resolved_at: pd.Series
) -> pd.Series:
    """Return a code where the close fields disagree with the mapped status.

    ``closed_without_closed_at``: status closed, no close time;
    ``open_with_closed_at``: an open status (new, in progress, on hold) with a
    close time, as HEAT leaves on a reopened call; ``resolved_without_resolved_at``:
    status resolved with neither a resolve nor a close time.
    """
    closed = closed_at.notna()
    masks = [
        (status == Status.CLOSED.value) & ~closed,
        status.isin(_OPEN_STATES) & closed,
        (status == Status.RESOLVED.value) & resolved_at.isna() & ~closed,
    ]
    labels = [
        "closed_without_closed_at",
        "open_with_closed_at",
        "resolved_without_resolved_at",
    ]
    return first_true(
        [m.fillna(False).astype(bool) for m in masks], labels, status.index
    )


def classify(
    df: pd.DataFrame, plan: SourcePlan, definition: MappingDefinition
) -> tuple[pd.Series, pd.Series]:
    """Return (entity type, rule name) per record: the first matching rule wins."""
    rules = definition.classification.rules
    blanks = definition.blank_values
    masks = [evaluate(rule.when, df, plan.columns, blanks) for rule in rules]
    names = first_true(masks, [r.name for r in rules], df.index)
    types = first_true(masks, [r.type.value for r in rules], df.index)
    names = names.where(names.notna(), definition.classification.default_name)
    types = types.where(types.notna(), definition.classification.default.value)
    return types, names


__all__ = [
    "DERIVED_CUSTOMERS",
    "DERIVED_GROUPS",
    "DERIVED_PROBLEMS",
    "DERIVED_STAFF",
    "LIMIT_RULE",
    "BatchResult",
    "EntityType",
    "ProblemOrigin",
    "RunState",
    "SourcePlan",
    "Transformer",
    "_empty",
    "_frame",
    "classify",
    "converters",
    "join_key",
    "nan_to_none",
    "record_status_conflict",
]
