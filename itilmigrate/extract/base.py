"""Source protocol, source specifications and the source registry.

A source hands the legacy tables of one system to the transform stage as pandas
frames of text. Every value is a Python ``str`` or ``None``: sources never guess
types, so a legacy ``CallID`` of ``00012`` keeps its zeros and a date column with a
bad value still reaches the converters, which quarantine it with a reason.

Each technology (SQLAlchemy URL, ODBC, CSV folder) has a module next to this one
that registers a factory with :data:`source_registry` under its ``kind``;
:func:`open_source` picks the factory from the specification.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeAlias, TypeVar

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from itilmigrate.errors import ConfigError, SourceError, UnsupportedFeatureError

if TYPE_CHECKING:
    from pathlib import Path

_STRICT = ConfigDict(
    extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True
)
_POSITION = re.compile(r"#([1-9][0-9]*)")


class SqlSourceSpec(BaseModel):
    """A database reached through a SQLAlchemy URL (SQLite file by default)."""

    model_config = _STRICT

    kind: Literal["sql"] = "sql"
    url: str = Field(min_length=1)
    schema_: str | None = Field(default=None, alias="schema")


class OdbcSourceSpec(BaseModel):
    """A database reached through an ODBC driver string or a configured DSN.

    Give exactly one of ``connection_string`` and ``dsn``; ``user`` and
    ``password`` go with ``dsn`` only (a connection string carries its own).
    """

    model_config = _STRICT

    kind: Literal["odbc"] = "odbc"
    connection_string: str | None = None
    dsn: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    schema_: str | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _one_way_to_connect(self) -> OdbcSourceSpec:
        if (self.connection_string is None) == (self.dsn is None):
            raise ValueError("give exactly one of 'connection_string' and 'dsn'")
        if self.connection_string is not None and (
            self.user is not None or self.password is not None
        ):
            raise ValueError(
                "'user' and 'password' go with 'dsn'; put them in the connection string"
            )
        return self


def _check_delimiter(value: str) -> str:
    if value in {"\n", "\r", '"'}:
        raise ValueError("the delimiter cannot be a line break or the quote character")
    return value


def _check_encoding(value: str) -> str:
    if value == "auto":
        return value
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(
            f"unknown encoding {value!r}; use 'auto' or a Python codec name"
        ) from None
    return value


class CsvFileOptions(BaseModel):
    """Options of one file that differ from the source's (BPIC mixes ';' and ',')."""

    model_config = _STRICT

    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None
    header: bool | None = None

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str | None) -> str | None:
        return None if value is None else _check_delimiter(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        return None if value is None else _check_encoding(value)


class CsvSourceSpec(BaseModel):
    """A folder of CSV exports (or one file); each file is one table.

    The table name is the file name without its ``.gz``/``.bz2``/``.xz`` and
    ``.csv`` suffixes. ``delimiter``, ``encoding`` and ``header`` apply to every file
    the ``pattern`` selects, except where ``tables`` (keyed by table name, compared
    case-insensitively) gives a file its own.
    """

    model_config = _STRICT

    kind: Literal["csv"] = "csv"
    path: str = Field(min_length=1)
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "auto"
    header: bool = True
    pattern: str = Field(default="*.csv*", min_length=1)
    tables: dict[str, CsvFileOptions] = Field(default_factory=dict)

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str) -> str:
        return _check_delimiter(value)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        return _check_encoding(value)


SourceSpec: TypeAlias = Annotated[
    SqlSourceSpec | OdbcSourceSpec | CsvSourceSpec, Field(discriminator="kind")
]


class Source(Protocol):
    """A named origin of legacy records: the tables of one legacy system.

    Table and column names passed to :meth:`count` and :meth:`read_batches` are the
    *actual* names, as :meth:`resolve_table` and :func:`resolve_column` return them.
    """

    source_name: str

    def list_tables(self) -> list[str]:
        """Return the actual table names in the source."""
        ...

    def columns(self, table: str) -> list[str]:
        """Return the actual column names of ``table``, in source order."""
        ...

    def resolve_table(self, name: str) -> str | None:
        """Return the actual name of table ``name`` (case-insensitive), or ``None``."""
        ...

    def count(self, table: str) -> int:
        """Return the number of records in ``table``."""
        ...

    def read_batches(
        self,
        table: str,
        columns: Sequence[str],
        *,
        batch_size: int,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield frames of at most ``batch_size`` records with exactly ``columns``.

        Values are ``str`` or ``None`` (object dtype), never stripped. SQL sources
        sort by ``order_by`` when given; CSV sources keep file order.
        """
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...


SourceFactory: TypeAlias = Callable[..., Source]
_Factory = TypeVar("_Factory", bound=SourceFactory)


class SourceRegistry:
    """Source factories by specification ``kind``, filled by a decorator."""

    def __init__(self) -> None:
        self._factories: dict[str, SourceFactory] = {}

    def register(self, kind: str) -> Callable[[_Factory], _Factory]:
        """Register the decorated factory for ``kind``; a second one raises.

        The factory is called as ``factory(spec, source_name=..., base_dir=...)``.
        """

        def decorate(factory: _Factory) -> _Factory:
            if kind in self._factories:
                raise ValueError(
                    f"a source factory for kind {kind!r} is already registered"
                )
            self._factories[kind] = factory
            return factory

        return decorate

    @property
    def kinds(self) -> list[str]:
        """The registered kinds, sorted."""
        return sorted(self._factories)

    def open(
        self, spec: SourceSpec, *, source_name: str, base_dir: Path | None = None
    ) -> Source:
        """Open the source that ``spec`` describes.

        Raises:
            UnsupportedFeatureError: no factory is registered for ``spec.kind``.
            SourceError: the file or database cannot be opened (exit 4).
        """
        factory = self._factories.get(spec.kind)
        if factory is None:
            raise UnsupportedFeatureError(
                f"Source kind {spec.kind!r} is not supported; use one of {self.kinds}."
            )
        return factory(spec, source_name=source_name, base_dir=base_dir)


source_registry = SourceRegistry()


def open_source(
    spec: SourceSpec, *, source_name: str, base_dir: Path | None = None
) -> Source:
    """Open a source; relative paths in ``spec`` resolve against ``base_dir``.

    ``base_dir`` is the folder of the job file; without it, relative paths resolve
    against the working directory.

    Raises:
        SourceError: the file or database cannot be opened; connection strings in
            the message have their passwords masked (exit 4).
    """
    return source_registry.open(spec, source_name=source_name, base_dir=base_dir)


def _resolve(names: Sequence[str], name: str, what: str) -> str | None:
    if name in names:
        return name
    folded = name.casefold()
    matches = [actual for actual in names if actual.casefold() == folded]
    if len(matches) > 1:
        raise ConfigError(
            f"{what} name {name!r} is ambiguous: it matches {matches} when case is "
            f"ignored.\nhint: write the {what.lower()} name with its exact case."
        )
    return matches[0] if matches else None


def resolve_column(columns: Sequence[str], name: str) -> str | None:
    """Return the actual column that ``name`` designates, or ``None``.

    An exact match wins; then a match ignoring case; then ``#N`` designates the
    N-th column (1-based), for exports whose header names are blank or repeated.

    Raises:
        ConfigError: ``name`` matches several columns when case is ignored and
            none exactly (exit 3).
    """
    found = _resolve(columns, name, "Column")
    if found is not None:
        return found
    position = _POSITION.fullmatch(name.strip())
    if position is not None and int(position.group(1)) <= len(columns):
        return columns[int(position.group(1)) - 1]
    return None


def resolve_table_name(tables: Sequence[str], name: str) -> str | None:
    """Return the actual table that ``name`` designates (case-insensitive), or ``None``.

    Raises:
        ConfigError: ``name`` matches several tables when case is ignored and none
            exactly (exit 3).
    """
    return _resolve(tables, name, "Table")


def decode_bytes(raw: bytes) -> str:
    """Decode bytes from a driver: UTF-8 when valid, else Windows-1252, else Latin-1."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _timedelta_text(value: timedelta) -> str:
    # MySQL TIME columns arrive as timedelta and may exceed 24 hours or be negative.
    micros = abs(value) // timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    sign = "-" if value < timedelta(0) else ""
    text = f"{sign}{hour:02d}:{minute:02d}:{second:02d}"
    return f"{text}.{micro:06d}" if micro else text


def _float_text(value: float) -> str:
    if math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value)


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _bool_text(value: bool) -> str:  # noqa: FBT001
    return "true" if value else "false"


# Checked in order, so subclasses (bool, datetime) come before their bases.
_TEXT_FORMS: tuple[tuple[type[Any], Callable[[Any], str]], ...] = (
    (bool, _bool_text),
    (int, str),
    (float, _float_text),
    (Decimal, _decimal_text),
    (datetime, lambda value: value.isoformat(sep=" ")),
    (date, lambda value: value.isoformat()),
    (time, lambda value: value.isoformat()),
    (timedelta, _timedelta_text),
    (bytes, decode_bytes),
    (bytearray, lambda value: decode_bytes(bytes(value))),
    (memoryview, lambda value: decode_bytes(bytes(value))),
)
_TEXT_FORM_BY_TYPE: dict[type[Any], Callable[[Any], str]] = dict(_TEXT_FORMS)


def to_text(value: object) -> str | None:
    """Return the text form of one database value; ``None`` stays ``None``.

    Integral numbers lose their fraction (``5.0`` gives ``'5'``), booleans become
    ``'true'``/``'false'``, datetimes ISO ``YYYY-MM-DD HH:MM:SS`` (with microseconds
    only when present), bytes are decoded. Text is returned untouched.
    """
    if value is None or isinstance(value, str):
        return value
    form = _TEXT_FORM_BY_TYPE.get(type(value))
    if form is None:
        form = next((f for kind, f in _TEXT_FORMS if isinstance(value, kind)), str)
    return form(value)


def _text_column(values: tuple[Any, ...]) -> Sequence[str | None]:
    """Return one column of database values as text, converting only what is not."""
    kinds = set(map(type, values))
    has_none = type(None) in kinds
    kinds.discard(type(None))
    if kinds <= {str}:
        return values
    # Columns of a typed database hold one type: convert with one formatter,
    # mapped in C when the column has no NULL.
    if len(kinds) == 1 and (form := _TEXT_FORM_BY_TYPE.get(kinds.pop())) is not None:
        if not has_none:
            return list(map(form, values))
        return [None if value is None else form(value) for value in values]
    # SQLite columns may mix types from row to row.
    return [to_text(value) for value in values]


def frame_from_rows(
    rows: Sequence[Sequence[Any]], columns: Sequence[str]
) -> pd.DataFrame:
    """Build a batch frame of text from database rows (tuples in ``columns`` order)."""
    data = np.empty((len(rows), len(columns)), dtype=object)
    if rows:
        for index, values in enumerate(zip(*rows, strict=True)):
            data[:, index] = _text_column(values)
    return pd.DataFrame(data, columns=list(columns), dtype=object, copy=False)


def check_read_request(
    known: Sequence[str],
    requested: Sequence[str],
    *,
    batch_size: int,
    limit: int | None,
    source_name: str,
    table: str,
) -> None:
    """Check a ``read_batches`` request before any query is built.

    Raises:
        ValueError: ``batch_size`` is below 1, ``limit`` is negative or no column
            is requested (a programming error in the caller).
        SourceError: a requested column is not in the table (exit 4).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    if not requested:
        raise ValueError("read_batches needs at least one column")
    available = set(known)
    missing = [name for name in requested if name not in available]
    if missing:
        raise SourceError(
            f"No column {missing[0]!r} in the table ({len(missing)} missing).\n"
            "hint: pass actual names as columns() and resolve_column() return them.",
            source_name=source_name,
            table=table,
        )
