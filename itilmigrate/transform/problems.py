"""Propose problem records from clusters of repeat incidents.

HEAT had no problem management: a recurring fault shows up only as many calls of
the same category with near-identical descriptions opened within a few days. This
module finds those clusters so the engine can propose a ``Problem`` (origin
``proposed``) that links them, for people to confirm after the migration.

The clustering is greedy and single-pass per group, in time order: an incident joins
the most similar cluster still open (whose first incident lies within the window
before it), or starts a new one. Similarity is rapidfuzz's ``token_set_ratio`` of the
texts reduced by :func:`~itilmigrate.transform.text.normalise_for_similarity`, which
ignores word order, case, digits and punctuation, so "Outlook crashes (call 4711)"
and "outlook crashes again" match. The result depends only on the data, never on the
input order, so reruns propose the same problems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process

from itilmigrate.transform.converters import blank_to_none
from itilmigrate.transform.text import normalise_for_similarity

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

_KEY_SEPARATOR = "|"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    """A set of repeat incidents that may share one underlying problem.

    Attributes:
        group_key: The grouping columns' values joined by ``|`` (``Email|Outlook``).
        member_ids: Entity ids of the incidents, ordered by opening time, then id.
        first_opened_at: Opening time of the first incident (UTC).
        last_opened_at: Opening time of the last incident (UTC).
        representative_text: The (cleaned) text of the first incident.
    """

    group_key: str
    member_ids: tuple[str, ...]
    first_opened_at: pd.Timestamp
    last_opened_at: pd.Timestamp
    representative_text: str


@dataclass(slots=True)
class _OpenCluster:
    first_ns: int
    representative_text: str
    member_positions: list[int] = field(default_factory=list)


def _check_options(
    frame: pd.DataFrame,
    columns: Sequence[str],
    window: pd.Timedelta,
    min_size: int,
    similarity: float,
) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"Incident frame has no column(s) {missing!r}.")
    if window < pd.Timedelta(0):
        raise ValueError(f"window must not be negative, not {window}.")
    if min_size < 1:
        raise ValueError(f"min_size must be at least 1, not {min_size}.")
    if not 0.0 <= similarity <= 1.0:
        raise ValueError(f"similarity must be between 0 and 1, not {similarity}.")


def _prepare(
    frame: pd.DataFrame,
    *,
    group_columns: Sequence[str],
    text_column: str,
    time_column: str,
    id_column: str,
) -> pd.DataFrame:
    """Return the usable incidents, sorted by group, opening time and id.

    Incidents with a missing grouping value, text, opening time or id cannot be
    placed in a group or window and are skipped.
    """
    opened = pd.to_datetime(frame[time_column], utc=True)
    work = pd.DataFrame(
        {
            "entity_id": blank_to_none(frame[id_column]),
            "opened_ns": pd.DatetimeIndex(opened).as_unit("ns").asi8,
            "text": blank_to_none(frame[text_column]),
        },
        index=frame.index,
    )
    usable = work["entity_id"].notna() & opened.notna() & work["text"].notna()
    groups = pd.DataFrame(
        {f"group_{n}": blank_to_none(frame[c]) for n, c in enumerate(group_columns)},
        index=frame.index,
    )
    usable &= groups.notna().all(axis=1)
    work, groups = work[usable], groups[usable]

    # Group by the tuple of values, not the joined key: values containing "|" could
    # join to the same key, and such groups must still not share clusters.
    work["group_key"] = ""
    work["group_code"] = 0
    if group_columns:
        key = groups.iloc[:, 0]
        for column in groups.columns[1:]:
            key = key + _KEY_SEPARATOR + groups[column]
        work["group_key"] = key
        work["group_code"] = groups.groupby(list(groups.columns), sort=True).ngroup()
    work["normalised"] = normalise_for_similarity(work["text"])
    return work.sort_values(["group_code", "opened_ns", "entity_id"], kind="stable")


def find_repeat_clusters(
    frame: pd.DataFrame,
    *,
    group_columns: Sequence[str],
    text_column: str,
    time_column: str,
    id_column: str,
    window: pd.Timedelta,
    min_size: int,
    similarity: float,
) -> list[Cluster]:
    """Find clusters of similar incidents opened close together in the same group.

    Within each group (incidents sharing all ``group_columns`` values), in time
    order, an incident joins the most similar open cluster: one whose first incident
    was opened at most ``window`` before it and whose representative text scores at
    least ``similarity * 100`` in ``token_set_ratio``. Ties go to the oldest cluster.
    Otherwise the incident starts a new cluster.

    Args:
        frame: Incidents with entity ids, UTC opening times, cleaned text and the
            grouping columns.
        group_columns: Columns whose values must all be equal (category, service).
        text_column: Column with the cleaned description.
        time_column: Column with the opening time (aware, UTC).
        id_column: Column with the entity id.
        window: How long after its first incident a cluster accepts new members.
        min_size: Smallest cluster returned.
        similarity: Required similarity between 0 and 1.

    Returns:
        Clusters with at least ``min_size`` members, ordered by group key, first
        opening time and first member id.

    Raises:
        ValueError: If a column is missing or an option is out of range.
    """
    _check_options(
        frame,
        [*group_columns, text_column, time_column, id_column],
        window,
        min_size,
        similarity,
    )
    work = _prepare(
        frame,
        group_columns=group_columns,
        text_column=text_column,
        time_column=time_column,
        id_column=id_column,
    )
    opened_ns = work["opened_ns"].to_numpy(dtype=np.int64)
    normalised = work["normalised"].to_list()
    texts = work["text"].to_list()
    boundaries = np.flatnonzero(np.diff(work["group_code"].to_numpy())) + 1
    starts = [0, *boundaries.tolist()]
    ends = [*boundaries.tolist(), len(work)]
    window_ns = pd.Timedelta(window).as_unit("ns").value

    entity_ids = work["entity_id"].to_list()
    group_keys = work["group_key"].to_list()
    clusters: list[Cluster] = []
    for start, end in zip(starts, ends, strict=True):
        for found in _cluster_group(
            range(start, end), opened_ns, normalised, texts, window_ns, similarity * 100
        ):
            if len(found.member_positions) < min_size:
                continue
            first, last = found.member_positions[0], found.member_positions[-1]
            clusters.append(
                Cluster(
                    group_key=group_keys[start],
                    member_ids=tuple(entity_ids[p] for p in found.member_positions),
                    first_opened_at=pd.Timestamp(opened_ns[first], tz="UTC"),
                    last_opened_at=pd.Timestamp(opened_ns[last], tz="UTC"),
                    representative_text=found.representative_text,
                )
            )

    clusters.sort(key=lambda c: (c.group_key, c.first_opened_at, c.member_ids[0]))
    logger.debug(
        "repeat clusters found incidents=%d groups=%d clusters=%d",
        len(work),
        len(starts) if len(work) else 0,
        len(clusters),
    )
    return clusters


def _cluster_group(
    positions: range,
    opened_ns: npt.NDArray[np.int64],
    normalised: list[str],
    texts: list[str],
    window_ns: int,
    cutoff: float,
) -> list[_OpenCluster]:
    """Cluster the incidents of one group, given in time order, in a single pass."""
    closed: list[_OpenCluster] = []
    live: list[_OpenCluster] = []
    live_texts: list[str] = []
    for position in positions:
        now = int(opened_ns[position])
        # Clusters open in time order, so the expired ones are a prefix of `live`;
        # dropping them keeps each comparison to the clusters still open.
        expired = 0
        while expired < len(live) and now - live[expired].first_ns > window_ns:
            expired += 1
        if expired:
            closed.extend(live[:expired])
            del live[:expired], live_texts[:expired]

        # extractOne keeps the first of equal scores: ties go to the oldest cluster.
        match = None
        if live:
            match = process.extractOne(
                normalised[position],
                live_texts,
                scorer=fuzz.token_set_ratio,
                processor=None,
                score_cutoff=cutoff,
            )
        if match is None:
            target = _OpenCluster(first_ns=now, representative_text=texts[position])
            live.append(target)
            live_texts.append(normalised[position])
        else:
            target = live[match[2]]
        target.member_positions.append(position)
    return closed + live
