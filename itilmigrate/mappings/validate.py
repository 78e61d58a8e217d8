"""Validate a mapping file against its structure, a source and a transformed sample.

``itilmigrate mapping validate`` runs these checks in order and reports every
problem of every check at once, each as a :class:`Finding`:

* ``mapping.structure`` (exit 3): the pydantic model, with YAML path and line;
  value-map targets still marked ``REVIEW`` by ``mapping init``.
* ``mapping.references`` (exit 3): every table and column the mapping names
  exists in the source, compared case-insensitively, with a "did you mean".
* ``mapping.coverage`` (exit 1): every distinct value of every value-mapped
  column (and of the priority column) has a target or a default.
* ``sample.quarantine`` (exit 1): the sample transformed with the engine; a
  reason that sets aside more than ``max_quarantine_share`` of a source fails,
  and unparseable dates name the layouts the data holds.
* ``gx.*`` (exit 1): a Great Expectations suite built from the mapping and the
  entity model, run on the transformed sample (see ``gx_adapter``).
"""

from __future__ import annotations

import difflib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.errors import ExitCode, MappingDefinitionError
from itilmigrate.mappings.loader import LoadedMapping, parse_mapping
from itilmigrate.mappings.sampling import ParentSampledSource, count_orphans
from itilmigrate.mappings.spec import EntityKind, field_kind
from itilmigrate.transform.converters import blank_to_none
from itilmigrate.yamlio import dotted, line_of

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from itilmigrate.compliance_checks.gx_adapter import GxRun
    from itilmigrate.extract.base import Source
    from itilmigrate.mappings.sampling import OrphanCount
    from itilmigrate.mappings.spec import Condition, MappingDefinition, SourceMapping
    from itilmigrate.pipeline import SampleOutcome
    from itilmigrate.run import RunContext

logger = logging.getLogger(__name__)

REVIEW_MARK = "REVIEW"
STRUCTURE = "mapping.structure"
REFERENCES = "mapping.references"
COVERAGE = "mapping.coverage"
QUARANTINE = "sample.quarantine"
_CONFIG_RULES = {STRUCTURE, REFERENCES}
_Loc = tuple[int | str, ...]


@dataclass(slots=True, kw_only=True)
class CheckResult:
    """One check of the validation: its findings, or why it did not run."""

    check_id: str
    title: str
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether no finding reaches ``ERROR``."""
        return not any(f.severity >= Severity.ERROR for f in self.findings)


@dataclass(slots=True, kw_only=True)
class ValidationReport:
    """Every check of one mapping validation."""

    mapping_path: str
    run_id: str
    checks: list[CheckResult] = field(default_factory=list)
    sample_size: int = 0
    elapsed_seconds: float = 0.0
    gx_docs: str | None = None

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every check."""
        return [f for check in self.checks for f in check.findings]

    @property
    def exit_code(self) -> ExitCode:
        """3 for an invalid mapping, 1 when the data fails it, else 0."""
        failing = [f for f in self.findings if f.severity >= Severity.ERROR]
        if any(f.rule_id in _CONFIG_RULES for f in failing):
            return ExitCode.CONFIG
        return ExitCode.FINDINGS if failing else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the report."""
        return {
            "mapping": self.mapping_path,
            "run_id": self.run_id,
            "exit_code": int(self.exit_code),
            "valid": self.exit_code is ExitCode.OK,
            "sample_size": self.sample_size,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
            "gx_data_docs": self.gx_docs,
            "checks": [
                {
                    "check_id": c.check_id,
                    "title": c.title,
                    "passed": c.passed,
                    "skipped": c.skipped,
                    "seconds": round(c.seconds, 3),
                    "findings": [f.to_dict() for f in c.findings],
                }
                for c in self.checks
            ],
        }


def _finding(
    rule_id: str,
    message: str,
    run_id: str,
    *,
    severity: Severity,
    entity_type: str | None = None,
    **details: Any,  # noqa: ANN401 - JSON-serialisable detail values
) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        run_id=run_id,
        entity_type=entity_type,
        details=details,
    )


# -- YAML locations -------------------------------------------------------------


# -- structure ------------------------------------------------------------------


def check_structure(
    text: str, *, file: str, run_id: str
) -> tuple[MappingDefinition | None, CheckResult]:
    """Validate the mapping text; return the definition when it is valid.

    Every value still marked ``REVIEW`` is listed, also when pydantic rejects the
    file: its field errors hide the model checks that would name the other marks,
    and a reviewer should see all of them in one pass.
    """
    check = CheckResult(check_id=STRUCTURE, title="mapping structure (pydantic)")
    definition: MappingDefinition | None = None
    lines = text.splitlines()
    reported: set[int] = set()
    try:
        definition = parse_mapping(text, file=file)
    except MappingDefinitionError as exc:
        for problem in exc.problems:
            check.findings.append(
                _finding(
                    STRUCTURE,
                    str(problem) + _review_hint(lines, problem.line),
                    run_id,
                    severity=Severity.CRITICAL,
                    location=problem.location,
                    line=problem.line,
                )
            )
            if problem.line is not None:
                reported.add(problem.line)
    try:
        marks = _review_marks(yaml.compose(text), ())
    except yaml.YAMLError:
        marks = []  # the parse problems above already name the YAML error
    for loc, line in marks:
        if line in reported:
            continue
        check.findings.append(
            _finding(
                STRUCTURE,
                f"{file}: {dotted(loc)} (line {line}): still {REVIEW_MARK!r}; "
                "replace it with the value this legacy system needs (a target value, "
                "a column name), then delete the '# REVIEW' comment.",
                run_id,
                severity=Severity.CRITICAL,
                location=dotted(loc),
                line=line,
            )
        )
    return definition, check


def _review_hint(lines: list[str], line: int | None) -> str:
    if line is None or line > len(lines) or REVIEW_MARK not in lines[line - 1]:
        return ""
    return (
        f". The value is still marked {REVIEW_MARK!r} by `mapping init`: replace it "
        "with the target value (an ITIL status, or [impact, urgency] for a priority)."
    )


def _review_marks(node: yaml.Node | None, loc: _Loc) -> list[tuple[_Loc, int]]:
    """Return the path and line of every scalar that is still ``REVIEW``."""
    if isinstance(node, yaml.ScalarNode):
        return [(loc, node.start_mark.line + 1)] if node.value == REVIEW_MARK else []
    found: list[tuple[_Loc, int]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.extend(_review_marks(value, (*loc, str(key.value))))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_review_marks(item, (*loc, index)))
    return found


# -- references -----------------------------------------------------------------


def _condition_refs(condition: Condition, loc: _Loc) -> list[tuple[_Loc, str]]:
    refs: list[tuple[_Loc, str]] = []
    if condition.column is not None:
        refs.append(((*loc, "column"), condition.column))
    for part in ("any", "all"):
        for index, nested in enumerate(getattr(condition, part) or []):
            refs.extend(_condition_refs(nested, (*loc, part, index)))
    return refs


def column_references(source: SourceMapping, index: int) -> list[tuple[_Loc, str]]:
    """Return (YAML path, column) for every column one source mapping names."""
    base: _Loc = ("sources", index)
    refs: list[tuple[_Loc, str]] = []
    for part in ("key", "parent_key", "person_key"):
        refs.extend(
            ((*base, part, i), column)
            for i, column in enumerate(getattr(source, part) or [])
        )
    fields = [((*base, "fields", name), spec) for name, spec in source.fields.items()]
    if source.assignments is not None:
        for part in ("group", "assignee"):
            spec = getattr(source.assignments, part)
            if spec is not None:
                fields.append(((*base, "assignments", part), spec))
    for loc, spec in fields:
        refs.extend(
            ((*loc, part), getattr(spec, part))
            for part in ("column", "time_column")
            if getattr(spec, part) is not None
        )
        refs.extend(((*loc, "columns", i), c) for i, c in enumerate(spec.columns or []))
        if spec.when is not None:
            refs.extend(_condition_refs(spec.when, (*loc, "when")))
    for i, rule in enumerate(source.exclude):
        refs.extend(_condition_refs(rule.when, (*base, "exclude", i, "when")))
    return refs


def _suggest(name: str, choices: list[str]) -> str:
    folded = {c.casefold(): c for c in choices}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    if close:
        return f"did you mean {folded[close[0]]!r}?"
    return f"the table has {choices[:15]}"


def check_references(
    definition: MappingDefinition, source: Source, *, file: str, text: str, run_id: str
) -> CheckResult:
    """Check that every table and column the mapping names exists in the source."""
    check = CheckResult(check_id=REFERENCES, title="tables and columns exist")
    root = yaml.compose(text)
    tables = source.list_tables()

    def add(loc: _Loc, message: str, **details: str) -> None:
        line = line_of(root, loc)
        check.findings.append(
            _finding(
                REFERENCES,
                f"{file}: {dotted(loc)} (line {line}): {message}",
                run_id,
                severity=Severity.CRITICAL,
                location=dotted(loc),
                line=line,
                **details,
            )
        )

    record_tables: list[tuple[str, list[str]]] = []
    for index, mapping in enumerate(definition.sources):
        table = source.resolve_table(mapping.table)
        if table is None:
            add(
                ("sources", index, "table"),
                f"no table {mapping.table!r} in the source (compared "
                f"case-insensitively); {_suggest(mapping.table, tables)} "
                "Fix 'table' in the mapping.",
                table=mapping.table,
            )
            continue
        actual = source.columns(table)
        if mapping.entity is EntityKind.RECORD:
            record_tables.append((table, actual))
        for loc, column in column_references(mapping, index):
            if _resolve(actual, column) is None:
                add(
                    loc,
                    f"no column {column!r} in table {table!r} (compared "
                    f"case-insensitively); {_suggest(column, actual)} "
                    "Fix the column name in the mapping.",
                    table=table,
                    column=column,
                )
    # The engine evaluates classification rules on every record source's table.
    for index, rule in enumerate(definition.classification.rules):
        loc = ("classification", "rules", index, "when")
        for where, column in _condition_refs(rule.when, loc):
            for table, actual in record_tables:
                if _resolve(actual, column) is None:
                    add(
                        where,
                        f"classification rule {rule.name!r} tests column {column!r}, "
                        f"which is not in record table {table!r}; "
                        f"{_suggest(column, actual)} Fix the rule's column.",
                        table=table,
                        column=column,
                    )
    return check


def _resolve(actual: list[str], name: str) -> str | None:
    from itilmigrate.extract.base import resolve_column  # noqa: PLC0415

    return resolve_column(actual, name)


# -- coverage -------------------------------------------------------------------


def _normalise(values: pd.Series) -> pd.Series:
    return values.str.strip().str.casefold()


def distinct_values(
    source: Source, table: str, columns: list[str], blanks: list[str]
) -> dict[str, pd.Series]:
    """Return, per column, the counts of its distinct present values (whole table)."""
    counts: dict[str, pd.Series] = {}
    for df in source.read_batches(table, columns, batch_size=50_000):
        for column in columns:
            present = blank_to_none(df[column], blanks).dropna().str.strip()
            part = present.value_counts()
            counts[column] = (
                part if column not in counts else counts[column].add(part, fill_value=0)
            )
    return {
        c: s.astype("int64").sort_values(ascending=False) for c, s in counts.items()
    }


def check_coverage(
    definition: MappingDefinition, source: Source, *, file: str, text: str, run_id: str
) -> CheckResult:
    """Check that every legacy value of every value-mapped column has a target."""
    check = CheckResult(check_id=COVERAGE, title="value maps cover the source values")
    root = yaml.compose(text)
    for index, mapping in enumerate(definition.sources):
        table = source.resolve_table(mapping.table)
        if table is None:
            continue
        actual = source.columns(table)
        wanted: list[tuple[str, str, str, dict[str, str], str | None]] = []
        for name, spec in mapping.fields.items():
            if spec.column is None:
                continue
            if spec.map is not None:
                value_map = definition.value_maps[spec.map]
                wanted.append(
                    (
                        name,
                        spec.column,
                        f"value_maps.{spec.map}",
                        dict(value_map.values),
                        value_map.default,
                    )
                )
            elif name == "priority" and definition.priority.levels is not None:
                levels = dict.fromkeys(definition.priority.levels, "level")
                wanted.append((name, spec.column, "priority.levels", levels, None))
        resolved = {c: _resolve(actual, c) for _, c, *_ in wanted}
        columns = sorted({r for r in resolved.values() if r is not None})
        if not columns:
            continue
        counts = distinct_values(source, table, columns, definition.blank_values)
        for name, column, where, keys, default in wanted:
            actual_column = resolved[column]
            if actual_column is None or default is not None:
                continue
            values = counts[actual_column]
            known = {k.strip().casefold() for k in keys}
            folded = pd.Series(values.index, index=values.index).str.casefold()
            uncovered = values[~folded.isin(known).to_numpy()]
            if uncovered.empty:
                continue
            loc = tuple(where.split("."))
            line = line_of(root, loc)
            head = (
                f"{file}: {where} (line {line}): {len(uncovered)} value(s) of "
                f"{table}.{actual_column} (sources[{index}].fields.{name}) have "
                f"no target and no default, {int(uncovered.sum())} record(s)"
            )
            withheld = _not_codes(values, covered=len(values) - len(uncovered))
            if withheld is not None:
                check.findings.append(
                    _finding(
                        COVERAGE,
                        f"{head}. Values not quoted: {withheld}. Check that "
                        f"sources[{index}].fields.{name}.column names the right "
                        "column.",
                        run_id,
                        severity=Severity.ERROR,
                        location=where,
                        line=line,
                        table=table,
                        column=actual_column,
                        distinct_count=len(values),
                        uncovered_count=len(uncovered),
                        record_count=int(uncovered.sum()),
                    )
                )
                continue
            listed = ", ".join(f"{v!r} ({n})" for v, n in uncovered.head(20).items())
            check.findings.append(
                _finding(
                    COVERAGE,
                    f"{head}: {listed}. Add them under {where}"
                    + (".values" if where.startswith("value_maps") else "")
                    + " or set a default.",
                    run_id,
                    severity=Severity.ERROR,
                    location=where,
                    line=line,
                    table=table,
                    column=actual_column,
                    uncovered={str(k): int(v) for k, v in uncovered.items()},
                )
            )
    return check


#: A column whose values a coverage finding may quote holds legacy *codes*: few
#: distinct values, each short. More, or longer, values are free text or names.
_CODE_MAX_DISTINCT = 50
_CODE_MAX_LENGTH = 40


def _not_codes(values: pd.Series, *, covered: int) -> str | None:
    """Say why a column's values must not be quoted, or None when they are codes.

    Coverage findings reach stdout, junit.xml and CI logs, where legacy free text
    and people's names must never appear. A value-mapped column that holds them
    is nearly always the wrong column: a description where the status belongs,
    the assignee's name where the group belongs.

    Args:
        values: Counts of the column's distinct present values (whole table).
        covered: How many of those values the value map already covers.
    """
    longest = int(values.index.str.len().max())
    if len(values) > _CODE_MAX_DISTINCT or longest > _CODE_MAX_LENGTH:
        return (
            f"the column holds {len(values)} distinct value(s) of up to {longest} "
            "character(s), which looks like free text, not legacy codes"
        )
    if covered == 0:
        # Short values that share nothing with the map: most likely names (staff,
        # customers) from a neighbouring column, such as HEAT's Assignee.
        return (
            f"none of the column's {len(values)} distinct value(s) is in the map, "
            "so they may be names or free text rather than the codes it was written "
            "for"
        )
    return None


# -- the transformed sample -----------------------------------------------------


def check_sample(
    definition: MappingDefinition,
    outcome: SampleOutcome,
    *,
    file: str,
    text: str,
    run_id: str,
    max_quarantine_share: float = 0.05,
    orphans: Sequence[OrphanCount] = (),
) -> CheckResult:
    """Turn the quarantine of the transformed sample, and orphans, into findings.

    ``orphans`` are counted over whole child tables, since the sample holds only
    children of the sampled records (:class:`ParentSampledSource`).
    """
    from itilmigrate.profiling import detect_layouts  # noqa: PLC0415

    check = CheckResult(check_id=QUARANTINE, title="sample transforms cleanly")
    root = yaml.compose(text)
    read = {c.source_name: c.read_count for c in outcome.summary.counts}
    groups: dict[tuple[str, str, str], list[dict[str, str | None]]] = {}
    for record in outcome.quarantined:
        key = (record.legacy_record.source_name, record.reason.value, record.detail)
        groups.setdefault(key, []).append(dict(record.legacy_record.fields))
    for (source_name, reason, detail), records in sorted(groups.items()):
        share = len(records) / max(read.get(source_name, 1), 1)
        severity = Severity.ERROR if share > max_quarantine_share else Severity.WARNING
        message = (
            f"{file}: source {source_name!r}: {len(records)} of "
            f"{read.get(source_name, 0)} sampled record(s) ({share:.1%}) quarantined "
            f"as {reason!r}: {detail}."
        )
        mapping = next(s for s in definition.sources if s.name == source_name)
        hint = _date_hint(mapping, detail, records, definition, root, detect_layouts)
        check.findings.append(
            _finding(
                QUARANTINE,
                message + hint,
                run_id,
                severity=severity,
                source_name=source_name,
                reason=reason,
                count=len(records),
            )
        )
    for counted in orphans:
        check.findings.extend(
            _orphan_findings(counted, file, run_id, max_quarantine_share)
        )
    return check


def _orphan_findings(
    counted: OrphanCount, file: str, run_id: str, max_share: float
) -> list[Finding]:
    """Findings for the children a run would quarantine for their parent key."""
    findings = []
    for count, reason, what in (
        (
            counted.blank_count,
            "missing_required",
            "a blank parent key",
        ),
        (
            counted.orphan_count,
            "invalid_reference",
            f"a parent key that no record in {counted.parent!r} has",
        ),
    ):
        if not count:
            continue
        share = count / max(counted.read_count, 1)
        findings.append(
            _finding(
                QUARANTINE,
                f"{file}: source {counted.source_name!r}: {count} of "
                f"{counted.read_count} record(s) in table {counted.table!r} "
                f"({share:.1%}) have {what}; a run quarantines them as {reason!r}. "
                "Counted over the whole table: the sample holds children of "
                "sampled records only.",
                run_id,
                severity=Severity.ERROR if share > max_share else Severity.WARNING,
                source_name=counted.source_name,
                reason=reason,
                count=count,
                read_count=counted.read_count,
            )
        )
    return findings


def _date_hint(
    mapping: SourceMapping,
    detail: str,
    records: list[dict[str, str | None]],
    definition: MappingDefinition,
    root: yaml.Node | None,
    detect: Any,  # noqa: ANN401 - profiling.detect_layouts, imported lazily
) -> str:
    """Name the layouts an unparseable date column holds, and where to put them."""
    for name, spec in mapping.fields.items():
        if field_kind(mapping.entity, name) != "timestamp" or spec.column is None:
            continue
        if not detail.startswith(f"field {name!r}"):
            continue
        folded = {k.casefold(): k for k in records[0]}
        column = folded.get(spec.column.casefold())
        if column is None:
            return ""
        values = pd.Series([r.get(column) for r in records], dtype=object)
        found = detect(values)
        line = line_of(root, ("dates", "formats"))
        if found.layouts:
            return (
                f" Column {column!r} holds dates laid out as {found.layouts}; "
                f"add the right one to dates.formats (line {line}), now "
                f"{definition.dates.formats}."
            )
        return (
            f" These values of column {column!r} fit no known date layout (an "
            "impossible date such as a 13th month, or a placeholder such as 'TBC'); "
            "they stay quarantined whatever dates.formats "
            f"(line {line}) lists, so fix them in the source or accept them."
        )
    return ""


def validate_mapping(
    text: str,
    *,
    file: str,
    source: Source | None,
    run: RunContext,
    sample: int = 1000,
    out_dir: Path | None = None,
    run_gx: bool = True,
) -> ValidationReport:
    """Run every check on mapping ``text``; without a source, the structure only.

    Raises:
        SourceError: the source cannot be read (exit 4).
    """
    started = time.perf_counter()
    report = ValidationReport(mapping_path=file, run_id=run.run_id, sample_size=sample)
    definition, structure = check_structure(text, file=file, run_id=run.run_id)
    report.checks.append(structure)
    if definition is None or source is None:
        report.elapsed_seconds = time.perf_counter() - started
        return report

    for step in (check_references, check_coverage):
        step_started = time.perf_counter()
        result = step(definition, source, file=file, text=text, run_id=run.run_id)
        result.seconds = time.perf_counter() - step_started
        report.checks.append(result)
        logger.info(
            "check finished check=%s findings=%d", result.check_id, len(result.findings)
        )
    if report.exit_code is ExitCode.CONFIG:
        report.elapsed_seconds = time.perf_counter() - started
        return report

    from itilmigrate.pipeline import plan_sources, sample_entities  # noqa: PLC0415

    step_started = time.perf_counter()
    loaded = LoadedMapping(definition=definition, path=file, sha256="")
    plans = plan_sources(definition, source, file)
    kin = ParentSampledSource(source, plans, definition.blank_values)
    outcome = sample_entities(loaded, kin, run, sample=sample)
    sample_check = check_sample(
        definition,
        outcome,
        file=file,
        text=text,
        run_id=run.run_id,
        orphans=count_orphans(definition, source, plans),
    )
    sample_check.seconds = time.perf_counter() - step_started
    report.checks.append(sample_check)
    if run_gx:
        from itilmigrate.compliance_checks.gx_adapter import (  # noqa: PLC0415
            run_expectations,
        )

        step_started = time.perf_counter()
        gx_run = run_expectations(definition, outcome.frames, out_dir=out_dir)
        report.checks.extend(_gx_checks(gx_run, file=file, run_id=run.run_id))
        report.gx_docs = gx_run.docs_path
        logger.info(
            "gx suite finished expectations=%d seconds=%.1f",
            len(gx_run.outcomes),
            time.perf_counter() - step_started,
        )
    report.elapsed_seconds = time.perf_counter() - started
    return report


def _gx_checks(gx_run: GxRun, *, file: str, run_id: str) -> list[CheckResult]:
    """Turn each GX expectation outcome into one check with at most one finding."""
    checks = []
    for outcome in gx_run.outcomes:
        planned = outcome.expectation
        check = CheckResult(
            check_id=f"gx.{planned.expectation_id}",
            title=f"{planned.table}: {planned.why}",
        )
        if not outcome.success:
            check.findings.append(
                _finding(
                    f"gx.{planned.kind}",
                    f"{file}: expectation {planned.expectation_id!r} failed on the "
                    f"transformed sample: {outcome.unexpected_count} of "
                    f"{outcome.element_count} {planned.table} record(s) break "
                    f"'{planned.why}'. See the GX data docs for the expectation.",
                    run_id,
                    severity=Severity.ERROR,
                    entity_type=planned.table,
                    unexpected_count=outcome.unexpected_count,
                    element_count=outcome.element_count,
                )
            )
        checks.append(check)
    return checks
