r"""The Target protocol, its registry, the dry-run target and batch preparation.

Every target prepares a batch the same way before it writes (or, for a dry run,
instead of writing): each frame is checked against the entity contract, its values
are brought to one canonical form per column kind, and every row gets a content
hash. Reruns compare these hashes with the stored ones and leave unchanged rows
alone.

Content hash (version ``v1``): the SHA-256, in hex, of the UTF-8 text
``"v1" US value US value ...`` where ``US`` is ``\x1f`` and the values are the row's
columns in contract order, ``run_id`` left out. Each value is written as:

- text and enum columns: the string, with ``\`` doubled and ``\x1f`` written as
  ``\x1f`` (four characters), so no value can imitate a separator or the null mark;
- integers: decimal digits; booleans: ``1`` or ``0``;
- timestamps: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` after conversion to UTC (a value
  without a zone counts as UTC);
- null, whatever its spelling in pandas (``None``, ``NaN``, ``NaT``, ``NA``): ``\N``.

The hash depends only on these strings, never on pandas internals such as
``pandas.util.hash_pandas_object``, so it stays stable across library upgrades. A
lineage row hashes its ``entity_type``, ``entity_id`` and the hash of that entity
in the same batch (null when the batch does not hold it), so lineage changes with
its entity.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from itilmigrate.entities import LINEAGE_COLUMNS, TABLE_MODELS, table_columns
from itilmigrate.errors import ConfigError, MigrationError, TargetError, mask_secrets
from itilmigrate.load.tables import (
    COLUMN_KINDS,
    CONTENT_HASH,
    ColumnKind,
    primary_key,
)
from itilmigrate.run import EntityBatch, LoadStats, RunContext, RunSummary

if TYPE_CHECKING:
    from itilmigrate.records import QuarantinedRecord

logger = logging.getLogger(__name__)

HASH_VERSION = "v1"
NULL_MARK = "\\N"
_SEPARATOR = "\x1f"

#: A primary-key value of one row, always a tuple (one element for ``entity_id``).
RowKey: TypeAlias = tuple[str, ...]


class Target(Protocol):
    """Where a run writes its entities, lineage, quarantine and run record."""

    def prepare(self, run: RunContext, summary: RunSummary) -> None:
        """Create missing tables and record the run with status ``running``."""
        ...

    def load_batch(self, batch: EntityBatch, *, source_system: str) -> LoadStats:
        """Write one batch in one transaction and return what it did per table."""
        ...

    def finish(self, summary: RunSummary) -> None:
        """Record the run's counts, status and finishing time."""
        ...

    def lineage_count(self, source_system: str, source_name: str) -> int:
        """Return how many legacy ids of one source the target holds lineage for."""
        ...

    def prune_proposed_problems(
        self,
        source_system: str,
        source_name: str,
        *,
        keep_problems: set[str],
        keep_links: set[tuple[str, str]],
    ) -> dict[str, int]:
        """Delete proposed problems and links an earlier run made and this one did not.

        Returns the rows deleted per table.
        """
        ...

    def export(self, out_dir: Path, *, source_system: str | None = None) -> list[Path]:
        """Write every entity table and the lineage as CSV and JSON Lines files."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


TargetFactory: TypeAlias = Callable[..., Target]

#: URL backend (``sqlite``, ``postgresql``; ``*`` for any other) → target factory.
_TARGET_FACTORIES: dict[str, TargetFactory] = {}


def register_target(*backends: str) -> Callable[[TargetFactory], TargetFactory]:
    """Register a target factory for the URL backends it serves.

    Raises:
        MigrationError: A backend already has a factory (a programming error).
    """

    def decorate(factory: TargetFactory) -> TargetFactory:
        for backend in backends:
            if backend in _TARGET_FACTORIES:
                raise MigrationError(f"Target backend {backend!r} is registered twice.")
            _TARGET_FACTORIES[backend] = factory
        return factory

    return decorate


def open_target(url: str, *, dry_run: bool = False) -> Target:
    """Return the target for a SQLAlchemy URL, or a :class:`DryRunTarget`.

    Raises:
        ConfigError: The URL cannot be parsed or no target serves its backend.
    """
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise ConfigError(
            f"Target URL {mask_secrets(url)!r} is not a SQLAlchemy database URL.\n"
            "hint: write it like sqlite:///out/itil.db or "
            "postgresql+psycopg://user@host/db."
        ) from exc
    factory = _TARGET_FACTORIES.get(backend) or _TARGET_FACTORIES.get("*")
    if factory is None:
        raise ConfigError(f"No target is registered for database backend {backend!r}.")
    if dry_run:
        return _dry_run_target(url, factory)
    return factory(url)


def _dry_run_target(url: str, factory: TargetFactory) -> Target:
    """Rehearse against an existing target; count a first load otherwise.

    A dry run against a target that already holds a migration must say what a
    real run would insert, update or leave unchanged, so it writes each batch
    and rolls it back. A target that does not exist yet is never created.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        return DryRunTarget()
    from sqlalchemy import create_engine, inspect  # noqa: PLC0415

    engine = create_engine(parsed, hide_parameters=True)
    try:
        with engine.connect() as conn:
            exists = inspect(conn).has_table("lineage")
    except SQLAlchemyError:
        exists = False
    finally:
        engine.dispose()
    if not exists:
        return DryRunTarget()
    return factory(url, rehearse=True)


def _escape_one(value: str) -> str:
    return value.replace("\\", "\\\\").replace(_SEPARATOR, "\\x1f")


def _escape_text(values: pd.Series[Any]) -> list[str]:
    """Return a text column's hash text: escaped strings, the null mark for nulls."""
    # Escaping element by element costs more than the rest of the hashing, and
    # almost no column needs it: look for the two special characters in one pass.
    blob = "".join(values.dropna().tolist())
    if "\\" in blob or _SEPARATOR in blob:
        values = values.map(_escape_one, na_action="ignore")
    return cast("list[str]", values.fillna(NULL_MARK).tolist())


def _plain_text(value: object) -> str:
    # StrEnum members are str already; take .value so no driver ever sees the enum.
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _canonical(series: pd.Series[Any], kind: ColumnKind) -> pd.Series[Any]:
    """Return a column in its canonical dtype (raises ValueError or TypeError)."""
    match kind:
        case ColumnKind.TEXT:
            # pandas 3 frames already hold the "str" dtype; converting it again would
            # re-check every value.
            if isinstance(series.dtype, pd.StringDtype):
                return series
            return series.astype("string")
        case ColumnKind.ENUM:
            return series.map(_plain_text, na_action="ignore").astype("string")
        case ColumnKind.INTEGER:
            numbers: pd.Series[Any] = pd.to_numeric(series)
            return numbers.astype("Int64")
        case ColumnKind.BOOLEAN:
            return series.astype("boolean")
        case ColumnKind.TIMESTAMP:
            stamps: pd.Series[Any]
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                stamps = series.dt.tz_convert("UTC")
            elif pd.api.types.is_datetime64_dtype(series.dtype):
                stamps = series.dt.tz_localize("UTC")
            else:
                stamps = pd.to_datetime(series, utc=True, format="ISO8601")
            # Kept as text from here on: the hash, SQLite and COPY all want this
            # exact text, and formatting it once is the costly step.
            return pd.Series(timestamp_text(stamps), index=series.index, dtype=object)


def python_values(series: pd.Series[Any]) -> list[Any]:
    """Return a column as Python scalars, with None for every kind of null."""
    # pandas accepts na_value=None at run time; pandas-stubs do not declare it.
    values = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    return cast("list[Any]", values.tolist())


def timestamp_text(stamps: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Return UTC timestamps as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, None for NaT."""
    naive = (
        stamps.dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .to_numpy(dtype="datetime64[us]")
    )
    text = np.strings.add(naive.astype(str), "+00:00").astype(object)
    text[stamps.isna().to_numpy()] = None
    return text


def _hash_text(series: pd.Series[Any], kind: ColumnKind) -> list[str]:
    match kind:
        case ColumnKind.TEXT | ColumnKind.ENUM:
            return _escape_text(series)
        case ColumnKind.INTEGER:
            return series.astype("string").fillna(NULL_MARK).tolist()
        case ColumnKind.BOOLEAN:
            digits = series.map({True: "1", False: "0"}).astype("string")
            return digits.fillna(NULL_MARK).tolist()
        case ColumnKind.TIMESTAMP:
            return cast("list[str]", series.fillna(NULL_MARK).tolist())


def content_hashes(columns: Sequence[list[str]]) -> list[str]:
    """Return the SHA-256 hex of each row, given each column's hash text."""
    sha256 = hashlib.sha256
    prefix = HASH_VERSION + _SEPARATOR
    joined = map(_SEPARATOR.join, zip(*columns, strict=True))
    return [sha256((prefix + text).encode()).hexdigest() for text in joined]


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedFrame:
    """One table's part of a batch: canonical values and a content hash per row.

    ``frame`` has a RangeIndex and the columns to insert, in order, ending with
    ``content_hash``; ``update_columns`` are the ones an update rewrites.
    """

    table: str
    frame: pd.DataFrame
    kinds: dict[str, ColumnKind]
    key_columns: tuple[str, ...]
    update_columns: tuple[str, ...]
    dropped_duplicates: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns an insert writes, in order."""
        return tuple(self.frame.columns)

    @property
    def hashes(self) -> list[str]:
        """The content hash of each row."""
        return self.frame[CONTENT_HASH].tolist()

    def keys(self) -> list[RowKey]:
        """Return each row's primary key as a tuple."""
        return list(
            zip(*(self.frame[c].tolist() for c in self.key_columns), strict=True)
        )

    def rows(
        self,
        positions: Sequence[int] | None = None,
        *,
        columns: Sequence[str] | None = None,
        timestamps_as_text: bool = True,
    ) -> list[tuple[Any, ...]]:
        """Return driver-ready tuples: Python scalars, None for every kind of null.

        Args:
            positions: Row positions to take; all rows when None.
            columns: Columns to take, in this order; all insert columns when None.
            timestamps_as_text: Give timestamps as UTC ISO text (SQLite storage and
                PostgreSQL COPY) instead of aware ``datetime`` objects.
        """
        take = None if positions is None else np.asarray(positions, dtype=np.intp)
        lists: list[list[Any]] = []
        for name in columns or self.columns:
            series = self.frame[name] if take is None else self.frame[name].iloc[take]
            kind = self.kinds.get(name, ColumnKind.TEXT)
            if kind is ColumnKind.TIMESTAMP and not timestamps_as_text:
                parsed = pd.to_datetime(series, utc=True, format="ISO8601")
                stamps = parsed.dt.to_pydatetime().to_numpy(dtype=object, copy=True)
                stamps[parsed.isna().to_numpy()] = None
                lists.append(list(stamps))
            else:
                lists.append(python_values(series))
        return list(zip(*lists, strict=True))


def prepare_frame(table: str, frame: pd.DataFrame, *, batch_id: str) -> PreparedFrame:
    """Check a batch frame against the contract, canonicalise it and hash each row.

    Rows repeating a primary key keep the last occurrence.

    Raises:
        TargetError: The table is unknown, the columns differ from the contract, or
            a column holds values its kind cannot take.
    """
    if table not in TABLE_MODELS:
        raise TargetError(
            f"Batch has a frame for unknown table {table!r}.", batch_id=batch_id
        )
    expected = table_columns(table)
    if set(frame.columns) != set(expected) or len(frame.columns) != len(expected):
        missing = sorted(set(expected) - set(frame.columns))
        unexpected = sorted(set(frame.columns) - set(expected))
        raise TargetError(
            f"Frame for table {table!r} does not match the entity contract: "
            f"missing columns {missing}, unexpected columns {unexpected}.",
            batch_id=batch_id,
        )

    keys = primary_key(table)
    unique = frame.drop_duplicates(subset=list(keys), keep="last")
    kinds = COLUMN_KINDS[table]
    values: dict[str, pd.Series[Any]] = {}
    for name in expected:
        try:
            values[name] = _canonical(unique[name], kinds[name]).reset_index(drop=True)
        except (ValueError, TypeError) as exc:
            raise TargetError(
                f"Column {table}.{name} holds values that are not of kind "
                f"{kinds[name].value!r} ({type(exc).__name__}).",
                batch_id=batch_id,
            ) from exc

    canonical = pd.DataFrame(values)
    hashed = [name for name in expected if name != "run_id"]
    canonical[CONTENT_HASH] = content_hashes(
        [_hash_text(canonical[name], kinds[name]) for name in hashed]
    )
    return PreparedFrame(
        table=table,
        frame=canonical,
        kinds=kinds,
        key_columns=keys,
        update_columns=tuple(c for c in canonical.columns if c not in keys),
        dropped_duplicates=len(frame) - len(unique),
    )


def entity_hash_index(frames: Sequence[PreparedFrame]) -> pd.Series[str]:
    """Return entity_id → content hash over every frame that has ``entity_id``."""
    parts = [
        prepared.frame.set_index("entity_id")[CONTENT_HASH]
        for prepared in frames
        if "entity_id" in prepared.frame.columns
    ]
    if not parts:
        return pd.Series([], dtype="string")
    index = pd.concat(parts)
    return cast("pd.Series[str]", index[~index.index.duplicated(keep="last")])


def prepare_lineage(
    lineage: pd.DataFrame,
    entity_hashes: pd.Series[str],
    *,
    run_id: str,
    batch_id: str,
) -> PreparedFrame:
    """Canonicalise a lineage frame and hash it with its entities' hashes.

    An empty frame may come without columns (a batch that only quarantined).

    Raises:
        TargetError: A non-empty frame lacks one of the lineage columns.
    """
    if lineage.empty:
        lineage = pd.DataFrame({name: [] for name in LINEAGE_COLUMNS}, dtype=object)
    missing = sorted(set(LINEAGE_COLUMNS) - set(lineage.columns))
    if missing:
        raise TargetError(f"Lineage frame lacks columns {missing}.", batch_id=batch_id)

    keys = primary_key("lineage")
    unique = lineage.drop_duplicates(subset=list(keys), keep="last")
    values = {
        name: _canonical(unique[name], ColumnKind.TEXT).reset_index(drop=True)
        for name in LINEAGE_COLUMNS
    }
    canonical = pd.DataFrame(values)
    entity_hash = canonical["entity_id"].map(entity_hashes).astype("string")
    canonical[CONTENT_HASH] = content_hashes(
        [
            _escape_text(canonical["entity_type"]),
            _escape_text(canonical["entity_id"]),
            entity_hash.fillna(NULL_MARK).tolist(),
        ]
    )
    canonical["run_id"] = run_id
    canonical["first_run_id"] = run_id
    return PreparedFrame(
        table="lineage",
        frame=canonical,
        kinds={},
        key_columns=keys,
        update_columns=("entity_type", "entity_id", CONTENT_HASH, "run_id"),
        dropped_duplicates=len(lineage) - len(unique),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedBatch:
    """A batch ready to write: record tables first, then the others, then lineage."""

    batch_id: str
    run_id: str
    frames: list[PreparedFrame]
    lineage: PreparedFrame
    quarantined: list[QuarantinedRecord] = field(default_factory=list)


def run_id_of(batch_id: str) -> str:
    """Return the run id part of a ``<run_id>:<seq>`` batch id."""
    return batch_id.rpartition(":")[0] or batch_id


def prepare_batch(batch: EntityBatch, *, run_id: str | None = None) -> PreparedBatch:
    """Prepare every frame of a batch and its lineage.

    Raises:
        TargetError: A frame does not match the entity contract.
    """
    prepared: list[PreparedFrame] = []
    # Contract order (record tables first) makes the write order, and so the lock
    # order of concurrent runs, the same in every batch.
    order = {name: position for position, name in enumerate(TABLE_MODELS)}
    for table in sorted(batch.frames, key=lambda name: order.get(name, len(order))):
        frame = batch.frames[table]
        if frame.empty:
            continue
        prepared.append(prepare_frame(table, frame, batch_id=batch.batch_id))

    effective_run_id = run_id or run_id_of(batch.batch_id)
    lineage = prepare_lineage(
        batch.lineage,
        entity_hash_index(prepared),
        run_id=effective_run_id,
        batch_id=batch.batch_id,
    )
    return PreparedBatch(
        batch_id=batch.batch_id,
        run_id=effective_run_id,
        frames=prepared,
        lineage=lineage,
        quarantined=list(batch.quarantined),
    )


def quarantine_raw(record: QuarantinedRecord) -> str:
    """Return the legacy fields of a quarantined record as a JSON object."""
    return json.dumps(dict(record.legacy_record.fields), ensure_ascii=False)


class DryRunTarget:
    """A target that prepares every batch fully but writes nothing.

    Every prepared row counts as inserted (without a database there is nothing to
    compare with), so ``--dry-run`` exercises the contract checks, canonical values
    and hashing, and reports what a first load would write.
    """

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._lineage: Counter[tuple[str, str]] = Counter()

    def prepare(self, run: RunContext, summary: RunSummary) -> None:
        """Remember the run id; nothing is created."""
        self._run_id = run.run_id
        logger.info("dry run prepared run_id=%s target=none", run.run_id)

    def load_batch(self, batch: EntityBatch, *, source_system: str) -> LoadStats:
        """Prepare the batch and count what would be written.

        Raises:
            TargetError: A frame does not match the entity contract.
        """
        prepared = prepare_batch(batch, run_id=self._run_id)
        stats = LoadStats()
        for part in [*prepared.frames, prepared.lineage]:
            part.rows()
            stats.inserted[part.table] = len(part)
        for record in prepared.quarantined:
            quarantine_raw(record)
        if prepared.quarantined:
            stats.inserted["quarantine"] = len(prepared.quarantined)

        lineage = prepared.lineage.frame
        sources = zip(lineage["source_system"], lineage["source_name"], strict=True)
        self._lineage.update(Counter((str(s), str(n)) for s, n in sources))
        logger.debug(
            "dry run batch prepared batch_id=%s source_system=%s rows=%d",
            batch.batch_id,
            source_system,
            sum(stats.inserted.values()),
        )
        return stats

    def finish(self, summary: RunSummary) -> None:
        """Nothing to record."""

    def lineage_count(self, source_system: str, source_name: str) -> int:
        """Return the lineage rows prepared for one source during this run."""
        return self._lineage[(source_system, source_name)]

    def prune_proposed_problems(
        self,
        source_system: str,
        source_name: str,
        *,
        keep_problems: set[str],
        keep_links: set[tuple[str, str]],
    ) -> dict[str, int]:
        """Delete nothing: a dry run stores nothing."""
        return {}

    def export(self, out_dir: Path, *, source_system: str | None = None) -> list[Path]:
        """Write nothing: a dry run has no stored entities to export."""
        return []

    def close(self) -> None:
        """Nothing to release."""
