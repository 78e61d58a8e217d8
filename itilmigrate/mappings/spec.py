"""Pydantic models of a mapping definition: how one legacy system becomes ITIL.

A mapping names the legacy tables it reads (``sources``), what entity each one
becomes, how columns turn into entity fields, the value maps, the date layouts and
source time zone, the classification rules and the repeat-incident clustering.
Every model forbids unknown keys, so a misspelt key is an error, not a silent no-op.
"""

from __future__ import annotations

import re
import zoneinfo
from enum import StrEnum
from typing import Annotated, Any, Literal, Self, TypeAlias

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from itilmigrate.entities import EntityType, PersonKind, Status
from itilmigrate.mappings.date_layouts import date_layout, directives, time_layout

_STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

SourceName: TypeAlias = Annotated[str, Field(pattern=_SNAKE.pattern, max_length=63)]


class EntityKind(StrEnum):
    """What the records of one source table become."""

    RECORD = "record"
    PERSON = "person"
    ASSIGNMENT = "assignment"
    WORK_NOTE = "work_note"


class Condition(BaseModel):
    """A test on one legacy column; every part given must hold.

    ``in``/``not_in`` compare after trimming, case-insensitively; ``matches`` is a
    case-insensitive regular expression searched in the value; ``blank`` tests for
    a missing value. ``any``/``all`` combine nested conditions.
    """

    model_config = _STRICT

    column: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None
    matches: str | None = None
    blank: bool | None = None
    any: list[Condition] | None = None
    all: list[Condition] | None = None

    @field_validator("matches")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _has_a_test(self) -> Self:
        tests = [self.in_, self.not_in, self.matches, self.blank]
        if self.any is not None or self.all is not None:
            if self.column is not None or any(t is not None for t in tests):
                raise ValueError("use either column tests or 'any'/'all', not both")
            return self
        if self.column is None:
            raise ValueError("a condition needs 'column' (or 'any'/'all')")
        if all(t is None for t in tests):
            raise ValueError(
                "a condition needs one of 'in', 'not_in', 'matches', 'blank'"
            )
        return self

    def columns(self) -> set[str]:
        """Return every column this condition reads."""
        found = {self.column} if self.column else set()
        for nested in (self.any or []) + (self.all or []):
            found |= nested.columns()
        return found


class FieldMapping(BaseModel):
    """How one entity field is filled from the legacy columns.

    Exactly one of ``column``, ``columns`` or ``value`` is given. ``time_column``
    pairs a HEAT-style text date column with its time column. ``map`` names an entry
    of the mapping's ``value_maps``. In an event-log source, ``aggregate`` says which
    event supplies the value (default ``last``), optionally among the events that
    match ``when``.
    """

    model_config = _STRICT

    column: str | None = None
    columns: list[str] | None = None
    separator: str = " "
    value: str | None = None
    time_column: str | None = None
    map: str | None = None
    default: str | None = None
    required: bool = False
    aggregate: Literal[
        "last", "first", "min", "max", "last_present", "first_present"
    ] = "last"
    when: Condition | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        given = [
            n for n in ("column", "columns", "value") if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'column', 'columns' or 'value'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.time_column is not None and self.column is None:
            raise ValueError("'time_column' goes with 'column' (the date column)")
        return self

    def source_columns(self) -> set[str]:
        """Return every legacy column this field reads."""
        found = set(self.columns or [])
        found |= {c for c in (self.column, self.time_column) if c is not None}
        if self.when is not None:
            found |= self.when.columns()
        return found


class ValueMap(BaseModel):
    """Legacy code → target value; keys compare trimmed and case-insensitively."""

    model_config = _STRICT

    values: dict[str, str]
    default: str | None = None

    @field_validator("values")
    @classmethod
    def _keys_distinct(cls, values: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for key in values:
            folded = key.strip().casefold()
            if folded in seen:
                raise ValueError(
                    f"keys {seen[folded]!r} and {key!r} are the same code once trimmed "
                    "and compared case-insensitively; keep one"
                )
            seen[folded] = key
        return values


DateLayout: TypeAlias = Annotated[str, AfterValidator(date_layout)]
TimeLayout: TypeAlias = Annotated[str, AfterValidator(time_layout)]


class DateSettings(BaseModel):
    """Date layouts of the source and what to do with impossible local times.

    Each ``formats`` entry is a strptime layout with at least one date directive
    (it may add a time of day); each ``time_formats`` entry reads a time of day
    only. Both are checked here, so a bad layout is a definition problem, not a
    failure on the first batch.
    """

    model_config = _STRICT

    formats: list[DateLayout] = Field(
        default_factory=lambda: ["%Y-%m-%d"], min_length=1
    )
    time_formats: list[TimeLayout] = Field(
        default_factory=lambda: ["%H:%M:%S", "%H:%M"], min_length=1
    )
    two_digit_year_pivot: int | None = Field(default=None, ge=0, le=99)
    nonexistent: Literal["shift_forward", "shift_backward", "quarantine"] = (
        "shift_forward"
    )
    ambiguous: Literal["earliest", "latest", "quarantine"] = "earliest"

    @model_validator(mode="after")
    def _pivot_for_two_digit_years(self) -> Self:
        if (
            any("y" in (directives(fmt) or []) for fmt in self.formats)
            and self.two_digit_year_pivot is None
        ):
            raise ValueError(
                "a format uses '%y' (two-digit year): set 'two_digit_year_pivot'"
            )
        return self


class ExclusionRule(BaseModel):
    """Legacy records that are deliberately not migrated, under a name."""

    model_config = _STRICT

    name: str = Field(pattern=_SNAKE.pattern)
    when: Condition


class ClassificationRule(BaseModel):
    """One ordered rule deciding the ITIL record type; its name stays on the record."""

    model_config = _STRICT

    name: str = Field(pattern=_SNAKE.pattern)
    type: EntityType
    when: Condition


class Classification(BaseModel):
    """Ordered rules; the first that matches wins, else the default type."""

    model_config = _STRICT

    rules: list[ClassificationRule] = Field(default_factory=list)
    default: EntityType = EntityType.INCIDENT
    default_name: str = Field(default="default", pattern=_SNAKE.pattern)

    @model_validator(mode="after")
    def _names_distinct(self) -> Self:
        names = [r.name for r in self.rules] + [self.default_name]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"rule names {repeated} are used twice; each record keeps the name "
                "of the rule that typed it, so names must be unique"
            )
        return self


class PrioritySettings(BaseModel):
    """How legacy priority becomes ITIL impact and urgency.

    Either ``levels`` maps each legacy priority code to ``[impact, urgency]``, or
    the record's ``impact`` and ``urgency`` fields are mapped directly. The ITIL
    priority is always recomputed from ``matrix[impact][urgency]``.
    """

    model_config = _STRICT

    levels: dict[str, tuple[int, int]] | None = None
    matrix: dict[int, dict[int, int]] = Field(
        default_factory=lambda: {
            1: {1: 1, 2: 2, 3: 3},
            2: {1: 2, 2: 3, 3: 4},
            3: {1: 3, 2: 4, 3: 5},
        }
    )

    @model_validator(mode="after")
    def _levels_in_matrix(self) -> Self:
        holes = matrix_holes(self.matrix)
        if holes:
            raise ValueError("; ".join(message for _, message in holes))
        for code, (impact, urgency) in (self.levels or {}).items():
            if urgency not in self.matrix.get(impact, {}):
                raise ValueError(
                    f"level {code!r} is impact {impact} x urgency {urgency}, which the "
                    "matrix does not rate; add it to 'matrix'"
                )
        return self


def matrix_holes(matrix: dict[int, dict[int, int]]) -> list[tuple[int, str]]:
    """Return (impact, message) for each impact row missing an urgency cell.

    A priority matrix must rate every impact it names against every urgency it
    names; a hole would leave records with that pair without a priority.
    """
    impacts = sorted(matrix)
    urgencies = sorted({urgency for row in matrix.values() for urgency in row})
    holes = []
    for impact in impacts:
        missing = [u for u in urgencies if u not in matrix[impact]]
        if missing:
            noun = "urgency" if len(missing) == 1 else "urgencies"
            cells = ", ".join(str(u) for u in missing)
            holes.append(
                (
                    impact,
                    f"impact {impact} has no priority for {noun} {cells}; the matrix "
                    f"must rate every impact {impacts} x urgency {urgencies} it names",
                )
            )
    return holes


class EventAssignments(BaseModel):
    """Build an assignment history from an event log: one step per change."""

    model_config = _STRICT

    group: FieldMapping | None = None
    assignee: FieldMapping | None = None


class RepeatIncidents(BaseModel):
    """Propose problem records for clusters of similar incidents."""

    model_config = _STRICT

    rule_name: str = Field(default="repeat_incident_cluster", pattern=_SNAKE.pattern)
    group_by: list[str] = Field(default_factory=lambda: ["category"], min_length=1)
    text: Literal["title", "description"] = "description"
    window: str = "14D"
    min_incidents: int = Field(default=4, ge=2)
    similarity: float = Field(default=0.85, gt=0, le=1)

    @field_validator("window")
    @classmethod
    def _window_is_duration(cls, value: str) -> str:
        try:
            delta = pd.Timedelta(value)
        except ValueError as exc:
            raise ValueError(f"not a duration such as '14D' or '36h': {exc}") from exc
        if delta <= pd.Timedelta(0):
            raise ValueError("window must be positive")
        return value

    @field_validator("group_by")
    @classmethod
    def _group_fields(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in CLUSTER_FIELDS]
        if bad:
            raise ValueError(
                f"unknown field(s) {bad}; expected some of {sorted(CLUSTER_FIELDS)}"
            )
        return value


CLUSTER_FIELDS = frozenset({"category", "subcategory", "service", "contact_type"})

#: Fields each entity kind accepts, with the kind of value they take.
FIELD_KINDS: dict[EntityKind, dict[str, str]] = {
    EntityKind.RECORD: {
        "title": "text",
        "description": "text",
        "status": "code",
        "priority": "code",
        "impact": "int",
        "urgency": "int",
        "category": "code",
        "subcategory": "code",
        "service": "code",
        "contact_type": "code",
        "caller": "customer_ref",
        "opened_by": "staff_ref",
        "closed_by": "staff_ref",
        "assignment_group": "group_ref",
        "assignee": "staff_ref",
        "opened_at": "timestamp",
        "responded_at": "timestamp",
        "resolved_at": "timestamp",
        "closed_at": "timestamp",
        "updated_at": "timestamp",
        "resolution_notes": "text",
        "closure_code": "code",
        "reopen_count": "int",
        "reassignment_count": "int",
        "request_type": "code",
        "major": "bool",
        "root_cause": "text",
        "workaround": "text",
        "known_error": "bool",
        "event_time": "timestamp",
    },
    EntityKind.PERSON: {
        "customer_type": "code",
        "login": "code",
        "first_name": "code",
        "last_name": "code",
        "display_name": "code",
        "email": "code",
        "phone": "code",
        "site": "code",
        "department": "code",
    },
    EntityKind.ASSIGNMENT: {
        "group": "group_ref",
        "assignee": "staff_ref",
        "assigned_by": "staff_ref",
        "assigned_at": "timestamp",
        "acknowledged_at": "timestamp",
        "resolved_at": "timestamp",
        "resolution": "text",
        "seq": "int",
        "event_time": "timestamp",
    },
    EntityKind.WORK_NOTE: {
        "author": "staff_ref",
        "noted_at": "timestamp",
        "note_type": "code",
        "text": "text",
        "seq": "int",
    },
}

_REQUIRED_FIELDS: dict[EntityKind, tuple[str, ...]] = {
    EntityKind.RECORD: ("status", "opened_at"),
    EntityKind.PERSON: (),
    EntityKind.ASSIGNMENT: (),
    EntityKind.WORK_NOTE: (),
}


class SourceMapping(BaseModel):
    """One legacy table and the entity its records become."""

    model_config = _STRICT

    name: SourceName
    table: str
    entity: EntityKind
    key: list[str] = Field(min_length=1)
    mode: Literal["snapshot", "events"] = "snapshot"
    parent: SourceName | None = None
    parent_key: list[str] | None = None
    person_key: list[str] | None = None
    person_kind: PersonKind = PersonKind.CUSTOMER
    fields: dict[str, FieldMapping] = Field(default_factory=dict)
    exclude: list[ExclusionRule] = Field(default_factory=list)
    assignments: EventAssignments | None = None
    keep_unmapped: bool = True

    @model_validator(mode="after")
    def _fields_fit_entity(self) -> Self:
        allowed = FIELD_KINDS[self.entity]
        unknown = sorted(set(self.fields) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown} for entity {self.entity.value!r}; "
                f"expected some of {sorted(allowed)}"
            )
        missing = [f for f in _REQUIRED_FIELDS[self.entity] if f not in self.fields]
        if missing:
            raise ValueError(f"entity {self.entity.value!r} needs field(s) {missing}")
        if self.entity in (EntityKind.ASSIGNMENT, EntityKind.WORK_NOTE):
            if self.parent is None or not self.parent_key:
                raise ValueError(
                    f"a {self.entity.value} source needs 'parent' and 'parent_key'"
                )
        elif self.parent is not None or self.parent_key is not None:
            raise ValueError(
                "'parent' and 'parent_key' only go with assignment or work_note"
            )
        if self.mode == "events" and "event_time" not in self.fields:
            raise ValueError(
                "an events source needs the field 'event_time' to order events"
            )
        if self.assignments is not None and (
            self.entity is not EntityKind.RECORD or self.mode != "events"
        ):
            raise ValueError(
                "'assignments' goes only with a record source in events mode"
            )
        if self.entity is EntityKind.PERSON and not self.person_key:
            raise ValueError(
                "a person source needs 'person_key' (the columns naming the person)"
            )
        return self

    def source_columns(self) -> set[str]:
        """Return every legacy column this source mapping reads."""
        found = set(self.key) | set(self.parent_key or []) | set(self.person_key or [])
        for field in self.fields.values():
            found |= field.source_columns()
        for rule in self.exclude:
            found |= rule.when.columns()
        if self.assignments is not None:
            for part in (self.assignments.group, self.assignments.assignee):
                if part is not None:
                    found |= part.source_columns()
        return found


class MappingDefinition(BaseModel):
    """A whole mapping: one legacy system into the ITIL entities."""

    model_config = _STRICT

    name: SourceName
    description: str = ""
    timezone: str
    dates: DateSettings = Field(default_factory=DateSettings)
    blank_values: list[str] = Field(default_factory=list)
    value_maps: dict[str, ValueMap] = Field(default_factory=dict)
    priority: PrioritySettings = Field(default_factory=PrioritySettings)
    classification: Classification = Field(default_factory=Classification)
    sources: list[SourceMapping] = Field(min_length=1)
    repeat_incidents: RepeatIncidents | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/London'"
            ) from exc
        return value

    def source(self, name: str) -> SourceMapping:
        """Return the source mapping called ``name``."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    def cross_problems(self) -> list[tuple[str, str]]:
        """Return (location, message) for references between parts of the mapping.

        These checks need the whole definition: value maps named by fields, parents
        named by child sources, the status map's target values.
        """
        problems: list[tuple[str, str]] = []
        names = [s.name for s in self.sources]
        for index, source in enumerate(self.sources):
            where = f"sources[{index}]"
            if names.count(source.name) > 1:
                problems.append(
                    (f"{where}.name", f"duplicate source name {source.name!r}")
                )
            problems.extend(self._parent_problems(where, source))
            problems.extend(self._value_map_problems(where, source))
            priority = source.fields.get("priority")
            if (
                source.entity is EntityKind.RECORD
                and priority is not None
                and self.priority.levels is None
                and "impact" not in source.fields
            ):
                problems.append(
                    (
                        f"{where}.fields.priority",
                        "set 'priority.levels' (legacy code → [impact, urgency]) "
                        "or map 'impact' and 'urgency'",
                    )
                )
        if self.repeat_incidents is not None and not any(
            s.entity is EntityKind.RECORD for s in self.sources
        ):
            problems.append(("repeat_incidents", "needs a record source"))
        return problems

    def _parent_problems(
        self, where: str, source: SourceMapping
    ) -> list[tuple[str, str]]:
        if source.parent is None:
            return []
        parents = [s for s in self.sources if s.name == source.parent]
        if not parents:
            names = [s.name for s in self.sources]
            message = f"no source named {source.parent!r}; expected one of {names}"
            return [(f"{where}.parent", message)]
        parent = parents[0]
        if parent.entity is not EntityKind.RECORD:
            return [(f"{where}.parent", f"{source.parent!r} is not a record source")]
        if source.parent_key and len(source.parent_key) != len(parent.key):
            message = (
                f"has {len(source.parent_key)} column(s); "
                f"the parent key has {len(parent.key)}"
            )
            return [(f"{where}.parent_key", message)]
        return []

    def _value_map_problems(
        self, where: str, source: SourceMapping
    ) -> list[tuple[str, str]]:
        fields: dict[str, FieldMapping] = dict(source.fields)
        if source.assignments is not None:
            for part_name in ("group", "assignee"):
                part = getattr(source.assignments, part_name)
                if part is not None:
                    fields[f"assignments.{part_name}"] = part
        problems = [
            (
                f"{where}.fields.{name}.map",
                f"no value map named {field.map!r}; "
                f"expected one of {sorted(self.value_maps)}",
            )
            for name, field in fields.items()
            if field.map is not None and field.map not in self.value_maps
        ]
        status = source.fields.get("status")
        if status is None or status.map not in self.value_maps:
            return problems
        allowed = {s.value for s in Status}
        value_map = self.value_maps[status.map]
        targets = set(value_map.values.values())  # noqa: PD011 - a dict, not pandas
        if value_map.default is not None:
            targets.add(value_map.default)
        problems.extend(
            (
                f"value_maps.{status.map}",
                f"{bad!r} is not an ITIL status; expected one of {sorted(allowed)}",
            )
            for bad in sorted(targets - allowed)
        )
        return problems


def field_kind(entity: EntityKind, field_name: str) -> str:
    """Return the value kind (``text``, ``timestamp``, ...) of an entity field."""
    return FIELD_KINDS[entity][field_name]


def dump_schema() -> dict[str, Any]:
    """Return the JSON Schema of the mapping format, for editors."""
    return MappingDefinition.model_json_schema(by_alias=True)
