from __future__ import annotations

import sqlite3
import urllib.parse
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError

from itilmigrate.errors import ExitCode, SourceError
from itilmigrate.extract.base import SqlSourceSpec, open_source
from itilmigrate.extract.sql_source import SqlSource

if TYPE_CHECKING:
    from pathlib import Path

ROWS = [
    ("00012", 5, 5.0, "2016-01-03 09:05:07", "Printer jams"),
    ("00013", None, 2.5, "1/3/2016", "Café € crème"),
    ("  00014 ", 7, None, "not a date", None),
    ("00015", "abc", 12345678901234.0, "", "  "),
    ("00016", 12345678901234, 0.1, None, "x"),
]


@pytest.fixture
def heat_db(tmp_path: Path) -> Path:
    path = tmp_path / "heat.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            'CREATE TABLE "CallLog" ("CallID" VARCHAR(8), "Num" INTEGER, "Cost" REAL, '
            '"RecvdDate" DATETIME, "CallDesc" TEXT)'
        )
        connection.executemany('INSERT INTO "CallLog" VALUES (?, ?, ?, ?, ?)', ROWS)
        connection.execute('CREATE TABLE "Asgnmnt" ("CallID" TEXT, "Select" TEXT)')
        connection.execute("INSERT INTO \"Asgnmnt\" VALUES ('00012', 'reserved word')")
        connection.execute('CREATE VIEW "OpenCalls" AS SELECT "CallID" FROM "CallLog"')
    connection.close()
    return path


def _open(url: str, base_dir: Path | None = None) -> SqlSource:
    source = open_source(SqlSourceSpec(url=url), source_name="heat", base_dir=base_dir)
    assert isinstance(source, SqlSource)
    return source


def test_sql_source_sqlite_lists_tables_then_views(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        assert source.list_tables() == ["Asgnmnt", "CallLog", "OpenCalls"]
        assert source.resolve_table("calllog") == "CallLog"
        assert source.resolve_table("CALLLOG") == "CallLog"
        assert source.resolve_table("Journal") is None


def test_sql_source_sqlite_columns_in_table_order(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        assert source.columns("CallLog") == [
            "CallID",
            "Num",
            "Cost",
            "RecvdDate",
            "CallDesc",
        ]
        assert source.columns("OpenCalls") == ["CallID"]


def test_sql_source_sqlite_count(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        assert source.count("CallLog") == 5
        assert source.count("Asgnmnt") == 1


def test_sql_source_sqlite_values_arrive_as_untouched_text(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        columns = source.columns("CallLog")
        frame = pd.concat(list(source.read_batches("CallLog", columns, batch_size=10)))

    assert frame.dtypes.tolist() == [object] * 5
    assert frame.to_dict("records") == [
        {
            "CallID": "00012",
            "Num": "5",
            "Cost": "5",
            "RecvdDate": "2016-01-03 09:05:07",
            "CallDesc": "Printer jams",
        },
        {
            "CallID": "00013",
            "Num": None,
            "Cost": "2.5",
            "RecvdDate": "1/3/2016",
            "CallDesc": "Café € crème",
        },
        {
            "CallID": "  00014 ",
            "Num": "7",
            "Cost": None,
            "RecvdDate": "not a date",
            "CallDesc": None,
        },
        {
            "CallID": "00015",
            "Num": "abc",
            "Cost": "12345678901234",
            "RecvdDate": "",
            "CallDesc": "  ",
        },
        {
            "CallID": "00016",
            "Num": "12345678901234",
            "Cost": "0.1",
            "RecvdDate": None,
            "CallDesc": "x",
        },
    ]


@pytest.mark.parametrize(
    ("batch_size", "limit", "sizes"),
    [
        pytest.param(2, None, [2, 2, 1], id="batches-of-two"),
        pytest.param(5, None, [5], id="exact"),
        pytest.param(50, None, [5], id="one-batch"),
        pytest.param(2, 3, [2, 1], id="limit"),
        pytest.param(2, 0, [], id="limit-zero"),
    ],
)
def test_sql_source_read_batches_sizes_follow_batch_size(
    heat_db: Path, batch_size: int, limit: int | None, sizes: list[int]
) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        frames = list(
            source.read_batches(
                "CallLog", ["Num", "CallID"], batch_size=batch_size, limit=limit
            )
        )

    assert [len(frame) for frame in frames] == sizes
    assert all(list(frame.columns) == ["Num", "CallID"] for frame in frames)


def test_sql_source_order_by_sorts_before_batching(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        frames = source.read_batches(
            "CallLog", ["CallID"], batch_size=2, order_by=["CallDesc", "CallID"]
        )
        ids = [value for frame in frames for value in frame["CallID"]]

    # NULL sorts first in SQLite; '  ' before 'Café' before 'Printer' before 'x'.
    assert ids == ["  00014 ", "00015", "00013", "00012", "00016"]


def test_sql_source_reserved_word_column_is_quoted(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source:
        frame = next(source.read_batches("Asgnmnt", ["Select"], batch_size=5))

    assert frame["Select"].tolist() == ["reserved word"]


def test_sql_source_unknown_column_raises_source_error(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source, pytest.raises(SourceError) as caught:
        source.read_batches("CallLog", ["CallID"], batch_size=5, order_by=["Priority"])

    assert str(caught.value).startswith(
        "Source 'heat', table 'CallLog': No column 'Priority'"
    )


def test_sql_source_unknown_table_raises_source_error(heat_db: Path) -> None:
    with _open(f"sqlite:///{heat_db}") as source, pytest.raises(SourceError) as caught:
        source.columns("Journal")

    assert caught.value.exit_code is ExitCode.IO
    assert (
        str(caught.value)
        == "Source 'heat', table 'Journal': No such table in the database."
    )


def test_sql_source_missing_sqlite_file_raises_source_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.db"

    with pytest.raises(SourceError) as caught:
        _open(f"sqlite:///{missing}")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith(
        f"Source 'heat': No SQLite database file {str(missing)!r}."
    )
    assert not missing.exists()


def test_sql_source_relative_sqlite_path_resolves_against_base_dir(
    heat_db: Path,
) -> None:
    with _open("sqlite:///heat.db", base_dir=heat_db.parent) as source:
        assert source.count("CallLog") == 5


def test_sql_source_special_characters_in_path_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "odd #dir? 100%"
    folder.mkdir()
    path = folder / "heat db.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE calls (id TEXT)")
        connection.execute("INSERT INTO calls VALUES ('1')")
    connection.close()

    # In a URL, '?' and '#' must be percent-encoded, as in a file URI.
    with _open(f"sqlite:///{urllib.parse.quote(str(path))}") as source:
        assert source.count("calls") == 1


def test_sql_source_sqlite_is_opened_read_only(heat_db: Path) -> None:
    before = heat_db.read_bytes()

    with _open(f"sqlite:///{heat_db}") as source:
        list(source.read_batches("CallLog", ["CallID"], batch_size=2))
        with (
            source._engine.connect() as connection,
            pytest.raises(OperationalError, match="readonly database"),
        ):
            connection.exec_driver_sql("CREATE TABLE scratch (x TEXT)")

    assert heat_db.read_bytes() == before


def test_sql_source_in_memory_sqlite_opens(tmp_path: Path) -> None:
    with _open("sqlite://") as source:
        assert source.list_tables() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("not a url", "The database URL is not valid", id="garbage"),
        pytest.param(
            "nosuchdb://x/y", "Cannot use the database URL nosuchdb://x/y", id="dialect"
        ),
        pytest.param(
            "postgresql+psycopg://u:p@ss@S3cret@127.0.0.1/heat",
            "The database URL 'postgresql+psycopg://u:***@127.0.0.1/heat' is not "
            "valid: its password or user name holds an unescaped '@'",
            id="raw-at-in-password",
        ),
    ],
)
def test_sql_source_bad_url_raises_source_error(url: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        _open(url)

    assert caught.value.exit_code is ExitCode.IO
    assert message in str(caught.value)


def test_sql_source_unreachable_server_masks_password() -> None:
    url = "postgresql+psycopg://migrator:s3cret@127.0.0.1:1/heat?connect_timeout=2"

    with pytest.raises(SourceError) as caught:
        _open(url)

    message = str(caught.value)
    assert message.startswith(
        "Source 'heat': Cannot connect to the database "
        "(postgresql+psycopg://migrator:***@127.0.0.1:1/heat?connect_timeout=2): "
    )
    assert "s3cret" not in message
