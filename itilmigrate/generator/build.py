"""Building the tables chunk by chunk and handing each chunk to a sink."""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.calls import (
    JOURNAL_WEIGHTS,
    NULL_SHARE,
    Calls,
    draw_calls,
    draw_timeline,
    plant_calls,
)
from itilmigrate.generator.columns import (
    TableData,
    Tally,
    assignment_columns,
    calllog_columns,
    journal_columns,
    profile_columns,
    subset_columns,
)
from itilmigrate.generator.dates import RANGE_START, WINDOW, WINDOW_START, day_number
from itilmigrate.generator.plan import CHUNK_CALLS, Kind, Plan, Planted
from itilmigrate.generator.schema import ASGNMNT, CALLLOG, JOURNAL, PROFILE, SUBSET

logger = logging.getLogger(__name__)


class Sink(Protocol):
    """Where generated tables go: a database or a folder of CSV files."""

    def write(self, table: str, columns: TableData) -> None:
        """Append the rows held by ``columns`` (one list per column) to ``table``."""
        ...

    def commit(self) -> None:
        """Make everything written so far durable."""
        ...


def _no_plants() -> dict[Kind, Planted]:
    empty = np.zeros(0, dtype=np.int64)
    return {kind: Planted(rows=empty, day=empty, code=empty) for kind in Kind}


def _write_chunk(
    plan: Plan, seed: int, chunk: int, heat_seq: int, sink: Sink, tally: Tally
) -> int:
    """Build and write one chunk of calls; return the next free HEATSeq."""
    start = chunk * CHUNK_CALLS
    end = min(plan.calls, start + CHUNK_CALLS)
    rng = np.random.default_rng([seed, 1, chunk])
    local = {kind: planted.local(start, end) for kind, planted in plan.kinds.items()}
    calls = draw_calls(rng, plan, start, end - start)
    plant_calls(calls, local)
    timeline = draw_timeline(rng, calls, local)

    assignments, last = assignment_columns(rng, calls, timeline, heat_seq, tally)
    heat_seq += len(assignments[0])
    journals = journal_columns(rng, calls, timeline, plan.population, heat_seq, tally)
    heat_seq += len(journals[0])
    context = (plan.population, ~plan.taken[start:end], last)
    sink.write(CALLLOG, calllog_columns(rng, calls, timeline, local, context, tally))
    sink.write(ASGNMNT, assignments)
    sink.write(JOURNAL, journals)
    sink.write(SUBSET, subset_columns(rng, calls, local, plan.population, tally))
    return heat_seq


def _orphan_calls(rng: np.random.Generator, plan: Plan) -> Calls:
    """Calls purged from CallLog long ago whose assignments and journals remain."""
    count = len(plan.orphan_numbers)
    day = day_number(RANGE_START) + rng.integers(0, 90, count)
    time = WINDOW_START + rng.integers(3600, WINDOW - 3600, count)
    journals = rng.choice(
        3, count, p=np.array(JOURNAL_WEIGHTS[:3]) / sum(JOURNAL_WEIGHTS[:3])
    )
    journals[0] = max(1, journals[0])
    analysts = rng.integers(0, voc.ANALYSTS_PER_GROUP, count)
    return Calls(
        number=plan.orphan_numbers.copy(),
        day=day,
        time=time,
        anchor=(day * WINDOW + time - WINDOW_START).astype(np.float64),
        call_type=np.zeros(count, dtype=np.int64),
        category=rng.integers(0, len(voc.CATEGORIES), count),
        short=np.full(count, "", dtype=object),
        description=np.full(count, "", dtype=object),
        source=np.zeros(count, dtype=np.int64),
        priority=np.full(count, "", dtype=object),
        customer=rng.integers(0, plan.population.base_count, count),
        received_by=analysts,
        tracker=analysts,
        status=np.full(count, voc.STATUS_CLOSED, dtype=np.int64),
        assignment_count=1 + rng.integers(0, 2, count),
        journal_count=journals,
        null_row=rng.random(count) < NULL_SHARE,
    )


def write_tables(plan: Plan, seed: int, sink: Sink) -> tuple[Tally, tuple[int, int]]:
    """Write every table of the plan to ``sink``; return the tally and orphan counts."""
    tally = Tally()
    sink.write(PROFILE, profile_columns(plan.population))
    heat_seq = 1
    chunks = -(-plan.calls // CHUNK_CALLS)
    for chunk in range(chunks):
        heat_seq = _write_chunk(plan, seed, chunk, heat_seq, sink, tally)
        sink.commit()
        logger.info("heat chunk written chunk=%d of=%d", chunk + 1, chunks)

    rng = np.random.default_rng([seed, 2])
    orphans = _orphan_calls(rng, plan)
    timeline = draw_timeline(rng, orphans, _no_plants())
    before = (tally.assignments, tally.journals)
    assignments, _ = assignment_columns(rng, orphans, timeline, heat_seq, tally)
    heat_seq += len(assignments[0])
    sink.write(ASGNMNT, assignments)
    sink.write(
        JOURNAL,
        journal_columns(rng, orphans, timeline, plan.population, heat_seq, tally),
    )
    sink.commit()
    return tally, (tally.assignments - before[0], tally.journals - before[1])
