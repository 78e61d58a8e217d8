"""Count reconciliation after a load: every legacy record read is accounted for.

Two checks, each giving one plain sentence per problem (an empty list means the
run balances):

1. Per source table: read = loaded + quarantined + excluded.
2. Per source, against the target: the lineage rows it holds equal the distinct
   legacy ids this run loaded (``SourceCounts.lineage_count``). Fewer means loaded
   records went missing; more means the target still holds records an earlier run
   loaded that the source no longer has. The check is skipped for dry runs (no
   target) and for runs cut short by ``--limit``, which load part of each source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from itilmigrate.load.base import Target
    from itilmigrate.run import SourceCounts


def _count_problem(counts: SourceCounts) -> str:
    accounted = counts.loaded_count + counts.quarantined_count + counts.excluded_count
    return (
        f"Source table {counts.table!r} ({counts.source_name} → {counts.entity_type}): "
        f"read {counts.read_count} != loaded {counts.loaded_count} + quarantined "
        f"{counts.quarantined_count} + excluded {counts.excluded_count} "
        f"(difference {counts.read_count - accounted})."
    )


def _lineage_problem(source_name: str, held: int, loaded: int) -> str | None:
    if held < loaded:
        return (
            f"Source {source_name!r}: the target holds lineage for {held} legacy ids "
            f"but this run loaded {loaded} ({loaded - held} missing)."
        )
    if held > loaded:
        return (
            f"Source {source_name!r}: the target holds lineage for {held} legacy ids "
            f"but this run loaded {loaded}; {held - loaded} of them came from an "
            "earlier run and are no longer in the source."
        )
    return None


def reconcile(
    counts: Sequence[SourceCounts],
    target: Target | None,
    *,
    source_system: str,
    limited: bool,
) -> list[str]:
    """Return every reconciliation problem of a run, in source order.

    Args:
        counts: The run's counts per source table; ``lineage_count`` is the
            number of distinct legacy ids it loaded.
        target: The target to check lineage against; None for a dry run.
        source_system: The job's source system, the first part of lineage keys.
        limited: Whether ``--limit`` cut the run short (skips the target check).

    Raises:
        TargetError: The target cannot be queried.
    """
    problems = [_count_problem(c) for c in counts if not c.balanced]
    if target is None or limited:
        return problems

    # Several mapping tables can feed one source; lineage is kept per source.
    loaded_by_source: dict[str, int] = {}
    for c in counts:
        loaded = loaded_by_source.get(c.source_name, 0)
        loaded_by_source[c.source_name] = loaded + c.lineage_count
    for source_name, loaded in loaded_by_source.items():
        held = target.lineage_count(source_system, source_name)
        problem = _lineage_problem(source_name, held, loaded)
        if problem is not None:
            problems.append(problem)
    return problems
