"""What rules evaluate: the target's tables as pandas frames, the policy and a clock.

:func:`load_context` reads every target table once; rules then work on the frames
with vectorised pandas operations. A table the target does not have (an older
target, or ``status_change`` for a source without status history) becomes an empty
frame with its columns, so a rule over it finds nothing instead of failing.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import MetaData, create_engine, inspect, make_url, select
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from itilmigrate.entities import RECORD_TABLES, TABLE_MODELS, table_columns
from itilmigrate.errors import (
    UNESCAPED_AT,
    ConfigError,
    TargetError,
    has_unescaped_at,
    mask_secrets,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import URL, Connection, Engine

    from itilmigrate.compliance_checks.policy import Policy

logger = logging.getLogger(__name__)

_ENTITY_COLUMNS = ("source_system", "source_name", "legacy_id", "run_id")

#: Every table a rule may read, with its columns (entity tables from the contract).
TABLE_COLUMNS: dict[str, list[str]] = {
    **{name: table_columns(name) for name in TABLE_MODELS},
    "status_change": [
        "entity_id",
        *_ENTITY_COLUMNS,
        "record_id",
        "record_legacy_id",
        "seq",
        "status",
        "legacy_status",
        "changed_at",
    ],
    "lineage": [
        "source_system",
        "source_name",
        "legacy_id",
        "entity_type",
        "entity_id",
        "content_hash",
        "run_id",
        "first_run_id",
    ],
    "quarantine": [
        "id",
        "run_id",
        "batch_id",
        "source_system",
        "source_name",
        "legacy_id",
        "stage",
        "reason",
        "detail",
        "raw",
        "quarantined_at",
    ],
    "migration_run": [
        "run_id",
        "job_name",
        "mapping_name",
        "mapping_hash",
        "source",
        "target",
        "options",
        "started_at",
        "finished_at",
        "status",
        "counts",
        "dry_run",
    ],
}

_BOOLEAN_COLUMNS = ("major", "known_error", "is_reassignment", "dry_run")
_INTEGER_COLUMNS = (
    "impact",
    "urgency",
    "priority",
    "seq",
    "assignment_count",
    "reassignment_count",
    "reopen_count",
    "incident_count",
)


def normalise_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``frame`` with the table's columns and canonical dtypes.

    Timestamps (``*_at``) become UTC ``datetime64``, flags booleans, counts and
    levels nullable integers; missing columns are added empty. Used by
    :func:`load_context` and by tests that build frames by hand.
    """
    columns = TABLE_COLUMNS.get(table, list(frame.columns))
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            out[column] = None
    for column in out.columns:
        if column.endswith("_at"):
            out[column] = pd.to_datetime(out[column], utc=True, format="ISO8601")
        elif column in _BOOLEAN_COLUMNS:
            out[column] = out[column].astype("boolean").fillna(False).astype(bool)
        elif column in _INTEGER_COLUMNS:
            out[column] = pd.to_numeric(out[column]).astype("Int64")
    extra = [c for c in out.columns if c not in columns]
    return out[[*columns, *extra]]


def empty_frame(table: str) -> pd.DataFrame:
    """Return an empty frame with the columns and dtypes of ``table``."""
    return normalise_frame(pd.DataFrame(columns=TABLE_COLUMNS[table]), table)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleContext:
    """The migrated entities, the policy and the clock one check run judges."""

    tables: Mapping[str, pd.DataFrame]
    policy: Policy
    run_id: str
    now: pd.Timestamp

    def table(self, name: str) -> pd.DataFrame:
        """Return table ``name``, or an empty frame with its columns."""
        frame = self.tables.get(name)
        return frame if frame is not None else empty_frame(name)

    def records(self) -> pd.DataFrame:
        """Return incidents, service requests and problems with an ``entity_type``."""
        parts = [
            self.table(name).assign(entity_type=name)
            for name in RECORD_TABLES
            if not self.table(name).empty
        ]
        if not parts:
            return empty_frame("incident").assign(entity_type=pd.Series(dtype="str"))
        return pd.concat(parts, ignore_index=True)


def _run_system(options: object, mapping_name: object) -> str | None:
    """Return the source system a run loaded: its option, else its mapping's name."""
    try:
        parsed = json.loads(options) if isinstance(options, str) else {}
    except ValueError:
        parsed = {}
    value = parsed.get("source_system") if isinstance(parsed, dict) else None
    if value:
        return str(value)
    return mapping_name if isinstance(mapping_name, str) else None


def _keep_source(
    frames: dict[str, pd.DataFrame], source_system: str
) -> dict[str, pd.DataFrame]:
    """Keep only the rows of one source system (and the runs that loaded it)."""
    kept = {}
    for name, frame in frames.items():
        if "source_system" in frame.columns:
            kept[name] = frame.loc[frame["source_system"] == source_system]
        else:
            kept[name] = frame
    problem_ids = set(kept["problem"]["entity_id"])
    links = kept["problem_incident"]
    kept["problem_incident"] = links.loc[links["problem_id"].isin(problem_ids)]

    runs = kept["migration_run"]
    systems = [
        _run_system(options, mapping_name)
        for options, mapping_name in zip(
            runs["options"].tolist(), runs["mapping_name"].tolist(), strict=True
        )
    ]
    kept["migration_run"] = runs.loc[[system == source_system for system in systems]]
    return kept


#: Statuses of a run that reached its end (see ``runner.py``); a run still
#: ``running``, or one that ``failed`` or was ``interrupted``, may have left the
#: target half written, so it does not count as a migration to judge.
_COMPLETED_STATUSES = ("balanced", "unbalanced")
_URL_FORMS = "'dialect+driver://user@host/db' or 'sqlite:///path'"
_NO_MIGRATION_HINT = (
    "hint: check the URL (database name, schema, file path); `itilmigrate run` "
    "writes the target that `check` reads."
)


def parse_target_url(target_url: str) -> URL:
    """Parse the TARGET_URL argument of ``check``, before anything is written.

    Raises:
        ConfigError: SQLAlchemy cannot parse it (exit 3).
    """
    try:
        url = make_url(target_url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(
            f"The TARGET_URL argument {mask_secrets(target_url)!r} is not a "
            f"SQLAlchemy database URL; expected the form {_URL_FORMS}."
        ) from exc
    if has_unescaped_at(url.host):
        raise ConfigError(
            f"The TARGET_URL argument {mask_secrets(target_url)!r}: {UNESCAPED_AT}."
        )
    return url


def _read_only_sqlite(url: URL, display: str) -> URL:
    """Open a SQLite file read-only, and only when it exists.

    SQLAlchemy would create an empty database for a mistyped path, and the check
    would then judge nothing and pass; ``mode=ro`` also guarantees that a check
    never writes to the target.

    Raises:
        TargetError: The SQLite file does not exist (exit 4).
    """
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        return url
    if database.startswith("file:"):
        return url
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise TargetError(
            f"Target {display!r} holds no itilmigrate migration: there is no SQLite "
            f"database file {str(path)!r}.\n{_NO_MIGRATION_HINT}"
        )
    uri = "file:" + urllib.parse.quote(str(path))
    return url.set(database=uri, query={**url.query, "mode": "ro", "uri": "true"})


def _connect(engine: Engine, display: str) -> Connection:
    """Open a connection; a refused login names the driver's reason, masked.

    Raises:
        TargetError: The database is unreachable or refuses the login (exit 4).
    """
    try:
        return engine.connect()
    except DBAPIError as exc:
        # The first line of a driver's connect error names the cause (bad password,
        # unknown database, refused connection) and never quotes legacy values.
        lines = str(exc.orig).strip().splitlines() if exc.orig is not None else []
        reason = mask_secrets(lines[0]) if lines else ""
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        raise TargetError(
            f"Cannot connect to the target {display!r} ({kind}: {reason}).\n"
            "hint: check that the server runs and the URL is right."
        ) from exc


def _require_migration(
    runs: pd.DataFrame, display: str, source_system: str | None
) -> None:
    """Refuse a target without a completed run (of ``source_system``, if given).

    A check of a database that holds no migration finds nothing and would pass;
    a mistyped database name must not turn a CI pipeline green.

    Raises:
        TargetError: No completed run (of that source system) is recorded (exit 4).
    """
    done = runs.loc[runs["status"].isin(_COMPLETED_STATUSES) & ~runs["dry_run"]]
    if done.empty:
        statuses = runs["status"].value_counts().sort_index()
        listed = ", ".join(f"{status} {count}" for status, count in statuses.items())
        raise TargetError(
            f"Target {display!r} holds no completed itilmigrate migration: table "
            f"'migration_run' lists {len(runs)} run(s)"
            + (f" ({listed})" if listed else "")
            + f" and none finished.\n{_NO_MIGRATION_HINT}"
        )
    if source_system is None:
        return

    systems = sorted(
        {
            system
            for options, mapping_name in zip(
                done["options"].tolist(), done["mapping_name"].tolist(), strict=True
            )
            if (system := _run_system(options, mapping_name)) is not None
        }
    )
    if source_system not in systems:
        raise TargetError(
            f"Target {display!r} holds no completed run of source system "
            f"{source_system!r}; it holds runs of {systems}.\n"
            "hint: choose one of them with --source-system, or leave it out."
        )


def load_context(
    target_url: str,
    *,
    policy: Policy,
    run_id: str,
    now: pd.Timestamp | None = None,
    source_system: str | None = None,
) -> RuleContext:
    """Read every target table into a :class:`RuleContext`.

    The target is opened read-only where the database allows it (SQLite), and
    must hold at least one completed migration run.

    Args:
        target_url: SQLAlchemy URL of the target database.
        policy: The policy the rules apply.
        run_id: The check run's id.
        now: The check's clock (UTC); the current time when None.
        source_system: Judge only this source system's rows.

    Raises:
        ConfigError: The URL cannot be parsed, or names a dialect or driver that
            is not installed (exit 3).
        TargetError: The target cannot be reached or read, or holds no completed
            migration run (of ``source_system``, when given) (exit 4).
    """
    display = mask_secrets(target_url)
    url = _read_only_sqlite(parse_target_url(target_url), display)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as exc:
        # NoSuchModuleError (an unknown dialect or driver) is an ArgumentError.
        raise ConfigError(
            f"Target URL {display!r} names a database dialect or driver that is not "
            f"installed ({type(exc).__name__}); expected the form {_URL_FORMS}."
        ) from exc

    frames: dict[str, pd.DataFrame] = {}
    try:
        with _connect(engine, display) as conn:
            present = set(inspect(conn).get_table_names())
            if "migration_run" not in present:
                among = (
                    f"among its {len(present)} table(s)" if present else "(no tables)"
                )
                raise TargetError(
                    f"Target {display!r} holds no itilmigrate migration: it has no "
                    f"'migration_run' table {among}.\n{_NO_MIGRATION_HINT}"
                )
            metadata = MetaData()
            wanted = [name for name in TABLE_COLUMNS if name in present]
            metadata.reflect(bind=conn, only=wanted)
            for name in TABLE_COLUMNS:
                if name not in present:
                    frames[name] = empty_frame(name)
                    continue
                frame = pd.read_sql(select(metadata.tables[name]), conn)
                frames[name] = normalise_frame(frame, name)
                logger.info("context table=%s rows=%d", name, len(frame))
    except SQLAlchemyError as exc:
        raise TargetError(
            f"Cannot read target {display!r} ({type(exc).__name__})."
        ) from exc
    finally:
        engine.dispose()

    _require_migration(frames["migration_run"], display, source_system)
    if source_system is not None:
        frames = _keep_source(frames, source_system)
    clock = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if clock.tzinfo is None:
        clock = clock.tz_localize("UTC")
    return RuleContext(
        tables=frames, policy=policy, run_id=run_id, now=clock.tz_convert("UTC")
    )
