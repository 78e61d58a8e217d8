from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from pydantic import TypeAdapter, ValidationError

from itilmigrate.errors import (
    ConfigError,
    ExitCode,
    SourceError,
    UnsupportedFeatureError,
)
from itilmigrate.extract.base import (
    CsvSourceSpec,
    OdbcSourceSpec,
    SourceRegistry,
    SourceSpec,
    SqlSourceSpec,
    check_read_request,
    frame_from_rows,
    open_source,
    resolve_column,
    resolve_table_name,
    source_registry,
    to_text,
)

if TYPE_CHECKING:
    from pathlib import Path

COLUMNS = ["CallID", "callid", "CustID", "RecvdDate", "Variant#2"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("CallID", "CallID", id="exact-wins-over-case-insensitive"),
        pytest.param("callid", "callid", id="exact-lower-case"),
        pytest.param("CUSTID", "CustID", id="case-insensitive"),
        pytest.param("recvddate", "RecvdDate", id="lower-case-heat-name"),
        pytest.param("#3", "CustID", id="position"),
        pytest.param(" #1 ", "CallID", id="position-with-spaces"),
        pytest.param("#5", "Variant#2", id="last-position"),
        pytest.param("#6", None, id="position-past-the-end"),
        pytest.param("#0", None, id="position-zero"),
        pytest.param("variant#2", "Variant#2", id="repeated-header-name"),
        pytest.param("Closed", None, id="missing"),
    ],
)
def test_resolve_column_name_returns_actual_column(
    name: str, expected: str | None
) -> None:
    assert resolve_column(COLUMNS, name) == expected


def test_resolve_column_literal_hash_name_wins_over_position() -> None:
    assert resolve_column(["a", "b", "#1"], "#1") == "#1"


def test_resolve_column_two_case_insensitive_matches_raises_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_column(["Status", "STATUS"], "status")

    assert caught.value.exit_code is ExitCode.CONFIG
    assert "'status' is ambiguous" in str(caught.value)
    assert "['Status', 'STATUS']" in str(caught.value)


def test_resolve_table_name_case_insensitive_returns_actual_name() -> None:
    tables = ["CallLog", "Asgnmnt", "Journal"]

    assert resolve_table_name(tables, "CALLLOG") == "CallLog"
    assert resolve_table_name(tables, "calllog") == "CallLog"
    assert resolve_table_name(tables, "Profile") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("  00012 ", "  00012 ", id="text-untouched"),
        pytest.param(5, "5", id="int"),
        pytest.param(-12345678901234, "-12345678901234", id="big-int"),
        pytest.param(5.0, "5", id="integral-float"),
        pytest.param(5.5, "5.5", id="float"),
        pytest.param(1e20, "100000000000000000000", id="large-integral-float"),
        pytest.param(float("nan"), "nan", id="nan"),
        pytest.param(Decimal("5.00"), "5", id="integral-decimal"),
        pytest.param(Decimal("5.50"), "5.5", id="decimal"),
        pytest.param(Decimal("1E+2"), "100", id="decimal-exponent"),
        pytest.param(True, "true", id="true"),
        pytest.param(False, "false", id="false"),
        pytest.param(
            datetime.fromisoformat("2016-01-03T09:05:07"),
            "2016-01-03 09:05:07",
            id="datetime",
        ),
        pytest.param(
            datetime.fromisoformat("2016-01-03T09:05:07.120"),
            "2016-01-03 09:05:07.120000",
            id="micros",
        ),
        pytest.param(
            datetime(2016, 1, 3, 9, 5, 7, tzinfo=UTC),
            "2016-01-03 09:05:07+00:00",
            id="aware",
        ),
        pytest.param(date(2016, 1, 3), "2016-01-03", id="date"),
        pytest.param(time(9, 5, 7), "09:05:07", id="time"),
        pytest.param(timedelta(hours=9, minutes=5), "09:05:00", id="mysql-time"),
        pytest.param(
            timedelta(hours=30, seconds=1), "30:00:01", id="mysql-time-over-a-day"
        ),
        pytest.param(-timedelta(minutes=90), "-01:30:00", id="negative-mysql-time"),
        pytest.param("café".encode(), "café", id="utf8-bytes"),
        pytest.param(b"\x80 \xe9", "€ é", id="cp1252-bytes"),
        pytest.param(b"\x81", "\x81", id="latin1-fallback"),
        pytest.param(bytearray(b"hi"), "hi", id="bytearray"),
        pytest.param(memoryview(b"hi"), "hi", id="memoryview"),
    ],
)
def test_to_text_value_returns_text_form(value: object, expected: str | None) -> None:
    assert to_text(value) == expected


def test_to_text_int_subclass_uses_int_form() -> None:
    class Code(int):
        pass

    assert to_text(Code(7)) == "7"


def test_frame_from_rows_mixed_values_gives_object_text_frame() -> None:
    rows = [("00012", 5, None, 5.0), ("00013", None, "x", 2.5)]

    frame = frame_from_rows(rows, ["CallID", "Num", "Memo", "Cost"])

    assert list(frame.columns) == ["CallID", "Num", "Memo", "Cost"]
    assert frame.dtypes.tolist() == [object] * 4
    assert frame.to_dict("records") == [
        {"CallID": "00012", "Num": "5", "Memo": None, "Cost": "5"},
        {"CallID": "00013", "Num": None, "Memo": "x", "Cost": "2.5"},
    ]


def test_frame_from_rows_no_rows_gives_empty_frame_with_columns() -> None:
    frame = frame_from_rows([], ["a", "b"])

    assert list(frame.columns) == ["a", "b"]
    assert len(frame) == 0


def test_check_read_request_unknown_column_raises_source_error() -> None:
    with pytest.raises(SourceError) as caught:
        check_read_request(
            ["a"], ["a", "b"], batch_size=10, limit=None, source_name="calls", table="t"
        )

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith("Source 'calls', table 't': No column 'b'")


@pytest.mark.parametrize(
    ("batch_size", "limit", "columns"),
    [
        pytest.param(0, None, ["a"], id="batch-size-zero"),
        pytest.param(10, -1, ["a"], id="negative-limit"),
        pytest.param(10, None, [], id="no-columns"),
    ],
)
def test_check_read_request_bad_arguments_raise_value_error(
    batch_size: int, limit: int | None, columns: list[str]
) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        check_read_request(
            ["a"],
            columns,
            batch_size=batch_size,
            limit=limit,
            source_name="s",
            table="t",
        )


def test_source_spec_kind_selects_model() -> None:
    adapter: TypeAdapter[SourceSpec] = TypeAdapter(SourceSpec)

    sql = adapter.validate_python(
        {"kind": "sql", "url": "sqlite:///a.db", "schema": "dbo"}
    )
    csv = adapter.validate_python({"kind": "csv", "path": "exports", "delimiter": ";"})
    odbc = adapter.validate_python({"kind": "odbc", "dsn": "HEAT", "password": "pw"})

    assert isinstance(sql, SqlSourceSpec)
    assert sql.schema_ == "dbo"
    assert isinstance(csv, CsvSourceSpec)
    assert (csv.delimiter, csv.encoding, csv.header, csv.pattern) == (
        ";",
        "auto",
        True,
        "*.csv*",
    )
    assert isinstance(odbc, OdbcSourceSpec)
    assert "pw" not in repr(odbc)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"kind": "odbc"}, id="odbc-neither"),
        pytest.param(
            {"kind": "odbc", "dsn": "HEAT", "connection_string": "DSN=HEAT"},
            id="odbc-both",
        ),
        pytest.param(
            {"kind": "odbc", "connection_string": "DSN=HEAT", "user": "sa"},
            id="odbc-user-with-connection-string",
        ),
        pytest.param(
            {"kind": "csv", "path": "x", "delimiter": ";;"}, id="csv-long-delimiter"
        ),
        pytest.param(
            {"kind": "csv", "path": "x", "delimiter": '"'}, id="csv-quote-delimiter"
        ),
        pytest.param(
            {"kind": "csv", "path": "x", "encoding": "klingon"}, id="csv-encoding"
        ),
        pytest.param({"kind": "csv", "path": "x", "sep": ";"}, id="csv-unknown-key"),
        pytest.param({"kind": "sql", "url": ""}, id="sql-empty-url"),
        pytest.param({"kind": "excel", "path": "x"}, id="unknown-kind"),
    ],
)
def test_source_spec_invalid_raises_validation_error(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(SourceSpec).validate_python(data)


def test_source_registry_duplicate_kind_raises_value_error() -> None:
    registry = SourceRegistry()
    registry.register("csv")(lambda spec, **_: spec)

    with pytest.raises(ValueError, match="'csv' is already registered"):
        registry.register("csv")(lambda spec, **_: spec)


def test_source_registry_lists_every_technology() -> None:
    assert source_registry.kinds == ["csv", "odbc", "sql"]


def test_source_registry_unregistered_kind_raises_unsupported_feature() -> None:
    with pytest.raises(UnsupportedFeatureError, match="'csv' is not supported"):
        SourceRegistry().open(CsvSourceSpec(path="x"), source_name="calls")


def test_open_source_missing_csv_folder_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        open_source(
            CsvSourceSpec(path="missing"), source_name="calls", base_dir=tmp_path
        )

    assert caught.value.exit_code is ExitCode.IO
    assert caught.value.source_name == "calls"
    assert f"No CSV file or folder {str(tmp_path / 'missing')!r}." in str(caught.value)
