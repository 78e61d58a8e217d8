"""Pure, vectorised converters from legacy text values to typed target values.

Every converter takes pandas Series and returns Series with the same index, so the
engine can assign results straight back into a batch frame. Nothing here loops over
the records of a batch in Python: the work is done by pandas and NumPy, and where a
step is per value by nature (stripping, lookups), it runs once per *unique* value and
the result is spread back with the factorize codes. Legacy columns repeat a handful of
values across a million records, so that keeps the cost near the number of distinct
values.

Converters never raise on data. A value that cannot be converted comes back missing
and flagged in a ``failed`` (or ``unmapped``) mask, which the engine turns into a
quarantined record. They raise ``ValueError`` only for bad *options* (a configuration
error the mapping loader reports before any data is read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

NonexistentPolicy: TypeAlias = Literal["shift_forward", "shift_backward", "quarantine"]
AmbiguousPolicy: TypeAlias = Literal["earliest", "latest", "quarantine"]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjectArray: TypeAlias = npt.NDArray[np.object_]
DatetimeArray: TypeAlias = npt.NDArray[np.datetime64]

_NONEXISTENT_POLICIES = ("shift_forward", "shift_backward", "quarantine")
_AMBIGUOUS_POLICIES = ("earliest", "latest", "quarantine")

# Everything str.isspace() accepts (all of it lies below U+3001) plus the byte-order
# mark, which Windows tools leave at the start of exported text and which is not
# whitespace to Python.
_STRIP_CHARS = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace()) + "\ufeff"

# Parsed values must fit datetime64[ns] after a time of day and a zone offset are
# added, so the accepted range stops a little inside pandas' nanosecond bounds
# (1677-09-21 .. 2262-04-11). No service-desk date lies outside it.
_EARLIEST = np.datetime64("1678-01-01", "ns")
_LATEST = np.datetime64("2262-01-01", "ns")
_EARLIEST_SECOND = int(_EARLIEST.astype(np.int64)) // 1_000_000_000
_LATEST_SECOND = int(_LATEST.astype(np.int64)) // 1_000_000_000
_NAT = np.datetime64("NaT", "ns")
_NS_PER_SECOND = 1_000_000_000
_MAX_PIVOT = 100

# A directive %y (or %z, %Z) that is not an escaped literal such as "%%y".
_TWO_DIGIT_YEAR = re.compile(r"(?<!%)(?:%%)*%y")
_ZONE_DIRECTIVE = re.compile(r"(?<!%)(?:%%)*%[zZ]")

# A leading integer, optionally written as "3.0", followed by the end or by a
# separator: lookup tables export priorities as "2 - Medium" or "2: Medium".
_LEADING_INT = re.compile(r"[+-]?[0-9]+(?=(?:\.0*)?(?:$|[\s\-\u2013\u2014:;,)/|]))")
_INT64 = np.iinfo(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampResult:
    """Parsed instants of one legacy date (and time) column, with counts of repairs.

    Attributes:
        values: ``datetime64[ns, UTC]``; ``NaT`` where the value is missing or failed.
        failed: True where a value is present but unparseable, or was rejected by the
            ``quarantine`` policy for daylight-saving gaps or repeated hours.
        nonexistent_count: Local times inside a spring-forward gap (adjusted or
            rejected per policy).
        ambiguous_count: Local times inside a repeated autumn hour (resolved or
            rejected per policy).
        two_digit_year_count: Values parsed with a two-digit year and the pivot.
    """

    values: pd.Series
    failed: pd.Series
    nonexistent_count: int
    ambiguous_count: int
    two_digit_year_count: int


def _factorize(values: pd.Series) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Return the factorize codes (-1 for missing) and the unique values as a list."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniques)


def _spread(codes: npt.NDArray[np.intp], per_unique: Sequence[object]) -> ObjectArray:
    """Spread one result per unique value back to every position of the codes.

    Code -1 (missing input) picks the ``None`` appended as the last element.
    """
    table = np.empty(len(per_unique) + 1, dtype=object)
    table[: len(per_unique)] = per_unique
    table[-1] = None
    return table[codes]


def _spread_flags(
    codes: npt.NDArray[np.intp], per_unique: Sequence[bool], *, missing: bool
) -> BoolArray:
    """Like :func:`_spread` for flags; missing inputs get ``missing``."""
    return np.array([*per_unique, missing], dtype=bool)[codes]


def _map_unique(values: pd.Series, func: Callable[[str], object]) -> ObjectArray:
    """Apply ``func`` once per distinct present value (as ``str``) and spread back."""
    codes, uniques = _factorize(values)
    return _spread(codes, [func(_as_text(unique)) for unique in uniques])


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _strip(text: str) -> str:
    return text.strip(_STRIP_CHARS)


def blank_to_none(
    values: pd.Series, blank_values: Collection[str] = ("",)
) -> pd.Series:
    """Strip values and turn every spelling of "missing" into ``None``.

    HEAT writes "not yet happened" as an empty string, other tools as NULL or spaces:
    all are the same missing value.

    Args:
        values: Legacy values (``str``, ``None`` or NaN).
        blank_values: Further values that mean missing (such as ``"N/A"``), compared
            after stripping and case-sensitively.

    Returns:
        An object Series of stripped ``str`` or ``None``, with the input's index.
    """
    blanks = {_strip(blank) for blank in blank_values} | {""}

    def clean(text: str) -> str | None:
        stripped = _strip(text)
        return None if stripped in blanks else stripped

    result = _map_unique(values, clean)
    return pd.Series(result, index=values.index, dtype=object, name=values.name)


def _check_timestamp_options(
    formats: Sequence[str],
    time_formats: Sequence[str],
    two_digit_year_pivot: int | None,
    nonexistent: str,
    ambiguous: str,
) -> None:
    if not formats:
        raise ValueError("At least one date format is required.")
    if not time_formats:
        raise ValueError("At least one time format is required.")
    zoned = [fmt for fmt in [*formats, *time_formats] if _ZONE_DIRECTIVE.search(fmt)]
    if zoned:
        # Legacy texts are zoneless; their zone comes from the mapping definition.
        raise ValueError(
            f"Date format {zoned[0]!r} reads a zone (%z or %Z), which is not "
            "supported.\nhint: drop it and set the source time zone instead."
        )
    uses_two_digit = [fmt for fmt in formats if _TWO_DIGIT_YEAR.search(fmt)]
    if uses_two_digit and two_digit_year_pivot is None:
        raise ValueError(
            f"Date format {uses_two_digit[0]!r} uses a two-digit year (%y) but no "
            "two_digit_year_pivot is set.\nhint: set the pivot, e.g. 50 reads 49 as "
            "2049 and 51 as 1951."
        )
    pivot = two_digit_year_pivot
    if pivot is not None and not 0 <= pivot <= _MAX_PIVOT:
        raise ValueError(
            f"two_digit_year_pivot must be between 0 and 100, not {pivot}."
        )
    if nonexistent not in _NONEXISTENT_POLICIES:
        raise ValueError(
            f"nonexistent must be one of {_NONEXISTENT_POLICIES}, not {nonexistent!r}."
        )
    if ambiguous not in _AMBIGUOUS_POLICIES:
        raise ValueError(
            f"ambiguous must be one of {_AMBIGUOUS_POLICIES}, not {ambiguous!r}."
        )


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"Unknown time zone {timezone!r}.\nhint: use an IANA name such as "
            "'Europe/London' or 'UTC'."
        ) from exc


def _in_range(parsed: pd.Series) -> BoolArray:
    # Compared in the parsed unit (microseconds, or seconds for some formats): a
    # cast to nanoseconds first would overflow for years such as 0001 or 9999.
    ok = (
        parsed.notna()
        & (parsed >= pd.Timestamp(_EARLIEST))
        & (parsed < pd.Timestamp(_LATEST))
    )
    return ok.to_numpy(dtype=bool)


def _apply_pivot(parsed: pd.Series, pivot: int) -> pd.Series:
    """Move %y years onto the configured century: yy < pivot is 20yy, else 19yy.

    pandas reads %y with the POSIX rule (69-99 are 19xx); rebuilding from components
    rather than adding 100 years makes a 29 February that does not exist in the new
    century fail instead of silently becoming the 28th.
    """
    index = pd.DatetimeIndex(parsed)
    present = ~np.asarray(index.isna(), dtype=bool)
    years = index.year.to_numpy(dtype="float64", na_value=np.nan)
    two_digits = np.mod(years, 100)
    target = np.where(two_digits < pivot, 2000 + two_digits, 1900 + two_digits)
    moved = present & (target != years)
    if not moved.any():
        return parsed

    components = pd.DataFrame(
        {
            "year": target[moved].astype(np.int64),
            "month": index.month[moved].astype(np.int64),
            "day": index.day[moved].astype(np.int64),
        }
    )
    rebuilt = pd.to_datetime(components, errors="coerce").to_numpy(
        dtype="datetime64[ns]"
    )
    moved_index = index[moved].as_unit("ns")
    time_of_day = (moved_index - moved_index.normalize()).to_numpy()
    stamps = parsed.to_numpy(dtype="datetime64[ns]", na_value=_NAT, copy=True)
    stamps[moved] = rebuilt + time_of_day
    return pd.Series(stamps, index=parsed.index)


def _parse_texts(
    texts: list[str], formats: Sequence[str], pivot: int | None
) -> tuple[DatetimeArray, BoolArray]:
    """Parse distinct texts with the formats in order; the first that parses wins.

    Returns:
        The naive values (``datetime64[ns]``, NaT where no format parsed) and a mask
        of the values that were parsed by a two-digit-year format.
    """
    pending = pd.Series(texts, dtype=object)
    result = np.full(len(texts), _NAT, dtype="datetime64[ns]")
    two_digit = np.zeros(len(texts), dtype=bool)
    for fmt in formats:
        if pending.empty:
            break
        parsed = pd.to_datetime(pending, format=fmt, errors="coerce")
        uses_two_digit = _TWO_DIGIT_YEAR.search(fmt) is not None
        if uses_two_digit and pivot is not None:
            parsed = _apply_pivot(parsed, pivot)
        ok = _in_range(parsed)
        positions = pending.index.to_numpy()[ok]
        result[positions] = parsed[ok].to_numpy(dtype="datetime64[ns]")
        two_digit[positions] = uses_two_digit
        pending = pending[~ok]
    return result, two_digit


def _parse_times(
    texts: list[str], time_formats: Sequence[str]
) -> npt.NDArray[np.timedelta64]:
    """Parse distinct time texts into a time of day (NaT where no format parsed)."""
    pending = pd.Series(texts, dtype=object)
    result = np.full(len(texts), np.timedelta64("NaT", "ns"), dtype="timedelta64[ns]")
    for fmt in time_formats:
        if pending.empty:
            break
        parsed = pd.to_datetime(pending, format=fmt, errors="coerce")
        ok = _in_range(parsed)
        index = pd.DatetimeIndex(parsed[ok]).as_unit("ns")
        result[pending.index.to_numpy()[ok]] = (index - index.normalize()).to_numpy()
        pending = pending[~ok]
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class _Localized:
    utc: DatetimeArray
    rejected: BoolArray
    nonexistent_count: int
    ambiguous_count: int


def _localize(
    naive: DatetimeArray,
    zone: ZoneInfo,
    nonexistent: NonexistentPolicy,
    ambiguous: AmbiguousPolicy,
) -> _Localized:
    """Attach the source zone to naive local times and convert them to UTC.

    One pass with ``NaT`` for both daylight-saving cases finds the awkward values,
    which are few; only those are localized again to tell gaps from repeated hours
    and to apply the policies, so the common path costs one localization.
    """
    index = pd.DatetimeIndex(naive)
    local = index.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    utc = (
        local.tz_convert("UTC")
        .tz_localize(None)
        .to_numpy(dtype="datetime64[ns]", copy=True)
    )
    awkward = np.flatnonzero(~np.isnat(naive) & np.isnat(utc))
    rejected = np.zeros(len(naive), dtype=bool)
    if awkward.size == 0:
        return _Localized(
            utc=utc, rejected=rejected, nonexistent_count=0, ambiguous_count=0
        )

    subset = index[awkward]
    first = np.ones(awkward.size, dtype=bool)
    probe = subset.tz_localize(zone, ambiguous=first, nonexistent="NaT")
    in_gap = np.asarray(probe.isna())
    gap, repeated = awkward[in_gap], awkward[~in_gap]

    if gap.size and nonexistent == "quarantine":
        rejected[gap] = True
    elif gap.size:
        direction: Literal["shift_forward", "shift_backward"] = (
            "shift_backward" if nonexistent == "shift_backward" else "shift_forward"
        )
        shifted = subset[in_gap].tz_localize(zone, nonexistent=direction)
        shifted = shifted.tz_convert("UTC")
        if nonexistent == "shift_backward":
            # pandas moves to the last nanosecond before the gap, which a database
            # with microsecond precision rounds up to the end of the gap; the last
            # whole second is the closest value a legacy HH:MM:SS text can express.
            shifted = shifted.floor("s")
        utc[gap] = shifted.tz_localize(None).to_numpy(dtype="datetime64[ns]")

    if repeated.size and ambiguous == "quarantine":
        rejected[repeated] = True
    elif repeated.size:
        # True picks the first occurrence (the summer-time reading in Europe).
        occurrence = np.full(repeated.size, ambiguous == "earliest", dtype=bool)
        resolved = subset[~in_gap].tz_localize(zone, ambiguous=occurrence)
        utc[repeated] = (
            resolved.tz_convert("UTC")
            .tz_localize(None)
            .to_numpy(dtype="datetime64[ns]")
        )

    return _Localized(
        utc=utc,
        rejected=rejected,
        nonexistent_count=int(gap.size),
        ambiguous_count=int(repeated.size),
    )


def _utc_series(utc: DatetimeArray, index: pd.Index[Any]) -> pd.Series:
    stamps = pd.DatetimeIndex(utc).tz_localize("UTC")
    return pd.Series(stamps, index=index, dtype="datetime64[ns, UTC]")


def parse_timestamps(
    dates: pd.Series,
    times: pd.Series | None = None,
    *,
    formats: Sequence[str],
    time_formats: Sequence[str] = ("%H:%M:%S", "%H:%M"),
    timezone: str,
    two_digit_year_pivot: int | None = None,
    nonexistent: NonexistentPolicy = "shift_forward",
    ambiguous: AmbiguousPolicy = "earliest",
) -> TimestampResult:
    """Parse legacy local date texts (optionally with a time column) into UTC instants.

    HEAT stores each business date as a ``*Date`` text and its time as a separate
    ``*Time`` text, without a zone. A present date with a missing time means
    midnight (a date-only value); a time without a date counts as missing, not
    failed. The formats are tried in order and the first that parses a value wins.
    Local times that fall into a daylight-saving gap or a repeated hour are counted
    and then resolved by the policies: ``shift_forward`` moves a gap time to the
    first instant after the gap, ``shift_backward`` to the last whole second before
    it; ``earliest`` reads a repeated hour as its first occurrence, ``latest`` as
    the second; ``quarantine`` marks the value failed.

    Args:
        dates: Date texts, already passed through :func:`blank_to_none`.
        times: Optional time texts, aligned with ``dates`` by position.
        formats: ``strptime`` formats for the dates, such as ``"%Y-%m-%d"``; they
            may include a time part when there is no time column.
        time_formats: ``strptime`` formats for the time column.
        timezone: IANA zone of the legacy local times (never the machine's zone).
        two_digit_year_pivot: Required when a format uses ``%y``: a two-digit year
            below the pivot is 20yy, any other 19yy.
        nonexistent: Policy for local times inside a spring-forward gap.
        ambiguous: Policy for local times inside a repeated autumn hour.

    Returns:
        The parsed instants with the failed mask and the repair counts.

    Raises:
        ValueError: If the options are invalid (no formats, ``%y`` without a pivot,
            a format reading a zone, an unknown zone or policy, or ``times`` of
            another length).
    """
    _check_timestamp_options(
        formats, time_formats, two_digit_year_pivot, nonexistent, ambiguous
    )
    zone = _zone(timezone)
    if times is not None and len(times) != len(dates):
        raise ValueError(
            f"times has {len(times)} values but dates has {len(dates)}; "
            "they must be aligned by position."
        )

    date_codes, date_uniques = _factorize(dates)
    texts = [_as_text(unique) for unique in date_uniques]
    parsed_uniques, two_digit_uniques = _parse_texts(
        texts, formats, two_digit_year_pivot
    )
    present = date_codes >= 0
    naive = np.append(parsed_uniques, _NAT)[date_codes]
    failed = present & np.isnat(naive)
    two_digit = np.append(two_digit_uniques, False)[date_codes]

    if times is not None:
        time_codes, time_uniques = _factorize(times)
        time_texts = [_as_text(unique) for unique in time_uniques]
        time_of_day = np.append(
            _parse_times(time_texts, time_formats), np.timedelta64(0, "ns")
        )[time_codes]
        bad_time = present & np.isnat(time_of_day)
        failed |= bad_time
        naive = np.where(bad_time, _NAT, naive + time_of_day)

    localized = _localize(naive, zone, nonexistent, ambiguous)
    failed |= localized.rejected
    utc = np.where(failed, _NAT, localized.utc)
    return TimestampResult(
        values=_utc_series(utc, dates.index),
        failed=pd.Series(failed, index=dates.index, dtype=bool),
        nonexistent_count=localized.nonexistent_count,
        ambiguous_count=localized.ambiguous_count,
        two_digit_year_count=int(two_digit.sum()),
    )


def parse_epoch_seconds(values: pd.Series) -> TimestampResult:
    """Parse integer stamps such as HEAT's ``DTLastMod`` as seconds since 1970 UTC.

    Accepts integer or float dtypes and numeric texts (fractions of a second are
    kept). Missing values stay NaT; anything else that is not a finite number in the
    representable range (1678-2261) is failed.
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
    else:
        codes, uniques = _factorize(values)
        stripped = pd.Series(
            [_strip(_as_text(unique)) for unique in uniques], dtype=object
        )
        parsed = pd.to_numeric(stripped, errors="coerce").astype("float64")
        blank = (stripped == "").to_numpy()
        numbers = np.append(parsed.to_numpy(dtype="float64", na_value=np.nan), np.nan)[
            codes
        ]
        present = (codes >= 0) & np.append(~blank, False)[codes]

    # Whole seconds and the fraction separately: seconds * 1e9 as a float would lose
    # the last digits of the nanosecond count.
    with np.errstate(invalid="ignore"):
        ok = (numbers >= _EARLIEST_SECOND) & (numbers < _LATEST_SECOND)
    safe = np.where(ok, numbers, 0.0)
    seconds = np.floor(safe)
    nanos = seconds.astype(np.int64) * _NS_PER_SECOND + np.round(
        (safe - seconds) * _NS_PER_SECOND
    ).astype(np.int64)
    stamps = nanos.view("datetime64[ns]")
    failed = present & ~ok
    utc = np.where(ok, stamps, _NAT)
    return TimestampResult(
        values=_utc_series(utc, values.index),
        failed=pd.Series(failed, index=values.index, dtype=bool),
        nonexistent_count=0,
        ambiguous_count=0,
        two_digit_year_count=0,
    )


def _key(text: str, *, case_insensitive: bool) -> str:
    stripped = _strip(text)
    return stripped.casefold() if case_insensitive else stripped


def map_values(
    values: pd.Series,
    mapping: Mapping[str, str],
    *,
    default: str | None = None,
    case_insensitive: bool = True,
) -> tuple[pd.Series, pd.Series]:
    """Translate legacy codes through a configured table (status, call type, ...).

    Keys and values are compared after stripping and, if ``case_insensitive``, after
    case folding. Blank values count as missing.

    Returns:
        The mapped values (object Series, ``None`` where the input is missing) and
        the unmapped mask: present values with no entry when there is no default.

    Raises:
        ValueError: If two keys of ``mapping`` are equal after normalising but map to
            different values.
    """
    table: dict[str, str] = {}
    for key, target in mapping.items():
        normalised = _key(key, case_insensitive=case_insensitive)
        if table.setdefault(normalised, target) != target:
            raise ValueError(
                f"Mapping keys collide after normalising: {key!r} and another key "
                f"both read as {normalised!r} but map to different values."
            )

    def lookup(text: str) -> tuple[str | None, bool]:
        normalised = _key(text, case_insensitive=case_insensitive)
        if not normalised:
            return None, False
        if normalised in table:
            return table[normalised], False
        return default, default is None

    codes, uniques = _factorize(values)
    results = [lookup(_as_text(unique)) for unique in uniques]
    mapped = _spread(codes, [target for target, _ in results])
    unmapped = _spread_flags(codes, [flag for _, flag in results], missing=False)
    return (
        pd.Series(mapped, index=values.index, dtype=object, name=values.name),
        pd.Series(unmapped, index=values.index, dtype=bool, name=values.name),
    )


def _as_float(values: pd.Series) -> pd.Index[float]:
    if not pd.api.types.is_numeric_dtype(values.dtype):
        values = pd.to_numeric(blank_to_none(values), errors="coerce")
    numbers: pd.Index[float] = pd.Index(
        values.to_numpy(dtype="float64", na_value=np.nan)
    )
    return numbers


def priority_from_matrix(
    impact: pd.Series,
    urgency: pd.Series,
    matrix: Mapping[int, Mapping[int, int]],
) -> pd.Series:
    """Derive priority from impact and urgency through the configured matrix.

    Args:
        impact: Impact levels (``Int64`` from :func:`parse_int`, or numbers).
        urgency: Urgency levels, aligned with ``impact`` by position.
        matrix: ``matrix[impact][urgency]`` gives the priority.

    Returns:
        Nullable ``Int64`` priorities with ``impact``'s index; ``<NA>`` where either
        level is missing or the pair is not in the matrix.
    """
    if len(impact) != len(urgency):
        raise ValueError(
            f"impact has {len(impact)} values but urgency has {len(urgency)}; "
            "they must be aligned by position."
        )
    impacts = sorted(matrix)
    urgencies = sorted({level for row in matrix.values() for level in row})
    table = np.zeros((len(impacts) + 1, len(urgencies) + 1), dtype=np.int64)
    known = np.zeros_like(table, dtype=bool)
    for row_number, impact_level in enumerate(impacts):
        for urgency_level, priority in matrix[impact_level].items():
            column = urgencies.index(urgency_level)
            table[row_number, column] = priority
            known[row_number, column] = True

    # get_indexer gives -1 for a level not in the matrix (or NaN), which selects the
    # last row or column of the table: the one left unknown on purpose.
    rows = pd.Index(impacts).get_indexer(_as_float(impact))
    columns = pd.Index(urgencies).get_indexer(_as_float(urgency))
    priorities = pd.arrays.IntegerArray(table[rows, columns], ~known[rows, columns])
    return pd.Series(priorities, index=impact.index, name=impact.name)


def _leading_int(text: str) -> int | None:
    match = _LEADING_INT.match(_strip(text))
    if match is None:
        return None
    number = int(match.group())
    return number if _INT64.min <= number <= _INT64.max else None


def parse_int(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse integers written as ``'3'``, ``' 3 '``, ``'3.0'`` or ``'2 - Medium'``.

    Returns:
        Nullable ``Int64`` values and the failed mask (present but not an integer).
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(numbers)
        whole = present & (np.abs(numbers) < 2**63) & (np.mod(numbers, 1) == 0)
        integers = np.where(whole, numbers, 0).astype(np.int64)
        failed = present & ~whole
    else:
        codes, uniques = _factorize(values)
        texts = [_as_text(unique) for unique in uniques]
        parsed = [_leading_int(text) for text in texts]
        integers = np.array([*(n or 0 for n in parsed), 0], dtype=np.int64)[codes]
        whole = _spread_flags(codes, [n is not None for n in parsed], missing=False)
        blank = _spread_flags(codes, [not _strip(text) for text in texts], missing=True)
        failed = ~whole & ~blank
    result = pd.arrays.IntegerArray(integers, ~whole)
    return (
        pd.Series(result, index=values.index, name=values.name),
        pd.Series(failed, index=values.index, dtype=bool, name=values.name),
    )


def parse_bool(
    values: pd.Series,
    *,
    true_values: Collection[str] = ("y", "yes", "true", "1"),
    false_values: Collection[str] = ("n", "no", "false", "0"),
) -> tuple[pd.Series, pd.Series]:
    """Parse HEAT's many spellings of a flag (``Y``/``N``, ``Yes``/``No``, ...).

    Values are compared after stripping and case folding.

    Returns:
        Nullable ``boolean`` values and the failed mask (present but in neither list).

    Raises:
        ValueError: If a spelling is in both ``true_values`` and ``false_values``.
    """
    trues = {_key(text, case_insensitive=True) for text in true_values}
    falses = {_key(text, case_insensitive=True) for text in false_values}
    if overlap := trues & falses:
        raise ValueError(f"Values {sorted(overlap)!r} are both true and false.")

    def parse(text: str) -> tuple[bool | None, bool]:
        normalised = _key(text, case_insensitive=True)
        if not normalised:
            return None, False
        if normalised in trues:
            return True, False
        if normalised in falses:
            return False, False
        return None, True

    codes, uniques = _factorize(values)
    results = [parse(_as_text(unique)) for unique in uniques]
    flags = _spread_flags(codes, [flag is True for flag, _ in results], missing=False)
    known = _spread_flags(
        codes, [flag is not None for flag, _ in results], missing=False
    )
    failed = _spread_flags(codes, [bad for _, bad in results], missing=False)
    return (
        pd.Series(
            pd.arrays.BooleanArray(flags, ~known), index=values.index, name=values.name
        ),
        pd.Series(failed, index=values.index, dtype=bool, name=values.name),
    )
