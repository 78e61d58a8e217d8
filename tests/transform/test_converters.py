from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itilmigrate.transform.converters import (
    blank_to_none,
    map_values,
    parse_bool,
    parse_epoch_seconds,
    parse_int,
    parse_timestamps,
    priority_from_matrix,
)

LONDON = "Europe/London"
ISO = ["%Y-%m-%d"]
ISO_THEN_DMY = ["%Y-%m-%d", "%d/%m/%Y"]


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def texts(*values: str | None) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def stamps(result_values: pd.Series) -> list[pd.Timestamp | None]:
    return [None if pd.isna(v) else v for v in result_values]


# --- blank_to_none --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(" Open ", "Open", id="strips-spaces"),
        pytest.param("\ufeffOpen\t", "Open", id="strips-bom-and-tab"),
        pytest.param("", None, id="empty"),
        pytest.param(" \t\n\u3000", None, id="whitespace-only"),
        pytest.param(None, None, id="none"),
        pytest.param(np.nan, None, id="nan"),
        pytest.param(" N/A ", None, id="blank-value-after-strip"),
        pytest.param("n/a", "n/a", id="blank-value-case-sensitive"),
        pytest.param("a  b", "a  b", id="inner-space-kept"),
    ],
)
def test_blank_to_none_value_gives_expected(value, expected):
    result = blank_to_none(pd.Series([value], dtype=object), ("N/A",))

    assert result.tolist() == [expected]


def test_blank_to_none_string_dtype_keeps_index_and_returns_object():
    values = pd.Series(["x ", None, " "], index=[10, 20, 30], dtype="str", name="col")

    result = blank_to_none(values)

    assert result.dtype == object
    assert result.name == "col"
    assert result.index.tolist() == [10, 20, 30]
    assert result.tolist() == ["x", None, None]


def test_blank_to_none_non_string_values_become_text():
    result = blank_to_none(pd.Series([3, None, 2.5], dtype=object))

    assert result.tolist() == ["3", None, "2.5"]


# --- parse_timestamps: layouts --------------------------------------------------------


def test_parse_timestamps_iso_date_and_time_converts_local_time_to_utc():
    dates = texts("2015-01-15", "2015-07-15")
    times = texts("09:30:00", "09:30:00")

    result = parse_timestamps(dates, times, formats=ISO, timezone=LONDON)

    assert str(result.values.dtype) == "datetime64[ns, UTC]"
    assert stamps(result.values) == [utc("2015-01-15 09:30"), utc("2015-07-15 08:30")]
    assert result.failed.tolist() == [False, False]
    assert (
        result.nonexistent_count,
        result.ambiguous_count,
        result.two_digit_year_count,
    ) == (0, 0, 0)


@pytest.mark.parametrize(
    ("date", "time", "expected", "failed"),
    [
        pytest.param(
            "2015-02-03", "10:11:12", utc("2015-02-03 10:11:12"), False, id="iso"
        ),
        pytest.param(
            "3/2/2015", "10:11", utc("2015-02-03 10:11"), False, id="d/m/yyyy"
        ),
        pytest.param("2015-02-30", "10:00:00", None, True, id="no-30-february"),
        pytest.param("N/A", "10:00:00", None, True, id="not-a-date"),
        pytest.param("2015-02-03", None, utc("2015-02-03"), False, id="date-only"),
        pytest.param(None, "10:00:00", None, False, id="time-only-is-missing"),
        pytest.param(None, None, None, False, id="both-missing"),
        pytest.param("2015-02-03", "25:00:00", None, True, id="bad-time"),
        pytest.param("2015-02-03", "10am", None, True, id="unknown-time-layout"),
        pytest.param("0001-01-01", None, None, True, id="year-out-of-range"),
        pytest.param("2015-02-03 ", None, None, True, id="not-stripped"),
    ],
)
def test_parse_timestamps_layouts_give_exact_value_or_failure(
    date, time, expected, failed
):
    result = parse_timestamps(
        texts(date), texts(time), formats=ISO_THEN_DMY, timezone=LONDON
    )

    assert stamps(result.values) == [expected]
    assert result.failed.tolist() == [failed]


def test_parse_timestamps_first_matching_format_wins():
    # 03/02/2015 is 3 February in d/m/Y and 2 March in m/d/Y: order decides.
    dates = texts("03/02/2015")

    day_first = parse_timestamps(
        dates, formats=["%d/%m/%Y", "%m/%d/%Y"], timezone="UTC"
    )
    month_first = parse_timestamps(
        dates, formats=["%m/%d/%Y", "%d/%m/%Y"], timezone="UTC"
    )

    assert stamps(day_first.values) == [utc("2015-02-03")]
    assert stamps(month_first.values) == [utc("2015-03-02")]


def test_parse_timestamps_format_with_time_part_without_time_column():
    dates = texts("2015/06/01 14:05:06.250", "01/06/2015 14:05", "2015-06-01")

    result = parse_timestamps(
        dates,
        formats=["%Y/%m/%d %H:%M:%S.%f", "%d/%m/%Y %H:%M"],
        timezone=LONDON,
    )

    assert stamps(result.values) == [
        utc("2015-06-01 13:05:06.250"),
        utc("2015-06-01 13:05"),
        None,
    ]
    assert result.failed.tolist() == [False, False, True]


def test_parse_timestamps_keeps_index_and_repeated_values():
    dates = pd.Series(
        ["2015-01-01", None, "2015-01-01"], index=["a", "b", "c"], dtype="str"
    )

    result = parse_timestamps(dates, formats=ISO, timezone="UTC")

    assert result.values.index.tolist() == ["a", "b", "c"]
    assert result.failed.index.tolist() == ["a", "b", "c"]
    assert stamps(result.values) == [utc("2015-01-01"), None, utc("2015-01-01")]


def test_parse_timestamps_empty_series_gives_empty_result():
    result = parse_timestamps(pd.Series([], dtype=object), formats=ISO, timezone=LONDON)

    assert len(result.values) == 0
    assert str(result.values.dtype) == "datetime64[ns, UTC]"
    assert result.failed.dtype == bool


# --- parse_timestamps: daylight saving (Europe/London, 2015) --------------------------

GAP = ("2015-03-29", "01:30:00")  # clocks went 01:00 GMT -> 02:00 BST
REPEATED = ("2015-10-25", "01:30:00")  # 01:00-02:00 happened in BST, then in GMT


@pytest.mark.parametrize(
    ("policy", "expected", "failed"),
    [
        pytest.param(
            "shift_forward", utc("2015-03-29 01:00"), False, id="shift-forward"
        ),
        pytest.param(
            "shift_backward", utc("2015-03-29 00:59:59"), False, id="shift-backward"
        ),
        pytest.param("quarantine", None, True, id="quarantine"),
    ],
)
def test_parse_timestamps_spring_gap_applies_policy_and_counts(
    policy, expected, failed
):
    result = parse_timestamps(
        texts(GAP[0], "2015-03-29"),
        texts(GAP[1], "03:00:00"),
        formats=ISO,
        timezone=LONDON,
        nonexistent=policy,
    )

    assert stamps(result.values) == [expected, utc("2015-03-29 02:00")]
    assert result.failed.tolist() == [failed, False]
    assert result.nonexistent_count == 1
    assert result.ambiguous_count == 0


@pytest.mark.parametrize(
    ("policy", "expected", "failed"),
    [
        pytest.param("earliest", utc("2015-10-25 00:30"), False, id="earliest-is-bst"),
        pytest.param("latest", utc("2015-10-25 01:30"), False, id="latest-is-gmt"),
        pytest.param("quarantine", None, True, id="quarantine"),
    ],
)
def test_parse_timestamps_autumn_repeated_hour_applies_policy_and_counts(
    policy, expected, failed
):
    result = parse_timestamps(
        texts(REPEATED[0], REPEATED[0], "2015-10-25"),
        texts(REPEATED[1], REPEATED[1], "03:00:00"),
        formats=ISO,
        timezone=LONDON,
        ambiguous=policy,
    )

    assert stamps(result.values) == [expected, expected, utc("2015-10-25 03:00")]
    assert result.failed.tolist() == [failed, failed, False]
    assert result.ambiguous_count == 2
    assert result.nonexistent_count == 0


def test_parse_timestamps_gap_and_repeated_hour_in_one_batch_counted_separately():
    result = parse_timestamps(
        texts(GAP[0], REPEATED[0], GAP[0], "2015-06-01", None),
        texts(GAP[1], REPEATED[1], "01:59:59", "12:00:00", "01:30:00"),
        formats=ISO,
        timezone=LONDON,
        nonexistent="quarantine",
        ambiguous="latest",
    )

    assert stamps(result.values) == [
        None,
        utc("2015-10-25 01:30"),
        None,
        utc("2015-06-01 11:00"),
        None,
    ]
    assert result.failed.tolist() == [True, False, True, False, False]
    assert result.nonexistent_count == 2
    assert result.ambiguous_count == 1


# --- parse_timestamps: two-digit years ------------------------------------------------


def test_parse_timestamps_two_digit_year_applies_pivot_and_counts():
    dates = texts("1/3/49", "1/3/51", "1/3/2016", "1/3/00", "1/3/99")

    result = parse_timestamps(
        dates,
        formats=["%d/%m/%Y", "%d/%m/%y"],
        timezone=LONDON,
        two_digit_year_pivot=50,
    )

    assert stamps(result.values) == [
        utc("2049-03-01"),
        utc("1951-03-01"),
        utc("2016-03-01"),
        utc("2000-03-01"),
        utc("1999-03-01"),
    ]
    assert result.failed.tolist() == [False] * 5
    assert result.two_digit_year_count == 4


def test_parse_timestamps_two_digit_year_pivot_keeps_time_of_day():
    result = parse_timestamps(
        texts("01/07/68 10:15"),
        formats=["%d/%m/%y %H:%M"],
        timezone="UTC",
        two_digit_year_pivot=60,
    )

    assert stamps(result.values) == [utc("1968-07-01 10:15")]


def test_parse_timestamps_two_digit_leap_day_missing_in_pivot_century_fails():
    # 29/2/00 is 2000-02-29 under POSIX rules, but pivot 0 makes it 1900, no leap year.
    result = parse_timestamps(
        texts("29/2/00"), formats=["%d/%m/%y"], timezone="UTC", two_digit_year_pivot=0
    )

    assert stamps(result.values) == [None]
    assert result.failed.tolist() == [True]


def test_parse_timestamps_two_digit_format_without_pivot_raises_value_error():
    with pytest.raises(ValueError, match=r"'%d/%m/%y' uses a two-digit year"):
        parse_timestamps(texts("1/3/49"), formats=["%d/%m/%y"], timezone=LONDON)


def test_parse_timestamps_escaped_percent_y_needs_no_pivot():
    result = parse_timestamps(
        texts("2015-01-02 %y"), formats=["%Y-%m-%d %%y"], timezone="UTC"
    )

    assert stamps(result.values) == [utc("2015-01-02")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"formats": []}, "At least one date format", id="no-formats"),
        pytest.param(
            {"time_formats": []}, "At least one time format", id="no-time-formats"
        ),
        pytest.param({"timezone": "Mars/Olympus"}, "Unknown time zone", id="bad-zone"),
        pytest.param(
            {"two_digit_year_pivot": 101}, "between 0 and 100", id="pivot-out-of-range"
        ),
        pytest.param(
            {"formats": ["%Y-%m-%dT%H:%M:%S%z"]}, "reads a zone", id="zone-in-format"
        ),
        pytest.param({"time_formats": ["%H:%M %Z"]}, "reads a zone", id="zone-in-time"),
        pytest.param(
            {"nonexistent": "drop"}, "nonexistent must be", id="bad-gap-policy"
        ),
        pytest.param(
            {"ambiguous": "drop"}, "ambiguous must be", id="bad-repeat-policy"
        ),
    ],
)
def test_parse_timestamps_bad_option_raises_value_error(options, message):
    arguments = {"formats": ISO, "timezone": LONDON, **options}

    with pytest.raises(ValueError, match=message):
        parse_timestamps(texts("2015-01-01"), **arguments)


def test_parse_timestamps_times_of_other_length_raises_value_error():
    with pytest.raises(ValueError, match="aligned by position"):
        parse_timestamps(
            texts("2015-01-01"), texts("10:00", "11:00"), formats=ISO, timezone=LONDON
        )


@given(
    dates=st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=8),
    times=st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=8),
)
def test_parse_timestamps_any_text_gives_timestamp_or_nat(dates, times):
    size = min(len(dates), len(times))
    date_values = texts(*dates[:size])
    time_values = texts(*times[:size])

    result = parse_timestamps(
        date_values,
        time_values,
        formats=["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d %H:%M:%S.%f"],
        timezone=LONDON,
        two_digit_year_pivot=50,
        nonexistent="quarantine",
        ambiguous="quarantine",
    )

    assert str(result.values.dtype) == "datetime64[ns, UTC]"
    for value, failed, date in zip(
        result.values, result.failed, date_values, strict=True
    ):
        if failed or date is None:
            assert pd.isna(value)
        else:
            assert isinstance(value, pd.Timestamp)


# --- parse_epoch_seconds --------------------------------------------------------------


def test_parse_epoch_seconds_texts_give_exact_instants():
    values = texts("1420070400", " 0 ", "-86400", "1.5", "x", "", None, "1e30", "inf")

    result = parse_epoch_seconds(values)

    assert stamps(result.values) == [
        utc("2015-01-01"),
        utc("1970-01-01"),
        utc("1969-12-31"),
        utc("1970-01-01 00:00:01.5"),
        None,
        None,
        None,
        None,
        None,
    ]
    assert result.failed.tolist() == [False] * 4 + [True, False, False, True, True]
    assert str(result.values.dtype) == "datetime64[ns, UTC]"


def test_parse_epoch_seconds_nullable_integers_keep_exact_seconds():
    values = pd.Series([1420070401, None, 4102444799], dtype="Int64", index=[5, 6, 7])

    result = parse_epoch_seconds(values)

    assert stamps(result.values) == [
        utc("2015-01-01 00:00:01"),
        None,
        utc("2099-12-31 23:59:59"),
    ]
    assert result.failed.tolist() == [False, False, False]
    assert result.values.index.tolist() == [5, 6, 7]


# --- map_values -----------------------------------------------------------------------

STATUS_MAP = {"Open": "new", " Closed ": "closed", "Reopened": "in_progress"}


def test_map_values_case_and_whitespace_insensitive_marks_unmapped():
    values = texts(" open", "CLOSED ", "reopened", "Pending", None, "  ")

    mapped, unmapped = map_values(values, STATUS_MAP)

    assert mapped.tolist() == ["new", "closed", "in_progress", None, None, None]
    assert unmapped.tolist() == [False, False, False, True, False, False]


def test_map_values_default_fills_unmapped_values():
    mapped, unmapped = map_values(
        texts("Pending", "Open", None), STATUS_MAP, default="on_hold"
    )

    assert mapped.tolist() == ["on_hold", "new", None]
    assert unmapped.tolist() == [False, False, False]


def test_map_values_case_sensitive_leaves_other_case_unmapped():
    mapped, unmapped = map_values(
        texts("Open", "OPEN"), STATUS_MAP, case_insensitive=False
    )

    assert mapped.tolist() == ["new", None]
    assert unmapped.tolist() == [False, True]


def test_map_values_keeps_index_and_name():
    values = pd.Series(["Open"], index=[42], name="CallStatus", dtype="str")

    mapped, unmapped = map_values(values, STATUS_MAP)

    assert mapped.index.tolist() == [42]
    assert unmapped.index.tolist() == [42]
    assert mapped.name == "CallStatus"


def test_map_values_colliding_keys_raise_value_error():
    with pytest.raises(ValueError, match="collide"):
        map_values(texts("Open"), {"Open": "new", "OPEN ": "in_progress"})


def test_map_values_equal_keys_with_same_target_are_accepted():
    mapped, _ = map_values(texts("open"), {"Open": "new", "OPEN": "new"})

    assert mapped.tolist() == ["new"]


# --- priority_from_matrix -------------------------------------------------------------

ITIL_3X3 = {1: {1: 1, 2: 2, 3: 3}, 2: {1: 2, 2: 3, 3: 4}, 3: {1: 3, 2: 4, 3: 5}}
MATRIX_5X5 = {
    1: {1: 1, 2: 1, 3: 2, 4: 2, 5: 3},
    2: {1: 1, 2: 2, 3: 2, 4: 3, 5: 3},
    3: {1: 2, 2: 2, 3: 3, 4: 3, 5: 4},
    4: {1: 2, 2: 3, 3: 3, 4: 4, 5: 5},
    5: {1: 3, 2: 3, 3: 4, 4: 5, 5: 5},
}


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        pytest.param(1, 1, 1, id="1/1->1"),
        pytest.param(1, 2, 2, id="1/2->2"),
        pytest.param(1, 3, 3, id="1/3->3"),
        pytest.param(2, 1, 2, id="2/1->2"),
        pytest.param(2, 2, 3, id="2/2->3"),
        pytest.param(2, 3, 4, id="2/3->4"),
        pytest.param(3, 1, 3, id="3/1->3"),
        pytest.param(3, 2, 4, id="3/2->4"),
        pytest.param(3, 3, 5, id="3/3->5"),
    ],
)
def test_priority_from_matrix_itil_3x3_cell_gives_priority(impact, urgency, priority):
    result = priority_from_matrix(
        pd.Series([impact], dtype="Int64"),
        pd.Series([urgency], dtype="Int64"),
        ITIL_3X3,
    )

    assert result.dtype == "Int64"
    assert result.tolist() == [priority]


def test_priority_from_matrix_5x5_every_cell_gives_priority():
    cells = [(i, u) for i in range(1, 6) for u in range(1, 6)]
    impact = pd.Series([i for i, _ in cells], dtype="Int64")
    urgency = pd.Series([u for _, u in cells], dtype="Int64")

    result = priority_from_matrix(impact, urgency, MATRIX_5X5)

    assert result.tolist() == [
        1, 1, 2, 2, 3,
        1, 2, 2, 3, 3,
        2, 2, 3, 3, 4,
        2, 3, 3, 4, 5,
        3, 3, 4, 5, 5,
    ]  # fmt: skip


def test_priority_from_matrix_missing_or_unknown_level_gives_na():
    impact = pd.Series([None, 1, 4, 2, 0], dtype="Int64", index=list("abcde"))
    urgency = pd.Series([1, None, 1, 9, 1], dtype="Int64", index=list("abcde"))

    result = priority_from_matrix(impact, urgency, ITIL_3X3)

    assert result.isna().tolist() == [True, True, True, True, True]
    assert result.index.tolist() == list("abcde")


def test_priority_from_matrix_pair_missing_from_sparse_matrix_gives_na():
    sparse = {1: {1: 1}, 2: {2: 3}}

    result = priority_from_matrix(
        pd.Series([1, 1, 2, 2], dtype="Int64"),
        pd.Series([1, 2, 1, 2], dtype="Int64"),
        sparse,
    )

    assert result.tolist() == [1, pd.NA, pd.NA, 3]


def test_priority_from_matrix_numeric_texts_and_floats_are_accepted():
    result = priority_from_matrix(
        texts("2", " 3 ", "x", None), pd.Series([1.0, 3.0, 1.0, 1.0]), ITIL_3X3
    )

    assert result.tolist() == [2, 5, pd.NA, pd.NA]


def test_priority_from_matrix_unaligned_inputs_raise_value_error():
    with pytest.raises(ValueError, match="aligned by position"):
        priority_from_matrix(pd.Series([1]), pd.Series([1, 2]), ITIL_3X3)


# --- parse_int / parse_bool -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "failed"),
    [
        pytest.param("3", 3, False, id="digits"),
        pytest.param(" 3 ", 3, False, id="padded"),
        pytest.param("3.0", 3, False, id="float-text"),
        pytest.param("2 - Medium", 2, False, id="lookup-label"),
        pytest.param("1: High", 1, False, id="colon-label"),
        pytest.param("-4", -4, False, id="negative"),
        pytest.param("007", 7, False, id="leading-zeros"),
        pytest.param("3.5", None, True, id="fraction"),
        pytest.param("3abc", None, True, id="letters-attached"),
        pytest.param("High", None, True, id="word"),
        pytest.param("99999999999999999999", None, True, id="beyond-int64"),
        pytest.param("", None, False, id="empty-is-missing"),
        pytest.param(None, None, False, id="none-is-missing"),
    ],
)
def test_parse_int_value_gives_integer_or_failure(value, expected, failed):
    result, failed_mask = parse_int(texts(value))

    assert result.dtype == "Int64"
    assert [None if pd.isna(v) else v for v in result] == [expected]
    assert failed_mask.tolist() == [failed]


def test_parse_int_numeric_dtype_checks_whole_numbers():
    result, failed = parse_int(pd.Series([1.0, 2.5, None, 1e20], index=[3, 4, 5, 6]))

    assert result.tolist() == [1, pd.NA, pd.NA, pd.NA]
    assert failed.tolist() == [False, True, False, True]
    assert result.index.tolist() == [3, 4, 5, 6]


@pytest.mark.parametrize(
    ("value", "expected", "failed"),
    [
        pytest.param("Y", True, False, id="Y"),
        pytest.param(" yes ", True, False, id="yes-padded"),
        pytest.param("TRUE", True, False, id="TRUE"),
        pytest.param("1", True, False, id="one"),
        pytest.param("n", False, False, id="n"),
        pytest.param("No", False, False, id="No"),
        pytest.param("false", False, False, id="false"),
        pytest.param("0", False, False, id="zero"),
        pytest.param("maybe", None, True, id="unknown"),
        pytest.param(" ", None, False, id="blank-is-missing"),
        pytest.param(None, None, False, id="none-is-missing"),
    ],
)
def test_parse_bool_value_gives_flag_or_failure(value, expected, failed):
    result, failed_mask = parse_bool(texts(value))

    assert result.dtype == "boolean"
    assert [None if pd.isna(v) else v for v in result] == [expected]
    assert failed_mask.tolist() == [failed]


def test_parse_bool_custom_spellings_replace_defaults():
    result, failed = parse_bool(
        texts("Ja", "nein", "Y"), true_values=("ja",), false_values=("Nein",)
    )

    assert result.tolist() == [True, False, pd.NA]
    assert failed.tolist() == [False, False, True]


def test_parse_bool_spelling_in_both_lists_raises_value_error():
    with pytest.raises(ValueError, match="both true and false"):
        parse_bool(texts("y"), true_values=("y",), false_values=("Y",))
