"""Who the customers are and which calls carry which planted defect.

The plan is drawn once per (seed, size) before any call is built, so every chunk knows
which of its rows are planted and with what, and the manifest can list them exactly.
Planted kinds never share a row: each count in the manifest is the count of one kind.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import numpy as np

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.dates import (
    FIRST_DAY,
    RANGE_END,
    RANGE_START,
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    calendar_tables,
    day_number,
)

CHUNK_CALLS = 50_000
"""Calls built and written together; fixed, so the data never depends on memory."""
FIRST_CALL_NUMBER = 10_000
CUSTOMERS = 2_000
REMOTE_SHARE = 0.35
NOTE_SHARE = 0.08
NULL_NOTE_SHARE = 0.3


class Kind(StrEnum):
    """A planted defect (or feature) of one CallLog row."""

    DUPLICATE = "duplicate"
    DUPLICATE_ORIGINAL = "duplicate_original"
    UNPARSEABLE_DATE = "unparseable_date"
    DMY_DATE = "dmy_date"
    CLOSED_BEFORE_OPENED = "closed_before_opened"
    DST_GAP = "dst_gap"
    DST_AMBIGUOUS = "dst_ambiguous"
    UNMAPPED_PRIORITY = "unmapped_priority"
    CLOSED_WITHOUT_DATE = "closed_without_date"
    OPEN_WITH_CLOSE_DATE = "open_with_close_date"
    HTML_DESCRIPTION = "html_description"
    SCRIPT_DESCRIPTION = "script_description"
    CONTROL_DESCRIPTION = "control_description"
    REQUEST_LIKE_INCIDENT = "request_like_incident"
    CLUSTER = "cluster"
    MISSING_CUSTOMER = "missing_customer"
    SHARED_CUSTOMER = "shared_customer"
    SUBSET_MISMATCH = "subset_mismatch"


def planted_counts(calls: int) -> dict[Kind, int]:
    """Return how many rows of each simple kind a database of ``calls`` rows gets."""
    per_thousand = max(3, calls // 1000)
    per_two_thousand = max(2, calls // 2000)
    return {
        Kind.DUPLICATE: max(1, calls // 5000),
        Kind.UNPARSEABLE_DATE: per_thousand,
        Kind.DMY_DATE: max(1, round(calls * 0.05)),
        Kind.CLOSED_BEFORE_OPENED: per_thousand,
        Kind.DST_GAP: per_two_thousand,
        Kind.DST_AMBIGUOUS: per_two_thousand,
        Kind.UNMAPPED_PRIORITY: per_thousand,
        Kind.CLOSED_WITHOUT_DATE: per_two_thousand,
        Kind.OPEN_WITH_CLOSE_DATE: per_two_thousand,
        Kind.HTML_DESCRIPTION: max(4, calls // 250),
        Kind.SCRIPT_DESCRIPTION: 1,
        Kind.CONTROL_DESCRIPTION: per_thousand,
        Kind.REQUEST_LIKE_INCIDENT: per_thousand,
        Kind.SUBSET_MISMATCH: per_thousand,
    }


@dataclass(frozen=True, slots=True)
class Population:
    """Customers: ``base_count`` ordinary ones, then shared-ID twins, then unprofiled.

    Entries ``[0, profile_count)`` have a Profile row. Entries from ``base_count`` to
    ``profile_count`` reuse the CustID of the base customer named in ``twins`` under
    another CustType (a different person). Entries from ``profile_count`` on appear on
    calls and in Subset only.
    """

    cust_id: ObjArray
    cust_type: ObjArray
    first_name: ObjArray
    last_name: ObjArray
    old_last_name: ObjArray
    email: ObjArray
    old_email: ObjArray
    title: ObjArray
    phone: ObjArray
    site: ObjArray
    notes: ObjArray
    twins: IntArray
    base_count: int
    profile_count: int
    call_weights: FloatArray

    @property
    def shared_cust_ids(self) -> tuple[str, ...]:
        """CustIDs present in Profile under two CustTypes."""
        return tuple(self.cust_id[self.base_count : self.profile_count].tolist())


_CUSTOMER_FIELDS = (
    "cust_id",
    "cust_type",
    "first_name",
    "last_name",
    "old_last_name",
    "email",
    "old_email",
    "title",
    "phone",
    "site",
    "notes",
)


def _ascii_login(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum() or char == "-")


def build_population(seed: int, shared: int, missing: int) -> Population:
    """Draw the customers: names, sites, contact details and call frequency."""
    rng = np.random.default_rng([seed, 3])
    total = CUSTOMERS + shared + missing
    fresh_ids = rng.choice(900_000, CUSTOMERS + missing, replace=False) + 100_000
    twins = np.sort(rng.choice(CUSTOMERS, shared, replace=False))
    numbers = np.concatenate(
        [fresh_ids[:CUSTOMERS], fresh_ids[twins], fresh_ids[CUSTOMERS:]]
    )
    types = rng.choice(len(voc.CUST_TYPES), total, p=voc.CUST_TYPE_WEIGHTS)
    # A twin is a different person who got the same number under another type.
    types[CUSTOMERS : CUSTOMERS + shared] = (
        types[twins] + 1 + rng.integers(0, 2, shared)
    ) % 3

    first = rng.integers(0, len(voc.FIRST_NAMES), total)
    last = rng.integers(0, len(voc.LAST_NAMES), total)
    old_last = (last + 1 + rng.integers(0, len(voc.LAST_NAMES) - 1, total)) % len(
        voc.LAST_NAMES
    )
    remote = rng.random(total) < REMOTE_SHARE
    site = rng.integers(0, len(voc.SITES), total)
    extension = rng.integers(0, 1000, total)
    title_pick = rng.random(total)
    has_note = rng.random(total) < NOTE_SHARE
    note = rng.integers(0, len(voc.PROFILE_NOTES), total)
    note_null = rng.random(total) < NULL_NOTE_SHARE

    records: dict[str, list[object]] = {key: [] for key in _CUSTOMER_FIELDS}
    for index in range(total):
        cust_type = voc.CUST_TYPES[types[index]]
        given = voc.FIRST_NAMES[first[index]]
        family = voc.LAST_NAMES[last[index]]
        former = voc.LAST_NAMES[old_last[index]]
        titles = voc.JOB_TITLES[cust_type]
        prefix = (
            voc.REMOTE_PHONE_PREFIX
            if remote[index]
            else voc.SITE_PHONE_PREFIXES[site[index]]
        )
        records["cust_id"].append(str(numbers[index]))
        records["cust_type"].append(cust_type)
        records["first_name"].append(given)
        records["last_name"].append(family)
        records["old_last_name"].append(former)
        records["email"].append(
            f"{_ascii_login(given)}.{_ascii_login(family)}@{voc.EMAIL_DOMAIN}"
        )
        records["old_email"].append(
            f"{_ascii_login(given)}.{_ascii_login(former)}@{voc.EMAIL_DOMAIN}"
        )
        records["title"].append(titles[int(title_pick[index] * len(titles))])
        records["phone"].append(f"{prefix}{extension[index]:03d}")
        records["site"].append(
            voc.REMOTE_SITE if remote[index] else voc.SITES[site[index]]
        )
        blank_note: str | None = None if note_null[index] else ""
        records["notes"].append(
            voc.PROFILE_NOTES[note[index]] if has_note[index] else blank_note
        )

    # A few customers call far more often than the rest (heavy-tailed).
    weights = rng.pareto(1.5, CUSTOMERS) + 0.2
    arrays = {key: np.array(values, dtype=object) for key, values in records.items()}
    return Population(
        **arrays,
        twins=twins,
        base_count=CUSTOMERS,
        profile_count=CUSTOMERS + shared,
        call_weights=weights / weights.sum(),
    )


@dataclass(frozen=True, slots=True)
class Planted:
    """Rows of one planted kind, sorted, with a day and a kind-specific code per row."""

    rows: IntArray
    day: IntArray
    code: IntArray

    def local(self, start: int, end: int) -> Planted:
        """Return the rows in ``[start, end)``, renumbered from ``start``."""
        low, high = np.searchsorted(self.rows, [start, end])
        return Planted(
            rows=self.rows[low:high] - start,
            day=self.day[low:high],
            code=self.code[low:high],
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """Every planted row of one database, by kind."""

    calls: int
    kinds: dict[Kind, Planted]
    taken: BoolArray
    clusters: tuple[tuple[int, ...], ...]
    orphan_numbers: IntArray
    population: Population


class _Allocator:
    """Hands out free row indices so that no row carries two planted kinds."""

    def __init__(self, calls: int, rng: np.random.Generator) -> None:
        self.calls = calls
        self.rng = rng
        self.taken = np.zeros(calls, dtype=bool)
        self.cdf = calendar_tables().call_day_cdf

    def position(self, day: int) -> int:
        """Row index whose ordinary received day is about ``day``."""
        return min(self.calls - 1, int(self.cdf[day - 1] * self.calls))

    def near(self, position: int) -> int:
        for delta in range(self.calls):
            for candidate in (position + delta, position - delta):
                if 0 <= candidate < self.calls and not self.taken[candidate]:
                    self.taken[candidate] = True
                    return candidate
        raise ValueError("no free row left for a planted call")

    def anywhere(self, count: int) -> IntArray:
        free = np.flatnonzero(~self.taken)
        rows = np.sort(self.rng.choice(free, count, replace=False))
        self.taken[rows] = True
        return rows

    def duplicate_pairs(self, count: int) -> IntArray:
        """Rows that repeat the CallID of the row before, both in one chunk."""
        rows: list[int] = []
        for row in self.rng.permutation(np.arange(1, self.calls)).tolist():
            if len(rows) == count:
                break
            if row % CHUNK_CALLS and not self.taken[row] and not self.taken[row - 1]:
                self.taken[row - 1 : row + 1] = True
                rows.append(row)
        return np.sort(np.array(rows, dtype=np.int64))


def _planted(rows: IntArray | list[int], day: object = 0, code: object = 0) -> Planted:
    array = np.asarray(rows, dtype=np.int64)
    order = np.argsort(array, kind="stable")
    days = np.broadcast_to(np.asarray(day, dtype=np.int64), array.shape)
    codes = np.broadcast_to(np.asarray(code, dtype=np.int64), array.shape)
    return Planted(rows=array[order], day=days[order], code=codes[order])


def _plan_dated(allocator: _Allocator, counts: dict[Kind, int]) -> dict[Kind, Planted]:
    """Plant the calls whose received time sits in a DST transition hour."""
    tables = calendar_tables()
    kinds: dict[Kind, Planted] = {}
    for kind, days in (
        (Kind.DST_GAP, tables.spring_forward_days),
        (Kind.DST_AMBIGUOUS, tables.fall_back_days),
    ):
        chosen = [days[index % len(days)] for index in range(counts[kind])]
        rows = [allocator.near(allocator.position(day)) for day in chosen]
        second = allocator.rng.integers(0, 3600, len(rows))
        kinds[kind] = _planted(rows, chosen, second)
    return kinds


def _plan_clusters(
    allocator: _Allocator, cluster_count: int
) -> tuple[Planted, tuple[tuple[int, ...], ...]]:
    """Plant groups of near-identical Incident calls a few days apart."""
    rng = allocator.rng
    first, last = day_number(RANGE_START) + 7, day_number(RANGE_END) - 7
    rows: list[int] = []
    days: list[int] = []
    codes: list[int] = []
    clusters: list[tuple[int, ...]] = []
    for cluster in range(cluster_count):
        theme = cluster % len(voc.CLUSTER_THEMES)
        variants = len(voc.CLUSTER_THEMES[theme][1])
        anchor = int(rng.integers(first, last))
        weekday = (FIRST_DAY + timedelta(days=anchor)).weekday()
        anchor -= max(0, weekday - 4)  # a weekend start moves back to Friday
        size = 4 + int(rng.integers(0, 3))
        offsets = np.sort(rng.integers(0, 4, size))
        members = []
        for member, offset in enumerate(offsets.tolist()):
            day = anchor + offset
            members.append(allocator.near(allocator.position(day)))
            days.append(day)
            variant = (member + int(rng.integers(0, variants))) % variants
            suffix = int(rng.integers(0, len(voc.CLUSTER_SUFFIXES)))
            codes.append(theme * 256 + variant * 16 + suffix)
        rows.extend(members)
        clusters.append(tuple(sorted(members)))
    return _planted(rows, days, codes), tuple(clusters)


def _plan_customers(
    allocator: _Allocator, population: Population, missing: int
) -> dict[Kind, Planted]:
    """Give both holders of a shared CustID, and each unprofiled customer, 1-2 calls."""
    kinds: dict[Kind, Planted] = {}
    twins = np.arange(population.base_count, population.profile_count)
    for kind, chosen in (
        (Kind.SHARED_CUSTOMER, np.concatenate([twins, population.twins])),
        (Kind.MISSING_CUSTOMER, population.profile_count + np.arange(missing)),
    ):
        count = len(chosen)
        customers = np.repeat(chosen, 1 + allocator.rng.integers(0, 2, count))
        rows = allocator.anywhere(len(customers))
        kinds[kind] = _planted(rows, 0, allocator.rng.permutation(customers))
    return kinds


def build_plan(calls: int, seed: int) -> Plan:
    """Decide, for a database of ``calls`` CallLog rows, every planted row."""
    rng = np.random.default_rng([seed, 0])
    counts = planted_counts(calls)
    shared, missing = max(2, calls // 100_000), max(3, calls // 2000)
    population = build_population(seed, shared, missing)
    allocator = _Allocator(calls, rng)

    # Rows tied to a date go first, so they find free rows near that date.
    kinds = _plan_dated(allocator, counts)
    kinds[Kind.CLUSTER], clusters = _plan_clusters(allocator, max(3, calls // 25_000))
    duplicates = allocator.duplicate_pairs(counts[Kind.DUPLICATE])
    kinds[Kind.DUPLICATE] = _planted(duplicates)
    kinds[Kind.DUPLICATE_ORIGINAL] = _planted(duplicates - 1)
    kinds.update(_plan_customers(allocator, population, missing))

    codes = {
        Kind.UNPARSEABLE_DATE: len(voc.UNPARSEABLE_DATES),
        Kind.CLOSED_BEFORE_OPENED: 20,
        Kind.OPEN_WITH_CLOSE_DATE: 2,
        Kind.REQUEST_LIKE_INCIDENT: len(voc.REQUEST_LIKE_INCIDENTS),
        Kind.CONTROL_DESCRIPTION: len(voc.CONTROL_CHARS),
    }
    for kind, count in counts.items():
        if kind not in kinds:
            rows = allocator.anywhere(count)
            kinds[kind] = _planted(rows, 0, rng.integers(0, codes.get(kind, 1), count))

    orphans = np.sort(rng.choice(5000, max(3, calls // 1000), replace=False))
    return Plan(
        calls=calls,
        kinds=kinds,
        taken=allocator.taken,
        clusters=clusters,
        orphan_numbers=orphans + FIRST_CALL_NUMBER - 5000,
        population=population,
    )
