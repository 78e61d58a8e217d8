"""Run context, batches and run summaries shared by every stage."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from itilmigrate.records import QuarantinedRecord

current_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_run_id", default=None
)
current_batch_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_batch_id", default=None
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def new_run_id(now: datetime) -> str:
    """Return a sortable, unique run id such as ``20261203T190849Z-1a2b3c``."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"


@dataclass(slots=True, kw_only=True)
class RunContext:
    """One CLI invocation that touches data: its id, clock and options."""

    run_id: str
    started_at: datetime
    options: dict[str, Any] = field(default_factory=dict)
    now: Callable[[], datetime] = _utc_now

    @classmethod
    def start(
        cls,
        options: dict[str, Any] | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> RunContext:
        """Create a context with a fresh run id, read from the injectable clock."""
        started = now()
        return cls(
            run_id=new_run_id(started),
            started_at=started,
            options=options or {},
            now=now,
        )

    def batch_id(self, seq: int) -> str:
        """Return the id of batch number ``seq`` of this run."""
        return f"{self.run_id}:{seq:05d}"


@dataclass(slots=True, kw_only=True)
class SourceCounts:
    """Reconciliation counts for one source table of one mapping."""

    source_name: str
    table: str
    entity_type: str
    read_count: int = 0
    loaded_count: int = 0
    quarantined_count: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    #: Lineage rows (distinct legacy ids) the source wrote or confirmed this run:
    #: equal to ``loaded_count`` for one-row-per-record tables, fewer for event
    #: logs, where many rows make one entity.
    lineage_count: int = 0

    @property
    def excluded_count(self) -> int:
        """Records excluded by named mapping rules (or the ``--limit`` option)."""
        return sum(self.excluded.values())

    @property
    def balanced(self) -> bool:
        """Whether read = loaded + quarantined + excluded."""
        return self.read_count == (
            self.loaded_count + self.quarantined_count + self.excluded_count
        )


@dataclass(slots=True, kw_only=True)
class EntityBatch:
    """What one transformed batch hands to the target.

    ``frames`` maps a target table name (``incident``, ``person``, ...) to a frame
    with the columns that :mod:`itilmigrate.entities` declares for it. ``lineage``
    has the columns of :data:`itilmigrate.entities.LINEAGE_COLUMNS`.
    """

    batch_id: str
    source_name: str
    frames: dict[str, pd.DataFrame]
    lineage: pd.DataFrame
    quarantined: list[QuarantinedRecord] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class LoadStats:
    """What a target did with one batch or a whole run, per target table."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def add(self, other: LoadStats) -> None:
        """Add another batch's counts to these."""
        for mine, theirs in (
            (self.inserted, other.inserted),
            (self.updated, other.updated),
            (self.unchanged, other.unchanged),
            (self.deleted, other.deleted),
        ):
            for table, count in theirs.items():
                mine[table] = mine.get(table, 0) + count

    @property
    def inserted_count(self) -> int:
        """Rows inserted in all tables."""
        return sum(self.inserted.values())

    @property
    def updated_count(self) -> int:
        """Rows updated in all tables."""
        return sum(self.updated.values())


@dataclass(slots=True, kw_only=True)
class RunSummary:
    """Everything the final summary table and ``summary.json`` report."""

    run_id: str
    job_name: str
    mapping_name: str
    mapping_hash: str
    target_url: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    counts: list[SourceCounts] = field(default_factory=list)
    load: LoadStats = field(default_factory=LoadStats)
    dst_adjusted: dict[str, int] = field(default_factory=dict)
    reconciliation_problems: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        """Whether every source table reconciles and no target check failed."""
        return all(c.balanced for c in self.counts) and not self.reconciliation_problems
