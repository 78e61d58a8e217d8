"""A SQL database target: one transaction per batch, idempotent upsert by content hash.

Entities are keyed by their deterministic ``entity_id`` (derived from source system
and legacy key), lineage by ``(source_system, source_name, legacy_id)``. For every
batch frame the target fetches the stored hashes of the frame's keys, inserts new
rows, rewrites changed ones and leaves the rest untouched, so a rerun of the same
data writes nothing but its run record.

Bulk writes use the fastest path each backend offers (measured in
``benchmarks/load_target.py``): SQLite gets ``executemany`` on the driver inside the
batch transaction, PostgreSQL gets psycopg 3 ``COPY ... FROM STDIN`` (new rows
straight into the table, changed rows through a temporary table and
``UPDATE ... FROM``), MariaDB and MySQL get PyMySQL's own batched ``executemany``,
and any other dialect SQLAlchemy Core ``insert()``/``update()`` executemany.

Records deleted from a source are not deleted from the target: reconciliation
reports them (more lineage rows than legacy ids loaded).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import psycopg
from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from itilmigrate.entities import RECORD_TABLES
from itilmigrate.errors import (
    UNESCAPED_AT,
    ConfigError,
    TargetError,
    TransientTargetError,
    has_unescaped_at,
    mask_secrets,
)
from itilmigrate.load.base import (
    PreparedBatch,
    PreparedFrame,
    RowKey,
    prepare_batch,
    quarantine_raw,
    register_target,
)
from itilmigrate.load.export import export_tables
from itilmigrate.load.run_lock import TargetLock
from itilmigrate.load.tables import (
    CONTENT_HASH,
    ENTITY_TABLES,
    LINEAGE,
    MIGRATION_RUN,
    QUARANTINE,
    metadata,
)
from itilmigrate.run import EntityBatch, LoadStats, RunContext, RunSummary

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

logger = logging.getLogger(__name__)

#: Largest IN-list per statement: SQLite builds before 3.32 allow 999 parameters.
IN_CHUNK = 900
DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0)

# SQLSTATEs worth a retry: deadlock, serialization failure, lock not available.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# MySQL and MariaDB error numbers: lock wait timeout, deadlock.
_TRANSIENT_MYSQL_ERRORS = frozenset({1205, 1213})
# SQLite primary result codes: SQLITE_BUSY, SQLITE_LOCKED.
_TRANSIENT_SQLITE_CODES = frozenset({5, 6})


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lookup_plan(key_columns: tuple[str, ...]) -> tuple[tuple[int, ...], int]:
    """Return which key positions scope a lookup and which one goes in the IN-list.

    Entity tables look up ``entity_id``; lineage scopes by source system and name
    and looks up ``legacy_id``; problem links look up ``problem_id`` and get all of
    a problem's links back (a handful each), which the caller matches by full key.
    """
    if key_columns == ("problem_id", "incident_id"):
        return (), 0
    return tuple(range(len(key_columns) - 1)), len(key_columns) - 1


def _group_keys(
    keys: Sequence[RowKey], key_columns: tuple[str, ...]
) -> dict[RowKey, list[str]]:
    scope_positions, lookup_position = _lookup_plan(key_columns)
    if not scope_positions:
        return {(): list(dict.fromkeys(key[lookup_position] for key in keys))}
    groups: dict[RowKey, dict[str, None]] = {}
    for key in keys:
        scope = tuple(key[position] for position in scope_positions)
        groups.setdefault(scope, {})[key[lookup_position]] = None
    return {scope: list(values) for scope, values in groups.items()}


class _CoreWriter:
    """Reads and writes through SQLAlchemy Core: works on every dialect."""

    timestamps_as_text = False

    def __init__(self, dialect: Dialect) -> None:
        self._quote = dialect.identifier_preparer.quote

    def existing_hashes(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        keys: list[RowKey],
    ) -> dict[RowKey, str]:
        """Return the stored content hash of every given key that exists."""
        scope_positions, lookup_position = _lookup_plan(key_columns)
        selected = [table.c[name] for name in key_columns]
        lookup = table.c[key_columns[lookup_position]]
        found: dict[RowKey, str] = {}
        for scope, values in _group_keys(keys, key_columns).items():
            scope_filter = [
                table.c[key_columns[position]] == value
                for position, value in zip(scope_positions, scope, strict=True)
            ]
            for chunk in _chunks(values, IN_CHUNK):
                stmt = select(*selected, table.c[CONTENT_HASH]).where(
                    *scope_filter, lookup.in_(chunk)
                )
                for row in conn.execute(stmt):
                    found[tuple(row[:-1])] = row[-1]
        return found

    def delete(
        self, conn: Connection, table: Table, column: str, values: list[str]
    ) -> int:
        """Delete the rows whose ``column`` is in ``values``; return how many."""
        deleted = 0
        for chunk in _chunks(values, IN_CHUNK):
            result = conn.execute(table.delete().where(table.c[column].in_(chunk)))
            deleted += result.rowcount
        return deleted

    def insert(
        self,
        conn: Connection,
        table: Table,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Insert rows given as tuples in ``columns`` order."""
        conn.execute(
            insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
        )

    def update(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        update_columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Rewrite rows given as tuples of ``update_columns`` then ``key_columns``."""
        stmt = (
            update(table)
            .where(
                and_(
                    *(
                        table.c[name]
                        == bindparam(f"key_{name}", type_=table.c[name].type)
                        for name in key_columns
                    )
                )
            )
            .values(
                {
                    name: bindparam(f"new_{name}", type_=table.c[name].type)
                    for name in update_columns
                }
            )
        )
        names = [f"new_{name}" for name in update_columns]
        names += [f"key_{name}" for name in key_columns]
        conn.execute(stmt, [dict(zip(names, row, strict=True)) for row in rows])


class _DriverWriter(_CoreWriter):
    """Driver-level SQL and executemany, skipping Core's per-row parameter dicts."""

    #: The driver's parameter marker (DB-API ``qmark`` or ``format`` style).
    mark = "?"

    def existing_hashes(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        keys: list[RowKey],
    ) -> dict[RowKey, str]:
        """Return stored hashes with driver-level IN-lists of ``IN_CHUNK`` keys."""
        scope_positions, lookup_position = _lookup_plan(key_columns)
        selected = ", ".join(self._quote(name) for name in key_columns)
        scope_sql = "".join(
            f"{self._quote(key_columns[position])} = {self.mark} AND "
            for position in scope_positions
        )
        head = (
            f"SELECT {selected}, {CONTENT_HASH} FROM {self._quote(table.name)} "
            f"WHERE {scope_sql}{self._quote(key_columns[lookup_position])} IN "
        )
        found: dict[RowKey, str] = {}
        for scope, values in _group_keys(keys, key_columns).items():
            for chunk in _chunks(values, IN_CHUNK):
                marks = ", ".join([self.mark] * len(chunk))
                result = conn.exec_driver_sql(f"{head}({marks})", (*scope, *chunk))
                for row in result:
                    found[tuple(row[:-1])] = row[-1]
        return found

    def delete(
        self, conn: Connection, table: Table, column: str, values: list[str]
    ) -> int:
        """Delete with driver-level IN-lists of ``IN_CHUNK`` values."""
        head = f"DELETE FROM {self._quote(table.name)} WHERE {self._quote(column)} IN "
        deleted = 0
        for chunk in _chunks(values, IN_CHUNK):
            marks = ", ".join([self.mark] * len(chunk))
            deleted += conn.exec_driver_sql(f"{head}({marks})", tuple(chunk)).rowcount
        return deleted

    def insert(
        self,
        conn: Connection,
        table: Table,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Insert rows with one prepared statement run over all of them."""
        names = ", ".join(self._quote(name) for name in columns)
        marks = ", ".join([self.mark] * len(columns))
        conn.exec_driver_sql(
            f"INSERT INTO {self._quote(table.name)} ({names}) VALUES ({marks})", rows
        )

    def update(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        update_columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """Rewrite rows with one prepared statement run over all of them."""
        mark = self.mark
        assignments = ", ".join(
            f"{self._quote(name)} = {mark}" for name in update_columns
        )
        condition = " AND ".join(
            f"{self._quote(name)} = {mark}" for name in key_columns
        )
        conn.exec_driver_sql(
            f"UPDATE {self._quote(table.name)} SET {assignments} WHERE {condition}",
            rows,
        )


class _SqliteWriter(_DriverWriter):
    """SQLite: executemany in the batch transaction, about 2.5x faster than Core."""

    timestamps_as_text = True


class _MysqlWriter(_DriverWriter):
    """MariaDB and MySQL through PyMySQL, which batches executemany INSERTs itself.

    Timestamps go as ``datetime`` objects already in UTC: DATETIME has no zone and
    rejects an offset in text.
    """

    mark = "%s"


class _PostgresWriter(_CoreWriter):
    """PostgreSQL: array lookups and psycopg 3 COPY, about 5x faster than INSERTs."""

    timestamps_as_text = True

    @staticmethod
    def _cursor(conn: Connection) -> psycopg.Cursor[Any]:
        # The driver connection is the one SQLAlchemy's transaction runs on, so the
        # COPY below commits or rolls back with the rest of the batch.
        driver = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
        return driver.cursor()

    def existing_hashes(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        keys: list[RowKey],
    ) -> dict[RowKey, str]:
        """Return stored hashes with one ``= ANY(array)`` query per key scope."""
        scope_positions, lookup_position = _lookup_plan(key_columns)
        selected = ", ".join(self._quote(name) for name in key_columns)
        scope_sql = "".join(
            f"{self._quote(key_columns[position])} = %s AND "
            for position in scope_positions
        )
        lookup = self._quote(key_columns[lookup_position])
        query = (
            f"SELECT {selected}, {CONTENT_HASH} FROM {self._quote(table.name)} "
            f"WHERE {scope_sql}{lookup} = ANY(%s)"
        )
        found: dict[RowKey, str] = {}
        with self._cursor(conn) as cursor:
            for scope, values in _group_keys(keys, key_columns).items():
                cursor.execute(query, (*scope, values))
                for row in cursor:
                    found[tuple(row[:-1])] = row[-1]
        return found

    def delete(
        self, conn: Connection, table: Table, column: str, values: list[str]
    ) -> int:
        """Delete with one ``= ANY(array)`` statement."""
        table_name, column_name = self._quote(table.name), self._quote(column)
        query = f"DELETE FROM {table_name} WHERE {column_name} = ANY(%s)"
        with self._cursor(conn) as cursor:
            cursor.execute(query, (values,))
            return cursor.rowcount

    def _copy(
        self,
        conn: Connection,
        table_name: str,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        names = ", ".join(self._quote(name) for name in columns)
        with (
            self._cursor(conn) as cursor,
            cursor.copy(f"COPY {self._quote(table_name)} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def insert(
        self,
        conn: Connection,
        table: Table,
        columns: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """COPY new rows straight into the table.

        They are known to be new inside this transaction, so the staging table
        that updates need would only double the write.
        """
        self._copy(conn, table.name, columns, rows)

    def update(
        self,
        conn: Connection,
        table: Table,
        key_columns: tuple[str, ...],
        update_columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
    ) -> None:
        """COPY changed rows into a temporary table, then UPDATE ... FROM it."""
        target = self._quote(table.name)
        staging = self._quote(f"itilmigrate_update_{table.name}")
        columns = (*update_columns, *key_columns)
        names = ", ".join(self._quote(name) for name in columns)
        assignments = ", ".join(
            f"{self._quote(name)} = s.{self._quote(name)}" for name in update_columns
        )
        condition = " AND ".join(
            f"t.{self._quote(name)} = s.{self._quote(name)}" for name in key_columns
        )
        with self._cursor(conn) as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
                f"SELECT {names} FROM {target} WITH NO DATA"
            )
        self._copy(conn, f"itilmigrate_update_{table.name}", columns, rows)
        with self._cursor(conn) as cursor:
            cursor.execute(
                f"UPDATE {target} AS t SET {assignments} "
                f"FROM {staging} AS s WHERE {condition}"
            )
            cursor.execute(f"DROP TABLE {staging}")


def _writer_for(dialect: Dialect) -> _CoreWriter:
    if dialect.name == "sqlite":
        return _SqliteWriter(dialect)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return _PostgresWriter(dialect)
    if dialect.name in ("mysql", "mariadb") and dialect.driver == "pymysql":
        return _MysqlWriter(dialect)
    return _CoreWriter(dialect)


def _is_transient(exc: DBAPIError) -> bool:
    """Whether a driver error is a deadlock, lock timeout, busy file or lost link."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _TRANSIENT_SQLITE_CODES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _TRANSIENT_MYSQL_ERRORS:
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def _error_kind(exc: BaseException) -> str:
    """Name a driver error by class and code only: its text may quote legacy values."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    kind = type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None)
    return f"{kind}, SQLSTATE {sqlstate}" if sqlstate else kind


def _ensure_sqlite_folder(url: URL) -> None:
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TargetError(
            f"Cannot create the folder of the SQLite target {database!r} "
            f"({exc.strerror})."
        ) from exc


@register_target("*")
class SqlTarget:
    """A SQLAlchemy database (SQLite, PostgreSQL via psycopg 3, MariaDB, ...).

    Args:
        url: SQLAlchemy URL; the folder of a SQLite file is created if missing.
        retry_delays: Seconds to wait before each retry of a batch that hit a
            deadlock, lock timeout or busy database; one retry per entry.
        sleep: Injectable for tests.
        rehearse: Dry-run mode: each batch is written and compared as usual, then
            rolled back, so the counts say what a real run would change; nothing
            is created, recorded or exported.

    Raises:
        ConfigError: The URL cannot be parsed or names an unknown dialect or driver.
        TargetError: The folder of a SQLite file cannot be created.
    """

    def __init__(
        self,
        url: str,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        rehearse: bool = False,
    ) -> None:
        self._rehearse = rehearse
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(
                f"Target URL {mask_secrets(url)!r} is not a SQLAlchemy database URL."
            ) from exc
        if has_unescaped_at(parsed.host):
            raise ConfigError(f"Target URL {mask_secrets(url)!r}: {UNESCAPED_AT}.")
        self.display_url = mask_secrets(parsed.render_as_string(hide_password=True))
        _ensure_sqlite_folder(parsed)
        try:
            # hide_parameters: a failed statement's message must not carry legacy
            # values (names, descriptions) into logs and tracebacks.
            self._engine: Engine = create_engine(
                parsed, pool_pre_ping=True, hide_parameters=True
            )
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"Target URL {self.display_url!r} names a database driver that is not "
                f"installed ({type(exc).__name__})."
            ) from exc

        self._writer = _writer_for(self._engine.dialect)
        self._lock = TargetLock(self._engine, self.display_url, connect=self._connect)
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._run_id: str | None = None
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for readers such as compliance checks and tests."""
        return self._engine

    def _connect(self) -> Connection:
        """Open a connection, naming the target (password masked) when it fails.

        Raises:
            TargetError: The database is unreachable or refuses the login.
        """
        try:
            return self._engine.connect()
        except DBAPIError as exc:
            reason = mask_secrets(
                str(exc.orig).strip().splitlines()[0] if exc.orig else ""
            )
            raise TargetError(
                f"Cannot connect to the target {self.display_url!r} "
                f"({_error_kind(exc)}: {reason}).\n"
                "hint: check that the server runs and the URL is right."
            ) from exc

    def create_tables(self) -> None:
        """Create missing tables and check that existing ones have every column.

        Raises:
            TargetError: The database is unreachable, or a table lacks columns (it
                was created by an older version of the entity contract).
        """
        conn = self._connect()
        try:
            with conn, conn.begin():
                metadata.create_all(conn)
                problems = self._schema_problems(conn)
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot create the tables in the target {self.display_url!r} "
                f"({_error_kind(exc)})."
            ) from exc
        if problems:
            raise TargetError(
                "Target tables do not match the entity contract: "
                + "; ".join(problems)
                + ".\nhint: load into a new database or schema, or add the columns."
            )

    @staticmethod
    def _schema_problems(conn: Connection) -> list[str]:
        inspector = inspect(conn)
        problems = []
        for table in metadata.sorted_tables:
            stored = {column["name"] for column in inspector.get_columns(table.name)}
            missing = [column.name for column in table.c if column.name not in stored]
            if missing:
                problems.append(f"table {table.name!r} lacks columns {missing}")
        return problems

    def prepare(self, run: RunContext, summary: RunSummary) -> None:
        """Take the run lock, create missing tables, record the run as ``running``.

        Raises:
            TargetError: Another run holds the target, the database is
                unreachable, or it refuses the run row.
        """
        self._run_id = run.run_id
        self._now = run.now
        if self._rehearse:
            logger.info(
                "target rehearsal run_id=%s target=%s", run.run_id, self.display_url
            )
            return
        self._lock.acquire()
        self.create_tables()
        if run.options.get("limit") is not None:
            self._refuse_limit_over_full_run()

        source = run.options.get("source")
        options = json.dumps(
            run.options, default=str, sort_keys=True, ensure_ascii=False
        )
        row = {
            "run_id": run.run_id,
            "job_name": summary.job_name,
            "mapping_name": summary.mapping_name,
            "mapping_hash": summary.mapping_hash,
            "source": mask_secrets(str(source)) if source is not None else None,
            "target": mask_secrets(summary.target_url) or self.display_url,
            "options": mask_secrets(options),
            "started_at": run.started_at.astimezone(UTC),
            "finished_at": None,
            "status": "running",
            "counts": None,
            "dry_run": summary.dry_run,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(MIGRATION_RUN), row)
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot record run {run.run_id!r} in the target ({_error_kind(exc)})."
            ) from exc
        logger.info("target prepared run_id=%s target=%s", run.run_id, self.display_url)

    def _refuse_limit_over_full_run(self) -> None:
        """Keep a ``--limit`` run from overwriting a full migration with part of it.

        A limited run reads only some rows of each table: people, callers and links
        derived from the rows it skips would be rewritten from what it did read.

        Raises:
            ConfigError: the target holds a finished run without a limit (exit 3).
        """
        query = (
            select(MIGRATION_RUN.c.run_id, MIGRATION_RUN.c.options)
            .where(
                MIGRATION_RUN.c.status.in_(("balanced", "unbalanced")),
                MIGRATION_RUN.c.dry_run.is_(False),
            )
            .order_by(MIGRATION_RUN.c.started_at)
        )
        try:
            with self._engine.connect() as conn:
                runs = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot read the runs of the target {self.display_url!r} "
                f"({_error_kind(exc)})."
            ) from exc
        full = [r.run_id for r in runs if json.loads(r.options).get("limit") is None]
        if full:
            raise ConfigError(
                f"--limit on the target {self.display_url!r}, which holds the full "
                f"run {full[-1]!r}: a limited run would rewrite people and links from "
                "part of the source; nothing was written.\nhint: rehearse with "
                "--dry-run --limit N, or give a new target with --target."
            )

    def load_batch(self, batch: EntityBatch, *, source_system: str) -> LoadStats:
        """Upsert one batch in one transaction, retrying it when the target is busy.

        Raises:
            TargetError: The batch does not match the contract, the database refused
                it, or it stayed locked through every retry; the batch was rolled
                back and earlier batches stay committed.
        """
        prepared = prepare_batch(batch, run_id=self._run_id)
        attempt = 0
        while True:
            try:
                return self._write(prepared, source_system=source_system)
            except TransientTargetError as exc:
                if attempt >= len(self._retry_delays):
                    raise TargetError(
                        f"The target stayed busy through {attempt + 1} attempts.",
                        batch_id=batch.batch_id,
                    ) from exc
                delay = self._retry_delays[attempt]
                attempt += 1
                logger.warning(
                    "batch retry batch_id=%s attempt=%d delay_s=%.1f reason=%s",
                    batch.batch_id,
                    attempt,
                    delay,
                    _error_kind(exc.__cause__ or exc),
                )
                self._sleep(delay)

    def _write(self, prepared: PreparedBatch, *, source_system: str) -> LoadStats:
        stats = LoadStats()
        table = "?"
        try:
            with self._engine.connect() as conn, conn.begin() as transaction:
                for part in prepared.frames:
                    table = part.table
                    self._upsert(conn, part, stats)
                table = "lineage"
                self._upsert(conn, prepared.lineage, stats)
                table = "quarantine"
                self._insert_quarantine(conn, prepared, source_system, stats)
                if self._rehearse:
                    transaction.rollback()
        except psycopg.Error as exc:
            # COPY and array queries run on the raw driver cursor; translate their
            # errors the way SQLAlchemy translates its own.
            translated = DBAPIError.instance(None, None, exc, psycopg.Error)
            raise self._target_error(translated, prepared.batch_id, table) from exc
        except SQLAlchemyError as exc:
            raise self._target_error(exc, prepared.batch_id, table) from exc

        logger.debug(
            "batch written batch_id=%s inserted=%d updated=%d unchanged=%d deleted=%d",
            prepared.batch_id,
            stats.inserted_count,
            stats.updated_count,
            sum(stats.unchanged.values()),
            sum(stats.deleted.values()),
        )
        return stats

    @staticmethod
    def _target_error(exc: SQLAlchemyError, batch_id: str, table: str) -> TargetError:
        kind = _error_kind(exc)
        if isinstance(exc, OperationalError) and _is_transient(exc):
            return TransientTargetError(
                f"The target was busy while writing table {table!r} ({kind}).",
                batch_id=batch_id,
            )
        return TargetError(
            f"The target refused table {table!r} ({kind}).", batch_id=batch_id
        )

    def _upsert(self, conn: Connection, part: PreparedFrame, stats: LoadStats) -> None:
        table = LINEAGE if part.table == "lineage" else ENTITY_TABLES[part.table]
        keys = part.keys()
        stored = self._writer.existing_hashes(conn, table, part.key_columns, keys)
        new_positions: list[int] = []
        changed_positions: list[int] = []
        for position, (key, digest) in enumerate(zip(keys, part.hashes, strict=True)):
            old = stored.get(key)
            if old is None:
                new_positions.append(position)
            elif old != digest:
                changed_positions.append(position)

        # A record whose classification changed keeps its entity_id but belongs to
        # another record table now: remove it from the table it used to be in.
        if part.table in RECORD_TABLES and new_positions:
            new_ids = [keys[position][0] for position in new_positions]
            for other in RECORD_TABLES:
                if other == part.table:
                    continue
                deleted = self._writer.delete(
                    conn, ENTITY_TABLES[other], "entity_id", new_ids
                )
                if deleted:
                    stats.deleted[other] = stats.deleted.get(other, 0) + deleted

        as_text = self._writer.timestamps_as_text
        if new_positions:
            rows = part.rows(new_positions, timestamps_as_text=as_text)
            self._writer.insert(conn, table, part.columns, rows)
        if changed_positions:
            columns = (*part.update_columns, *part.key_columns)
            rows = part.rows(
                changed_positions, columns=columns, timestamps_as_text=as_text
            )
            self._writer.update(
                conn, table, part.key_columns, part.update_columns, rows
            )

        name = part.table
        stats.inserted[name] = stats.inserted.get(name, 0) + len(new_positions)
        stats.updated[name] = stats.updated.get(name, 0) + len(changed_positions)
        unchanged = len(part) - len(new_positions) - len(changed_positions)
        stats.unchanged[name] = stats.unchanged.get(name, 0) + unchanged

    def _insert_quarantine(
        self,
        conn: Connection,
        prepared: PreparedBatch,
        source_system: str,
        stats: LoadStats,
    ) -> None:
        if not prepared.quarantined:
            return

        quarantined_at = self._now().astimezone(UTC)
        rows = [
            {
                "run_id": prepared.run_id,
                "batch_id": prepared.batch_id,
                "source_system": source_system,
                "source_name": record.legacy_record.source_name,
                # A key quarantined for holding NUL must still be stored, and
                # PostgreSQL text cannot hold NUL: it shows as the symbol U+2400
                # (the raw fields are JSON, which escapes it as \u0000).
                "legacy_id": record.legacy_record.legacy_id.replace("\x00", "\u2400"),
                "stage": record.stage.value,
                "reason": record.reason.value,
                "detail": record.detail,
                "raw": quarantine_raw(record),
                "quarantined_at": quarantined_at,
            }
            for record in prepared.quarantined
        ]
        conn.execute(insert(QUARANTINE), rows)
        stats.inserted["quarantine"] = stats.inserted.get("quarantine", 0) + len(rows)

    def finish(self, summary: RunSummary) -> None:
        """Record the run's counts, status and finishing time.

        Raises:
            TargetError: The run row cannot be updated.
        """
        if self._rehearse:
            return
        counts = {
            "sources": [
                {
                    **asdict(c),
                    "excluded_count": c.excluded_count,
                    "balanced": c.balanced,
                }
                for c in summary.counts
            ],
            "load": asdict(summary.load),
            "dst_adjusted": summary.dst_adjusted,
            "reconciliation_problems": summary.reconciliation_problems,
        }
        finished_at = summary.finished_at or self._now()
        stmt = (
            update(MIGRATION_RUN)
            .where(MIGRATION_RUN.c.run_id == summary.run_id)
            .values(
                counts=json.dumps(counts, sort_keys=True, ensure_ascii=False),
                status=summary.status,
                finished_at=finished_at.astimezone(UTC),
            )
        )
        try:
            with self._engine.begin() as conn:
                conn.execute(stmt)
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot record the end of run {summary.run_id!r} ({_error_kind(exc)})."
            ) from exc
        logger.info(
            "target finished run_id=%s status=%s", summary.run_id, summary.status
        )

    def lineage_count(self, source_system: str, source_name: str) -> int:
        """Return how many legacy ids of one source have a lineage row.

        Raises:
            TargetError: The query failed.
        """
        stmt = (
            select(func.count())
            .select_from(LINEAGE)
            .where(LINEAGE.c.source_system == source_system)
            .where(LINEAGE.c.source_name == source_name)
        )
        try:
            with self._engine.connect() as conn:
                return int(conn.execute(stmt).scalar_one())
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot count lineage rows ({_error_kind(exc)})."
            ) from exc

    def prune_proposed_problems(
        self,
        source_system: str,
        source_name: str,
        *,
        keep_problems: set[str],
        keep_links: set[tuple[str, str]],
    ) -> dict[str, int]:
        """Delete the proposed problems and links that this run no longer proposes.

        Proposed problems come from clustering the whole source, not from one
        legacy record, so when the source changes a cluster can vanish or lose
        members. The problems a run proposes are the whole truth for their
        source: earlier ones that it did not propose again are stale.

        Raises:
            TargetError: The target cannot be read or written.
        """
        problem = ENTITY_TABLES["problem"]
        links = ENTITY_TABLES["problem_incident"]
        held = (
            select(LINEAGE.c.legacy_id, LINEAGE.c.entity_id)
            .where(LINEAGE.c.source_system == source_system)
            .where(LINEAGE.c.source_name == source_name)
        )
        deleted: dict[str, int] = {}
        try:
            with self._engine.connect() as conn, conn.begin() as transaction:
                rows = conn.execute(held).all()
                ids = [str(r.entity_id) for r in rows]
                stale = [i for i in ids if i not in keep_problems]
                stale_keys = [str(r.legacy_id) for r in rows if r.entity_id in stale]
                old_links = [
                    (str(r.problem_id), str(r.incident_id))
                    for chunk in _chunks(ids, 500)
                    for r in conn.execute(
                        select(links.c.problem_id, links.c.incident_id).where(
                            links.c.problem_id.in_(chunk)
                        )
                    )
                ]
                gone = [pair for pair in old_links if pair not in keep_links]
                for problem_id, incident_id in gone:
                    conn.execute(
                        delete(links)
                        .where(links.c.problem_id == problem_id)
                        .where(links.c.incident_id == incident_id)
                    )
                for chunk in _chunks(stale, 500):
                    conn.execute(delete(problem).where(problem.c.entity_id.in_(chunk)))
                for chunk in _chunks(stale_keys, 500):
                    conn.execute(
                        delete(LINEAGE)
                        .where(LINEAGE.c.source_system == source_system)
                        .where(LINEAGE.c.source_name == source_name)
                        .where(LINEAGE.c.legacy_id.in_(chunk))
                    )
                if self._rehearse:
                    transaction.rollback()
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot prune stale proposed problems ({_error_kind(exc)})."
            ) from exc
        if stale:
            deleted["problem"] = len(stale)
            deleted["lineage"] = len(stale_keys)
        if gone:
            deleted["problem_incident"] = len(gone)
        return deleted

    def export(self, out_dir: Path, *, source_system: str | None = None) -> list[Path]:
        """Export every entity table and the lineage as CSV and JSON Lines.

        Raises:
            TargetError: The tables cannot be read or the files cannot be written.
        """
        return export_tables(self._engine, out_dir, source_system=source_system)

    def close(self) -> None:
        """Release the run lock and close every pooled connection."""
        self._lock.release()
        self._engine.dispose()
