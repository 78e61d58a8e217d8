"""One run at a time per target: a lock held from preparing the target to closing it.

Two runs writing one target at once would race on the same legacy keys and fail
with a driver's unique-key error halfway through. The second run is refused
before any data moves instead:

- PostgreSQL: a session advisory lock keyed by the current schema, so runs into
  different schemas of one database go on side by side;
- MariaDB/MySQL: a named ``GET_LOCK`` lock for the database;
- SQLite: an OS file lock on ``<database file>.lock`` beside the database.

Every kind is released when its holder ends, even by a crash or ``kill -9``: the
server drops a session's locks with its connection, and the OS drops a dead
process' file locks; a lock file left behind holds no lock.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from itilmigrate.errors import TargetError
from itilmigrate.load.tables import MIGRATION_RUN

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection, Engine

logger = logging.getLogger(__name__)

# First key of PostgreSQL's two-key advisory lock: "itil" in ASCII.
_PG_LOCK_CLASS = 0x6974696C


class TargetLock:
    """Keeps a second run off a target while one is writing to it."""

    def __init__(
        self, engine: Engine, display_url: str, *, connect: Callable[[], Connection]
    ) -> None:
        self._engine = engine
        self._connect = connect
        self._display_url = display_url
        self._conn: Connection | None = None
        self._file: FileLock | None = None

    def acquire(self) -> None:
        """Take the target's lock, or fail at once if another run holds it.

        Raises:
            TargetError: another run holds the lock (exit 4), the database is
                unreachable, or it refuses the lock statement.
        """
        dialect = self._engine.dialect.name
        try:
            if dialect == "sqlite":
                held = self._lock_file()
            elif dialect == "postgresql":
                held = self._lock_session(
                    "SELECT pg_try_advisory_lock(:cls, hashtext(current_schema()))",
                    {"cls": _PG_LOCK_CLASS},
                )
            elif dialect in {"mysql", "mariadb"}:
                held = self._lock_session(
                    "SELECT GET_LOCK(CONCAT('itilmigrate:', MD5(DATABASE())), 0)", {}
                )
            else:
                # LIMITATION: SQL Server, Oracle and other targets take no run lock.
                # When: two runs write one such target at the same time.
                # Then: the second fails with the driver's unique-key error (exit 4);
                # rerunning it after the first has finished is safe.
                return
        except SQLAlchemyError as exc:
            raise TargetError(
                f"Cannot take the run lock on the target {self._display_url!r} "
                f"({type(exc).__name__})."
            ) from exc
        if not held:
            raise TargetError(
                f"Another itilmigrate run is writing to the target "
                f"{self._display_url!r}{self._running_run()}; nothing was written.\n"
                "hint: wait for it to finish, then rerun this job."
            )
        logger.debug("run lock taken target=%s", self._display_url)

    def release(self) -> None:
        """Release the lock, if held; a second call does nothing."""
        if self._conn is not None:
            # A pooled connection would keep its session, and the lock with it.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.release()
            self._file = None

    def _lock_file(self) -> bool:
        database = self._engine.url.database
        if not database or database == ":memory:":
            return True  # a private in-memory database has no second writer
        lock = FileLock(Path(f"{database}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        self._file = lock
        return True

    def _lock_session(self, statement: str, params: dict[str, object]) -> bool:
        conn = self._connect()
        try:
            held = bool(conn.execute(text(statement), params).scalar())
            conn.commit()  # the lock is the session's; no transaction stays open
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.close()
            return False
        self._conn = conn
        return True

    def _running_run(self) -> str:
        """Name the run marked ``running`` most recently, if the target says."""
        query = (
            select(MIGRATION_RUN.c.run_id, MIGRATION_RUN.c.job_name)
            .where(MIGRATION_RUN.c.status == "running")
            .order_by(MIGRATION_RUN.c.started_at.desc())
            .limit(1)
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).first()
        except SQLAlchemyError:
            return ""  # the run table may not exist yet
        return "" if row is None else f" (run {row.run_id!r} of job {row.job_name!r})"
