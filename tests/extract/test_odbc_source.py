from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest

from itilmigrate.errors import ExitCode, SourceError
from itilmigrate.extract import odbc_source
from itilmigrate.extract.base import OdbcSourceSpec, open_source
from itilmigrate.extract.odbc_source import (
    build_connection_string,
    connection_pairs,
    odbc_value,
)

if TYPE_CHECKING:
    from pathlib import Path


def test_connection_pairs_braced_values_are_unwrapped() -> None:
    text = "DRIVER={MariaDB Unicode};Server=127.0.0.1; PWD={a;b}}c} ;Database=test"

    pairs = [(key, value) for key, value, _ in connection_pairs(text)]

    assert pairs == [
        ("DRIVER", "MariaDB Unicode"),
        ("Server", "127.0.0.1"),
        ("PWD", "a;b}c"),
        ("Database", "test"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("HEAT", "HEAT", id="plain"),
        pytest.param("a;b", "{a;b}", id="semicolon"),
        pytest.param("p}w", "{p}}w}", id="closing-brace"),
        pytest.param("two words", "{two words}", id="space"),
        pytest.param("", "{}", id="empty"),
    ],
)
def test_odbc_value_braces_when_needed(value: str, expected: str) -> None:
    assert odbc_value(value) == expected


def test_build_connection_string_dsn_with_credentials() -> None:
    spec = OdbcSourceSpec.model_validate(
        {"dsn": "HEAT Prod", "user": "sa", "password": "p;w}"}
    )

    assert (
        build_connection_string(spec, base_dir=None)
        == "DSN={HEAT Prod};UID=sa;PWD={p;w}}}"
    )


def test_build_connection_string_dsn_alone() -> None:
    assert (
        build_connection_string(OdbcSourceSpec(dsn="HEAT"), base_dir=None) == "DSN=HEAT"
    )


def test_build_connection_string_other_driver_is_untouched() -> None:
    text = "DRIVER={ODBC Driver 18 for SQL Server};Server=db;Database=heat;UID=sa;PWD=x"

    assert (
        build_connection_string(OdbcSourceSpec(connection_string=text), base_dir=None)
        == text
    )


def test_build_connection_string_relative_sqlite_database_resolves(
    tmp_path: Path,
) -> None:
    (tmp_path / "heat.db").write_bytes(b"")
    spec = OdbcSourceSpec(
        connection_string="DRIVER={SQLite3};Database=heat.db;Timeout=5"
    )

    text = build_connection_string(spec, base_dir=tmp_path)

    assert text == f"DRIVER={{SQLite3}};Database={tmp_path / 'heat.db'};Timeout=5"


def test_build_connection_string_missing_sqlite_file_raises_source_error(
    tmp_path: Path,
) -> None:
    spec = OdbcSourceSpec(connection_string="DRIVER={SQLite3};Database=missing.db")

    with pytest.raises(SourceError) as caught:
        open_source(spec, source_name="heat", base_dir=tmp_path)

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith(
        f"Source 'heat': No SQLite database file {str(tmp_path / 'missing.db')!r}."
    )
    assert not (tmp_path / "missing.db").exists()


def test_open_odbc_source_without_unixodbc_raises_source_error_with_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = importlib.import_module

    def without_pyodbc(name: str, package: str | None = None) -> object:
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file")
        return real_import(name, package)

    monkeypatch.setattr(odbc_source.importlib, "import_module", without_pyodbc)
    spec = OdbcSourceSpec(connection_string="DSN=HEAT;PWD=secret")

    with pytest.raises(SourceError) as caught:
        open_source(spec, source_name="heat")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value) == (
        "Source 'heat': The ODBC layer cannot be loaded (libodbc.so.2: cannot open "
        "shared object file).\nhint: install unixODBC and the database's ODBC driver "
        "(Debian: apt-get install unixodbc odbc-mariadb)."
    )
