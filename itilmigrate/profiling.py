"""Profile a legacy source before writing its mapping: what the tables really hold.

For every table: its row count, and on a sample of at most ``sample_size`` rows
(the profile says when it sampled) each column's inferred type, its shares of
NULL, empty and whitespace-only values, the distinct values of low-cardinality
columns, the date and time layouts found in text columns, mojibake counts; for
CSV sources the detected encoding. With declared keys (``--key``, ``--parent`` or
``--like heat``), duplicate keys and orphan child rows are counted on the whole
table, reading only the key columns.

The profile holds legacy values (distinct values, dates that fit no layout): it
is a restricted output, like the quarantine report. Logs carry counts only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from itilmigrate.extract.base import Source

logger = logging.getLogger(__name__)

#: strptime layouts tried on text columns; ordered from the most specific.
CANDIDATE_LAYOUTS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%y",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
)
LAYOUT_THRESHOLD = 0.95
LOW_CARDINALITY = 100
DEFAULT_SAMPLE_SIZE = 100_000
_DATE_LIKE = re.compile(r"^\s*\d{1,4}[-/.:]\d{1,2}")
_INTEGER = re.compile(r"^[+-]?\d+$")
_BOOLEAN = frozenset({"true", "false", "yes", "no", "y", "n", "t", "f"})

#: HEAT's keys and parent links, used by ``--like heat``.
HEAT_KEYS: dict[str, list[str]] = {
    "CallLog": ["CallID"],
    "Asgnmnt": ["CallID", "HEATSeq"],
    "Journal": ["CallID", "HEATSeq"],
    "Subset": ["CallID"],
    "Profile": ["CustID", "CustType"],
}
HEAT_PARENTS: list[tuple[str, str, str, str]] = [
    ("Asgnmnt", "CallID", "CallLog", "CallID"),
    ("Journal", "CallID", "CallLog", "CallID"),
    ("Subset", "CallID", "CallLog", "CallID"),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LayoutResult:
    """The date/time layouts that fit a column, and the values that fit none."""

    layouts: list[str]
    checked_count: int
    unmatched_count: int
    unmatched_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentLink:
    """A child column whose values must exist in a parent column."""

    child_table: str
    child_column: str
    parent_table: str
    parent_column: str


def detect_layouts(values: pd.Series) -> LayoutResult:
    """Return the layouts that parse at least 95% of the non-blank ``values``.

    Each layout that alone parses 95% is listed (two listed, such as ``%d/%m/%Y``
    and ``%m/%d/%Y``, mean the values cannot tell them apart). When none does, a
    column with mixed habits (HEAT sites typed ISO dates and d/m/yyyy into one
    text column) gets the smallest greedy set that together parses 95%, most
    common layout first. Each candidate is tried once on the distinct values,
    vectorised with ``pd.to_datetime(format=..., errors="coerce")`` and weighted
    by the counts.
    """
    text = values.dropna().astype(str).str.strip()
    counts = text[text != ""].value_counts()
    total = int(counts.sum())
    if total == 0:
        return LayoutResult(layouts=[], checked_count=0, unmatched_count=0)
    distinct = pd.Series(counts.index, dtype=object)
    weights = counts.to_numpy()
    parsed_by: dict[str, np.ndarray] = {}
    for layout in CANDIDATE_LAYOUTS:
        fits = pd.to_datetime(distinct, format=layout, errors="coerce").notna()
        if fits.any():
            parsed_by[layout] = fits.to_numpy()
    fitted = np.zeros(len(distinct), dtype=bool)
    for fits_layout in parsed_by.values():
        fitted |= fits_layout
    needed = LAYOUT_THRESHOLD * total
    layouts = [name for name, p in parsed_by.items() if weights[p].sum() >= needed]
    if not layouts and weights[fitted].sum() >= needed:
        layouts = _greedy_layouts(parsed_by, weights, needed)
    unmatched = ~fitted
    return LayoutResult(
        layouts=layouts,
        checked_count=total,
        unmatched_count=int(weights[unmatched].sum()),
        unmatched_examples=[str(v) for v in distinct[unmatched].head(10)],
    )


def _greedy_layouts(
    parsed_by: dict[str, np.ndarray], weights: np.ndarray, needed: float
) -> list[str]:
    """Pick layouts, each parsing most of what is still unparsed, up to ``needed``."""
    covered = np.zeros(len(weights), dtype=bool)
    chosen: list[str] = []
    while weights[covered].sum() < needed:
        gains = {
            name: int(weights[parsed & ~covered].sum())
            for name, parsed in parsed_by.items()
            if name not in chosen
        }
        best = max(gains, key=lambda name: gains[name])  # first wins a tie
        chosen.append(best)
        covered |= parsed_by[best]
    return chosen


def _column_type(present: pd.Series, layouts: list[str]) -> str:
    if present.empty:
        return "empty"
    if layouts:
        return "datetime" if "%d" in layouts[0] else "time"
    if bool(present.str.fullmatch(_INTEGER).all()):
        return "integer"
    if pd.to_numeric(present, errors="coerce").notna().all():
        return "decimal"
    if set(present.str.casefold().unique()) <= _BOOLEAN:
        return "boolean"
    return "text"


def _mojibake(present: pd.Series) -> tuple[int, int]:
    """Return (values ftfy judges garbled, values with U+FFFD) among ``present``."""
    import ftfy.badness  # noqa: PLC0415 - only when profiling

    counts = present.value_counts()
    non_ascii = counts[[not str(v).isascii() for v in counts.index]]
    bad = sum(int(n) for v, n in non_ascii.items() if ftfy.badness.is_bad(str(v)))
    replacement = int(non_ascii[[("\ufffd" in str(v)) for v in non_ascii.index]].sum())
    return bad, replacement


def profile_column(name: str, values: pd.Series) -> dict[str, Any]:
    """Profile one column of the sample."""
    total = len(values)
    is_null = values.isna()
    text = values[~is_null].astype(str)
    empty = text == ""
    blank = text.str.strip() == ""
    present = text[~blank]
    date_like = present.str.match(_DATE_LIKE).mean() if len(present) else 0.0
    found = (
        detect_layouts(present)
        if date_like >= 0.5  # noqa: PLR2004 - most values look like dates
        else LayoutResult(layouts=[], checked_count=0, unmatched_count=0)
    )
    distinct = present.str.strip().value_counts()
    bad, replacement = _mojibake(present)

    def share(count: int) -> float:
        return round(count / total, 4) if total else 0.0

    return {
        "name": name,
        "type": _column_type(present.str.strip(), found.layouts),
        "null_share": share(int(is_null.sum())),
        "empty_share": share(int(empty.sum())),
        "whitespace_share": share(int((blank & ~empty).sum())),
        "distinct_count": len(distinct),
        "values": (
            {str(k): int(v) for k, v in distinct.items()}
            if 0 < len(distinct) <= LOW_CARDINALITY
            else None
        ),
        "date_layouts": found.layouts,
        "date_checked_count": found.checked_count,
        "date_unmatched_count": found.unmatched_count if found.checked_count else 0,
        "date_unmatched_examples": found.unmatched_examples,
        "mojibake_count": bad,
        "replacement_char_count": replacement,
    }


def _key_counts(source: Source, table: str, columns: list[str]) -> pd.Series:
    """Return the count of each key (columns joined by '|') over the whole table."""
    total: pd.Series | None = None
    for df in source.read_batches(table, columns, batch_size=100_000):
        parts = [
            df[c].astype(object).where(df[c].notna(), "").str.strip() for c in columns
        ]
        keys = parts[0]
        for part in parts[1:]:
            keys = keys + "|" + part
        counts = keys.value_counts()
        total = counts if total is None else total.add(counts, fill_value=0)
    return pd.Series(dtype="int64") if total is None else total.astype("int64")


def profile_source(
    source: Source,
    *,
    tables: list[str] | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    keys: dict[str, list[str]] | None = None,
    parents: list[ParentLink] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """Profile ``tables`` (default: every table) of ``source``; return JSON data.

    Raises:
        SourceError: a table cannot be read (exit 4).
        ConfigError: a table or key column named is not in the source (exit 3).
    """
    from itilmigrate.errors import ConfigError  # noqa: PLC0415
    from itilmigrate.extract.base import resolve_column  # noqa: PLC0415

    names = tables or source.list_tables()
    chosen: list[str] = []
    for name in names:
        actual = source.resolve_table(name)
        if actual is None:
            raise ConfigError(
                f"No table {name!r} in the source; it has {source.list_tables()[:20]}."
            )
        chosen.append(actual)
    key_map: dict[str, list[str]] = {}
    for table, columns in (keys or {}).items():
        actual = source.resolve_table(table)
        if actual is None:
            raise ConfigError(
                f"Key option {table}={','.join(columns)}: no table {table!r} in the "
                f"source; it has {source.list_tables()[:20]}."
            )
        missing = [
            c for c in columns if resolve_column(source.columns(actual), c) is None
        ]
        if missing:
            raise ConfigError(
                f"Key option {table}={','.join(columns)}: no column {missing[0]!r} in "
                f"table {actual!r}; it has {source.columns(actual)[:30]}."
            )
        key_map[actual.casefold()] = columns
    links = [_resolve_link(source, link) for link in parents or []]
    profiled = [
        _profile_table(source, table, sample_size, key_map.get(table.casefold()))
        for table in chosen
    ]
    by_name = {t["table"].casefold(): t for t in profiled}
    for child_table, child_column, parent_table, parent_column in links:
        # Only profiled tables get orphan counts (``--tables`` may leave some out).
        child = by_name.get(child_table.casefold())
        if child is None:
            continue
        child_keys = _key_counts(source, child["table"], [child_column])
        parent_keys = set(_key_counts(source, parent_table, [parent_column]).index)
        orphans = child_keys[~child_keys.index.isin(parent_keys)]
        child.setdefault("orphans", []).append(
            {
                "column": child_column,
                "parent_table": parent_table,
                "parent_column": parent_column,
                "orphan_count": int(orphans.sum()),
                "orphan_key_count": len(orphans),
            }
        )
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": description,
        "source_name": source.source_name,
        "sample_size": sample_size,
        "restricted": True,
        "tables": profiled,
    }


def _resolve_link(source: Source, link: ParentLink) -> tuple[str, str, str, str]:
    """Return the actual child table and column, parent table and column of a link.

    A table name may itself hold a dot (BPIC's ``Incident_Activity_joined.derived``):
    each side is split at every dot until a table with that column is found.

    Raises:
        ConfigError: a side names no table and column of the source (exit 3).
    """
    from itilmigrate.errors import ConfigError  # noqa: PLC0415
    from itilmigrate.extract.base import resolve_column  # noqa: PLC0415

    sides: list[str] = []
    for table, column in (
        (link.child_table, link.child_column),
        (link.parent_table, link.parent_column),
    ):
        qualified = f"{table}.{column}"
        found = None
        for cut in (m.start() for m in re.finditer(r"\.", qualified)):
            actual = source.resolve_table(qualified[:cut])
            if actual is None:
                continue
            actual_column = resolve_column(source.columns(actual), qualified[cut + 1 :])
            if actual_column is not None:
                found = (actual, actual_column)
                break
        if found is None:
            raise ConfigError(
                f"Parent option {link.child_table}.{link.child_column}="
                f"{link.parent_table}.{link.parent_column}: {qualified!r} names no "
                f"table and column of the source; it has {source.list_tables()[:20]}."
            )
        sides.extend(found)
    return sides[0], sides[1], sides[2], sides[3]


def _profile_table(
    source: Source, table: str, sample_size: int, key: list[str] | None
) -> dict[str, Any]:
    from itilmigrate.extract.base import resolve_column  # noqa: PLC0415

    columns = source.columns(table)
    row_count = source.count(table)
    parts = list(
        source.read_batches(
            table, columns, batch_size=min(sample_size, 50_000), limit=sample_size
        )
    )
    sample = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    result: dict[str, Any] = {
        "table": table,
        "row_count": row_count,
        "sampled": row_count > len(sample),
        "sample_rows": len(sample),
        "encoding": _encoding(source, table),
        "columns": [profile_column(c, sample[c]) for c in columns],
    }
    if key:
        actual = [resolve_column(columns, k) for k in key]
        if all(a is not None for a in actual):
            counts = _key_counts(source, table, [a for a in actual if a is not None])
            duplicated = counts[counts > 1]
            result["key"] = key
            result["duplicate_key_count"] = len(duplicated)
            result["duplicate_row_count"] = int(duplicated.sum())
    logger.info(
        "table profiled table=%s rows=%d sampled=%d columns=%d",
        table,
        row_count,
        len(sample),
        len(columns),
    )
    return result


def _encoding(source: Source, table: str) -> str | None:
    """Return the encoding a CSV source reads ``table`` with; None for databases."""
    encoding = getattr(source, "encoding", None)
    return encoding(table) if callable(encoding) else None


def parse_key_options(values: list[str]) -> dict[str, list[str]]:
    """Parse ``--key TABLE=COL[,COL]`` options.

    Raises:
        ValueError: an option is not of that form.
    """
    keys: dict[str, list[str]] = {}
    for value in values:
        table, sep, columns = value.partition("=")
        if not sep or not table.strip() or not columns.strip():
            raise ValueError(f"expected TABLE=COL[,COL], got {value!r}")
        keys[table.strip()] = [c.strip() for c in columns.split(",") if c.strip()]
    return keys


def parse_parent_options(values: list[str]) -> list[ParentLink]:
    """Parse ``--parent CHILD.COL=PARENT.COL`` options.

    Raises:
        ValueError: an option is not of that form.
    """
    links = []
    for value in values:
        match = re.fullmatch(r"\s*([^.=]+)\.([^=]+)=([^.=]+)\.(.+?)\s*", value)
        if match is None:
            raise ValueError(f"expected CHILD.COL=PARENT.COL, got {value!r}")
        links.append(
            ParentLink(
                child_table=match.group(1),
                child_column=match.group(2),
                parent_table=match.group(3),
                parent_column=match.group(4),
            )
        )
    return links


def heat_links(source: Source) -> tuple[dict[str, list[str]], list[ParentLink]]:
    """Return HEAT's keys and parent links that fit the tables ``source`` has.

    A customised HEAT database may lack a table or rename a key column; such a
    key or link is left out rather than failing the profile.
    """
    from itilmigrate.extract.base import resolve_column  # noqa: PLC0415

    def has(table: str, columns: list[str]) -> bool:
        actual = source.resolve_table(table)
        return actual is not None and all(
            resolve_column(source.columns(actual), c) is not None for c in columns
        )

    keys = {t: k for t, k in HEAT_KEYS.items() if has(t, k)}
    links = [
        ParentLink(child_table=c, child_column=cc, parent_table=p, parent_column=pc)
        for c, cc, p, pc in HEAT_PARENTS
        if has(c, [cc]) and has(p, [pc])
    ]
    return keys, links


def source_from_argument(value: str) -> tuple[Source, str]:
    """Open the source a command-line argument names; return it and a description.

    ``value`` is a job file (its ``source``), a SQLAlchemy URL, or a CSV folder or
    file (kind ``csv``, encoding ``auto``, each file's delimiter sniffed from its
    first lines among ``, ; tab |``).

    Raises:
        ConfigError: the job file is invalid (exit 3).
        SourceError: the source cannot be opened (exit 4).
    """
    from pathlib import Path  # noqa: PLC0415

    from itilmigrate.errors import SourceError, mask_secrets  # noqa: PLC0415
    from itilmigrate.extract.base import (  # noqa: PLC0415
        SqlSourceSpec,
        open_source,
    )
    from itilmigrate.extract.csv_source import sniffed_csv_spec  # noqa: PLC0415
    from itilmigrate.jobs import load_job  # noqa: PLC0415

    path = Path(value)
    if value.endswith((".yaml", ".yml")) and path.is_file():
        job = load_job(path)
        return open_source(job.source, source_name=job.name), f"job {path.name}"
    if "://" in value:
        spec = SqlSourceSpec(url=value)
        return open_source(spec, source_name="source"), mask_secrets(value)
    if not path.exists():
        raise SourceError(
            f"{value!r} is neither a job file, a SQLAlchemy URL nor a CSV folder."
        )
    csv = sniffed_csv_spec(path.resolve(), source_name="source")
    delimiters = "".join(
        f", {name} delimited by {options.delimiter!r}"
        for name, options in sorted(csv.tables.items())
    )
    return (
        open_source(csv, source_name="source"),
        f"CSV {path.name} (encoding auto, delimiter sniffed per file{delimiters})",
    )
