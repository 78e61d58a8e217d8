"""CSV files as bytes and records: compression, encodings and record shapes.

What :class:`~itilmigrate.extract.csv_source.CsvSource` needs to know about a file
before it reads one batch: how it is compressed, which encoding reads it (a
byte-order mark, a UTF-8 check over the whole file, else cp1252 or latin-1), and
the shape of its records (count, narrowest and widest, records of another width
than the header's, stray quotes). Scans read blocks of bytes and count fields
with numpy where the encoding keeps delimiters byte-safe, else through the csv
module.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import sys
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import charset_normalizer
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from numpy.typing import NDArray

COMPRESSIONS: dict[str, Literal["gzip", "bz2", "xz"]] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".xz": "xz",
}
_ASCII_MAX = 0x7F
_SAMPLE_BYTES = 1 << 20
_SCAN_BYTES = 1 << 22
_CONTEXT_BYTES = 1 << 12  # ASCII text before the first accent helps the guess
_FIELD_LIMIT = 1 << 30
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Encodings in which a delimiter, quote or line break byte is always that
# character, never part of a multi-byte one: their files can be profiled on bytes.
_TRAIL_BYTE_MIN = 0x40
_BYTE_SAFE = (
    "utf-8",
    "utf-8-sig",
    "ascii",
    "cp125",
    "iso8859",
    "latin",
    "mac-",
    "koi8",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileOptions:
    """How one file is read."""

    delimiter: str = ","
    encoding: str = "auto"
    header: bool = True


def open_binary(
    path: Path,
) -> gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile | io.BufferedReader:
    """Open a file for bytes, decompressing ``.gz``, ``.bz2`` and ``.xz`` files."""
    compression = COMPRESSIONS.get(path.suffix.lower())
    if compression == "gzip":
        return gzip.open(path, "rb")
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """Open a (possibly compressed) file for text in ``encoding``."""
    # newline="" hands line breaks inside quoted fields to the csv module intact.
    return io.TextIOWrapper(open_binary(path), encoding=encoding, newline="")


def _latin_script(text: str) -> bool:
    return all(
        unicodedata.name(char, "").startswith("LATIN")
        for char in set(text)
        if ord(char) > _ASCII_MAX and char.isalpha()
    )


def guess_encoding(sample: bytes) -> str:
    """Return the encoding of a non-ASCII sample of a legacy export.

    Valid UTF-8 wins. Otherwise charset-normalizer decides between scripts, but
    for Latin-script text its guess between the Western code pages is unreliable
    on short samples (it reads cp1252 ``Müller`` as cp775 or mac_latin2), so
    Windows-1252, the code page of most Windows-era service desks, is used
    whenever it decodes the sample.
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    match = charset_normalizer.from_bytes(sample).best()
    if (
        match is not None
        and b"\x00" not in sample
        and not byte_safe(match.encoding, ",")
    ):
        # Without NUL bytes the text is no UTF-16/32, whatever a short sample suggests.
        match = None
    if match is not None and not _latin_script(str(match)):
        return match.encoding
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return match.encoding if match is not None else "latin-1"
    return "cp1252"


def bom_encoding(path: Path) -> str | None:
    """Return the encoding a byte-order mark at the start of the file announces."""
    with open_binary(path) as stream:
        head = stream.read(4)
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), None)


def detect_encoding(path: Path) -> str:
    """Detect a file's encoding from a byte-order mark or its first non-ASCII MiB.

    ASCII stretches are skipped, so a file whose first accented letter comes
    after many megabytes is still judged on that letter, not taken for UTF-8.
    """
    announced = bom_encoding(path)
    if announced is not None:
        return announced
    with open_binary(path) as stream:
        previous, sample = b"", stream.read(_SAMPLE_BYTES)
        while sample.isascii():
            previous, sample = sample, stream.read(_SAMPLE_BYTES)
            if not sample:
                return "utf-8"
    return guess_encoding(previous[-_CONTEXT_BYTES:] + sample)


def byte_safe(encoding: str, delimiter: str) -> bool:
    """Whether delimiter, quote and line-break bytes always stand for themselves.

    True for UTF-8 and the single-byte code pages; also for the East Asian
    double-byte ones when the delimiter is below 0x40, where their trail bytes
    start. Files in other encodings (UTF-16) are profiled through the csv module.
    """
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32")):
        return False
    return name.startswith(_BYTE_SAFE) or ord(delimiter) < _TRAIL_BYTE_MIN


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """Data records of a file (header excluded) and their narrowest/widest width.

    ``expected`` is the header's width (the first record's without a header);
    ``ragged`` counts the records of another width, the first starting on line
    ``first_ragged_line`` (1-based, blank lines counted).
    """

    rows: int
    narrowest: int
    widest: int
    header_first: bool
    expected: int = 0
    ragged: int = 0
    first_ragged_line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BadQuoting:
    """Records a strict parse rejects (stray quotes); the first starts on ``line``."""

    records: int
    line: int


@dataclass(slots=True)
class _Tally:
    """Running counts of record widths, in file order, that make a :class:`Shape`."""

    rows: int = 0
    narrowest: int = sys.maxsize
    widest: int = 0
    expected: int | None = None
    ragged: int = 0
    first_ragged_line: int | None = None

    def add(self, width: int, line: int) -> None:
        """Count one record of ``width`` fields that starts on ``line``."""
        if self.expected is None:
            self.expected = width
        elif width != self.expected:
            self.ragged += 1
            self.first_ragged_line = self.first_ragged_line or line
        self.rows += 1
        self.narrowest = min(self.narrowest, width)
        self.widest = max(self.widest, width)

    def add_expected(self, count: int) -> None:
        """Count ``count`` records of the expected width, not passed to :meth:`add`."""
        if count and self.expected is not None:
            self.rows += count
            self.narrowest = min(self.narrowest, self.expected)
            self.widest = max(self.widest, self.expected)

    def add_lines(self, widths: NDArray[np.int64], first_line: int) -> None:
        """Count the records of consecutive lines from ``first_line`` (0: blank)."""
        present = widths > 0
        kept = widths[present]
        if not kept.size:
            return
        if self.expected is None:
            self.expected = int(kept[0])
        others = np.flatnonzero(present & (widths != self.expected))
        if others.size:
            self.ragged += int(others.size)
            if self.first_ragged_line is None:
                self.first_ragged_line = first_line + int(others[0])
        self.rows += int(kept.size)
        self.narrowest = min(self.narrowest, int(kept.min()))
        self.widest = max(self.widest, int(kept.max()))

    def shape(self, *, header_first: bool) -> Shape:
        return Shape(
            rows=self.rows,
            narrowest=min(self.narrowest, self.widest),
            widest=self.widest,
            header_first=header_first,
            expected=self.expected or 0,
            ragged=self.ragged,
            first_ragged_line=self.first_ragged_line,
        )


def _line_widths(block: bytes, delimiter: int) -> NDArray[np.int64] | None:
    """Return the field count of each line of ``block`` (0 for a blank line).

    ``block`` ends with a line feed and holds no quote character, so every
    delimiter separates fields. Returns ``None`` for a lone carriage return, which
    parsers treat as a line break of its own.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], ends[:-1] + 1))
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == ord("\r"))
    if np.count_nonzero(data == ord("\r")) != np.count_nonzero(has_cr):
        return None
    delimiters = np.add.reduceat((data == delimiter).astype(np.int64), starts)
    lengths = ends - starts - has_cr
    return np.where(lengths > 0, delimiters + 1, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class BadByte:
    """Where a file first breaks its encoding: 1-based line and 0-based byte offset."""

    line: int
    offset: int


@dataclass(slots=True)
class ByteScan:
    """What one pass over the raw bytes found.

    ``shape`` is ``None`` when the file needs the csv module (quotes, a lone
    carriage return, a blank first line). ``encoding`` is the one given, or the
    guess from the first MiB after the first non-ASCII byte (``None`` when none
    was seen); ``undecodable`` is the first byte that encoding rejects, checked
    over the whole file when ``shape`` is set.
    """

    shape: Shape | None = None
    encoding: str | None = None
    undecodable: BadByte | None = None


def scan_bytes(
    path: Path, *, delimiter: str, header: bool, encoding: str | None
) -> ByteScan:
    """Profile a quote-free file on raw bytes, guessing and checking its encoding.

    One decompression pass serves all three purposes: for large gzipped exports
    it is the most expensive part of profiling. Blocks end at a line feed, which
    in a byte-safe encoding is never part of a multi-byte character, so each
    block decodes on its own.
    """
    scan = ByteScan(encoding=encoding)
    tally = _Tally()
    offset, lines = 0, 0
    header_pending, carry = header, b""
    with open_binary(path) as stream:
        while True:
            chunk = stream.read(_SCAN_BYTES)
            buffer = carry + chunk
            if chunk:
                cut = buffer.rfind(b"\n") + 1
            elif not buffer:
                break
            else:
                # The last line may lack its line feed.
                buffer += b"" if buffer.endswith(b"\n") else b"\n"
                cut = len(buffer)
            block, carry = buffer[:cut], buffer[cut:]
            if scan.undecodable is None and not block.isascii():
                scan.undecodable = _check_block(scan, block, offset, lines)
            first_line = lines + 1
            offset += len(block)
            lines += block.count(b"\n")
            if not block:
                continue
            if b'"' in block:
                return scan
            widths = _line_widths(block, ord(delimiter))
            if widths is None:
                return scan
            if header_pending:
                if widths[0] == 0:
                    return scan
                tally.expected, header_pending = int(widths[0]), False
                widths, first_line = widths[1:], first_line + 1
            tally.add_lines(widths, first_line)
            if not chunk:
                break
    scan.shape = tally.shape(header_first=True)
    return scan


def _check_block(
    scan: ByteScan, block: bytes, offset: int, lines: int
) -> BadByte | None:
    """Guess the encoding at the first non-ASCII block; return a byte it rejects."""
    if scan.encoding is None:
        first = int(np.argmax(np.frombuffer(block, dtype=np.uint8) > _ASCII_MAX))
        start = max(0, first - _CONTEXT_BYTES)
        scan.encoding = guess_encoding(block[start : first + _SAMPLE_BYTES])
    # utf-8-sig would count error offsets from after the byte-order mark.
    codec = codecs.lookup(scan.encoding).name
    try:
        block.decode("utf-8" if codec == "utf-8-sig" else codec)
    except UnicodeDecodeError as exc:
        line = lines + block.count(b"\n", 0, exc.start) + 1
        return BadByte(line=line, offset=offset + exc.start)
    return None


def first_non_utf8(path: Path) -> BadByte | None:
    """Return where a file first breaks UTF-8, or ``None`` when all of it is UTF-8.

    Reads only up to that byte, in blocks that end at a line feed.
    """
    offset, lines, carry = 0, 0, b""
    with open_binary(path) as stream:
        while True:
            chunk = stream.read(_SCAN_BYTES)
            buffer = carry + chunk
            cut = buffer.rfind(b"\n") + 1 if chunk else len(buffer)
            block, carry = buffer[:cut], buffer[cut:]
            try:
                block.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = lines + block.count(b"\n", 0, exc.start) + 1
                return BadByte(line=line, offset=offset + exc.start)
            if not chunk:
                return None
            offset += len(block)
            lines += block.count(b"\n")


def describe_position(where: BadByte) -> str:
    """Say where a bad byte is, for a message: its line and byte offset."""
    return f" at line {where.line} (byte offset {where.offset})"


def fallback_encoding(path: Path) -> str:
    """Return cp1252, or latin-1 when the file holds a byte cp1252 leaves undefined.

    Both decode every file they accept byte for byte; UTF-8 text read this way
    arrives as mojibake that text cleaning repairs (``Ã¼`` → ``ü``).
    """
    with open_binary(path) as stream:
        while chunk := stream.read(_SCAN_BYTES):
            if any(byte in chunk for byte in _CP1252_UNDEFINED):
                return "latin-1"
    return "cp1252"


def _raise_field_limit() -> None:
    if csv.field_size_limit() < _FIELD_LIMIT:
        # Legacy memo fields can exceed the csv module's 128 KiB default.
        csv.field_size_limit(_FIELD_LIMIT)


def read_records(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Yield the non-empty records of a file through the csv module."""
    _raise_field_limit()
    with open_text(path, encoding) as text:
        for record in csv.reader(text, delimiter=delimiter):
            if record:
                yield record


def scan_records(
    path: Path, encoding: str, options: FileOptions
) -> tuple[Shape, BadQuoting | None]:
    """Profile a file through the csv module (quoted fields, any encoding).

    The pass parses strictly, so that a stray quote (``"a"b``, a quote never
    closed) is found; only a file that has one is read a second time, leniently
    as :meth:`CsvSource.read_batches` reads it, for its shape. Strict and lenient
    parses agree on every file the strict one accepts.
    """
    shape, quoting = _record_pass(path, encoding, options, strict=True)
    if quoting is None:
        return shape, None
    shape, _ = _record_pass(path, encoding, options, strict=False)
    return shape, quoting


def _record_pass(
    path: Path, encoding: str, options: FileOptions, *, strict: bool
) -> tuple[Shape, BadQuoting | None]:
    _raise_field_limit()
    tally = _Tally()
    rows, rejected, first_rejected = 0, 0, 0
    header_pending, header_first = options.header, True
    with open_text(path, encoding) as text:
        reader = csv.reader(text, delimiter=options.delimiter, strict=strict)
        start = 1  # the line the next record starts on
        while True:
            try:
                for record in reader:
                    line, start = start, reader.line_num + 1
                    # Records of the expected width, nearly all, take the short way.
                    if len(record) == tally.expected:
                        rows += 1
                    elif record and header_pending:
                        header_pending, header_first = False, line == 1
                        tally.expected = len(record)
                    elif record:
                        tally.add(len(record), line)
            except csv.Error:
                if not strict:
                    raise
                # The reader drops the rest of the line and goes on with the next.
                rejected += 1
                first_rejected = first_rejected or start
                start = reader.line_num + 1
                continue
            break
    tally.add_expected(rows)
    shape = tally.shape(header_first=header_first)
    quoting = BadQuoting(records=rejected, line=first_rejected) if rejected else None
    return shape, quoting
