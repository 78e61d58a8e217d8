"""Run a job: extract, transform and load every source table, then reconcile."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from itilmigrate.entities import EntityType, ProblemOrigin, Status, entity_id
from itilmigrate.errors import (
    DefinitionProblem,
    MappingDefinitionError,
    UnsupportedFeatureError,
    mask_secrets,
)
from itilmigrate.extract.base import Source, resolve_column
from itilmigrate.load.base import DryRunTarget
from itilmigrate.load.reconcile import reconcile
from itilmigrate.mappings.spec import EntityKind
from itilmigrate.run import (
    EntityBatch,
    LoadStats,
    RunSummary,
    SourceCounts,
    current_batch_id,
)
from itilmigrate.transform.child_source import (
    AssignmentTransformer,
    PersonTransformer,
    WorkNoteTransformer,
    prescan_assignments,
)
from itilmigrate.transform.engine import (
    DERIVED_PROBLEMS,
    RunState,
    SourcePlan,
    Transformer,
    _frame,
)
from itilmigrate.transform.fields import join_key
from itilmigrate.transform.problems import find_repeat_clusters
from itilmigrate.transform.record_source import RecordTransformer
from itilmigrate.transform.staging import grouped_batches

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from itilmigrate.load.base import Target
    from itilmigrate.mappings.loader import LoadedMapping
    from itilmigrate.mappings.spec import MappingDefinition, SourceMapping
    from itilmigrate.records import QuarantinedRecord
    from itilmigrate.run import RunContext

logger = logging.getLogger(__name__)

_ORDER = {
    EntityKind.PERSON: 0,
    EntityKind.RECORD: 1,
    EntityKind.ASSIGNMENT: 2,
    EntityKind.WORK_NOTE: 3,
}


class Progress(Protocol):
    """Receives progress events; the CLI draws bars or writes log lines."""

    def start(self, name: str, total: int | None) -> None:
        """A source table starts; ``total`` rows are expected."""

    def advance(self, name: str, rows: int) -> None:
        """``rows`` more rows of the table were processed."""

    def finish(self, name: str) -> None:
        """The table is done."""


class NoProgress:
    """A progress receiver that ignores everything."""

    def start(self, name: str, total: int | None) -> None:
        """Ignore the start of a table."""

    def advance(self, name: str, rows: int) -> None:
        """Ignore progress."""

    def finish(self, name: str) -> None:
        """Ignore the end of a table."""


@dataclass(slots=True, kw_only=True)
class RunOptions:
    """What the command line decided for this run."""

    batch_size: int = 5000
    limit: int | None = None
    source_system: str | None = None
    dry_run: bool = False


@dataclass(slots=True, kw_only=True)
class RunOutcome:
    """A finished run: its summary and the quarantined records' sample."""

    summary: RunSummary
    quarantine_samples: list[dict[str, object]] = field(default_factory=list)


def plan_sources(
    definition: MappingDefinition, source: Source, file: str
) -> list[SourcePlan]:
    """Bind every source mapping to actual table and column names.

    Raises:
        MappingDefinitionError: a table or column the mapping names is missing,
            listing every one of them at once (exit 3, before any data moved).
        UnsupportedFeatureError: the mapping asks for work notes from an event log.
    """
    problems: list[DefinitionProblem] = []
    plans: list[SourcePlan] = []
    tables = source.list_tables()
    for index, mapping in enumerate(definition.sources):
        where = f"sources[{index}]"
        if mapping.entity is EntityKind.WORK_NOTE and mapping.mode == "events":
            raise UnsupportedFeatureError(
                f"{where} ({mapping.name!r}): work notes from an event log are not "
                "supported; use mode 'snapshot' with one row per note.",
                path=file,
            )
        table = source.resolve_table(mapping.table)
        if table is None:
            problems.append(
                DefinitionProblem(
                    file=file,
                    location=f"{where}.table",
                    message=f"no table {mapping.table!r} in the source (compared "
                    f"case-insensitively); it has {sorted(tables)[:20]}",
                )
            )
            continue
        actual = source.columns(table)
        columns: dict[str, str] = {}
        wanted = mapping.source_columns()
        if mapping.entity is EntityKind.RECORD:
            # Classification rules apply to every record source, so each must hold
            # the columns they test.
            for classification_rule in definition.classification.rules:
                wanted |= classification_rule.when.columns()
        for name in sorted(wanted):
            found = resolve_column(actual, name)
            if found is None:
                problems.append(
                    DefinitionProblem(
                        file=file,
                        location=f"{where} ({mapping.name}) column {name!r}",
                        message=f"no column {name!r} in table {table!r} (compared "
                        f"case-insensitively); it has {actual[:30]}",
                    )
                )
            else:
                columns[name] = found
        plans.append(
            SourcePlan(
                mapping=mapping, table=table, columns=columns, read_columns=list(actual)
            )
        )
    if problems:
        raise MappingDefinitionError(problems, path=file)
    return sorted(plans, key=lambda p: _ORDER[p.mapping.entity])


class Pipeline:
    """One run of a job over a source into a target."""

    def __init__(
        self,
        *,
        loaded: LoadedMapping,
        source: Source,
        target: Target,
        run: RunContext,
        options: RunOptions,
        summary: RunSummary,
        progress: Progress | None = None,
        on_quarantine: Callable[[list[QuarantinedRecord]], None] | None = None,
    ) -> None:
        self.definition = loaded.definition
        self.file = loaded.path
        self.source = source
        self.target = target
        self.run = run
        self.options = options
        self.summary = summary
        self.progress = progress or NoProgress()
        self.on_quarantine = on_quarantine
        self.source_system = options.source_system or self.definition.name
        self.state = RunState(
            definition=self.definition,
            source_system=self.source_system,
            run_id=run.run_id,
            limit_active=options.limit is not None,
        )
        self._seq = 0
        self.prepared = False

    def execute(self) -> RunSummary:
        """Run every stage; return the summary (reconciliation included)."""
        plans = plan_sources(self.definition, self.source, self.file)
        self.target.prepare(self.run, self.summary)
        self.prepared = True
        self._prescan_keys(plans)
        for plan in plans:
            if plan.mapping.entity is EntityKind.ASSIGNMENT:
                prescan_assignments(plan, self.state, self._batches(plan, limit=None))
        for plan in plans:
            self._migrate(plan)
        self._propose_problems()
        self.summary.dst_adjusted = dict(self.state.dst.counts)
        self.summary.reconciliation_problems = reconcile(
            self.summary.counts,
            None if self.options.dry_run else self.target,
            source_system=self.source_system,
            limited=self.options.limit is not None,
        )
        if self.state.unresolved_callers:
            logger.warning(
                "callers not found among people count=%d", self.state.unresolved_callers
            )
        return self.summary

    # -- reading -------------------------------------------------------------

    def _batches(
        self, plan: SourcePlan, *, limit: int | None
    ) -> Iterator[pd.DataFrame]:
        raw = self.source.read_batches(
            plan.table,
            plan.read_columns,
            batch_size=self.options.batch_size,
            order_by=[plan.columns[k] for k in plan.mapping.key],
            limit=limit,
        )
        if plan.mapping.mode != "events":
            return raw
        group_key = plan.mapping.parent_key or plan.mapping.key
        blanks = self.definition.blank_values
        return grouped_batches(
            raw,
            lambda df: join_key(df, plan.columns, group_key, blanks),
            batch_size=self.options.batch_size,
        )

    def _prescan_keys(self, plans: list[SourcePlan]) -> None:
        """Read only the key columns: duplicate keys and every record key.

        Knowing duplicates before the first batch quarantines every copy of a
        duplicated key, whichever batches they fall in; knowing every record key
        tells an orphan from a child of a record that was not loaded.
        """
        blanks = self.definition.blank_values
        for plan in plans:
            if plan.mapping.mode == "events":
                continue
            key_columns = [plan.columns[k] for k in plan.mapping.key]
            counts: dict[str, int] = {}
            for df in self.source.read_batches(
                plan.table, key_columns, batch_size=50_000
            ):
                keys = join_key(df, plan.columns, plan.mapping.key, blanks).dropna()
                for key, count in keys.value_counts().items():
                    counts[str(key)] = counts.get(str(key), 0) + int(count)
            duplicates = {k for k, c in counts.items() if c > 1}
            if duplicates:
                logger.warning(
                    "duplicate keys found source=%s keys=%d",
                    plan.mapping.name,
                    len(duplicates),
                )
            self.state.duplicates[plan.mapping.name] = duplicates
            if plan.mapping.entity is EntityKind.RECORD:
                self.state.known_records[plan.mapping.name] = set(counts)
        for plan in plans:
            if (
                plan.mapping.entity is EntityKind.RECORD
                and plan.mapping.mode == "events"
            ):
                keys_seen: set[str] = set()
                group_key = [plan.columns[k] for k in plan.mapping.key]
                for df in self.source.read_batches(
                    plan.table, group_key, batch_size=50_000
                ):
                    keys_seen.update(
                        join_key(df, plan.columns, plan.mapping.key, blanks).dropna()
                    )
                self.state.known_records[plan.mapping.name] = keys_seen

    # -- migrating -----------------------------------------------------------

    def _transformer(self, plan: SourcePlan) -> Transformer:
        kinds: dict[EntityKind, type[Transformer]] = {
            EntityKind.PERSON: PersonTransformer,
            EntityKind.RECORD: RecordTransformer,
            EntityKind.ASSIGNMENT: AssignmentTransformer,
            EntityKind.WORK_NOTE: WorkNoteTransformer,
        }
        return kinds[plan.mapping.entity](plan, self.state)

    def _migrate(self, plan: SourcePlan) -> None:
        mapping: SourceMapping = plan.mapping
        counts = SourceCounts(
            source_name=mapping.name, table=plan.table, entity_type=mapping.entity.value
        )
        self.summary.counts.append(counts)
        transformer = self._transformer(plan)
        total = self.source.count(plan.table)
        if self.options.limit is not None:
            total = min(total, self.options.limit)
        self.progress.start(mapping.name, total)
        logger.info(
            "source started source=%s table=%s rows=%d", mapping.name, plan.table, total
        )
        for df in self._batches(plan, limit=self.options.limit):
            self._seq += 1
            batch_id = self.run.batch_id(self._seq)
            token = current_batch_id.set(batch_id)
            try:
                result = transformer.transform(df.reset_index(drop=True), batch_id)  # type: ignore[attr-defined]
                stats = self.target.load_batch(
                    result.batch, source_system=self.source_system
                )
            finally:
                current_batch_id.reset(token)
            if self.on_quarantine is not None:
                self.on_quarantine(result.batch.quarantined)
            counts.read_count += len(df)
            counts.loaded_count += result.loaded_count
            lineage = result.batch.lineage
            counts.lineage_count += int((lineage["source_name"] == mapping.name).sum())
            counts.quarantined_count += result.quarantined_count
            for rule, count in result.excluded.items():
                counts.excluded[rule] = counts.excluded.get(rule, 0) + count
            self.summary.load.add(stats)
            self.progress.advance(mapping.name, len(df))
            logger.info(
                "batch loaded batch_id=%s source=%s read=%d loaded=%d quarantined=%d",
                batch_id,
                mapping.name,
                len(df),
                result.loaded_count,
                result.quarantined_count,
            )
        self.progress.finish(mapping.name)
        logger.info(
            "source finished source=%s read=%d loaded=%d quarantined=%d excluded=%d",
            mapping.name,
            counts.read_count,
            counts.loaded_count,
            counts.quarantined_count,
            counts.excluded_count,
        )

    def _prune_problems(self, keep: set[str], links: set[tuple[str, str]]) -> None:
        """Remove proposed problems and links that this run no longer proposes."""
        if self.options.limit is not None:
            return  # a partial run cannot tell which clusters are gone
        deleted = self.target.prune_proposed_problems(
            self.source_system, DERIVED_PROBLEMS, keep_problems=keep, keep_links=links
        )
        for table, count in deleted.items():
            self.summary.load.deleted[table] = (
                self.summary.load.deleted.get(table, 0) + count
            )
        if deleted:
            logger.info(
                "stale proposed problems removed problems=%d links=%d",
                deleted.get("problem", 0),
                deleted.get("problem_incident", 0),
            )

    def _propose_problems(self) -> None:
        """Cluster repeat incidents and load one proposed problem per cluster."""
        settings = self.definition.repeat_incidents
        if settings is None:
            return
        if not self.state.cluster_parts:
            self._prune_problems(set(), set())
            return
        incidents = pd.concat(self.state.cluster_parts, ignore_index=True)
        self.state.cluster_parts.clear()
        clusters = find_repeat_clusters(
            incidents,
            group_columns=settings.group_by,
            text_column=settings.text,
            time_column="opened_at",
            id_column="entity_id",
            window=pd.Timedelta(settings.window),
            min_size=settings.min_incidents,
            similarity=settings.similarity,
        )
        if not clusters:
            logger.info(
                "no repeat-incident clusters found incidents=%d", len(incidents)
            )
            self._prune_problems(set(), set())
            return
        legacy = dict(zip(incidents["entity_id"], incidents["legacy_id"], strict=True))
        system = self.source_system
        rows: list[dict[str, object]] = []
        links: list[dict[str, object]] = []
        for cluster in clusters:
            first_legacy = legacy[cluster.member_ids[0]]
            key = f"{settings.rule_name}|{cluster.group_key}|{first_legacy}"
            problem_id = entity_id(system, "proposed_problem", key)
            rows.append(
                {
                    "entity_id": problem_id,
                    "source_system": system,
                    "source_name": DERIVED_PROBLEMS,
                    "legacy_id": key,
                    "run_id": self.run.run_id,
                    "title": f"Repeat incidents in {cluster.group_key}",
                    "description": cluster.representative_text,
                    "status": Status.NEW.value,
                    "category": cluster.group_key.split("|")[0],
                    "opened_at": cluster.last_opened_at,
                    "classification_rule": settings.rule_name,
                    "origin": ProblemOrigin.PROPOSED.value,
                    "origin_rule": settings.rule_name,
                    "incident_count": len(cluster.member_ids),
                    "assignment_count": 0,
                    "reassignment_count": 0,
                    "known_error": False,
                }
            )
            links.extend(
                {
                    "problem_id": problem_id,
                    "incident_id": member,
                    "rule": settings.rule_name,
                    "run_id": self.run.run_id,
                }
                for member in cluster.member_ids
            )
        problems = pd.DataFrame(rows)
        frame = _frame(
            EntityType.PROBLEM.value,
            {c: problems[c] for c in problems.columns},
            problems.index,
        )
        link_frame = _frame(
            "problem_incident",
            {
                c: pd.DataFrame(links)[c]
                for c in ("problem_id", "incident_id", "rule", "run_id")
            },
            pd.RangeIndex(len(links)),
        )
        lineage = pd.DataFrame(
            {
                "source_system": system,
                "source_name": DERIVED_PROBLEMS,
                "legacy_id": problems["legacy_id"],
                "entity_type": EntityType.PROBLEM.value,
                "entity_id": problems["entity_id"],
            }
        )
        self._seq += 1
        batch = EntityBatch(
            batch_id=self.run.batch_id(self._seq),
            source_name=DERIVED_PROBLEMS,
            frames={"problem": frame, "problem_incident": link_frame},
            lineage=lineage,
        )
        stats: LoadStats = self.target.load_batch(batch, source_system=system)
        self.summary.load.add(stats)
        self._prune_problems(
            set(problems["entity_id"]),
            set(zip(link_frame["problem_id"], link_frame["incident_id"], strict=True)),
        )
        logger.info(
            "problems proposed clusters=%d incidents=%d", len(clusters), len(link_frame)
        )


@dataclass(slots=True, kw_only=True)
class SampleOutcome:
    """What a sample run produced: entity frames per target table, quarantine."""

    summary: RunSummary
    frames: dict[str, pd.DataFrame]
    quarantined: list[QuarantinedRecord]


class _CollectingTarget(DryRunTarget):
    """A dry-run target that also keeps every frame it is given, for inspection."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[str, list[pd.DataFrame]] = {}
        self.quarantined: list[QuarantinedRecord] = []

    def load_batch(self, batch: EntityBatch, *, source_system: str) -> LoadStats:
        """Check and count the batch as a dry run does; keep its frames."""
        stats = super().load_batch(batch, source_system=source_system)
        for table, frame in batch.frames.items():
            self.parts.setdefault(table, []).append(frame)
        self.quarantined.extend(batch.quarantined)
        return stats


def sample_entities(
    loaded: LoadedMapping, source: Source, run: RunContext, *, sample: int
) -> SampleOutcome:
    """Transform at most ``sample`` rows of every source table, writing nothing.

    Used by ``mapping validate`` to check the entities a mapping would produce.

    Raises:
        MappingDefinitionError: the mapping does not fit the source (exit 3).
        SourceError: the source cannot be read (exit 4).
    """
    summary = RunSummary(
        run_id=run.run_id,
        job_name="sample",
        mapping_name=loaded.definition.name,
        mapping_hash=loaded.sha256,
        target_url="none",
        dry_run=True,
        started_at=run.started_at,
    )
    target = _CollectingTarget()
    options = RunOptions(limit=sample, dry_run=True, batch_size=min(sample, 5000))
    Pipeline(
        loaded=loaded,
        source=source,
        target=target,
        run=run,
        options=options,
        summary=summary,
    ).execute()
    frames = {
        table: pd.concat(parts, ignore_index=True)
        for table, parts in target.parts.items()
    }
    return SampleOutcome(summary=summary, frames=frames, quarantined=target.quarantined)


def describe_target(url: str) -> str:
    """Return the target URL with its password masked, for messages and reports."""
    return mask_secrets(url)
