"""OdbcSource through the SQLite3 and MariaDB Unicode ODBC drivers."""

from __future__ import annotations

import os
import sqlite3
import uuid
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from itilmigrate.errors import ExitCode, SourceError
from itilmigrate.extract.base import OdbcSourceSpec, open_source, resolve_column
from itilmigrate.extract.odbc_source import OdbcSource

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
MARIADB_ODBC = ";".join(
    [
        "DRIVER={{MariaDB Unicode}}",
        "Server=127.0.0.1",
        "Port=3306",
        "Database={}",
        "User=root",
        "Password=;",
    ]
)
MEMO = "Drucker défekt, Kosten 50 €.\r\nZweite Zeile: ñ ü ß " + "x" * 70_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def _driver(name: str) -> None:
    try:
        import pyodbc
    except ImportError as exc:
        _unavailable(f"pyodbc cannot load unixODBC ({exc})")
        return
    if name not in pyodbc.drivers():
        _unavailable(f"ODBC driver {name!r} is not installed (see /etc/odbcinst.ini)")


def _open(connection_string: str) -> OdbcSource:
    spec = OdbcSourceSpec(connection_string=connection_string)
    source = open_source(spec, source_name="heat")
    assert isinstance(source, OdbcSource)
    return source


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    _driver("SQLite3")
    path = tmp_path / "heat.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "CallLog" ("CallID" VARCHAR(8), "Num" INTEGER, '
            '"CallDesc" TEXT, "RecvdDate" DATETIME, "Cost" REAL)'
        )
        connection.executemany(
            'INSERT INTO "CallLog" VALUES (?, ?, ?, ?, ?)',
            [
                ("00012", 5, MEMO, "2016-01-03 09:05:07", 5.0),
                ("00013", None, "Café", "1/3/2016", 2.5),
                ("00014", "abc", None, "not a date", None),
                ("00015", 12345678901234, "", "", 1e20),
                ("00016", -7, "  ", None, 0.1),
            ],
        )
        connection.execute('CREATE TABLE "Call_Log" ("Other" TEXT)')
    connection.close()
    return path


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    _driver("MariaDB Unicode")
    engine = create_engine(MARIADB_URL)
    try:
        with engine.connect():
            pass
    except OperationalError:
        engine.dispose()
        _unavailable(f"no MariaDB server at {MARIADB_URL}")
    database = f"itm_odbc_{uuid.uuid4().hex[:10]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
        )
        connection.exec_driver_sql(
            f"CREATE TABLE `{database}`.`CallLog` (`CallID` varchar(8), `Num` int, "
            # HEAT's TEXT memo columns become LONGTEXT in MySQL copies.
            "`CallDesc` longtext, `RecvdAt` datetime, `Cost` decimal(10, 2))"
        )
        connection.exec_driver_sql(
            f"INSERT INTO `{database}`.`CallLog` VALUES (%s, %s, %s, %s, %s)",
            [
                ("00012", 5, MEMO, "2016-01-03 09:05:07", "5.50"),
                ("00013", None, "Café", None, "7.00"),
                ("00014", -3, None, None, None),
                ("00015", 0, "", None, "0.25"),
                ("00016", 2147483647, "  ", None, "12.00"),
            ],
        )
    try:
        yield database
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE `{database}`")
        engine.dispose()


def _read(
    source: OdbcSource, table: str, batch_size: int
) -> tuple[list[int], pd.DataFrame]:
    columns = source.columns(table)
    frames = list(
        source.read_batches(table, columns, batch_size=batch_size, order_by=["CallID"])
    )
    return [len(frame) for frame in frames], pd.concat(frames, ignore_index=True)


def test_odbc_source_sqlite3_driver_reads_raw_text_in_batches(
    sqlite_file: Path,
) -> None:
    with _open(f"DRIVER={{SQLite3}};Database={sqlite_file}") as source:
        assert source.list_tables() == ["CallLog", "Call_Log"]
        table = source.resolve_table("calllog")
        assert table == "CallLog"
        assert source.columns("CallLog") == [
            "CallID",
            "Num",
            "CallDesc",
            "RecvdDate",
            "Cost",
        ]
        assert resolve_column(source.columns("CallLog"), "recvddate") == "RecvdDate"
        assert source.count("CallLog") == 5
        sizes, frame = _read(source, table, batch_size=2)

    assert sizes == [2, 2, 1]
    assert frame.dtypes.tolist() == [object] * 5
    assert frame.to_dict("records") == [
        {
            "CallID": "00012",
            "Num": "5",
            "CallDesc": MEMO,
            "RecvdDate": "2016-01-03 09:05:07",
            "Cost": "5",
        },
        {
            "CallID": "00013",
            "Num": None,
            "CallDesc": "Café",
            "RecvdDate": "1/3/2016",
            "Cost": "2.5",
        },
        # The driver alone would turn these into NULL and a wrapped 32-bit integer.
        {
            "CallID": "00014",
            "Num": "abc",
            "CallDesc": None,
            "RecvdDate": "not a date",
            "Cost": None,
        },
        {
            "CallID": "00015",
            "Num": "12345678901234",
            "CallDesc": "",
            "RecvdDate": "",
            "Cost": "100000000000000000000",
        },
        {
            "CallID": "00016",
            "Num": "-7",
            "CallDesc": "  ",
            "RecvdDate": None,
            "Cost": "0.1",
        },
    ]


def test_odbc_source_sqlite3_limit_stops_fetching(sqlite_file: Path) -> None:
    with _open(f"DRIVER={{SQLite3}};Database={sqlite_file}") as source:
        frames = list(
            source.read_batches(
                "CallLog", ["CallID"], batch_size=2, order_by=["CallID"], limit=3
            )
        )

    assert [frame["CallID"].tolist() for frame in frames] == [
        ["00012", "00013"],
        ["00014"],
    ]


def test_odbc_source_sqlite3_unknown_table_raises_source_error(
    sqlite_file: Path,
) -> None:
    with (
        _open(f"DRIVER={{SQLite3}};Database={sqlite_file}") as source,
        pytest.raises(SourceError) as caught,
    ):
        source.columns("Journal")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith(
        "Source 'heat', table 'Journal': No such table in the database"
    )


def test_odbc_source_mariadb_reads_memo_and_non_ascii_text(
    mariadb_database: str,
) -> None:
    with _open(MARIADB_ODBC.format(mariadb_database)) as source:
        assert source.list_tables() == ["CallLog"]
        assert source.resolve_table("CALLLOG") == "CallLog"
        assert source.columns("CallLog") == [
            "CallID",
            "Num",
            "CallDesc",
            "RecvdAt",
            "Cost",
        ]
        assert source.count("CallLog") == 5
        sizes, frame = _read(source, "CallLog", batch_size=2)
        # Two reads open at once: each read has its own connection.
        first = source.read_batches(
            "CallLog", ["CallID"], batch_size=1, order_by=["Num"]
        )
        second = source.read_batches("CallLog", ["Num"], batch_size=1, order_by=["Num"])
        pairs = [(next(first)["CallID"][0], next(second)["Num"][0]) for _ in range(2)]

    assert sizes == [2, 2, 1]
    assert frame.to_dict("records") == [
        {
            "CallID": "00012",
            "Num": "5",
            "CallDesc": MEMO,
            "RecvdAt": "2016-01-03 09:05:07",
            "Cost": "5.5",
        },
        {
            "CallID": "00013",
            "Num": None,
            "CallDesc": "Café",
            "RecvdAt": None,
            "Cost": "7",
        },
        {
            "CallID": "00014",
            "Num": "-3",
            "CallDesc": None,
            "RecvdAt": None,
            "Cost": None,
        },
        {
            "CallID": "00015",
            "Num": "0",
            "CallDesc": "",
            "RecvdAt": None,
            "Cost": "0.25",
        },
        {
            "CallID": "00016",
            "Num": "2147483647",
            "CallDesc": "  ",
            "RecvdAt": None,
            "Cost": "12",
        },
    ]
    assert pairs == [("00013", None), ("00014", "-3")]


def test_odbc_source_mariadb_wrong_password_is_masked() -> None:
    _driver("MariaDB Unicode")
    text = MARIADB_ODBC.format("test").replace("Password=;", "Password=wr0ng-s3cret;")

    with pytest.raises(SourceError) as caught:
        _open(text)

    message = str(caught.value)
    assert caught.value.exit_code is ExitCode.IO
    assert message.startswith(
        "Source 'heat': Cannot connect through ODBC (DRIVER={MariaDB Unicode};"
        "Server=127.0.0.1;Port=3306;Database=test;User=root;Password=***"
    )
    assert "Access denied for user 'root'" in message
    assert "wr0ng-s3cret" not in message


def test_odbc_source_mariadb_wrong_database_raises_source_error() -> None:
    _driver("MariaDB Unicode")

    with pytest.raises(SourceError) as caught:
        _open(MARIADB_ODBC.format("itm_no_such_database"))

    assert caught.value.exit_code is ExitCode.IO
    assert "Unknown database 'itm_no_such_database'" in str(caught.value)
