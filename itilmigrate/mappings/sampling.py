"""A validation sample that keeps children with their parents, and orphan counts.

``mapping validate`` transforms the first ``--sample`` records of each source. Read
independently, a child table's first rows belong to other records than the ones
sampled, which would make most sampled children look orphaned; this module reads
children of the sampled records only, and counts real orphans over whole tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.transform.fields import evaluate, join_key

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from itilmigrate.extract.base import Source
    from itilmigrate.mappings.spec import MappingDefinition
    from itilmigrate.transform.engine import SourcePlan


class ParentSampledSource:
    """A source whose child tables yield only children of the sampled records.

    The pipeline samples each table on its own: the first ``sample`` records by
    key. Children of records outside the record sample are then set aside, and
    children whose parent key sorts first (HEAT's orphaned Asgnmnt and Journal
    rows, with CallIDs below every call's) fill the child sample, so a sample of 5
    could show 5 of 5 assignments as orphans. Reading children of the sampled
    records only keeps the child sample about the records it sampled; orphans are
    counted over the whole table instead (:func:`count_orphans`).
    """

    def __init__(
        self, source: Source, plans: list[SourcePlan], blanks: list[str]
    ) -> None:
        self._source = source
        self.source_name = source.source_name
        self._blanks = blanks
        by_name = {plan.mapping.name: plan for plan in plans}
        self._parents: dict[str, SourcePlan] = {}
        self._children: dict[str, SourcePlan] = {}
        for plan in plans:
            parent = by_name.get(plan.mapping.parent or "")
            if parent is not None and plan.mapping.parent_key:
                self._parents.setdefault(parent.table, parent)
                self._children.setdefault(plan.table, plan)
        #: Keys of the records read so far, per record source name.
        self.sampled: dict[str, set[str]] = {}

    def list_tables(self) -> list[str]:
        """Return the actual table names in the source."""
        return self._source.list_tables()

    def columns(self, table: str) -> list[str]:
        """Return the actual column names of ``table``."""
        return self._source.columns(table)

    def resolve_table(self, name: str) -> str | None:
        """Return the actual name of table ``name``, or ``None``."""
        return self._source.resolve_table(name)

    def count(self, table: str) -> int:
        """Return the number of records in ``table``."""
        return self._source.count(table)

    def close(self) -> None:
        """Close the wrapped source."""
        self._source.close()

    def read_batches(
        self,
        table: str,
        columns: Sequence[str],
        *,
        batch_size: int,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Read as the wrapped source does; a limited child read takes sampled kin.

        Unlimited reads (the pipeline's key scans) pass through untouched, so
        duplicate keys and known records are judged on the whole table.
        """
        if limit is None:
            return self._source.read_batches(
                table, columns, batch_size=batch_size, order_by=order_by
            )
        child = self._children.get(table)
        if child is not None:
            return self._kin(child, columns, batch_size, order_by, limit)
        frames = self._source.read_batches(
            table, columns, batch_size=batch_size, order_by=order_by, limit=limit
        )
        parent = self._parents.get(table)
        return frames if parent is None else self._collect(parent, frames)

    def _collect(
        self, plan: SourcePlan, frames: Iterator[pd.DataFrame]
    ) -> Iterator[pd.DataFrame]:
        keys = self.sampled.setdefault(plan.mapping.name, set())
        for df in frames:
            found = join_key(df, plan.columns, plan.mapping.key, self._blanks)
            keys.update(found.dropna())
            yield df

    def _kin(
        self,
        plan: SourcePlan,
        columns: Sequence[str],
        batch_size: int,
        order_by: Sequence[str],
        limit: int,
    ) -> Iterator[pd.DataFrame]:
        wanted = self.sampled.get(plan.mapping.parent or "", set())
        left = limit
        frames = self._source.read_batches(
            plan.table, columns, batch_size=batch_size, order_by=order_by
        )
        for df in frames:
            parent_key = plan.mapping.parent_key or []
            parents = join_key(df, plan.columns, parent_key, self._blanks)
            kept = df.loc[parents.isin(wanted).to_numpy()].head(left)
            if kept.empty:
                continue
            left -= len(kept)
            yield kept.reset_index(drop=True)
            if left <= 0:
                return


@dataclass(frozen=True, slots=True, kw_only=True)
class OrphanCount:
    """Children of one source, over its whole table, that a run would set aside."""

    source_name: str
    parent: str
    table: str
    read_count: int
    orphan_count: int
    blank_count: int


def count_orphans(
    definition: MappingDefinition, source: Source, plans: list[SourcePlan]
) -> list[OrphanCount]:
    """Count the children whose parent key is blank or names no record, per source.

    Reads the key and exclusion columns of whole tables, as the pipeline's key
    scan does; children that an exclusion rule sets aside are not counted.
    """
    blanks = definition.blank_values
    by_name = {plan.mapping.name: plan for plan in plans}
    known: dict[str, set[str]] = {}
    counted = []
    for plan in plans:
        mapping = plan.mapping
        parent = by_name.get(mapping.parent or "")
        if parent is None or not mapping.parent_key:
            continue
        if parent.mapping.name not in known:
            key_columns = [parent.columns[k] for k in parent.mapping.key]
            keys: set[str] = set()
            for df in source.read_batches(parent.table, key_columns, batch_size=50_000):
                found_keys = join_key(df, parent.columns, parent.mapping.key, blanks)
                keys.update(found_keys.dropna())
            known[parent.mapping.name] = keys
        wanted = set(mapping.parent_key)
        for rule in mapping.exclude:
            wanted |= rule.when.columns()
        read = orphans = blank = 0
        for df in source.read_batches(
            plan.table, sorted({plan.columns[c] for c in wanted}), batch_size=50_000
        ):
            excluded = pd.Series(False, index=df.index)
            for rule in mapping.exclude:
                excluded |= evaluate(rule.when, df, plan.columns, blanks)
            parents = join_key(df, plan.columns, mapping.parent_key, blanks)[~excluded]
            read += len(df)
            blank += int(parents.isna().sum())
            unknown = parents.notna() & ~parents.isin(known[parent.mapping.name])
            orphans += int(unknown.sum())
        counted.append(
            OrphanCount(
                source_name=mapping.name,
                parent=parent.mapping.name,
                table=plan.table,
                read_count=read,
                orphan_count=orphans,
                blank_count=blank,
            )
        )
    return counted
