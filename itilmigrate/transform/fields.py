"""Evaluate conditions and field mappings on one batch of legacy records.

Everything here works on whole columns of a batch frame whose columns carry the
source's actual names; ``columns`` maps each name the mapping uses to that actual
name (resolved case-insensitively before any data moved).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from itilmigrate.records import QuarantineReason
from itilmigrate.transform import converters, text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from itilmigrate.mappings.spec import Condition, FieldMapping, MappingDefinition

KEY_SEPARATOR = "|"
NUL_SYMBOL = "\u2400"


def raw(df: pd.DataFrame, columns: Mapping[str, str], name: str) -> pd.Series:
    """Return the legacy column ``name`` of the batch, as read."""
    return df[columns[name]]


def present(
    df: pd.DataFrame, columns: Mapping[str, str], name: str, blanks: list[str]
) -> pd.Series:
    """Return the column ``name`` trimmed, with every blank spelling as None."""
    return converters.blank_to_none(raw(df, columns, name), blanks)


def join_key(
    df: pd.DataFrame, columns: Mapping[str, str], names: list[str], blanks: list[str]
) -> pd.Series:
    """Return the normalised key built from ``names``; None when any part is blank.

    Keys are trimmed text (a CallID keeps its leading zeros); parts are joined by
    ``|`` so that composite keys such as (CustID, CustType) stay readable.
    """
    parts = [present(df, columns, name, blanks) for name in names]
    if len(parts) == 1:
        return parts[0]
    missing = pd.concat([p.isna() for p in parts], axis=1).any(axis=1)
    joined = parts[0].fillna("").astype(object)
    for part in parts[1:]:
        joined = joined + KEY_SEPARATOR + part.fillna("").astype(object)
    return joined.where(~missing, None)


def join_present(parts: list[pd.Series], separator: str, index: pd.Index) -> pd.Series:
    """Join the present values of several columns (a display name from two parts)."""
    joined = pd.Series("", index=index, dtype=object)
    for part in parts:
        text = part.fillna("").astype(object)
        gap = ((joined != "") & (text != "")).map({True: separator, False: ""})
        joined = joined + gap + text
    return joined.where(joined != "", None)


def evaluate(
    condition: Condition,
    df: pd.DataFrame,
    columns: Mapping[str, str],
    blanks: list[str],
) -> pd.Series:
    """Return a boolean mask of the records that meet ``condition``."""
    if condition.any is not None:
        masks = [evaluate(c, df, columns, blanks) for c in condition.any]
        return pd.concat(masks, axis=1).any(axis=1)
    if condition.all is not None:
        masks = [evaluate(c, df, columns, blanks) for c in condition.all]
        return pd.concat(masks, axis=1).all(axis=1)
    assert condition.column is not None  # noqa: S101 - guaranteed by Condition's validator
    values = present(df, columns, condition.column, blanks)
    folded = values.str.casefold()
    mask = pd.Series(True, index=df.index)
    if condition.blank is not None:
        mask &= values.isna() == condition.blank
    if condition.in_ is not None:
        mask &= folded.isin({v.strip().casefold() for v in condition.in_}).fillna(False)
    if condition.not_in is not None:
        mask &= ~folded.isin({v.strip().casefold() for v in condition.not_in}).fillna(
            False
        )
    if condition.matches is not None:
        pattern = re.compile(condition.matches, re.IGNORECASE)
        found = values.map(lambda v: v is not None and pattern.search(v) is not None)
        mask &= found.astype(bool)
    return mask.astype(bool)


@dataclass(slots=True)
class FieldProblems:
    """Per-record problems found while converting fields, first problem wins."""

    index: pd.Index
    reason: pd.Series = field(init=False)
    detail: pd.Series = field(init=False)

    def __post_init__(self) -> None:
        self.reason = pd.Series(None, index=self.index, dtype=object)
        self.detail = pd.Series(None, index=self.index, dtype=object)

    def add(self, mask: pd.Series, reason: QuarantineReason, detail: str) -> None:
        """Record ``reason`` for the records in ``mask`` that have no problem yet."""
        aligned = mask.reindex(self.index, fill_value=False).fillna(False).astype(bool)
        new = aligned & self.reason.isna()
        if new.any():
            self.reason[new] = reason.value
            self.detail[new] = detail

    @property
    def bad(self) -> pd.Series:
        """Mask of the records with at least one problem."""
        return self.reason.notna()


@dataclass(slots=True)
class DstCounter:
    """Counts local times moved or resolved at a DST change, per field."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        """Add ``count`` adjusted values for ``name``."""
        if count:
            self.counts[name] = self.counts.get(name, 0) + count


def convert_field(
    name: str,
    kind: str,
    spec: FieldMapping,
    df: pd.DataFrame,
    columns: Mapping[str, str],
    mapping: MappingDefinition,
    problems: FieldProblems,
    dst: DstCounter,
) -> tuple[pd.Series, pd.Series | None]:
    """Convert one field for the whole batch.

    Returns the converted values and, for text fields, the original text (else
    None). Records whose value cannot be converted are noted in ``problems``.
    """
    blanks = mapping.blank_values
    if spec.value is not None:
        values = pd.Series(spec.value, index=df.index, dtype=object)
    elif kind.endswith("_ref") and spec.columns is not None:
        values = join_key(df, columns, spec.columns, blanks)
    elif spec.columns is not None:
        parts = [present(df, columns, c, blanks) for c in spec.columns]
        values = join_present(parts, spec.separator, df.index)
    else:
        assert spec.column is not None  # noqa: S101 - guaranteed by FieldMapping
        values = present(df, columns, spec.column, blanks)

    original: pd.Series | None = None
    if kind == "timestamp":
        return _timestamp(name, spec, values, df, columns, mapping, problems, dst), None
    if spec.map is not None:
        value_map = mapping.value_maps[spec.map]
        mapped, unmapped = converters.map_values(
            values, value_map.values, default=value_map.default
        )
        problems.add(
            unmapped,
            QuarantineReason.UNMAPPED_VALUE,
            f"field {name!r}: value of {spec.column or spec.columns!r} not in "
            "value map "
            f"{spec.map!r} and no default",
        )
        values = mapped
    if spec.default is not None:
        values = values.where(values.notna(), spec.default)
    if kind == "int":
        parsed, failed = converters.parse_int(values)
        problems.add(
            failed, QuarantineReason.UNPARSEABLE, f"field {name!r}: not an integer"
        )
        values = parsed
    elif kind == "bool":
        parsed_bool, failed = converters.parse_bool(values)
        problems.add(
            failed, QuarantineReason.UNPARSEABLE, f"field {name!r}: not yes/no"
        )
        values = parsed_bool
    elif kind == "text":
        cleaned = text.clean_text(values)
        # The original text is kept as read, except NUL: PostgreSQL text cannot
        # hold it, so it is stored as the visible symbol U+2400 instead.
        original = values.str.replace("\x00", NUL_SYMBOL, regex=False)
        values = cleaned.text
    elif kind in ("code", "customer_ref", "group_ref", "staff_ref"):
        # NUL in a code or name is noise from the legacy client, never data.
        values = values.str.replace("\x00", "", regex=False)
    if spec.required:
        problems.add(
            values.isna(),
            QuarantineReason.MISSING_REQUIRED,
            f"field {name!r}: required value missing",
        )
    return values, original


def _timestamp(
    name: str,
    spec: FieldMapping,
    dates: pd.Series,
    df: pd.DataFrame,
    columns: Mapping[str, str],
    mapping: MappingDefinition,
    problems: FieldProblems,
    dst: DstCounter,
) -> pd.Series:
    settings = mapping.dates
    times = (
        present(df, columns, spec.time_column, mapping.blank_values)
        if spec.time_column is not None
        else None
    )
    result = converters.parse_timestamps(
        dates,
        times,
        formats=settings.formats,
        time_formats=settings.time_formats,
        timezone=mapping.timezone,
        two_digit_year_pivot=settings.two_digit_year_pivot,
        nonexistent=settings.nonexistent,
        ambiguous=settings.ambiguous,
    )
    detail = (
        f"field {name!r}: {spec.column!r} fits none of the date layouts "
        f"{settings.formats}"
        + (
            f" with {spec.time_column!r} in {settings.time_formats}"
            if spec.time_column
            else ""
        )
    )
    if "quarantine" in (settings.nonexistent, settings.ambiguous):
        detail += (
            f", or is a local time that does not exist or occurs twice in "
            f"{mapping.timezone} (dates.nonexistent/ambiguous: quarantine)"
        )
    problems.add(result.failed, QuarantineReason.UNPARSEABLE, detail)
    dst.add(name, result.nonexistent_count + result.ambiguous_count)
    values = result.values  # noqa: PD011 - a TimestampResult field
    if spec.required:
        problems.add(
            values.isna() & ~result.failed,
            QuarantineReason.MISSING_REQUIRED,
            f"field {name!r}: required date missing",
        )
    return values


def extension_json(df: pd.DataFrame, mapped: set[str], blanks: list[str]) -> pd.Series:
    """Return a JSON object per record of the columns the mapping does not name.

    Only present values are kept, so the object stays small; a record with no
    unmapped value gets None.
    """
    import json  # noqa: PLC0415 - only needed when a source keeps unmapped columns

    extra = [c for c in df.columns if c not in mapped]
    if not extra or df.empty:
        return pd.Series(None, index=df.index, dtype=object)
    cleaned = pd.DataFrame(
        {c: converters.blank_to_none(df[c], blanks) for c in extra}, index=df.index
    )
    records = cleaned.to_dict("records")
    out = [
        json.dumps(
            {k: v for k, v in r.items() if isinstance(v, str)},
            ensure_ascii=False,
            sort_keys=True,
        )
        for r in records
    ]
    series = pd.Series(out, index=df.index, dtype=object)
    return series.where(series != "{}", None)


def first_true(masks: list[pd.Series], labels: list[str], index: pd.Index) -> pd.Series:
    """Return, per record, the label of the first mask that is true (else None)."""
    choice = pd.Series(None, index=index, dtype=object)
    for mask, label in zip(masks, labels, strict=True):
        choice = choice.where(choice.notna() | ~mask, label)
    return choice


def as_int64(values: pd.Series) -> pd.Series:
    """Return ``values`` as pandas' nullable Int64."""
    return pd.to_numeric(values, errors="coerce").astype("Int64")


def nan_to_none(values: pd.Series) -> pd.Series:
    """Return an object Series with None for every missing value."""
    out = values.astype(object)
    return out.where(pd.notna(out), None)


__all__ = [
    "KEY_SEPARATOR",
    "DstCounter",
    "FieldProblems",
    "as_int64",
    "convert_field",
    "evaluate",
    "extension_json",
    "first_true",
    "join_key",
    "nan_to_none",
    "np",
    "present",
]
