"""Tests of the HEAT database generator.

The manifest is checked against the tables themselves: each planted kind is counted
again here from the written data, independently of how the generator planted it.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import ftfy
import pandas as pd
import pytest
import sqlalchemy as sa
from rapidfuzz import fuzz
from striprtf.striprtf import rtf_to_text

from itilmigrate.generator import MIN_CALLS, HeatManifest, generate_heat, write_heat_csv
from itilmigrate.generator.vocabulary import NON_ASCII_TEXTS, STATUSES

if TYPE_CHECKING:
    from pathlib import Path

LONDON = ZoneInfo("Europe/London")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
TABLES = ("CallLog", "Asgnmnt", "Journal", "Subset", "Profile")

Row = dict[str, object]


@dataclass(frozen=True)
class Heat:
    path: Path
    manifest: HeatManifest
    tables: dict[str, list[Row]]


def _read(path: Path) -> dict[str, list[Row]]:
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return {
            table: [
                dict(row)
                for row in connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            ]
            for table in TABLES
        }


def _checksums(path: Path) -> dict[str, str]:
    return {
        table: hashlib.sha256(
            repr([tuple(row.values()) for row in rows]).encode()
        ).hexdigest()
        for table, rows in _read(path).items()
    }


@pytest.fixture(scope="module")
def heat(tmp_path_factory: pytest.TempPathFactory) -> Heat:
    # Module-scoped: every test below only reads this database, and building it once
    # keeps the file well under its time budget.
    path = tmp_path_factory.mktemp("heat") / "heat.db"
    manifest = generate_heat(str(path), calls=1000, seed=7)
    return Heat(path=path, manifest=manifest, tables=_read(path))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(text: object) -> date | None:
    """Parse a HEAT date the tolerant way: yyyy-mm-dd, then d/m/yyyy."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = DMY.match(text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _moment(day: object, clock: object) -> datetime | None:
    parsed = _date(day)
    if parsed is None or not isinstance(clock, str) or not clock:
        return None
    return datetime.combine(parsed, time.fromisoformat(clock))


def _in_gap(moment: datetime) -> bool:
    there_and_back = moment.replace(tzinfo=LONDON).astimezone(UTC).astimezone(LONDON)
    return there_and_back.replace(tzinfo=None) != moment


def _ambiguous(moment: datetime) -> bool:
    early = moment.replace(tzinfo=LONDON, fold=0).utcoffset()
    late = moment.replace(tzinfo=LONDON, fold=1).utcoffset()
    return early != late and not _in_gap(moment)


def _ids(rows: list[Row]) -> tuple[str, ...]:
    return tuple(sorted(str(row["CallID"]).strip() for row in rows))


def _call_ids(heat: Heat) -> set[str]:
    return {str(row["CallID"]).strip() for row in heat.tables["CallLog"]}


def test_generate_heat_same_seed_gives_identical_tables(heat: Heat, tmp_path: Path):
    again = tmp_path / "again.db"

    manifest = generate_heat(str(again), calls=1000, seed=7)

    assert _checksums(again) == _checksums(heat.path)
    assert manifest == heat.manifest


def test_generate_heat_other_seed_gives_other_tables(heat: Heat, tmp_path: Path):
    other = tmp_path / "other.db"

    generate_heat(str(other), calls=1000, seed=8)

    old, new = _checksums(heat.path), _checksums(other)
    assert all(old[table] != new[table] for table in TABLES)


def test_generate_heat_seed_7_manifest_has_exact_values(heat: Heat):
    manifest = heat.manifest

    assert asdict(manifest) == {
        "seed": 7,
        "case": "mixed",
        "tables": TABLES,
        "calls": 1000,
        "distinct_call_ids": 999,
        "duplicate_call_ids": ("00010633",),
        "assignments": 1457,
        "journals": 1859,
        "subsets": 999,
        "profiles": 2002,
        "orphan_assignments": 3,
        "orphan_journals": 2,
        "orphan_call_ids": ("00005791", "00006529", "00008781"),
        "unparseable_dates": ("00010125", "00010463", "00010610"),
        "dmy_dates": 50,
        "closed_before_opened": ("00010401", "00010658", "00010939"),
        "dst_gap_calls": ("00010286", "00010617"),
        "dst_ambiguous_calls": ("00010160", "00010473"),
        "unmapped_priority_calls": ("00010079", "00010414", "00010472"),
        "blank_priority_calls": 47,
        "customers_missing_from_profile": 3,
        "shared_cust_ids": ("801067", "870138"),
        "subset_profile_mismatches": ("00010099", "00010179", "00010251"),
        "clusters": (
            ("00010296", "00010297", "00010298", "00010299", "00010300", "00010301"),
            ("00010525", "00010526", "00010527", "00010528", "00010529", "00010530"),
            ("00010672", "00010673", "00010674", "00010675"),
        ),
        "request_like_incidents": ("00010375", "00010693", "00010765"),
        "closed_without_close_date": ("00010115", "00010385"),
        "open_with_close_date": ("00010134", "00010741"),
        "status_variant_calls": 20,
        "status_counts": (
            ("Open", 8),
            ("Closed", 898),
            ("Reopened", 4),
            ("Pending", 9),
            ("On Hold", 6),
            ("Waiting on Customer", 6),
            ("Resolved", 17),
            ("Cancelled", 34),
            ("Logged", 9),
            ("In Progress", 9),
        ),
        "call_type_counts": (
            ("Incident", 337),
            ("Hardware Fault", 105),
            ("Software Fault", 104),
            ("Network Fault", 57),
            ("Password Reset", 92),
            ("Service Request", 117),
            ("New Starter", 41),
            ("Equipment Loan", 29),
            ("Information", 60),
            ("Problem", 25),
            ("Complaint", 33),
        ),
        "padded_call_ids": 29,
        "padded_child_rows": 126,
        "bounced_calls": 82,
        "rtf_journals": 38,
        "cp1252_journals": 19,
        "control_char_journals": 6,
        "html_descriptions": 5,
        "script_descriptions": ("00010510",),
        "control_char_descriptions": 3,
    }


def test_generate_heat_row_counts_match_manifest(heat: Heat):
    counts = {table: len(rows) for table, rows in heat.tables.items()}

    assert counts == {
        "CallLog": heat.manifest.calls,
        "Asgnmnt": heat.manifest.assignments,
        "Journal": heat.manifest.journals,
        "Subset": heat.manifest.subsets,
        "Profile": heat.manifest.profiles,
    }
    assert len(_call_ids(heat)) == heat.manifest.distinct_call_ids


def test_generate_heat_duplicates_are_stale_open_copies(heat: Heat):
    by_id = defaultdict(list)
    for row in heat.tables["CallLog"]:
        by_id[str(row["CallID"]).strip()].append(row)

    duplicates = {call_id: rows for call_id, rows in by_id.items() if len(rows) > 1}

    assert tuple(sorted(duplicates)) == heat.manifest.duplicate_call_ids
    for first, second in duplicates.values():
        assert first["CustID"] == second["CustID"]
        assert first["CallDesc"] == second["CallDesc"]
        assert second["CallStatus"] == "Open"
        assert _blank(second["ClosedDate"])


def test_generate_heat_orphans_match_manifest(heat: Heat):
    calls = _call_ids(heat)

    orphans = {
        table: [row for row in heat.tables[table] if row["CallID"].strip() not in calls]
        for table in ("Asgnmnt", "Journal", "Subset")
    }

    assert len(orphans["Asgnmnt"]) == heat.manifest.orphan_assignments
    assert len(orphans["Journal"]) == heat.manifest.orphan_journals
    assert orphans["Subset"] == []
    orphan_ids = set(_ids(orphans["Asgnmnt"]) + _ids(orphans["Journal"]))
    assert tuple(sorted(orphan_ids)) == heat.manifest.orphan_call_ids


def test_generate_heat_received_dates_match_manifest(heat: Heat):
    calls = heat.tables["CallLog"]

    unparseable = [row for row in calls if _date(row["RecvdDate"]) is None]
    dmy = [
        row for row in calls if DMY.match(row["RecvdDate"]) and _date(row["RecvdDate"])
    ]
    moments = [(row, _moment(row["RecvdDate"], row["RecvdTime"])) for row in calls]

    assert _ids(unparseable) == heat.manifest.unparseable_dates
    assert len(dmy) == heat.manifest.dmy_dates
    gap = [row for row, moment in moments if moment and _in_gap(moment)]
    ambiguous = [row for row, moment in moments if moment and _ambiguous(moment)]
    assert _ids(gap) == heat.manifest.dst_gap_calls
    assert _ids(ambiguous) == heat.manifest.dst_ambiguous_calls
    years = {moment.year for _, moment in moments if moment}
    assert years == {2013, 2014, 2015, 2016}


def test_generate_heat_other_timestamps_avoid_dst_transitions(heat: Heat):
    pairs = {
        "CallLog": (("ClosedDate", "ClosedTime"), ("ModDate", "ModTime")),
        "Asgnmnt": (
            ("DateAssign", "TimeAssign"),
            ("DateAcknow", "TimeAcknow"),
            ("DateResolv", "TimeResolv"),
        ),
        "Journal": (("EntryDate", "EntryTime"),),
    }

    moments = [
        _moment(row[day], row[time])
        for table, columns in pairs.items()
        for row in heat.tables[table]
        for day, time in columns
    ]

    set_moments = [moment for moment in moments if moment is not None]
    assert len(set_moments) > 5000
    assert not [m for m in set_moments if _in_gap(m) or _ambiguous(m)]


def test_generate_heat_closed_before_opened_matches_manifest(heat: Heat):
    early = [
        row
        for row in heat.tables["CallLog"]
        if (closed := _moment(row["ClosedDate"], row["ClosedTime"]))
        and (received := _moment(row["RecvdDate"], row["RecvdTime"]))
        and closed < received
    ]

    assert _ids(early) == heat.manifest.closed_before_opened
    assert {row["CallStatus"] for row in early} == {"Closed"}


def test_generate_heat_dtlastmod_is_london_time_of_mod_date(heat: Heat):
    rows = heat.tables["CallLog"]

    wrong = [
        row["CallID"]
        for row in rows
        if (moment := _moment(row["ModDate"], row["ModTime"]))
        and moment.replace(tzinfo=LONDON).timestamp() != row["DTLastMod"]
    ]

    assert wrong == []


def test_generate_heat_status_and_close_fields_match_manifest(heat: Heat):
    calls = heat.tables["CallLog"]
    canonical = {name.casefold(): name for name in STATUSES}

    status = [canonical[str(row["CallStatus"]).strip().casefold()] for row in calls]
    variants = [row for row in calls if row["CallStatus"] not in STATUSES]
    has_date = [not _blank(row["ClosedDate"]) for row in calls]

    assert len(variants) == heat.manifest.status_variant_calls
    assert Counter(status) == dict(heat.manifest.status_counts)
    closed_blank = [
        row for row, name, dated in zip(calls, status, has_date, strict=True)
        if name in ("Closed", "Cancelled") and not dated
    ]  # fmt: skip
    open_dated = [
        row for row, name, dated in zip(calls, status, has_date, strict=True)
        if name not in ("Closed", "Cancelled") and dated
    ]  # fmt: skip
    assert _ids(closed_blank) == heat.manifest.closed_without_close_date
    assert _ids(open_dated) == heat.manifest.open_with_close_date
    assert {row["CallStatus"] for row in open_dated} <= {"Open", "Reopened"}


def test_generate_heat_priorities_match_manifest(heat: Heat):
    calls = heat.tables["CallLog"]

    blank = [row for row in calls if _blank(row["Priority"])]
    unmapped = [
        row
        for row in calls
        if not _blank(row["Priority"]) and row["Priority"] not in "12345"
    ]

    assert len(blank) == heat.manifest.blank_priority_calls
    assert _ids(unmapped) == heat.manifest.unmapped_priority_calls
    assert {row["Priority"] for row in unmapped} == {"9"}


def test_generate_heat_customers_match_manifest(heat: Heat):
    profiles = {(row["CustID"], row["CustType"]): row for row in heat.tables["Profile"]}
    types_by_id = defaultdict(set)
    for cust_id, cust_type in profiles:
        types_by_id[cust_id].add(cust_type)

    on_calls = {(row["CustID"], row["CustType"]) for row in heat.tables["CallLog"]}
    missing = on_calls - set(profiles)
    shared = sorted(cust_id for cust_id, types in types_by_id.items() if len(types) > 1)

    assert len(missing) == heat.manifest.customers_missing_from_profile
    assert {
        (row["CustID"], row["CustType"]) for row in heat.tables["Subset"]
    } >= missing
    assert tuple(shared) == heat.manifest.shared_cust_ids
    assert {
        (cust_id, t) for cust_id in shared for t in types_by_id[cust_id]
    } <= on_calls
    stale = [
        row
        for row in heat.tables["Subset"]
        if (profile := profiles.get((row["CustID"], row["CustType"])))
        and (profile["LastName"], profile["EMailID"])
        != (row["LastName"], row["EMailID"])
    ]
    assert _ids(stale) == heat.manifest.subset_profile_mismatches


def test_generate_heat_clusters_are_near_identical_incidents(heat: Heat):
    by_id = {str(row["CallID"]).strip(): row for row in heat.tables["CallLog"]}

    for cluster in heat.manifest.clusters:
        members = [by_id[call_id] for call_id in cluster]
        days = [_date(row["RecvdDate"]) for row in members]
        texts = [str(row["ShortDesc"]).lower() for row in members]

        assert len(members) >= 4
        assert {row["CallType"] for row in members} == {"Incident"}
        assert len({row["Category"] for row in members}) == 1
        assert max(days) - min(days) <= timedelta(days=4)
        assert (
            min(fuzz.token_set_ratio(one, other) for one in texts for other in texts)
            >= 80
        )


def test_generate_heat_request_like_incidents_match_manifest(heat: Heat):
    request = re.compile(r"\b(please|request|could you)\b", re.IGNORECASE)

    found = [
        row
        for row in heat.tables["CallLog"]
        if row["CallType"] == "Incident" and request.search(row["CallDesc"])
    ]

    assert _ids(found) == heat.manifest.request_like_incidents


def test_generate_heat_memo_text_matches_manifest(heat: Heat):
    descriptions = [str(row["CallDesc"]) for row in heat.tables["CallLog"]]
    entries = [str(row["EntryText"]) for row in heat.tables["Journal"]]

    html = [text for text in descriptions if text.startswith("<p>")]
    script = [row for row in heat.tables["CallLog"] if "<script>" in row["CallDesc"]]
    rtf = [text for text in entries if text.startswith("{\\rtf1\\ansi")]
    mojibake = [text for text in entries if ftfy.fix_encoding(text) != text]

    assert len(html) == heat.manifest.html_descriptions
    assert _ids(script) == heat.manifest.script_descriptions
    assert "<script>alert(1)</script>" in script[0]["CallDesc"]
    assert len(rtf) == heat.manifest.rtf_journals
    assert all(
        rtf_to_text(text).strip() and "\\" not in rtf_to_text(text) for text in rtf
    )
    assert len(mojibake) == heat.manifest.cp1252_journals
    assert {ftfy.fix_text(text) for text in mojibake} <= set(NON_ASCII_TEXTS)
    assert any("Ã©" in text or "Â£" in text for text in mojibake)
    assert sum(bool(CONTROL.search(t)) for t in descriptions) == (
        heat.manifest.control_char_descriptions
    )
    assert (
        sum(bool(CONTROL.search(t)) for t in entries)
        == heat.manifest.control_char_journals
    )
    assert any("\x00" in text for text in descriptions + entries)


def test_generate_heat_padding_and_bounces_match_manifest(heat: Heat):
    padded_calls = [
        row for row in heat.tables["CallLog"] if row["CallID"] != row["CallID"].rstrip()
    ]
    padded_children = [
        row
        for table in ("Asgnmnt", "Journal", "Subset")
        for row in heat.tables[table]
        if row["CallID"] != row["CallID"].rstrip()
    ]
    paths = defaultdict(list)
    for row in sorted(heat.tables["Asgnmnt"], key=lambda row: row["HEATSeq"]):
        paths[row["CallID"].strip()].append(row["GroupName"])

    bounced = [
        path for path in paths.values()
        if any(path[k] == path[k - 2] != path[k - 1] for k in range(2, len(path)))
    ]  # fmt: skip

    assert len(padded_calls) == heat.manifest.padded_call_ids
    assert {len(row["CallID"]) for row in padded_calls} == {10}
    assert len(padded_children) == heat.manifest.padded_child_rows
    assert len(bounced) == heat.manifest.bounced_calls
    assert max(len(path) for path in paths.values()) == 4


def test_generate_heat_blanks_mix_empty_strings_and_nulls(heat: Heat):
    closed_dates = [row["ClosedDate"] for row in heat.tables["CallLog"]]

    assert closed_dates.count(None) > 0
    assert closed_dates.count("") > closed_dates.count(None)


def test_generate_heat_upper_case_writes_upper_names(tmp_path: Path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'upper.db'}")

    manifest = generate_heat(engine, calls=MIN_CALLS, seed=3, case="upper")

    inspector = sa.inspect(engine)
    assert sorted(inspector.get_table_names()) == sorted(t.upper() for t in TABLES)
    assert manifest.tables == ("CALLLOG", "ASGNMNT", "JOURNAL", "SUBSET", "PROFILE")
    columns = [column["name"] for column in inspector.get_columns("CALLLOG")]
    assert columns[:3] == ["CALLID", "CUSTID", "CUSTTYPE"]
    with engine.connect() as connection:
        count = connection.exec_driver_sql('SELECT COUNT(*) FROM "CALLLOG"').scalar()
    assert count == MIN_CALLS
    engine.dispose()


def test_generate_heat_named_paramstyle_engine_writes_same_data(
    heat: Heat, tmp_path: Path
):
    # Drivers such as python-oracledb take named parameters only.
    path = tmp_path / "named.db"
    engine = sa.create_engine(f"sqlite:///{path}", paramstyle="named")

    manifest = generate_heat(engine, calls=1000, seed=7)

    engine.dispose()
    assert manifest == heat.manifest
    assert _checksums(path) == _checksums(heat.path)


def test_generate_heat_existing_tables_are_replaced(tmp_path: Path):
    path = tmp_path / "twice.db"
    generate_heat(str(path), calls=300, seed=1)

    manifest = generate_heat(str(path), calls=MIN_CALLS, seed=1)

    assert {table: len(rows) for table, rows in _read(path).items()}["CallLog"] == (
        manifest.calls
    )


def test_write_heat_csv_cp1252_reads_back_as_database(heat: Heat, tmp_path: Path):
    manifest = write_heat_csv(tmp_path, calls=1000, seed=7)

    assert manifest == heat.manifest
    raw = (tmp_path / "Profile.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    for table in TABLES:
        with (tmp_path / f"{table}.csv").open(encoding="cp1252", newline="") as handle:
            header, *rows = list(csv.reader(handle))
        expected = [
            ["" if value is None else str(value) for value in row.values()]
            for row in heat.tables[table]
        ]
        assert header == list(heat.tables[table][0])
        assert rows == expected


def test_write_heat_csv_semicolon_delimiter_reads_back_with_pandas(tmp_path: Path):
    manifest = write_heat_csv(tmp_path, calls=MIN_CALLS, seed=5, delimiter=";")

    frame = pd.read_csv(
        tmp_path / "CallLog.csv",
        sep=";",
        encoding="cp1252",
        dtype=str,
        keep_default_na=False,
    )

    assert len(frame) == manifest.calls
    assert frame["CallID"].str.strip().nunique() == manifest.distinct_call_ids
    assert (frame["CallID"].str.len() == 10).sum() == manifest.padded_call_ids


def test_generate_heat_below_minimum_raises_value_error(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 200"):
        generate_heat(str(tmp_path / "small.db"), calls=MIN_CALLS - 1)

    assert not (tmp_path / "small.db").exists()


def test_write_heat_csv_unencodable_encoding_raises_value_error(tmp_path: Path):
    with pytest.raises(ValueError, match="'ascii' cannot hold"):
        write_heat_csv(tmp_path, calls=MIN_CALLS, encoding="ascii")

    assert list(tmp_path.iterdir()) == []


def test_heat_manifest_is_frozen(heat: Heat):
    with pytest.raises(AttributeError):
        heat.manifest.calls = 5  # type: ignore[misc]

    assert replace(heat.manifest, calls=5).calls == 5
