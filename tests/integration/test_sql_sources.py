"""SqlSource against the real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError

from itilmigrate.errors import ExitCode, SourceError
from itilmigrate.extract.base import SqlSourceSpec, open_source, resolve_column
from itilmigrate.extract.sql_source import SqlSource

if TYPE_CHECKING:
    from collections.abc import Iterator

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

EXPECTED = [
    {"CallID": "00012", "Num": "5", "CallDesc": "Drucker défekt: 50 €", "Cost": "5.5"},
    {"CallID": "00013", "Num": None, "CallDesc": "", "Cost": "7"},
    {"CallID": "00014", "Num": "-3", "CallDesc": None, "Cost": None},
    {"CallID": "00015", "Num": "0", "CallDesc": "  padded  ", "Cost": "0.25"},
    {"CallID": "00016", "Num": "2147483647", "CallDesc": "x", "Cost": "12"},
]
INSERT_VALUES = [
    ("00012", 5, "Drucker défekt: 50 €", "5.50"),
    ("00013", None, "", "7.00"),
    ("00014", -3, None, None),
    ("00015", 0, "  padded  ", "0.25"),
    ("00016", 2147483647, "x", "12.00"),
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def _server(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError:
        _unavailable(f"no database server at {url}")
    finally:
        engine.dispose()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    _server(PG_URL)
    schema = f"itm_extract_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        connection.exec_driver_sql(
            f'CREATE TABLE "{schema}"."CallLog" ("CallID" varchar(8), "Num" integer, '
            '"CallDesc" text, "Cost" numeric(10, 2), "RecvdAt" timestamp, '
            '"Open" boolean)'
        )
        connection.exec_driver_sql(
            f'INSERT INTO "{schema}"."CallLog" ("CallID", "Num", "CallDesc", "Cost") '
            "VALUES (%s, %s, %s, %s)",
            INSERT_VALUES,
        )
        connection.exec_driver_sql(
            f'UPDATE "{schema}"."CallLog" SET "RecvdAt" = \'2016-01-03 09:05:07\', '
            '"Open" = true WHERE "CallID" = \'00012\''
        )
    try:
        yield schema
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    _server(MARIADB_URL)
    database = f"itm_extract_{uuid.uuid4().hex[:10]}"
    engine = create_engine(MARIADB_URL)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
        )
        connection.exec_driver_sql(
            f"CREATE TABLE `{database}`.`CallLog` (`CallID` varchar(8), `Num` int, "
            "`CallDesc` text, `Cost` decimal(10, 2), `RecvdAt` datetime, "
            "`Open` tinyint(1))"
        )
        connection.exec_driver_sql(
            f"INSERT INTO `{database}`.`CallLog` (`CallID`, `Num`, `CallDesc`, `Cost`) "
            "VALUES (%s, %s, %s, %s)",
            INSERT_VALUES,
        )
        connection.exec_driver_sql(
            f"UPDATE `{database}`.`CallLog` SET `RecvdAt` = '2016-01-03 09:05:07', "
            "`Open` = 1 WHERE `CallID` = '00012'"
        )
    try:
        yield (
            make_url(MARIADB_URL)
            .set(query={"charset": "utf8mb4"})
            .set(database=database)
            .render_as_string(hide_password=False)
        )
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE `{database}`")
        engine.dispose()


def _read_call_log(source: SqlSource) -> tuple[list[int], pd.DataFrame]:
    table = source.resolve_table("calllog")
    assert table == "CallLog"
    actual = source.columns(table)
    wanted = [
        resolve_column(actual, name) or "" for name in ("callid", "NUM", "#3", "cost")
    ]
    assert wanted == ["CallID", "Num", "CallDesc", "Cost"]
    frames = list(
        source.read_batches(table, wanted, batch_size=2, order_by=[actual[0]])
    )
    return [len(frame) for frame in frames], pd.concat(frames, ignore_index=True)


def test_sql_source_postgresql_reads_mixed_case_table_in_batches(
    pg_schema: str,
) -> None:
    spec = SqlSourceSpec.model_validate({"url": PG_URL, "schema": pg_schema})
    with open_source(spec, source_name="heat") as source:
        assert isinstance(source, SqlSource)
        assert source.list_tables() == ["CallLog"]
        assert source.columns("CallLog") == [
            "CallID", "Num", "CallDesc", "Cost", "RecvdAt", "Open"
        ]  # fmt: skip
        assert source.count("CallLog") == 5

        sizes, frame = _read_call_log(source)
        first = next(
            source.read_batches(
                "CallLog", ["RecvdAt", "Open"], batch_size=2, order_by=["CallID"]
            )
        )

    assert sizes == [2, 2, 1]
    assert frame.dtypes.tolist() == [object] * 4
    assert frame.to_dict("records") == EXPECTED
    assert first.to_dict("records") == [
        {"RecvdAt": "2016-01-03 09:05:07", "Open": "true"},
        {"RecvdAt": None, "Open": None},
    ]


def test_sql_source_postgresql_limit_stops_early(pg_schema: str) -> None:
    spec = SqlSourceSpec.model_validate({"url": PG_URL, "schema": pg_schema})
    with open_source(spec, source_name="heat") as source:
        frames = list(
            source.read_batches(
                "CallLog", ["CallID"], batch_size=2, order_by=["CallID"], limit=3
            )
        )

    assert [frame["CallID"].tolist() for frame in frames] == [
        ["00012", "00013"],
        ["00014"],
    ]


def test_sql_source_postgresql_missing_schema_raises_source_error() -> None:
    _server(PG_URL)
    spec = SqlSourceSpec.model_validate({"url": PG_URL, "schema": "itm_no_such_schema"})

    with pytest.raises(SourceError) as caught:
        open_source(spec, source_name="heat")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith(
        f"Source 'heat': No schema 'itm_no_such_schema' in the database ({PG_URL}); "
        "it has "
    )


def test_sql_source_postgresql_wrong_database_raises_source_error() -> None:
    _server(PG_URL)
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:5432/itm_no_such_database"

    with pytest.raises(SourceError) as caught:
        open_source(SqlSourceSpec(url=url), source_name="heat")

    message = str(caught.value)
    assert caught.value.exit_code is ExitCode.IO
    assert message.startswith(
        "Source 'heat': Cannot connect to the database "
        "(postgresql+psycopg://postgres:***@127.0.0.1:5432/itm_no_such_database): "
    )
    assert 'database "itm_no_such_database" does not exist' in message
    assert "s3cret" not in message


def test_sql_source_mariadb_reads_mixed_case_table_in_batches(mariadb_url: str) -> None:
    with open_source(SqlSourceSpec(url=mariadb_url), source_name="heat") as source:
        assert isinstance(source, SqlSource)
        assert source.list_tables() == ["CallLog"]
        assert source.count("CallLog") == 5

        sizes, frame = _read_call_log(source)
        first = next(
            source.read_batches(
                "CallLog", ["RecvdAt", "Open"], batch_size=2, order_by=["CallID"]
            )
        )

    assert sizes == [2, 2, 1]
    assert frame.to_dict("records") == EXPECTED
    assert first.to_dict("records") == [
        {"RecvdAt": "2016-01-03 09:05:07", "Open": "1"},
        {"RecvdAt": None, "Open": None},
    ]


def test_sql_source_mariadb_wrong_password_raises_source_error() -> None:
    _server(MARIADB_URL)
    url = "mysql+pymysql://root:wrong-s3cret@127.0.0.1:3306/test"

    with pytest.raises(SourceError) as caught:
        open_source(SqlSourceSpec(url=url), source_name="heat")

    message = str(caught.value)
    assert message.startswith(
        "Source 'heat': Cannot connect to the database "
        "(mysql+pymysql://root:***@127.0.0.1:3306/test): "
    )
    assert "Access denied for user 'root'" in message
    assert "wrong-s3cret" not in message
