"""The compliance policy: thresholds, SLA targets, calendar, matrix, rule selection.

A policy is a YAML file validated strictly (an unknown key is an error, listed with
its line like a mapping's problems). The bundled default,
``itilmigrate/compliance_checks/policies/default.yaml``, uses ITIL's usual targets
and its 3x3 priority matrix; ``examples/policies/`` has policies for real exports.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.entities import Status
from itilmigrate.errors import DefinitionProblem, MappingDefinitionError
from itilmigrate.mappings.spec import matrix_holes
from itilmigrate.yamlio import (
    decode_definition,
    dotted,
    line_of,
    load_yaml,
    quote_impossible_dates,
)

BUNDLED_PACKAGE = "itilmigrate.compliance_checks"
DEFAULT_POLICY = "policies/default.yaml"

_FROZEN = ConfigDict(extra="forbid", frozen=True)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _duration(value: object) -> object:
    """Accept ``"4h"``, ``"15min"``, ``"5D"`` or ``"1 days 02:00:00"`` as a duration."""
    if isinstance(value, str):
        try:
            return pd.Timedelta(value).to_pytimedelta()
        except ValueError as exc:
            raise ValueError(
                f"not a duration: {value!r} (write e.g. '15min', '4h', '5D')"
            ) from exc
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(
            "must be longer than zero; write a target such as '30min' or '8h'"
        )
    return value


def _severity(value: object) -> object:
    if isinstance(value, str):
        try:
            return Severity[value.upper()]
        except KeyError:
            names = [str(s) for s in Severity]
            raise ValueError(
                f"unknown severity {value!r}; expected one of {names}"
            ) from None
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Target = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
SeverityName = Annotated[Severity, BeforeValidator(_severity)]


class Thresholds(BaseModel):
    """Numeric limits and word lists the rules compare against."""

    model_config = _FROZEN

    stale_days: int = Field(default=14, ge=1)
    age_limit_days: dict[int, int] = Field(
        default_factory=lambda: {1: 2, 2: 5, 3: 20, 4: 40, 5: 60}
    )
    max_group_hops: int = Field(default=3, ge=0)
    reopen_window_days: int = Field(default=10, ge=0)
    problem_idle_days: int = Field(default=90, ge=1)
    repeat_group_by: list[str] = Field(default_factory=lambda: ["service", "category"])
    repeat_window_days: int = Field(default=14, ge=0)
    repeat_min_incidents: int = Field(default=3, ge=2)
    repeat_similarity: float = Field(default=0.85, ge=0.0, le=1.0)
    stop_list_notes: list[str] = Field(
        default_factory=lambda: ["done", "fixed", "ok", "resolved", "closed", "n/a"]
    )
    request_patterns: list[str] = Field(
        default_factory=lambda: [
            r"\bplease (install|provide|set up|order|create)\b",
            r"\b(can|could) (i|you) (please )?(have|get|order|install)\b",
            r"\bnew (laptop|phone|account|mailbox|starter)\b",
            r"\brequest (for|a|an)\b",
            r"\baccess to\b",
        ]
    )
    review_note_types: list[str] = Field(
        default_factory=lambda: [
            "review",
            "major_incident_review",
            "post_incident_review",
        ]
    )
    review_patterns: list[str] = Field(
        default_factory=lambda: [r"\b(post[- ]incident|major incident) review\b"]
    )
    truncation_lengths: list[int] = Field(
        default_factory=lambda: [255, 256, 1000, 1024, 2000, 2048, 4000, 4096, 8000]
    )

    @field_validator("request_patterns", "review_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"not a regular expression: {pattern!r} ({exc})"
                ) from None
        return patterns


class ResponseResolve(BaseModel):
    """Response and resolution targets of one priority."""

    model_config = _FROZEN

    respond: Target
    resolve: Target
    clock: Literal["business", "continuous"] = "business"


class Fulfil(BaseModel):
    """The fulfilment target of service requests."""

    model_config = _FROZEN

    fulfil: Target
    clock: Literal["business", "continuous"] = "business"


def _itil_targets() -> dict[int, ResponseResolve]:
    hours = timedelta(hours=1)
    return {
        1: ResponseResolve(
            respond=timedelta(minutes=15), resolve=4 * hours, clock="continuous"
        ),
        2: ResponseResolve(respond=timedelta(minutes=30), resolve=8 * hours),
        3: ResponseResolve(respond=2 * hours, resolve=30 * hours),
        4: ResponseResolve(respond=4 * hours, resolve=50 * hours),
        5: ResponseResolve(respond=10 * hours, resolve=100 * hours),
    }


class Sla(BaseModel):
    """SLA targets: per incident priority, and for service requests.

    The defaults are the bundled policy's; ``service_request: null`` turns the
    fulfilment target off.
    """

    model_config = _FROZEN

    priorities: dict[int, ResponseResolve] = Field(default_factory=_itil_targets)
    service_request: Fulfil | None = Field(
        default_factory=lambda: Fulfil(fulfil=timedelta(hours=50))
    )


def _weekdays() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Calendar(BaseModel):
    """Business hours: zone, working days, daily opening hours and holidays."""

    model_config = _FROZEN

    timezone: str = "UTC"
    working_days: list[Weekday] = Field(default_factory=_weekdays)
    start: time = time(8, 0)
    end: time = time(18, 0)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        return zone

    @model_validator(mode="after")
    def _end_after_start(self) -> Calendar:
        if self.end <= self.start:
            raise ValueError("calendar end must be after start")
        if not self.working_days:
            raise ValueError("calendar needs at least one working day")
        return self


class Waiver(BaseModel):
    """Suppresses one rule's findings on a record, or on ids matching a pattern."""

    model_config = _FROZEN

    rule_id: str
    record: str | None = Field(default=None, description="A legacy id or entity id.")
    pattern: str | None = Field(
        default=None, description="A regex the whole legacy id must match."
    )
    owner: str
    reason: str
    expires: date

    @model_validator(mode="after")
    def _one_target(self) -> Waiver:
        if (self.record is None) == (self.pattern is None):
            raise ValueError("a waiver names exactly one of 'record' or 'pattern'")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"not a regular expression: {self.pattern!r} ({exc})"
                ) from None
        return self

    def matches(self, legacy_id: str | None, entity_id: str | None) -> bool:
        """Whether this waiver covers a finding with these keys."""
        if self.record is not None:
            return self.record in {legacy_id, entity_id}
        return (
            legacy_id is not None
            and re.fullmatch(self.pattern or "", legacy_id) is not None
        )


def _itil_matrix() -> dict[int, dict[int, int]]:
    return {1: {1: 1, 2: 2, 3: 3}, 2: {1: 2, 2: 3, 3: 4}, 3: {1: 3, 2: 4, 3: 5}}


class Policy(BaseModel):
    """Everything a compliance check is judged against.

    Every setting a policy file leaves out takes the bundled default policy's value
    (a test keeps the two in step), so an empty file is the bundled policy.
    """

    model_config = _FROZEN

    name: str = "default"
    description: str | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)
    sla: Sla = Field(default_factory=Sla)
    calendar: Calendar = Field(default_factory=Calendar)
    pause_states: list[Status] = Field(default_factory=lambda: [Status.ON_HOLD])
    priority_matrix: dict[int, dict[int, int]] = Field(default_factory=_itil_matrix)
    enabled_rules: list[str] | Literal["all"] = "all"
    disabled_rules: list[str] = Field(default_factory=list)
    severity_overrides: dict[str, SeverityName] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)

    def rule_enabled(self, rule_id: str) -> bool:
        """Whether the policy runs ``rule_id``."""
        if rule_id in self.disabled_rules:
            return False
        return self.enabled_rules == "all" or rule_id in self.enabled_rules

    def rule_references(self) -> list[tuple[tuple[int | str, ...], str]]:
        """Return every rule id the policy names, with its location in the file."""
        found: list[tuple[tuple[int | str, ...], str]] = []
        if self.enabled_rules != "all":
            found += [
                (("enabled_rules", n), r) for n, r in enumerate(self.enabled_rules)
            ]
        found += [(("disabled_rules", n), r) for n, r in enumerate(self.disabled_rules)]
        found += [(("severity_overrides", r), r) for r in self.severity_overrides]
        found += [
            (("waivers", n, "rule_id"), w.rule_id) for n, w in enumerate(self.waivers)
        ]
        return found


def _fail(problems: list[DefinitionProblem], file: str) -> MappingDefinitionError:
    return MappingDefinitionError(problems, path=file, what="Policy")


def _rule_references(data: dict[Any, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    """Return every rule id the raw policy names, with its location.

    Read from the raw YAML rather than the model, so that unknown ids are listed
    in the same pass as the policy's other problems.
    """
    found: list[tuple[tuple[int | str, ...], str]] = []
    for key in ("enabled_rules", "disabled_rules"):
        listed = data.get(key)
        if isinstance(listed, list):
            found += [((key, n), r) for n, r in enumerate(listed) if isinstance(r, str)]
    overrides = data.get("severity_overrides")
    if isinstance(overrides, dict):
        found += [
            (("severity_overrides", r), r) for r in overrides if isinstance(r, str)
        ]
    waivers = data.get("waivers")
    if isinstance(waivers, list):
        found += [
            (("waivers", n, "rule_id"), w["rule_id"])
            for n, w in enumerate(waivers)
            if isinstance(w, dict) and isinstance(w.get("rule_id"), str)
        ]
    return found


def _matrix_problems(data: dict[Any, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    """Return a hole in the priority matrix per impact row (a type error aside)."""
    if "priority_matrix" not in data:
        return []
    try:
        matrix = TypeAdapter(dict[int, dict[int, int]]).validate_python(
            data["priority_matrix"]
        )
    except ValidationError:
        return []  # Policy validation reports the wrong types.
    return [(("priority_matrix", impact), msg) for impact, msg in matrix_holes(matrix)]


def parse_policy(
    text: str, *, file: str, known_rules: set[str] | None = None
) -> Policy:
    """Validate policy ``text``; raise one error listing every problem.

    Args:
        text: The YAML text.
        file: Where it came from, for messages.
        known_rules: Registered rule ids; a policy naming another id is invalid.

    Raises:
        MappingDefinitionError: The YAML or the policy is invalid (a ConfigError,
            exit 3), each problem with its path and line.
    """
    try:
        root = yaml.compose(text)
        data: Any = load_yaml(quote_impossible_dates(text, root))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = DefinitionProblem(
            file=file,
            location="(yaml)",
            line=mark.line + 1 if mark is not None else None,
            message=f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
        )
        raise _fail([problem], file) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = DefinitionProblem(
            file=file, location="(top level)", message="expected a mapping of keys"
        )
        raise _fail([problem], file)

    # Every check runs on the raw data, so that one pass lists every problem.
    found: list[tuple[tuple[int | str, ...], str]] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (misspelt?)"
            found.append((loc, message))
    found += _matrix_problems(data)
    if known_rules is not None:
        found += [
            (loc, f"no rule with id {rule_id!r}")
            for loc, rule_id in _rule_references(data)
            if rule_id not in known_rules
        ]

    if found or policy is None:
        problems = [
            DefinitionProblem(
                file=file,
                location=dotted(loc),
                line=line_of(root, loc),
                message=message,
            )
            for loc, message in found
        ]
        raise _fail(problems, file)
    return policy


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file, or the bundled default when ``path`` is None.

    Rule ids the policy names are checked against the default rule registry.

    Raises:
        MappingDefinitionError: The file is missing or invalid (a ConfigError,
            exit 3), naming the file, the key path and its line.
    """
    from itilmigrate.compliance_checks.base import registry  # noqa: PLC0415 - the rules register on package import

    if path is None:
        resource = resources.files(BUNDLED_PACKAGE).joinpath(DEFAULT_POLICY)
        file, text = "<bundled>/default.yaml", resource.read_text(encoding="utf-8")
    else:
        file = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            problem = DefinitionProblem(
                file=file,
                location="(file)",
                message=f"cannot read the policy file ({exc})",
            )
            raise _fail([problem], file) from exc
        text = decode_definition(raw, file=file, what="policy")
    known = {r.rule_id for r in registry.all()}
    return parse_policy(text, file=file, known_rules=known or None)
