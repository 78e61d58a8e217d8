"""Databases reached through SQLAlchemy: SQLite files, PostgreSQL, MySQL, SQL Server.

Tables and columns are discovered with SQLAlchemy's inspector; queries are built
from lightweight ``table()``/``column()`` constructs, so the dialect's identifier
preparer quotes mixed-case names (``"CallLog"`` in PostgreSQL, backticks in
MySQL) and no result type processing runs: a legacy text date that is not a
date reaches the converters untouched instead of failing inside SQLAlchemy.
"""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    URL,
    column,
    create_engine,
    func,
    inspect,
    make_url,
    select,
    table,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError

from itilmigrate.errors import UNESCAPED_AT, SourceError, has_unescaped_at, mask_secrets
from itilmigrate.extract.base import (
    SqlSourceSpec,
    check_read_request,
    frame_from_rows,
    resolve_table_name,
    source_registry,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import pandas as pd
    from sqlalchemy import Engine, Executable, Select, TableClause

logger = logging.getLogger(__name__)

_MEMORY_DATABASES = {"", ":memory:"}


def _reason(exc: BaseException) -> str:
    """Return the driver's own message, without SQLAlchemy's statement and links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip().rstrip(".")
    return str(exc).split("\n", 1)[0].strip().rstrip(".")


def sqlite_read_only_url(url: URL, *, base_dir: Path | None, source_name: str) -> URL:
    """Turn a SQLite file URL into a read-only URI URL, checking the file exists.

    SQLAlchemy would silently create an empty database for a missing file; the
    read-only ``mode=ro`` URI also guarantees the legacy file is never written.
    A relative path resolves against ``base_dir``.

    Raises:
        SourceError: the database file does not exist (exit 4).
    """
    database = url.database or ""
    if database in _MEMORY_DATABASES or database.startswith("file:"):
        return url
    path = Path(database).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        start = "the folder of the job file" if base_dir else "the current folder"
        raise SourceError(
            f"No SQLite database file {str(path)!r}.\nhint: relative paths in "
            f"sqlite:/// URLs start at {start}.",
            source_name=source_name,
        )
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    return url.set(database=uri, query={**url.query, "mode": "ro", "uri": "true"})


class SqlSource:
    """The tables of one database schema, read through SQLAlchemy.

    Reads stream with server-side cursors where the driver has them (psycopg,
    PyMySQL) and ``fetchmany`` otherwise, ``batch_size`` rows at a time.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        source_name: str,
        schema: str | None = None,
        display_url: str | None = None,
    ) -> None:
        self.source_name = source_name
        self._engine = engine
        self._schema = schema
        self._columns: dict[str, list[str]] = {}
        self._where = display_url or engine.url.render_as_string(hide_password=True)

    def list_tables(self) -> list[str]:
        """Return the table and view names of the schema, tables first.

        Raises:
            SourceError: the catalogue cannot be read.
        """
        try:
            inspector = inspect(self._engine)
            tables = inspector.get_table_names(schema=self._schema)
            views = inspector.get_view_names(schema=self._schema)
        except SQLAlchemyError as exc:
            raise self._error("Cannot list the tables", exc) from exc
        return [*tables, *(name for name in views if name not in tables)]

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
        try:
            names = [
                str(info["name"])
                for info in inspect(self._engine).get_columns(
                    table, schema=self._schema
                )
            ]
        except NoSuchTableError as exc:
            raise SourceError(
                "No such table in the database.",
                source_name=self.source_name,
                table=table,
            ) from exc
        except SQLAlchemyError as exc:
            raise self._error("Cannot read the columns", exc, table) from exc
        if not names:
            raise SourceError(
                "No such table in the database.",
                source_name=self.source_name,
                table=table,
            )
        self._columns[table] = names
        return list(names)

    def count(self, table: str) -> int:
        """Return the number of rows in ``table``.

        Raises:
            SourceError: the table cannot be read.
        """
        statement = select(func.count()).select_from(self._table(table))
        try:
            with self._engine.connect() as connection:
                return int(connection.execute(statement).scalar_one())
        except SQLAlchemyError as exc:
            raise self._error("Cannot count the rows", exc, table) from exc

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
        statement: Select[*tuple[Any, ...]] = select(
            *(column(name) for name in columns)
        ).select_from(self._table(table))
        if order_by:
            statement = statement.order_by(*(column(name) for name in order_by))
        if limit is not None:
            statement = statement.limit(limit)
        return self._stream(statement, table, list(columns), batch_size)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> SqlSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def check_connection(self) -> None:
        """Connect once, so that a bad URL, login or schema fails before any work.

        Raises:
            SourceError: the database cannot be reached, refuses the login or has
                no such schema.
        """
        try:
            with self._engine.connect():
                pass
        except SQLAlchemyError as exc:
            raise self._error("Cannot connect to the database", exc) from exc
        if self._schema is None:
            return
        try:
            schemas = inspect(self._engine).get_schema_names()
        except SQLAlchemyError as exc:
            raise self._error("Cannot list the schemas", exc) from exc
        if self._schema not in schemas:
            raise SourceError(
                f"No schema {self._schema!r} in the database ({self._where}); it has "
                f"{sorted(schemas)[:20]}.",
                source_name=self.source_name,
            )

    def _table(self, name: str) -> TableClause:
        return table(name, schema=self._schema)

    def _stream(
        self,
        statement: Executable,
        table: str,
        columns: list[str],
        size: int,
    ) -> Iterator[pd.DataFrame]:
        try:
            with (
                self._engine.connect() as connection,
                # Closing the result before the connection matters when a reader
                # stops early: PyMySQL must drain its streaming cursor first.
                connection.execution_options(
                    stream_results=True, yield_per=size
                ).execute(statement) as result,
            ):
                for rows in result.partitions():
                    logger.debug("batch read table=%s rows=%d", table, len(rows))
                    yield frame_from_rows(rows, columns)
        except SQLAlchemyError as exc:
            raise self._error("Cannot read the rows", exc, table) from exc

    def _error(
        self, what: str, exc: BaseException, table: str | None = None
    ) -> SourceError:
        return SourceError(
            f"{what} ({self._where}): {_reason(exc)}.",
            source_name=self.source_name,
            table=table,
        )


@source_registry.register("sql")
def open_sql_source(
    spec: SqlSourceSpec, *, source_name: str, base_dir: Path | None = None
) -> SqlSource:
    """Open a database source and check that it can be reached.

    Raises:
        SourceError: the URL is invalid, its driver is missing, the SQLite file
            does not exist, or the database refuses the connection (exit 4).
    """
    try:
        url = make_url(spec.url)
    except ArgumentError as exc:
        raise SourceError(
            f"The database URL is not valid: {_reason(exc)}.\nhint: write it as "
            "dialect+driver://user:password@host/database.",
            source_name=source_name,
        ) from exc
    if has_unescaped_at(url.host):
        raise SourceError(
            f"The database URL {mask_secrets(spec.url)!r} is not valid: "
            f"{UNESCAPED_AT}.",
            source_name=source_name,
        )
    display_url = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        url = sqlite_read_only_url(url, base_dir=base_dir, source_name=source_name)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise SourceError(
            f"Cannot use the database URL {display_url}: {_reason(exc)}.\nhint: check "
            "the dialect name and install its driver.",
            source_name=source_name,
        ) from exc
    source = SqlSource(
        engine, source_name=source_name, schema=spec.schema_, display_url=display_url
    )
    try:
        source.check_connection()
    except SourceError:
        source.close()
        raise
    return source
