"""CSV exports as a source: one file per table, read in batches of text.

Every file is profiled once, on first use: its encoding (when ``auto``), its header
and the shape of its records (count, narrowest and widest). A file whose records
all have the same width is read with pandas' C parser, which is several times
faster than the csv module; a ragged file (short or long records) is read with
the csv module so that missing fields become ``None`` and surplus fields get
columns of their own. Profiling warns once per file, with counts and line
numbers only, about records whose width differs from the header's, about stray
quotes, and when ``auto`` reads a file as anything but UTF-8; a file without a
header line is a :class:`SourceError`.

Header names are taken by position, so blank and repeated names survive: a blank
name becomes ``column_N`` (1-based position) and a repeated one ``Name#2``,
``Name#3``; fields beyond the header become ``column_N`` too.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from itilmigrate.errors import ConfigError, SourceError
from itilmigrate.extract.base import (
    CsvFileOptions,
    CsvSourceSpec,
    check_read_request,
    resolve_table_name,
    source_registry,
)
from itilmigrate.extract.csv_files import (
    COMPRESSIONS,
    BadByte,
    BadQuoting,
    ByteScan,
    FileOptions,
    Shape,
    bom_encoding,
    byte_safe,
    describe_position,
    detect_encoding,
    fallback_encoding,
    first_non_utf8,
    open_binary,
    read_records,
    scan_bytes,
    scan_records,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence


logger = logging.getLogger(__name__)


def table_name(path: Path) -> str:
    """Return the table name of a CSV file: its name without compression and ``.csv``.

    ``Detail_Incident.csv.gz`` gives ``Detail_Incident``; ``a.derived.csv`` gives
    ``a.derived``.
    """
    name = path.name
    suffix = Path(name).suffix.lower()
    if suffix in COMPRESSIONS:
        name = name[: -len(suffix)]
    return Path(name).stem if Path(name).suffix else name


def header_names(raw: Sequence[str]) -> list[str]:
    """Build unique column names from header fields, by position.

    Names are stripped, including a leading byte-order mark; a blank name becomes
    ``column_N`` (1-based); a name already taken (ignoring case) gets ``#2``, ``#3``.
    """
    names: list[str] = []
    taken: set[str] = set()
    for position, field in enumerate(raw, start=1):
        base = field.strip().lstrip("\ufeff").strip() or f"column_{position}"
        name, copy = base, 1
        while name.casefold() in taken:
            copy += 1
            name = f"{base}#{copy}"
        taken.add(name.casefold())
        names.append(name)
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class _Profile:
    path: Path
    encoding: str
    delimiter: str
    header: bool
    columns: list[str]
    rows: int
    uniform_width: int | None


class CsvSource:
    """A folder of CSV exports (or a single file); each file is one table.

    Files are opened only when read. Each read streams the file in chunks of
    ``batch_size`` records, so memory follows the batch size, not the file size.
    """

    def __init__(
        self,
        files: dict[str, Path],
        *,
        source_name: str,
        options: FileOptions | None = None,
        per_table: dict[str, FileOptions] | None = None,
    ) -> None:
        self.source_name = source_name
        self._files = files
        self._options = options or FileOptions()
        self._per_table = per_table or {}
        self._profiles: dict[str, _Profile] = {}

    def list_tables(self) -> list[str]:
        """Return the table names, one per file, sorted."""
        return sorted(self._files)

    def resolve_table(self, name: str) -> str | None:
        """Return the table name matching ``name`` ignoring case, or ``None``.

        Raises:
            ConfigError: ``name`` matches two files that differ only in case.
        """
        return resolve_table_name(self.list_tables(), name)

    def columns(self, table: str) -> list[str]:
        """Return the column names of ``table`` (profiles the file on first use).

        Raises:
            SourceError: the table is unknown or its file cannot be read.
        """
        return list(self._profile(table).columns)

    def count(self, table: str) -> int:
        """Return the number of data records in ``table`` (blank lines excluded).

        Raises:
            SourceError: the table is unknown or its file cannot be read.
        """
        return self._profile(table).rows

    def read_batches(
        self,
        table: str,
        columns: Sequence[str],
        *,
        batch_size: int,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Yield frames of text in file order; ``order_by`` is ignored.

        Raises:
            SourceError: the table or a column is unknown, or the file cannot be
                read or decoded (when iterated).
        """
        del order_by  # a file has one order: the one the export wrote
        profile = self._profile(table)
        check_read_request(
            profile.columns,
            columns,
            batch_size=batch_size,
            limit=limit,
            source_name=self.source_name,
            table=table,
        )
        positions = [profile.columns.index(name) for name in columns]
        expected = profile.rows if limit is None else min(limit, profile.rows)
        frames: Iterator[pd.DataFrame]
        if expected == 0:
            frames = iter(())
        elif profile.uniform_width is not None:
            frames = self._read_uniform(
                profile, positions, batch_size=batch_size, limit=limit
            )
        else:
            frames = self._read_ragged(
                profile, positions, batch_size=batch_size, limit=limit
            )
        return self._checked(frames, table, list(columns), expected)

    def encoding(self, table: str) -> str:
        """Return the encoding ``table`` is read with (detected when ``auto``).

        Raises:
            SourceError: the table is unknown or its file cannot be read.
        """
        return self._profile(table).encoding

    def close(self) -> None:
        """Forget the file profiles; files are closed after every read."""
        self._profiles.clear()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- profiling ---------------------------------------------------------

    def _profile(self, table: str) -> _Profile:
        profile = self._profiles.get(table)
        if profile is not None:
            return profile
        path = self._files.get(table)
        if path is None:
            raise SourceError(
                f"No CSV file for this table; tables: {self.list_tables()[:20]}.",
                source_name=self.source_name,
                table=table,
            )
        started = time.perf_counter()
        try:
            profile = self._build_profile(
                table, path, self._per_table.get(table, self._options)
            )
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise self._read_error(table, path, exc) from exc
        logger.info(
            "csv file profiled table=%s rows=%d columns=%d encoding=%s uniform=%s",
            table,
            profile.rows,
            len(profile.columns),
            profile.encoding,
            profile.uniform_width is not None,
        )
        logger.debug("csv profile took seconds=%.2f", time.perf_counter() - started)
        self._profiles[table] = profile
        return profile

    def _build_profile(self, table: str, path: Path, options: FileOptions) -> _Profile:
        """Profile one file: its encoding, header and the shape of its records.

        Raises:
            SourceError: the file has no header line (or, without a header, no
                record), or breaks an encoding that was declared or announced.
        """
        encoding, shape, quoting = self._read_shape(table, path, options)
        raw_header: list[str] = []
        if options.header:
            raw_header = next(read_records(path, encoding, options.delimiter), [])
        if not raw_header and (options.header or shape.rows == 0):
            missing = "no header line" if options.header else "no record"
            raise SourceError(
                f"File {str(path)!r} is empty: {missing}.\nhint: export the table "
                "again, or remove the file or narrow the source's `pattern`.",
                source_name=self.source_name,
                table=table,
            )

        self._warn_shape(table, path, shape, quoting, header=options.header)

        width = max(len(raw_header), shape.widest)
        columns = header_names([*raw_header, *[""] * (width - len(raw_header))])
        # pandas pads short records with '' and skips whitespace-only lines, so it
        # reads only files whose records all have one width of two or more fields.
        # A file with stray quotes is read by the csv module that profiled it.
        uniform = shape.rows == 0 or (
            shape.narrowest == shape.widest >= 2  # noqa: PLR2004
            and shape.header_first
            and quoting is None
        )
        return _Profile(
            path=path,
            encoding=encoding,
            delimiter=options.delimiter,
            header=options.header,
            columns=columns,
            rows=shape.rows,
            uniform_width=max(shape.widest, 1) if uniform else None,
        )

    def _read_shape(
        self, table: str, path: Path, options: FileOptions
    ) -> tuple[str, Shape, BadQuoting | None]:
        """Settle the encoding and take the file's shape (and any stray quoting).

        A file read as anything but UTF-8 by ``auto`` gets one warning, naming
        its first line that is not UTF-8.
        """
        announced = bom_encoding(path) if options.encoding == "auto" else None
        encoding = announced if options.encoding == "auto" else options.encoding
        guessed = options.encoding == "auto" and announced is None
        scan = ByteScan()
        if encoding is None or byte_safe(encoding, options.delimiter):
            scan = scan_bytes(
                path,
                delimiter=options.delimiter,
                header=options.header,
                encoding=encoding,
            )
            encoding = scan.encoding
        if encoding is None:
            # Every byte scanned was ASCII; a quoted file may hold others later.
            encoding = "utf-8" if scan.shape is not None else detect_encoding(path)
        if scan.undecodable is not None:
            encoding = self._undecodable(
                table, path, encoding, scan.undecodable, guessed=guessed
            )
        shape = scan.shape if byte_safe(encoding, options.delimiter) else None
        quoting = None
        if shape is None:
            try:
                shape, quoting = scan_records(path, encoding, options)
            except UnicodeDecodeError:
                if not guessed:
                    raise
                encoding = self._undecodable(table, path, encoding, None, guessed=True)
                shape, quoting = scan_records(path, encoding, options)
        if guessed and codecs.lookup(encoding).name != "utf-8":
            # The byte scan already found the first non-UTF-8 byte when it
            # checked the file against a UTF-8 guess.
            checked_utf8 = scan.encoding is not None and (
                codecs.lookup(scan.encoding).name == "utf-8"
            )
            where = scan.undecodable if checked_utf8 else None
            where = where or first_non_utf8(path)
            logger.warning(
                "csv file is not utf-8 throughout table=%s file=%s%s; reading it as %s",
                table,
                path.name,
                "" if where is None else describe_position(where),
                encoding,
            )
        return encoding, shape, quoting

    def _warn_shape(
        self,
        table: str,
        path: Path,
        shape: Shape,
        quoting: BadQuoting | None,
        *,
        header: bool,
    ) -> None:
        """Warn once per file about stray quotes and records of another width."""
        if quoting is not None:
            logger.warning(
                "csv file has records with malformed quoting table=%s file=%s "
                "records=%d first_line=%d; read leniently, their fields may be merged",
                table,
                path.name,
                quoting.records,
                quoting.line,
            )
        # LIMITATION: records wider or narrower than the header are not quarantined.
        # When: an export writes an unquoted delimiter into a field, or drops fields.
        # Then: surplus fields become columns `column_N`, missing ones NULL; this
        # warning names the file, the count and the first line.
        if shape.ragged:
            logger.warning(
                "csv records differ in field count from the %s table=%s file=%s "
                "records=%d first_line=%d fields=%d narrowest=%d widest=%d",
                "header" if header else "first record",
                table,
                path.name,
                shape.ragged,
                shape.first_ragged_line or 0,
                shape.expected,
                shape.narrowest,
                shape.widest,
            )

    def _undecodable(
        self,
        table: str,
        path: Path,
        encoding: str,
        where: BadByte | None,
        *,
        guessed: bool,
    ) -> str:
        """Fall back from a guessed encoding the file breaks; a given one is an error.

        The caller warns once about the fallback, naming the first non-UTF-8 line.

        Raises:
            SourceError: ``encoding`` was declared or announced by a byte-order mark.
        """
        if not guessed:
            place = "" if where is None else describe_position(where)
            raise SourceError(
                f"Cannot decode {str(path)!r} as {encoding}{place}.\nhint: set "
                "`encoding` on the source to the file's code page (cp1252, latin-1), "
                "or to `auto` for files that mix UTF-8 with a code page.",
                source_name=self.source_name,
                table=table,
            )
        return fallback_encoding(path)

    # -- reading -----------------------------------------------------------

    def _read_uniform(
        self,
        profile: _Profile,
        positions: list[int],
        *,
        batch_size: int,
        limit: int | None,
    ) -> Iterator[pd.DataFrame]:
        width = profile.uniform_width or 1
        # usecols needs at least one column, even when none requested is present.
        present = sorted({pos for pos in positions if pos < width}) or [0]
        compression = COMPRESSIONS.get(profile.path.suffix.lower())
        reader = pd.read_csv(
            profile.path,
            sep=profile.delimiter,
            header=None,
            skiprows=1 if profile.header else 0,
            names=list(range(width)),
            usecols=present,
            dtype=object,
            na_filter=False,
            skip_blank_lines=True,
            chunksize=batch_size,
            nrows=limit,
            encoding=profile.encoding,
            compression=compression,
            engine="c",
        )
        with reader:
            for chunk in reader:
                data = np.empty((len(chunk), len(positions)), dtype=object)
                for index, position in enumerate(positions):
                    if position < width:
                        data[:, index] = chunk[position].to_numpy(dtype=object)
                yield pd.DataFrame(data, columns=range(len(positions)), dtype=object)

    def _read_ragged(
        self,
        profile: _Profile,
        positions: list[int],
        *,
        batch_size: int,
        limit: int | None,
    ) -> Iterator[pd.DataFrame]:
        width = len(profile.columns)
        records = read_records(profile.path, profile.encoding, profile.delimiter)
        if profile.header:
            next(records, None)
        if limit is not None:
            records = itertools.islice(records, limit)
        while batch := list(itertools.islice(records, batch_size)):
            padded = [
                record
                if len(record) == width
                else record + [None] * (width - len(record))
                for record in batch
            ]
            data = np.array(padded, dtype=object)[:, positions]
            yield pd.DataFrame(data, columns=range(len(positions)), dtype=object)

    def _checked(
        self,
        frames: Iterator[pd.DataFrame],
        table: str,
        columns: list[str],
        expected: int,
    ) -> Iterator[pd.DataFrame]:
        """Name the columns, and check the record count against the profile."""
        path = self._files[table]
        read = 0
        try:
            for frame in frames:
                frame.columns = pd.Index(columns, dtype=object)
                read += len(frame)
                logger.debug("batch read table=%s rows=%d", table, len(frame))
                yield frame
        except (
            OSError,
            EOFError,
            UnicodeDecodeError,
            csv.Error,
            pd.errors.ParserError,
        ) as exc:
            raise self._read_error(table, path, exc) from exc
        if read != expected:
            raise SourceError(
                f"Read {read} records from {str(path)!r} but counted {expected} before "
                "reading.\nhint: the file changed during the run, or its quoting is "
                "malformed; check the file and rerun.",
                source_name=self.source_name,
                table=table,
            )

    def _read_error(self, table: str, path: Path, exc: BaseException) -> SourceError:
        if isinstance(exc, UnicodeDecodeError):
            return SourceError(
                f"Cannot decode {str(path)!r} as {exc.encoding}.\nhint: set `encoding` "
                "on the source (cp1252, latin-1, utf-8).",
                source_name=self.source_name,
                table=table,
            )
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return SourceError(
            f"Cannot read {str(path)!r}: {reason}.",
            source_name=self.source_name,
            table=table,
        )


def _find_files(spec: CsvSourceSpec, root: Path, source_name: str) -> dict[str, Path]:
    if root.is_file():
        return {table_name(root): root}
    if not root.is_dir():
        raise SourceError(
            f"No CSV file or folder {str(root)!r}.\nhint: relative paths start at the "
            "folder of the job file.",
            source_name=source_name,
        )
    files: dict[str, Path] = {}
    # Windows exports often end in .CSV: the pattern matches case-insensitively.
    pattern = spec.pattern.lower()
    matching = (p for p in root.iterdir() if fnmatch.fnmatch(p.name.lower(), pattern))
    # Table names are compared ignoring case, as mappings name them, and as a
    # Windows share would keep only one of CallLog.csv and calllog.csv.
    taken: dict[str, Path] = {}
    for path in sorted(matching):
        if not path.is_file():
            continue
        name = table_name(path)
        twin = taken.get(name.casefold())
        if twin is not None:
            folded = "" if table_name(twin) == name else " (case ignored)"
            raise SourceError(
                f"Files {twin.name!r} and {path.name!r} both give table "
                f"{table_name(twin)!r}{folded}.\nhint: remove one, or narrow the "
                "source's `pattern`.",
                source_name=source_name,
            )
        taken[name.casefold()] = path
        files[name] = path
    if not files:
        raise SourceError(
            f"No file in {str(root)!r} matches {spec.pattern!r}.",
            source_name=source_name,
        )
    return files


#: Delimiters tried when a folder is given without a job file (profile, validate).
SNIFFED_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024


def sniff_delimiter(path: Path) -> str | None:
    """Guess a file's delimiter from its first lines; ``None`` when unclear.

    The delimiters tried are ASCII, so decoding the sample as latin-1 never fails
    and keeps every delimiter byte in place, whatever the file's encoding.
    """
    with open_binary(path) as handle:
        sample = handle.read(_SNIFF_BYTES).decode("latin-1")
    lines = sample.splitlines()[:20]
    if len(lines) > 1 and len(sample) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut off by the sample's end
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=SNIFFED_DELIMITERS)
    except csv.Error:
        return None
    return str(dialect.delimiter)


def sniffed_csv_spec(path: Path, *, source_name: str) -> CsvSourceSpec:
    """Return a CSV source spec for ``path`` with each file's sniffed delimiter.

    Files whose delimiter cannot be told keep the default ``,``.

    Raises:
        SourceError: the path does not exist or holds no CSV file (exit 4).
    """
    spec = CsvSourceSpec(path=str(path), encoding="auto")
    files = _find_files(spec, path, source_name)
    tables: dict[str, CsvFileOptions] = {}
    for name, file in files.items():
        delimiter = sniff_delimiter(file)
        if delimiter is not None and delimiter != spec.delimiter:
            tables[name] = CsvFileOptions(delimiter=delimiter)
    logger.info("delimiters sniffed files=%d non_comma=%d", len(files), len(tables))
    return spec.model_copy(update={"tables": tables})


@source_registry.register("csv")
def open_csv_source(
    spec: CsvSourceSpec, *, source_name: str, base_dir: Path | None = None
) -> CsvSource:
    """Open a CSV source; a relative ``spec.path`` resolves against ``base_dir``.

    Raises:
        SourceError: the path does not exist or selects no file (exit 4).
    """
    root = Path(spec.path).expanduser()
    if not root.is_absolute() and base_dir is not None:
        root = base_dir / root
    files = _find_files(spec, root, source_name)
    default = FileOptions(
        delimiter=spec.delimiter, encoding=spec.encoding, header=spec.header
    )
    per_table: dict[str, FileOptions] = {}
    for name, override in spec.tables.items():
        table = resolve_table_name(sorted(files), name)
        if table is None:
            raise ConfigError(
                f"The CSV source's `tables` names {name!r}, which is no file of the "
                f"source; tables: {sorted(files)[:20]}."
            )
        per_table[table] = FileOptions(
            delimiter=override.delimiter or default.delimiter,
            encoding=override.encoding or default.encoding,
            header=default.header if override.header is None else override.header,
        )
    return CsvSource(
        files, source_name=source_name, options=default, per_table=per_table
    )
