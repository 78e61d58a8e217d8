"""Drawing the calls of one chunk: who, what, when, and their CallLog columns.

Everything is vectorised over the calls of the chunk. A call's events run on business
time (seconds of 07:00-22:00 working days, see :mod:`~itilmigrate.generator.dates`):
received, assigned, acknowledged, resolved and closed follow each other in that order
unless a planted defect says otherwise.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.dates import (
    RANGE_END,
    WINDOW,
    WINDOW_START,
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    calendar_tables,
    day_number,
)
from itilmigrate.generator.plan import FIRST_CALL_NUMBER, Kind, Plan, Planted

MAX_ASSIGNMENTS = 4
ASSIGNMENT_WEIGHTS = (0.15, 0.45, 0.22, 0.12, 0.06)
JOURNAL_WEIGHTS = (0.20, 0.30, 0.22, 0.14, 0.09, 0.05)
NULL_SHARE = 0.15
"""Share of rows whose blank fields are NULL rather than ''."""
RECENT_DAYS = 30
"""Calls received in the last days of the range are often still open."""
OFFICE_HOURS_SHARE = 0.8
BLANK_CATEGORY_SHARE = 0.05
SERVICE_DESK_LOGS_SHARE = 0.85
"""Share of calls logged by a Service Desk analyst rather than anyone else."""
OWN_CALL_SHARE = 0.8
"""Share of calls whose Tracker (owner) is the analyst who logged them."""
UNACKNOWLEDGED_SHARE = 0.4
"""Share of open calls whose current assignment is not yet acknowledged."""
UNSET = -1.0
"""Business time of an event that has not happened (an empty date)."""

_FIRST_SENTENCE = re.compile(r"(?<=[.?]) ")

ANALYST_LOGINS = np.array([login for login, _ in voc.ANALYSTS], dtype=object)
ANALYST_NAMES = np.array([name for _, name in voc.ANALYSTS], dtype=object)
CATEGORY_NAMES = np.array((*voc.CATEGORIES, ""), dtype=object)
BLANK_CATEGORY = len(voc.CATEGORIES)
CATEGORY_HEADINGS = np.array(
    [voc.CATEGORY_HEADINGS[c] for c in CATEGORY_NAMES], dtype=object
)
CATEGORY_GROUPS = np.array(
    [voc.CATEGORY_GROUPS[c] for c in CATEGORY_NAMES], dtype=np.int64
)
CALL_TYPE_NAMES = np.array([name for name, *_ in voc.CALL_TYPES], dtype=object)
STATUS_NAMES = np.array(voc.STATUSES, dtype=object)


def category_index(name: str) -> int:
    """Return the index of a category name in :data:`CATEGORY_NAMES`."""
    return (*voc.CATEGORIES, "").index(name)


@dataclass(frozen=True, slots=True)
class DescriptionPool:
    """All (category, short description) options, grouped by call type."""

    category: IntArray
    text: ObjArray
    sentence: ObjArray
    offset: IntArray
    size: IntArray


@functools.cache
def description_pool() -> DescriptionPool:
    """Flatten the vocabulary's descriptions into arrays indexed per call type."""
    categories: list[int] = []
    texts: list[str] = []
    offsets: list[int] = []
    for name, _, source, _ in voc.CALL_TYPES:
        offsets.append(len(texts))
        if source.startswith("fault:"):
            wanted = (
                source.removeprefix("fault:").split(",") if source != "fault:" else []
            )
            options = [
                (category, text)
                for category, faults in voc.FAULTS.items()
                if not wanted or category in wanted
                for text in faults
            ]
        elif source == "request":
            options = [
                (c, text) for c, requests in voc.REQUESTS.items() for text in requests
            ]
        else:
            options = list(voc.OTHER_TEXTS[name])
        categories.extend(category_index(category) for category, _ in options)
        texts.extend(text for _, text in options)
    sizes = np.diff([*offsets, len(texts)])
    return DescriptionPool(
        category=np.array(categories, dtype=np.int64),
        text=np.array(texts, dtype=object),
        sentence=np.array(
            [t if t.endswith("?") else f"{t}." for t in texts], dtype=object
        ),
        offset=np.array(offsets, dtype=np.int64),
        size=np.asarray(sizes, dtype=np.int64),
    )


@dataclass(slots=True)
class Calls:
    """The calls of one chunk as parallel arrays, before formatting."""

    number: IntArray
    day: IntArray
    time: IntArray
    anchor: FloatArray
    call_type: IntArray
    category: IntArray
    short: ObjArray
    description: ObjArray
    source: IntArray
    priority: ObjArray
    customer: IntArray
    received_by: IntArray
    tracker: IntArray
    status: IntArray
    assignment_count: IntArray
    journal_count: IntArray
    null_row: BoolArray

    @property
    def closed(self) -> BoolArray:
        """Calls whose status carries the Closed* fields (Closed, Cancelled)."""
        closed: BoolArray = np.isin(self.status, voc.CLOSED_STATUSES)
        return closed

    @property
    def finished(self) -> BoolArray:
        """Calls whose assignments are all resolved (closed or resolved)."""
        finished: BoolArray = self.closed | (self.status == voc.STATUS_RESOLVED)
        return finished


@dataclass(frozen=True, slots=True)
class Timeline:
    """Business times of each call's events; :data:`UNSET` where none happened."""

    assigned: FloatArray
    acknowledged: FloatArray
    resolved: FloatArray
    closed: FloatArray
    journal: FloatArray
    journal_call: IntArray
    modified: FloatArray


def _received_times(rng: np.random.Generator, count: int) -> IntArray:
    """Seconds of the day calls arrive: mostly office hours, some in the evening."""
    office = np.clip(rng.normal(4.5 * 3600, 2.5 * 3600, count), 1800, 12 * 3600)
    anytime = rng.uniform(0, WINDOW - 1, count)
    offset = np.where(rng.random(count) < OFFICE_HOURS_SHARE, office, anytime)
    return WINDOW_START + offset.astype(np.int64)


def _draw_statuses(rng: np.random.Generator, day: IntArray) -> IntArray:
    old = rng.choice(len(voc.STATUSES), len(day), p=voc.OLD_STATUS_WEIGHTS)
    new = rng.choice(len(voc.STATUSES), len(day), p=voc.NEW_STATUS_WEIGHTS)
    recent = day > day_number(RANGE_END) - RECENT_DAYS
    return np.where(recent, new, old)


def draw_calls(rng: np.random.Generator, plan: Plan, start: int, count: int) -> Calls:
    """Draw ordinary values for rows ``[start, start + count)``."""
    tables = calendar_tables()
    pool = description_pool()
    weights = np.array([weight for _, weight, *_ in voc.CALL_TYPES])
    quantile = (np.arange(start, start + count) + rng.random(count)) / plan.calls
    day = np.searchsorted(tables.call_day_cdf, quantile, side="right").astype(np.int64)
    time = _received_times(rng, count)

    call_type = rng.choice(len(weights), count, p=weights / weights.sum())
    pick = (rng.random(count) * pool.size[call_type]).astype(np.int64)
    option = pool.offset[call_type] + pick
    category = pool.category[option]
    blank = (call_type == voc.INCIDENT) & (rng.random(count) < BLANK_CATEGORY_SHARE)
    category[blank] = BLANK_CATEGORY
    detail = np.array(voc.DETAILS, dtype=object)[
        rng.integers(0, len(voc.DETAILS), count)
    ]

    received_by = np.where(
        rng.random(count) < SERVICE_DESK_LOGS_SHARE,
        rng.integers(0, voc.ANALYSTS_PER_GROUP, count),
        rng.integers(0, len(voc.ANALYSTS), count),
    )
    status = _draw_statuses(rng, day)
    assignments = rng.choice(len(ASSIGNMENT_WEIGHTS), count, p=ASSIGNMENT_WEIGHTS)
    assignments[status == voc.STATUS_LOGGED] = 0
    return Calls(
        number=_numbers(start, count),
        day=day,
        time=time,
        anchor=np.zeros(count),
        call_type=call_type,
        category=category,
        short=pool.text[option],
        description=pool.sentence[option] + " " + detail,
        source=rng.choice(len(voc.CALL_SOURCES), count, p=voc.CALL_SOURCE_WEIGHTS),
        priority=np.array(voc.PRIORITIES, dtype=object)[
            rng.choice(len(voc.PRIORITIES), count, p=voc.PRIORITY_WEIGHTS)
        ],
        customer=rng.choice(
            plan.population.base_count, count, p=plan.population.call_weights
        ),
        received_by=received_by,
        tracker=np.where(
            rng.random(count) < OWN_CALL_SHARE,
            received_by,
            rng.integers(0, len(voc.ANALYSTS), count),
        ),
        status=status,
        assignment_count=assignments,
        journal_count=rng.choice(len(JOURNAL_WEIGHTS), count, p=JOURNAL_WEIGHTS),
        null_row=rng.random(count) < NULL_SHARE,
    )


def _numbers(start: int, count: int) -> IntArray:
    """Call numbers of rows ``[start, start + count)`` before duplicates are copied."""
    return np.arange(start, start + count, dtype=np.int64) + FIRST_CALL_NUMBER


def _plant_descriptions(calls: Calls, local: dict[Kind, Planted]) -> None:
    """Clusters, request-like incidents, HTML and control characters in CallDesc."""
    cluster = local[Kind.CLUSTER]
    for row, day, code in zip(
        cluster.rows.tolist(), cluster.day.tolist(), cluster.code.tolist(), strict=True
    ):
        category, variants = voc.CLUSTER_THEMES[code // 256]
        text = variants[code // 16 % 16]
        calls.call_type[row] = voc.INCIDENT
        calls.category[row] = category_index(category)
        calls.short[row] = text
        calls.description[row] = text + voc.CLUSTER_SUFFIXES[code % 16]
        calls.day[row] = day
    request = local[Kind.REQUEST_LIKE_INCIDENT]
    for row, code in zip(request.rows.tolist(), request.code.tolist(), strict=True):
        category, text = voc.REQUEST_LIKE_INCIDENTS[code]
        calls.call_type[row] = voc.INCIDENT
        calls.category[row] = category_index(category)
        calls.short[row] = text
        calls.description[row] = f"{text}. Thanks"

    # Web-form calls: the first sentence and the rest in paragraphs.
    html = local[Kind.HTML_DESCRIPTION].rows
    calls.description[html] = [
        voc.HTML_TEMPLATE.format(*_FIRST_SENTENCE.split(description, maxsplit=1))
        for description in calls.description[html]
    ]
    script = local[Kind.SCRIPT_DESCRIPTION].rows
    calls.description[script] = voc.SCRIPT_DESCRIPTION
    calls.source[np.concatenate([html, script])] = voc.CALL_SOURCES.index("Web")
    control = local[Kind.CONTROL_DESCRIPTION]
    calls.description[control.rows] = [
        # NUL arrives as padding at the end of a fixed-width field copied into the memo.
        f"{text}\x00\x00\x00" if voc.CONTROL_CHARS[code] == "\x00" else
        f"{text[:10]}{voc.CONTROL_CHARS[code]}{text[10:]}"
        for text, code in zip(
            calls.description[control.rows], control.code, strict=True
        )
    ]  # fmt: skip


def plant_calls(calls: Calls, local: dict[Kind, Planted]) -> None:
    """Overwrite the ordinary values of planted rows; duplicates copy their original."""
    _plant_descriptions(calls, local)
    for kind in (Kind.DST_GAP, Kind.DST_AMBIGUOUS):
        planted = local[kind]
        calls.day[planted.rows] = planted.day
        calls.time[planted.rows] = 3600 + planted.code
    for kind in (Kind.MISSING_CUSTOMER, Kind.SHARED_CUSTOMER):
        calls.customer[local[kind].rows] = local[kind].code
    for kind in (Kind.CLOSED_BEFORE_OPENED, Kind.CLOSED_WITHOUT_DATE):
        calls.status[local[kind].rows] = voc.STATUS_CLOSED
    reopened = local[Kind.OPEN_WITH_CLOSE_DATE]
    calls.status[reopened.rows] = np.where(
        reopened.code == 1, voc.STATUS_REOPENED, voc.STATUS_OPEN
    )
    calls.priority[local[Kind.UNMAPPED_PRIORITY].rows] = voc.UNMAPPED_PRIORITY

    # A duplicate is a stale copy of the call before it: same ID, customer, type and
    # description, still open, with no assignments or journals of its own.
    copy = local[Kind.DUPLICATE].rows
    for array in (
        calls.number, calls.day, calls.time, calls.call_type, calls.category,
        calls.short, calls.description, calls.source, calls.priority, calls.customer,
        calls.received_by, calls.tracker,
    ):  # fmt: skip
        array[copy] = array[copy - 1]
    calls.status[copy] = voc.STATUS_OPEN
    calls.assignment_count[copy] = 0
    calls.journal_count[copy] = 0

    offset = np.clip(calls.time - WINDOW_START, 0, WINDOW - 1)
    calls.anchor = (calls.day * WINDOW + offset).astype(np.float64)


def _assignment_times(
    rng: np.random.Generator, calls: Calls
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Assign, acknowledge and resolve times per call and slot, and the close time."""
    count = len(calls.day)
    gaps = rng.exponential(21_600, (count, MAX_ASSIGNMENTS)) + 300
    first = calls.anchor + rng.exponential(900, count) + 30
    assigned = first[:, None] + np.concatenate(
        [np.zeros((count, 1)), np.cumsum(gaps[:, :-1], axis=1)], axis=1
    )
    acknowledged = assigned + np.minimum(
        rng.exponential(1800, assigned.shape) + 60, gaps / 2
    )
    resolved = assigned + gaps

    rows = np.arange(count)
    last = np.maximum(calls.assignment_count - 1, 0)
    has = calls.assignment_count > 0
    open_last = has & ~calls.finished
    fixed = assigned[rows, last] + rng.exponential(40_000, count) + 600
    resolved[rows, last] = np.where(calls.finished, fixed, UNSET)
    unacknowledged = open_last & (rng.random(count) < UNACKNOWLEDGED_SHARE)
    acknowledged[rows[unacknowledged], last[unacknowledged]] = UNSET
    closed = np.where(
        has,
        fixed + rng.exponential(7200, count) + 60,
        calls.anchor + rng.exponential(1800, count) + 60,
    )
    return assigned, acknowledged, resolved, closed


def draw_timeline(
    rng: np.random.Generator, calls: Calls, local: dict[Kind, Planted]
) -> Timeline:
    """Draw the business times of every event of the chunk's calls."""
    assigned, acknowledged, resolved, closed = _assignment_times(rng, calls)
    reopened = local[Kind.OPEN_WITH_CLOSE_DATE].rows
    closed[reopened] = calls.anchor[reopened] + 300
    early = local[Kind.CLOSED_BEFORE_OPENED]
    closed[early.rows] = (
        calls.day[early.rows] - 1 - early.code
    ) * WINDOW + rng.uniform(0, WINDOW - 1, len(early.rows))

    counts = calls.journal_count
    journal_call = np.repeat(np.arange(len(counts)), counts)
    steps = rng.exponential(14_400, len(journal_call)) + 60
    ends = np.cumsum(steps)
    firsts = np.cumsum(counts)[counts > 0] - counts[counts > 0]
    restart = np.repeat(ends[firsts] - steps[firsts], counts[counts > 0])
    journal = calls.anchor[journal_call] + ends - restart

    slots = np.arange(MAX_ASSIGNMENTS) < calls.assignment_count[:, None]
    latest = np.maximum(np.maximum(assigned, acknowledged), resolved)
    modified = np.maximum(calls.anchor, np.where(slots, latest, UNSET).max(axis=1))
    has_close = calls.closed.copy()
    has_close[reopened] = True
    modified = np.where(has_close, np.maximum(modified, closed), modified)
    has_journal = counts > 0
    modified[has_journal] = np.maximum(
        modified[has_journal], journal[np.cumsum(counts)[has_journal] - 1]
    )
    return Timeline(
        assigned=assigned,
        acknowledged=acknowledged,
        resolved=resolved,
        closed=closed,
        journal=journal,
        journal_call=journal_call,
        modified=modified,
    )


def split_time(moment: FloatArray) -> tuple[IntArray, IntArray]:
    """Turn business times into (day number, second of the day)."""
    seconds = np.floor(moment).astype(np.int64)
    day = np.clip(seconds // WINDOW, 0, calendar_tables().last_index)
    return day, WINDOW_START + seconds % WINDOW


def blanks(values: ObjArray, blank: BoolArray, null_row: BoolArray) -> ObjArray:
    """Return ``values`` with blank cells set to NULL on NULL rows and '' elsewhere."""
    result = values.copy()
    result[blank & null_row] = None
    result[blank & ~null_row] = ""
    return result
