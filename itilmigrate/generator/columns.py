"""Formatting one chunk's calls into the text columns of the five HEAT tables.

Each function returns one list per column, in the order of
:data:`itilmigrate.generator.schema.COLUMNS`, and adds what it wrote to the
:class:`Tally` the manifest is built from.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.calls import (
    ANALYST_LOGINS,
    ANALYST_NAMES,
    BLANK_CATEGORY,
    CALL_TYPE_NAMES,
    CATEGORY_GROUPS,
    CATEGORY_HEADINGS,
    CATEGORY_NAMES,
    MAX_ASSIGNMENTS,
    STATUS_NAMES,
    Calls,
    Timeline,
    blanks,
    split_time,
)
from itilmigrate.generator.dates import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjArray,
    calendar_tables,
)
from itilmigrate.generator.plan import Kind, Planted, Population
from itilmigrate.generator.schema import (
    ASGNMNT,
    CALLLOG,
    COLUMNS,
    JOURNAL,
    PROFILE,
    SUBSET,
)

TableData: TypeAlias = list[list[object]]
"""One list of values per column, in schema order."""

PADDED_SHARE = 0.03
STATUS_VARIANT_SHARE = 0.02
BOUNCE_SHARE = 0.3
"""Share of third and fourth assignments that go back to the group before last."""
HOME_GROUP_SHARE = 0.6
"""Share of first assignments that go to the usual group of the call's category."""
TEMP_FIELD_BLANK_SHARE = 0.9


@dataclass(slots=True)
class Tally:
    """What the chunks wrote, counted as they were built."""

    assignments: int = 0
    journals: int = 0
    subsets: int = 0
    rtf_journals: int = 0
    cp1252_journals: int = 0
    control_char_journals: int = 0
    status_variant_calls: int = 0
    padded_call_ids: int = 0
    padded_child_rows: int = 0
    bounced_calls: int = 0
    blank_priority_calls: int = 0
    call_types: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


def _ordered(table: str, values: dict[str, ObjArray | list[object]]) -> TableData:
    return [
        value.tolist() if isinstance(value, np.ndarray) else value
        for value in (values[name] for name, _ in COLUMNS[table])
    ]


def call_ids(numbers: IntArray) -> ObjArray:
    """Format call numbers as HEAT CallIDs: eight zero-padded digits."""
    return np.array([f"{number:08d}" for number in numbers.tolist()], dtype=object)


def _pad(rng: np.random.Generator, ids: ObjArray) -> tuple[ObjArray, int]:
    """Right-pad a few CallIDs with spaces, as a CHAR column copy would hold them."""
    padded = rng.random(len(ids)) < PADDED_SHARE
    result = ids.copy()
    result[padded] = result[padded] + "  "
    return result, int(padded.sum())


def _dates(day: IntArray, dmy: IntArray) -> ObjArray:
    tables = calendar_tables()
    result = tables.iso_dates[day]
    result[dmy] = tables.dmy_dates[day[dmy]]
    return result


def _status_text(
    rng: np.random.Generator, calls: Calls, ordinary: BoolArray
) -> ObjArray:
    """Status names, with case and whitespace variants on a few ordinary calls."""
    text = STATUS_NAMES[calls.status]
    variant = np.flatnonzero(ordinary & (rng.random(len(text)) < STATUS_VARIANT_SHARE))
    styles = rng.integers(0, 4, len(variant))
    text[variant] = [
        (name.lower(), f"{name.upper()} ", f" {name}", f"{name}  ")[style]
        for name, style in zip(text[variant], styles.tolist(), strict=True)
    ]
    return text


@functools.cache
def _close_pool() -> tuple[ObjArray, IntArray, IntArray]:
    """Closing texts flattened, with each call type's offset and count in the array."""
    families = list(voc.CLOSE_TEXTS)
    texts = [text for family in families for text in voc.CLOSE_TEXTS[family]]
    starts = np.cumsum([0, *(len(voc.CLOSE_TEXTS[family]) for family in families)])
    family = [families.index(name) for *_, name in voc.CALL_TYPES]
    return (
        np.array(texts, dtype=object),
        np.asarray(starts[family], dtype=np.int64),
        np.asarray(starts[np.add(family, 1)] - starts[family], dtype=np.int64),
    )


def _close_texts(rng: np.random.Generator, call_type: IntArray) -> ObjArray:
    texts, offsets, sizes = _close_pool()
    pick = (rng.random(len(call_type)) * sizes[call_type]).astype(np.int64)
    chosen: ObjArray = texts[offsets[call_type] + pick]
    return chosen


def calllog_columns(
    rng: np.random.Generator,
    calls: Calls,
    timeline: Timeline,
    local: dict[Kind, Planted],
    context: tuple[Population, BoolArray, IntArray],
    tally: Tally,
) -> TableData:
    """Format the CallLog columns of a chunk.

    Args:
        rng: The chunk's random generator.
        calls: The chunk's calls, planted values included.
        timeline: Their event times.
        local: The chunk's planted rows by kind.
        context: The customers, the mask of ordinary (unplanted) calls, and the index of
            each call's last assignee (-1 without assignments).
        tally: Counts to add to.
    """
    population, ordinary, last_analyst = context
    tables = calendar_tables()
    count = len(calls.day)
    null = calls.null_row
    dmy = local[Kind.DMY_DATE].rows
    reopened = np.zeros(count, dtype=bool)
    reopened[local[Kind.OPEN_WITH_CLOSE_DATE].rows] = True
    has_close = calls.closed | reopened
    has_resolution = calls.finished | reopened

    received = _dates(calls.day, dmy)
    unparseable = local[Kind.UNPARSEABLE_DATE]
    received[unparseable.rows] = np.array(voc.UNPARSEABLE_DATES, dtype=object)[
        unparseable.code
    ]
    close_day, close_second = split_time(timeline.closed)
    no_close_date = ~has_close
    no_close_date[local[Kind.CLOSED_WITHOUT_DATE].rows] = True
    mod_day, mod_second = split_time(timeline.modified)
    closer = ANALYST_LOGINS[
        np.where(last_analyst >= 0, last_analyst, calls.received_by)
    ]
    close_text = np.where(
        calls.status == voc.STATUS_CANCELLED,
        np.array(voc.CANCEL_TEXTS, dtype=object)[
            rng.integers(0, len(voc.CANCEL_TEXTS), count)
        ],
        _close_texts(rng, calls.call_type),
    )
    modifier = np.where(has_close, closer, ANALYST_LOGINS[calls.tracker])

    ids, padded = _pad(rng, call_ids(calls.number))
    status = _status_text(rng, calls, ordinary)
    first_fix = np.where(calls.assignment_count == 0, "Yes", "No").astype(object)
    vandalism = np.array(("N", "", "Y"), dtype=object)[
        rng.choice(3, count, p=(0.6, 0.38, 0.02))
    ]
    temp = np.array(voc.TEMP_FIELD_VALUES, dtype=object)[
        rng.integers(0, len(voc.TEMP_FIELD_VALUES), count)
    ]
    values: dict[str, ObjArray | list[object]] = {
        "CallID": ids,
        "CustID": population.cust_id[calls.customer],
        "CustType": population.cust_type[calls.customer],
        "CallType": CALL_TYPE_NAMES[calls.call_type],
        "Tracker": ANALYST_LOGINS[calls.tracker],
        "CallStatus": status,
        "Priority": blanks(calls.priority, calls.priority == "", null),
        "CallSource": np.array(voc.CALL_SOURCES, dtype=object)[calls.source],
        "Category": blanks(
            CATEGORY_NAMES[calls.category], calls.category == BLANK_CATEGORY, null
        ),
        "CatHeading": blanks(
            CATEGORY_HEADINGS[calls.category], calls.category == BLANK_CATEGORY, null
        ),
        "RecvdBy": ANALYST_LOGINS[calls.received_by],
        "RecvdDate": received,
        "RecvdTime": tables.times[calls.time],
        "ClosedBy": blanks(closer, ~has_close, null),
        "ClosedDate": blanks(_dates(close_day, dmy), no_close_date, null),
        "ClosedTime": blanks(tables.times[close_second], no_close_date, null),
        "ModBy": modifier,
        "ModDate": _dates(mod_day, dmy),
        "ModTime": tables.times[mod_second],
        "DTLastMod": (
            tables.epoch_seconds[mod_day] + mod_second - 3600 * tables.bst[mod_day]
        ).tolist(),
        "CallDesc": calls.description,
        "CloseDesc": blanks(close_text, ~has_resolution, null),
        "Cause": blanks(
            np.array(voc.CAUSES, dtype=object)[rng.integers(0, len(voc.CAUSES), count)],
            ~has_resolution,
            null,
        ),
        "FirstResolution": blanks(first_fix, ~calls.finished, null),
        "ShortDesc": calls.short,
        "Site": population.site[calls.customer],
        "Vandalism": blanks(vandalism, vandalism == "", null),
        "TempField": blanks(temp, rng.random(count) < TEMP_FIELD_BLANK_SHARE, null),
    }
    tally.padded_call_ids += padded
    tally.blank_priority_calls += int((calls.priority == "").sum())
    tally.status_variant_calls += int((status != STATUS_NAMES[calls.status]).sum())
    tally.call_types.update(CALL_TYPE_NAMES[calls.call_type].tolist())
    tally.statuses.update(STATUS_NAMES[calls.status].tolist())
    return _ordered(CALLLOG, values)


def subset_columns(
    rng: np.random.Generator,
    calls: Calls,
    local: dict[Kind, Planted],
    population: Population,
    tally: Tally,
) -> TableData:
    """Format the Subset columns: one copy of the customer per CallID."""
    keep = np.ones(len(calls.day), dtype=bool)
    keep[local[Kind.DUPLICATE].rows] = False
    kept = np.flatnonzero(keep)
    customer = calls.customer[kept]
    ids, padded = _pad(rng, call_ids(calls.number[kept]))
    last_name = population.last_name[customer]
    email = population.email[customer]
    # The customer changed surname (and e-mail) after these calls were logged.
    stale = np.searchsorted(kept, local[Kind.SUBSET_MISMATCH].rows)
    last_name[stale] = population.old_last_name[customer[stale]]
    email[stale] = population.old_email[customer[stale]]

    tally.subsets += len(kept)
    tally.padded_child_rows += padded
    return _ordered(
        SUBSET,
        {
            "CallID": ids,
            "CustID": population.cust_id[customer],
            "CustType": population.cust_type[customer],
            "FirstName": population.first_name[customer],
            "LastName": last_name,
            "EMailID": email,
            "Phone": population.phone[customer],
            "Site": population.site[customer],
        },
    )


def profile_columns(population: Population) -> TableData:
    """Format the Profile columns: every customer with a profile, twins included."""
    profiled = slice(0, population.profile_count)
    return _ordered(
        PROFILE,
        {
            "CustID": population.cust_id[profiled],
            "CustType": population.cust_type[profiled],
            "FirstName": population.first_name[profiled],
            "LastName": population.last_name[profiled],
            "Title": population.title[profiled],
            "EMailID": population.email[profiled],
            "Phone": population.phone[profiled],
            "Site": population.site[profiled],
            "Notes": population.notes[profiled],
        },
    )


def _group_paths(rng: np.random.Generator, calls: Calls) -> IntArray:
    """Groups of each call's assignment slots; some bounce back (A, B, A)."""
    count = len(calls.day)
    size = len(voc.GROUPS)
    groups = np.empty((count, MAX_ASSIGNMENTS), dtype=np.int64)
    groups[:, 0] = np.where(
        rng.random(count) < HOME_GROUP_SHARE,
        CATEGORY_GROUPS[calls.category],
        rng.integers(0, size, count),
    )
    for slot in range(1, MAX_ASSIGNMENTS):
        onward = (groups[:, slot - 1] + 1 + rng.integers(0, size - 1, count)) % size
        if slot > 1:
            back = rng.random(count) < BOUNCE_SHARE
            onward = np.where(back, groups[:, slot - 2], onward)
        groups[:, slot] = onward
    return groups


def _when(moment: FloatArray, null: BoolArray) -> tuple[ObjArray, ObjArray]:
    """Date and time texts of business times, blank where the event did not happen."""
    tables = calendar_tables()
    day, second = split_time(moment)
    unset = moment < 0
    return blanks(tables.iso_dates[day], unset, null), blanks(
        tables.times[second], unset, null
    )


def assignment_columns(
    rng: np.random.Generator,
    calls: Calls,
    timeline: Timeline,
    heat_seq: int,
    tally: Tally,
) -> tuple[TableData, IntArray]:
    """Format the Asgnmnt columns; also return each call's last assignee (or -1)."""
    groups = _group_paths(rng, calls)
    analysts = groups * voc.ANALYSTS_PER_GROUP + rng.integers(
        0, voc.ANALYSTS_PER_GROUP, groups.shape
    )
    counts = calls.assignment_count
    call = np.repeat(np.arange(len(counts)), counts)
    slot = np.arange(len(call)) - np.repeat(np.cumsum(counts) - counts, counts)
    group, analyst = groups[call, slot], analysts[call, slot]
    null = calls.null_row[call]
    previous = analysts[call, np.maximum(slot - 1, 0)]
    resolved = timeline.resolved[call, slot]
    acknowledged = timeline.acknowledged[call, slot]

    is_last = slot == counts[call] - 1
    handed_on = (
        "Passed to "
        + np.array(voc.GROUPS, dtype=object)[
            groups[call, np.minimum(slot + 1, MAX_ASSIGNMENTS - 1)]
        ]
    )
    codes = np.array(voc.RESOLUTION_CODES, dtype=object)[
        rng.integers(0, len(voc.RESOLUTION_CODES), len(call))
    ]
    assign_date, assign_time = _when(timeline.assigned[call, slot], null)
    acknow_date, acknow_time = _when(acknowledged, null)
    resolv_date, resolv_time = _when(resolved, null)
    ids, padded = _pad(rng, call_ids(calls.number)[call])
    values: dict[str, ObjArray | list[object]] = {
        "CallID": ids,
        "HEATSeq": list(range(heat_seq, heat_seq + len(call))),
        "AssignedBy": ANALYST_LOGINS[
            np.where(slot == 0, calls.received_by[call], previous)
        ],
        "DateAssign": assign_date,
        "TimeAssign": assign_time,
        "Assignee": ANALYST_NAMES[analyst],
        "GroupName": np.array(voc.GROUPS, dtype=object)[group],
        "LoginID": ANALYST_LOGINS[analyst],
        "DateAcknow": acknow_date,
        "TimeAcknow": acknow_time,
        "WhoAcknow": blanks(ANALYST_LOGINS[analyst], acknowledged < 0, null),
        "DateResolv": resolv_date,
        "TimeResolv": resolv_time,
        "WhoResolv": blanks(ANALYST_LOGINS[analyst], resolved < 0, null),
        "Resolution": blanks(np.where(is_last, codes, handed_on), resolved < 0, null),
    }

    used = np.arange(MAX_ASSIGNMENTS) < counts[:, None]
    bounced = used[:, 2:] & (groups[:, 2:] == groups[:, :-2])
    tally.bounced_calls += int(bounced.any(axis=1).sum())
    tally.assignments += len(call)
    tally.padded_child_rows += padded
    rows = np.arange(len(counts))
    last = np.where(counts > 0, analysts[rows, np.maximum(counts - 1, 0)], -1)
    return _ordered(ASGNMNT, values), last


@functools.cache
def _journal_pool() -> tuple[ObjArray, IntArray, IntArray, ObjArray]:
    texts = [text for kind in voc.JOURNAL_TYPES for text in voc.JOURNAL_TEXTS[kind]]
    sizes = [len(voc.JOURNAL_TEXTS[kind]) for kind in voc.JOURNAL_TYPES]
    offsets = np.cumsum([0, *sizes[:-1]])
    # The UTF-8 bytes of correct text, read back as cp1252: what ftfy.fix_text undoes.
    mojibake = [text.encode("utf-8").decode("cp1252") for text in voc.NON_ASCII_TEXTS]
    return (
        np.array(texts, dtype=object),
        np.asarray(offsets, dtype=np.int64),
        np.array(sizes, dtype=np.int64),
        np.array(mojibake, dtype=object),
    )


def _plant_journal_texts(
    rng: np.random.Generator, text: ObjArray, tally: Tally
) -> None:
    """Turn a few entries into RTF, cp1252 mojibake or text with control characters."""
    total = len(text)
    wanted = [max(1, round(total * share)) for share in (0.02, 0.01, 0.003)]
    rtf_count, mojibake_count, control_count = (
        wanted if sum(wanted) <= total else [min(1, total), 0, 0]
    )
    order = rng.permutation(total)
    rtf = order[:rtf_count]
    mojibake = order[rtf_count : rtf_count + mojibake_count]
    control = order[
        rtf_count + mojibake_count : rtf_count + mojibake_count + control_count
    ]

    bodies = np.array(voc.RTF_BODIES, dtype=object)[
        rng.integers(0, len(voc.RTF_BODIES), len(rtf))
    ]
    text[rtf] = voc.RTF_HEADER + bodies + "\r\n}"
    pool = _journal_pool()[3]
    text[mojibake] = pool[rng.integers(0, len(pool), len(mojibake))]
    chars = rng.integers(0, len(voc.CONTROL_CHARS), len(control)).tolist()
    text[control] = [
        f"{entry}\x00\x00" if voc.CONTROL_CHARS[char] == "\x00" else
        f"{entry[:6]}{voc.CONTROL_CHARS[char]}{entry[6:]}"
        for entry, char in zip(text[control], chars, strict=True)
    ]  # fmt: skip
    tally.rtf_journals += len(rtf)
    tally.cp1252_journals += len(mojibake)
    tally.control_char_journals += len(control)


def journal_columns(
    rng: np.random.Generator,
    calls: Calls,
    timeline: Timeline,
    population: Population,
    heat_seq: int,
    tally: Tally,
) -> TableData:
    """Format the Journal columns of a chunk's calls."""
    tables = calendar_tables()
    call = timeline.journal_call
    total = len(call)
    texts, offsets, sizes, _ = _journal_pool()
    kind = rng.choice(len(voc.JOURNAL_TYPES), total, p=voc.JOURNAL_TYPE_WEIGHTS)
    text = texts[offsets[kind] + (rng.random(total) * sizes[kind]).astype(np.int64)]
    day, second = split_time(timeline.journal)
    ids = call_ids(calls.number)[call]

    # E-mails pasted into the journal keep their header lines.
    mail = kind == voc.JOURNAL_TYPES.index("E-Mail")
    text[mail] = (
        "From: "
        + population.email[calls.customer[call[mail]]]
        + "\r\nSent: "
        + tables.iso_dates[day[mail]]
        + " "
        + tables.times[second[mail]]
        + "\r\nSubject: RE: Call "
        + ids[mail]
        + "\r\n\r\n"
        + text[mail]
    )
    _plant_journal_texts(rng, text, tally)
    padded_ids, padded = _pad(rng, ids)
    temp = np.array(voc.TEMP_FIELD_VALUES, dtype=object)[
        rng.integers(0, len(voc.TEMP_FIELD_VALUES), total)
    ]
    tally.journals += total
    tally.padded_child_rows += padded
    return _ordered(
        JOURNAL,
        {
            "CallID": padded_ids,
            "HEATSeq": list(range(heat_seq, heat_seq + total)),
            "Tracker": ANALYST_LOGINS[rng.integers(0, len(voc.ANALYSTS), total)],
            "EntryDate": tables.iso_dates[day],
            "EntryTime": tables.times[second],
            "EntryText": text,
            "JournalType": np.array(voc.JOURNAL_TYPES, dtype=object)[kind],
            "TempField": blanks(
                temp, rng.random(total) < TEMP_FIELD_BLANK_SHARE, calls.null_row[call]
            ),
        },
    )
