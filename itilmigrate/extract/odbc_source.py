"""Databases reached through ODBC (pyodbc): how HEAT clients themselves connected.

HEAT's Windows client and API reached SQL Server through an ODBC System DSN, so
an ODBC driver string or DSN is often the one connection a customer can hand
over. Identifiers are quoted with the driver's own quote character (backticks
for MariaDB, double quotes for SQLite and SQL Server), discovered through
``SQLGetInfo(SQL_IDENTIFIER_QUOTE_CHAR)``.

``pyodbc`` is imported only when an ODBC source is opened: it needs the system's
unixODBC library, which a machine reading only CSV exports may lack.
"""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from itilmigrate.errors import SourceError, mask_secrets
from itilmigrate.extract.base import (
    OdbcSourceSpec,
    check_read_request,
    decode_bytes,
    frame_from_rows,
    resolve_table_name,
    source_registry,
    to_text,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import ModuleType

    import pandas as pd
    import pyodbc

logger = logging.getLogger(__name__)

_PAIR = re.compile(
    r"\s*(?P<key>[^=;]+?)\s*=\s*(?P<value>\{(?:[^}]|\}\})*\}|[^;]*)\s*(?:;|$)"
)
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SYSTEM_SCHEMAS = {"information_schema", "sys", "pg_catalog"}
# SQLGetInfo codes from the ODBC specification (sql.h / sqlext.h).
_SQL_DATABASE_NAME = 16
_SQL_DBMS_NAME = 17
_SQL_IDENTIFIER_QUOTE_CHAR = 29
# Positions in the result sets of SQLTables and SQLColumns (ODBC 3).
_CATALOG, _SCHEMA, _TABLE, _COLUMN, _ORDINAL = 0, 1, 2, 3, 16
# SQL types for which the SQLite ODBC driver converts stored text on its own,
# returning NULL for a legacy date it cannot parse or wrapping a large integer:
# fetched raw instead, they reach us as the text SQLite holds.
_SQLITE_RAW_TYPES = (
    "SQL_TYPE_DATE",
    "SQL_TYPE_TIME",
    "SQL_TYPE_TIMESTAMP",
    "SQL_INTEGER",
    "SQL_SMALLINT",
    "SQL_TINYINT",
    "SQL_BIGINT",
    "SQL_BIT",
    "SQL_NUMERIC",
    "SQL_DECIMAL",
)
_SQLITE_REAL_TYPES = ("SQL_DOUBLE", "SQL_FLOAT", "SQL_REAL")


def _import_pyodbc(source_name: str) -> ModuleType:
    try:
        return importlib.import_module("pyodbc")
    except ImportError as exc:
        raise SourceError(
            f"The ODBC layer cannot be loaded ({exc}).\nhint: install unixODBC and the "
            "database's ODBC driver (Debian: apt-get install unixodbc odbc-mariadb).",
            source_name=source_name,
        ) from exc


def connection_pairs(text: str) -> list[tuple[str, str, tuple[int, int]]]:
    """Split an ODBC connection string into (key, value, value span) triples.

    Braced values (``PWD={a;b}``) are unwrapped, with ``}}`` read as ``}``.
    """
    pairs = []
    for match in _PAIR.finditer(text):
        if not match.group(0).strip():
            continue
        value = match.group("value").strip()
        if value.startswith("{") and value.endswith("}"):
            value = value[1:-1].replace("}}", "}")
        pairs.append((match.group("key").strip(), value, match.span("value")))
    return pairs


def odbc_value(value: str) -> str:
    """Return ``value`` ready for a connection string, braced when it needs to be."""
    if value and not re.search(r"[;{}=\s]", value):
        return value
    return "{" + value.replace("}", "}}") + "}"


def build_connection_string(
    spec: OdbcSourceSpec, *, base_dir: Path | None, source_name: str | None = None
) -> str:
    """Return the connection string of ``spec``; a SQLite file must already exist.

    A relative SQLite ``Database=`` path resolves against ``base_dir``: the SQLite
    ODBC driver would otherwise create an empty database and read nothing.

    Raises:
        SourceError: the SQLite database file does not exist (exit 4).
    """
    if spec.dsn is not None:
        parts = [f"DSN={odbc_value(spec.dsn)}"]
        if spec.user is not None:
            parts.append(f"UID={odbc_value(spec.user)}")
        if spec.password is not None:
            parts.append(f"PWD={odbc_value(spec.password.get_secret_value())}")
        return ";".join(parts)
    text = spec.connection_string or ""
    pairs = connection_pairs(text)
    driver = next((value for key, value, _ in pairs if key.lower() == "driver"), "")
    if "sqlite" not in driver.lower():
        return text
    for key, value, (start, end) in pairs:
        if key.lower() != "database" or value in {"", ":memory:"}:
            continue
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise SourceError(
                f"No SQLite database file {str(path)!r}.\nhint: relative paths start "
                "at the folder of the job file.",
                source_name=source_name,
            )
        return text[:start] + odbc_value(str(path)) + text[end:]
    return text


def _sqlite_raw(raw: bytes | None) -> str | None:
    return None if raw is None else decode_bytes(raw)


def _sqlite_real(raw: bytes | None) -> str | None:
    text = _sqlite_raw(raw)
    if text is None or not _NUMBER.fullmatch(text):
        return text
    return to_text(float(text))


class OdbcSource:
    """The tables of one database, read through an ODBC driver.

    Catalogue queries share one connection; every ``read_batches`` call opens its
    own, so two reads can be open at once even on drivers that allow a single
    active statement per connection (SQL Server without MARS).
    """

    def __init__(
        self, connection_string: str, *, source_name: str, schema: str | None = None
    ) -> None:
        self.source_name = source_name
        self._connection_string = connection_string
        self._where = mask_secrets(connection_string)
        self._schema = schema
        self._pyodbc = _import_pyodbc(source_name)
        self._columns: dict[str, list[str]] = {}
        self._connection = self._connect()
        info = self._connection.getinfo
        self._catalog = str(info(_SQL_DATABASE_NAME) or "")
        self._quote_char = str(info(_SQL_IDENTIFIER_QUOTE_CHAR) or "").strip()

    def list_tables(self) -> list[str]:
        """Return the table and view names of the current database.

        Raises:
            SourceError: the catalogue cannot be read.
        """
        rows = self._catalogue(
            "Cannot list the tables",
            None,
            lambda cursor: cursor.tables(schema=self._schema, tableType="TABLE,VIEW"),
        )
        names: list[str] = []
        for row in rows:
            if not self._in_scope(row) or row[_TABLE] in names:
                continue
            names.append(str(row[_TABLE]))
        return names

    def resolve_table(self, name: str) -> str | None:
        """Return the actual name of table ``name`` ignoring case, or ``None``.

        Raises:
            ConfigError: ``name`` matches two tables that differ only in case.
            SourceError: the catalogue cannot be read.
        """
        return resolve_table_name(self.list_tables(), name)

    def columns(self, table: str) -> list[str]:
        """Return the column names of ``table`` in table order.

        Raises:
            SourceError: the table does not exist or the catalogue cannot be read.
        """
        known = self._columns.get(table)
        if known is not None:
            return list(known)
        rows = self._catalogue(
            "Cannot read the columns",
            table,
            lambda cursor: cursor.columns(table=table, schema=self._schema),
        )
        # The table argument is a LIKE pattern ('_' matches any character) and some
        # drivers fold case, so only exact matches count.
        found = sorted(
            (int(row[_ORDINAL]), str(row[_COLUMN]))
            for row in rows
            if row[_TABLE] == table and self._in_scope(row)
        )
        names = [name for _, name in found] or self._described_columns(table)
        self._columns[table] = names
        return list(names)

    def count(self, table: str) -> int:
        """Return the number of rows in ``table``.

        Raises:
            SourceError: the table cannot be read.
        """
        self.columns(table)
        cursor = self._connection.cursor()
        try:
            row = cursor.execute(
                f"SELECT COUNT(*) FROM {self._qualified(table)}"
            ).fetchone()
        except self._pyodbc.Error as exc:
            raise self._error("Cannot count the rows", exc, table) from exc
        finally:
            cursor.close()
        return int(row[0]) if row is not None else 0

    def read_batches(
        self,
        table: str,
        columns: Sequence[str],
        *,
        batch_size: int,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield frames of text, sorted by ``order_by`` when given.

        ``limit`` stops fetching after that many rows rather than adding a
        dialect-specific ``LIMIT``/``TOP`` clause.

        Raises:
            SourceError: the table or a column is unknown (at once), or the read
                fails (when iterated).
        """
        check_read_request(
            self.columns(table),
            [*columns, *order_by],
            batch_size=batch_size,
            limit=limit,
            source_name=self.source_name,
            table=table,
        )
        select_list = ", ".join(self._quote(name) for name in columns)
        sql = f"SELECT {select_list} FROM {self._qualified(table)}"
        if order_by:
            sql += " ORDER BY " + ", ".join(self._quote(name) for name in order_by)
        return self._stream(sql, table, list(columns), batch_size, limit)

    def close(self) -> None:
        """Close the catalogue connection."""
        self._connection.close()

    def __enter__(self) -> OdbcSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------

    def _connect(self) -> pyodbc.Connection:
        try:
            connection: pyodbc.Connection = self._pyodbc.connect(
                self._connection_string, autocommit=True
            )
        except self._pyodbc.Error as exc:
            raise self._error("Cannot connect", exc) from exc
        if str(connection.getinfo(_SQL_DBMS_NAME) or "").lower().startswith("sqlite"):
            for name in _SQLITE_RAW_TYPES:
                connection.add_output_converter(
                    getattr(self._pyodbc, name), _sqlite_raw
                )
            for name in _SQLITE_REAL_TYPES:
                connection.add_output_converter(
                    getattr(self._pyodbc, name), _sqlite_real
                )
        return connection

    def _stream(
        self,
        sql: str,
        table: str,
        columns: list[str],
        batch_size: int,
        limit: int | None,
    ) -> Iterator[pd.DataFrame]:
        # LIMITATION: memory is bounded by batch_size only if the ODBC driver streams.
        # When: the SQLite and MariaDB ODBC drivers hold a whole result set in memory.
        # Then: a table larger than memory fails; read MariaDB/SQLite with kind `sql`.
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            remaining = limit
            while remaining is None or remaining > 0:
                size = batch_size if remaining is None else min(batch_size, remaining)
                rows = cursor.fetchmany(size)
                if not rows:
                    break
                if remaining is not None:
                    remaining -= len(rows)
                logger.debug("batch read table=%s rows=%d", table, len(rows))
                yield frame_from_rows(rows, columns)
        except self._pyodbc.Error as exc:
            raise self._error("Cannot read the rows", exc, table) from exc
        finally:
            connection.close()

    def _catalogue(
        self,
        what: str,
        table: str | None,
        call: Callable[[pyodbc.Cursor], pyodbc.Cursor],
    ) -> list[pyodbc.Row]:
        cursor = self._connection.cursor()
        try:
            rows: list[pyodbc.Row] = call(cursor).fetchall()
        except self._pyodbc.Error as exc:
            raise self._error(what, exc, table) from exc
        finally:
            cursor.close()
        return rows

    def _in_scope(self, row: pyodbc.Row) -> bool:
        """Whether a catalogue row is in this database and not a system schema."""
        catalog = row[_CATALOG]
        schema = str(row[_SCHEMA] or "").casefold()
        return catalog in {None, "", self._catalog} and schema not in _SYSTEM_SCHEMAS

    def _described_columns(self, table: str) -> list[str]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self._qualified(table)} WHERE 1 = 0")
            return [str(entry[0]) for entry in cursor.description]
        except self._pyodbc.Error as exc:
            raise SourceError(
                f"No such table in the database ({self._where}).",
                source_name=self.source_name,
                table=table,
            ) from exc
        finally:
            cursor.close()

    def _quote(self, name: str) -> str:
        quote = self._quote_char
        if quote:
            return f"{quote}{name.replace(quote, quote * 2)}{quote}"
        if _PLAIN_IDENTIFIER.fullmatch(name) is None:
            raise SourceError(
                f"The ODBC driver cannot quote identifiers; {name!r} needs quoting.",
                source_name=self.source_name,
            )
        return name

    def _qualified(self, table: str) -> str:
        if self._schema is None:
            return self._quote(table)
        return f"{self._quote(self._schema)}.{self._quote(table)}"

    def _error(
        self, what: str, exc: BaseException, table: str | None = None
    ) -> SourceError:
        args = exc.args
        reason = str(args[1]) if len(args) > 1 else str(exc)
        return SourceError(
            f"{what} through ODBC ({self._where}): {reason.strip().rstrip('.')}.",
            source_name=self.source_name,
            table=table,
        )


@source_registry.register("odbc")
def open_odbc_source(
    spec: OdbcSourceSpec, *, source_name: str, base_dir: Path | None = None
) -> OdbcSource:
    """Open an ODBC source and connect once, so bad logins fail early.

    Raises:
        SourceError: unixODBC is missing, the SQLite file does not exist, or the
            driver refuses the connection; the password is masked (exit 4).
    """
    connection_string = build_connection_string(
        spec, base_dir=base_dir, source_name=source_name
    )
    return OdbcSource(connection_string, source_name=source_name, schema=spec.schema_)
