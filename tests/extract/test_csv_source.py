from __future__ import annotations

import bz2
import codecs
import gzip
import logging
import lzma
import os
from pathlib import Path

import pandas as pd
import pytest

from itilmigrate.errors import ConfigError, ExitCode, SourceError
from itilmigrate.extract import csv_files, csv_source
from itilmigrate.extract.base import CsvSourceSpec, open_source
from itilmigrate.extract.csv_files import byte_safe, detect_encoding, guess_encoding
from itilmigrate.extract.csv_source import (
    CsvSource,
    header_names,
    sniff_delimiter,
    table_name,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _open(path: Path, **options: object) -> CsvSource:
    spec = CsvSourceSpec.model_validate({"kind": "csv", "path": str(path), **options})
    source = open_source(spec, source_name="calls")
    assert isinstance(source, CsvSource)
    return source


def _read_all(
    source: CsvSource, table: str, batch_size: int = 1000
) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for frame in source.read_batches(
        table, source.columns(table), batch_size=batch_size
    ):
        records.extend(frame.to_dict("records"))
    return records


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- naming ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(["CallID", " CustID "], ["CallID", "CustID"], id="stripped"),
        pytest.param(
            ["\ufeffIncident ID", "x"], ["Incident ID", "x"], id="leading-bom"
        ),
        pytest.param(
            ["a", "", "  ", "b"], ["a", "column_2", "column_3", "b"], id="blank"
        ),
        pytest.param(
            ["Variant", "Variant index", "Variant"],
            ["Variant", "Variant index", "Variant#2"],
            id="repeated",
        ),
        pytest.param(["x", "x", "x"], ["x", "x#2", "x#3"], id="three-times"),
        pytest.param(
            ["Status", "STATUS"], ["Status", "STATUS#2"], id="repeated-other-case"
        ),
        pytest.param(["x", "x", "x#2"], ["x", "x#2", "x#2#2"], id="suffix-collision"),
        pytest.param(
            ["column_2", ""], ["column_2", "column_2#2"], id="blank-collision"
        ),
    ],
)
def test_header_names_raw_header_gives_unique_names(
    raw: list[str], expected: list[str]
) -> None:
    assert header_names(raw) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Detail_Incident.csv.gz", "Detail_Incident", id="gz"),
        pytest.param("calls.csv", "calls", id="csv"),
        pytest.param("calls.CSV.BZ2", "calls", id="upper-case-bz2"),
        pytest.param("a.derived.csv.xz", "a.derived", id="inner-dot"),
        pytest.param("calls", "calls", id="no-suffix"),
    ],
)
def test_table_name_file_name_gives_stem(name: str, expected: str) -> None:
    assert table_name(Path(name)) == expected


# -- encodings ---------------------------------------------------------------


def test_csv_source_cp1252_file_decodes_euro_and_accents(tmp_path: Path) -> None:
    text = "CallID;CustID;CallDesc\r\n00012;Müller;Kosten 50 €\r\n00013;José;Café\r\n"
    _write(tmp_path / "calls.csv", text, "cp1252")
    assert b"\x80" in (tmp_path / "calls.csv").read_bytes()

    source = _open(tmp_path, delimiter=";")

    assert _read_all(source, "calls") == [
        {"CallID": "00012", "CustID": "Müller", "CallDesc": "Kosten 50 €"},
        {"CallID": "00013", "CustID": "José", "CallDesc": "Café"},
    ]


def test_csv_source_latin1_file_decodes_accents(tmp_path: Path) -> None:
    _write(
        tmp_path / "people.csv", "id,name\n1,Hélène Ødegård\n2,François\n", "latin-1"
    )

    source = _open(tmp_path)

    assert [r["name"] for r in _read_all(source, "people")] == [
        "Hélène Ødegård",
        "François",
    ]


def test_csv_source_utf8_bom_file_strips_bom_from_header_only(tmp_path: Path) -> None:
    text = "\ufeffIncident ID,Status\r\nIM1,Open\r\n\ufeffIM2,Closed\r\n"
    _write(tmp_path / "activity.csv", text)

    source = _open(tmp_path)

    assert source.columns("activity") == ["Incident ID", "Status"]
    assert _read_all(source, "activity") == [
        {"Incident ID": "IM1", "Status": "Open"},
        {"Incident ID": "\ufeffIM2", "Status": "Closed"},
    ]


def test_csv_source_explicit_utf8_with_bom_strips_bom_from_header(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "a.csv", "\ufeffid,x\n1,é\n")

    source = _open(tmp_path, encoding="utf-8")

    assert source.columns("a") == ["id", "x"]
    assert _read_all(source, "a") == [{"id": "1", "x": "é"}]


def test_csv_source_utf16_bom_file_reads_through_csv_module(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "id,name\r\n1,Zoë\r\n2,Ann\r\n", "utf-16")

    source = _open(tmp_path)

    assert source.count("a") == 2
    assert _read_all(source, "a") == [
        {"id": "1", "name": "Zoë"},
        {"id": "2", "name": "Ann"},
    ]


def test_csv_source_first_accent_after_ascii_megabytes_detects_cp1252(
    tmp_path: Path,
) -> None:
    lines = [f"{i},plain ascii text number {i}\n" for i in range(80_000)]
    text = "id,desc\n" + "".join(lines) + "80000,Prix 10 € à payer\n"
    _write(tmp_path / "late.csv", text, "cp1252")
    assert (tmp_path / "late.csv").stat().st_size > 2 * 1024 * 1024

    source = _open(tmp_path)
    records = _read_all(source, "late", batch_size=50_000)

    assert len(records) == 80_001
    assert records[-1] == {"id": "80000", "desc": "Prix 10 € à payer"}


def test_csv_source_explicit_encoding_mismatch_raises_source_error(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "calls.csv", "id,name\n1,Müller\n", "cp1252")
    source = _open(tmp_path, encoding="utf-8")

    with pytest.raises(SourceError) as caught:
        source.count("calls")  # before any record is read

    assert caught.value.exit_code is ExitCode.IO
    assert (
        f"Cannot decode {str(tmp_path / 'calls.csv')!r} as utf-8 at line 2 "
        "(byte offset 11)." in str(caught.value)
    )
    assert "hint: set `encoding` on the source" in str(caught.value)


def test_csv_source_utf8_with_late_cp1252_byte_falls_back_to_cp1252(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # More than one 4 MiB scan block of valid UTF-8, then one cp1252 line.
    utf8 = "".join(f"{i},Müller ruft an\n" for i in range(250_000)).encode()
    late = "250000,Café\n".encode("cp1252")
    (tmp_path / "mixed.csv").write_bytes(b"id,desc\n" + utf8 + late)
    caplog.set_level(logging.WARNING, logger=csv_source.__name__)

    source = _open(tmp_path)
    records = _read_all(source, "mixed", batch_size=100_000)

    assert source.encoding("mixed") == "cp1252"
    assert len(records) == 250_001
    assert records[0] == {"id": "0", "desc": "MÃ¼ller ruft an"}
    assert records[-1] == {"id": "250000", "desc": "Café"}
    offset = len(b"id,desc\n" + utf8) + len(b"250000,Caf")
    assert [r.getMessage() for r in caplog.records] == [
        "csv file is not utf-8 throughout table=mixed file=mixed.csv at line 250002 "
        f"(byte offset {offset}); reading it as cp1252"
    ]


def test_csv_source_fallback_is_latin1_when_cp1252_leaves_a_byte_undefined(
    tmp_path: Path,
) -> None:
    (tmp_path / "odd.csv").write_bytes(b"id,desc\n1,Gr\xc3\xbc\xc3\x9fe\n2,x\x81\n")

    source = _open(tmp_path)

    assert source.encoding("odd") == "latin-1"
    assert _read_all(source, "odd") == [
        {"id": "1", "desc": "GrÃ¼Ã\x9fe"},
        {"id": "2", "desc": "x\x81"},
    ]


@pytest.mark.parametrize(
    ("data", "options", "encoding", "expected"),
    [
        pytest.param(
            "id,desc\n1,plain\n2,Müller\n3,Café\n".encode("cp1252"),
            {},
            "cp1252",
            [
                "csv file is not utf-8 throughout table=x file=x.csv at line 3 "
                "(byte offset 19); reading it as cp1252"
            ],
            id="cp1252-throughout",
        ),
        pytest.param(
            "id,desc\n1,Zoë\n".encode() + "2,Café\n3,Müller\n".encode("cp1252"),
            {},
            "cp1252",
            [
                "csv file is not utf-8 throughout table=x file=x.csv at line 3 "
                "(byte offset 20); reading it as cp1252"
            ],
            id="utf8-then-cp1252-one-block",
        ),
        pytest.param(
            # The byte cp1252 leaves undefined comes after the 1 MiB guess sample.
            b"id,desc\n1,Caf\xe9\n" + b"2,plain ascii text\n" * 70_000 + b"3,x\x81\n",
            {},
            "latin-1",
            [
                "csv file is not utf-8 throughout table=x file=x.csv at line 2 "
                "(byte offset 13); reading it as latin-1"
            ],
            id="cp1252-guess-then-undefined-byte",
        ),
        pytest.param(
            b'id,desc\n1,"a, b"\n2,"Ren\xe9"\n',
            {},
            "cp1252",
            [
                "csv file is not utf-8 throughout table=x file=x.csv at line 3 "
                "(byte offset 23); reading it as cp1252"
            ],
            id="quoted-cp1252",
        ),
        pytest.param(
            "id,desc\n1,Zoë\n".encode(), {}, "utf-8", [], id="utf8-no-warning"
        ),
        pytest.param(
            "id,desc\n1,Café\n".encode("cp1252"),
            {"encoding": "cp1252"},
            "cp1252",
            [],
            id="declared-no-warning",
        ),
    ],
)
def test_csv_source_auto_encoding_not_utf8_warns_once_naming_the_line(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    data: bytes,
    options: dict[str, object],
    encoding: str,
    expected: list[str],
) -> None:
    (tmp_path / "x.csv").write_bytes(data)
    caplog.set_level(logging.WARNING, logger=csv_source.__name__)

    source = _open(tmp_path, **options)
    _read_all(source, "x")

    assert source.encoding("x") == encoding
    assert [r.getMessage() for r in caplog.records] == expected


# Quoted UTF-8 records beyond the first 4 MiB scan block, then a cp1252 byte:
# found by the csv module pass, not by the byte scan.
_QUOTED = "".join(f'{i},"Zoë, line\n{i}"\n' for i in range(250_000)).encode()
_QUOTED_LATE = b"id,desc\n" + _QUOTED + b'250000,"Ren\xe9"\n'


def test_csv_source_quoted_file_with_late_bad_byte_falls_back(
    tmp_path: Path,
) -> None:
    (tmp_path / "q.csv").write_bytes(_QUOTED_LATE)

    source = _open(tmp_path)
    records = _read_all(source, "q", batch_size=100_000)

    assert source.encoding("q") == "cp1252"
    assert len(records) == 250_001
    assert records[0] == {"id": "0", "desc": "ZoÃ«, line\n0"}
    assert records[-1] == {"id": "250000", "desc": "René"}


@pytest.mark.parametrize(
    ("data", "options", "expected"),
    [
        pytest.param(
            codecs.BOM_UTF8 + b"id,desc\n1,ok\n2,Ren\xe9\n",
            {},
            "as utf-8-sig at line 3 (byte offset 21).\nhint: set `encoding`",
            id="bom-announces-utf8",
        ),
        pytest.param(
            b'id,desc\n1,"a, b"\n2,Ren\xe9\n',
            {"encoding": "utf-8"},
            "as utf-8 at line 3 (byte offset 22).\nhint: set `encoding`",
            id="declared-quoted",
        ),
        pytest.param(
            _QUOTED_LATE,
            {"encoding": "utf-8"},
            "as utf-8.\nhint: set `encoding`",
            id="declared-quoted-late",
        ),
    ],
)
def test_csv_source_given_encoding_the_file_breaks_fails_before_reading(
    tmp_path: Path, data: bytes, options: dict[str, object], expected: str
) -> None:
    (tmp_path / "x.csv").write_bytes(data)

    with pytest.raises(SourceError) as caught:
        _open(tmp_path, **options).columns("x")

    assert caught.value.exit_code is ExitCode.IO
    assert f"Cannot decode {str(tmp_path / 'x.csv')!r} {expected}" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        pytest.param("Müller zahlt 50 € für Café", "cp1252", "cp1252", id="cp1252"),
        pytest.param(
            "“smart quotes” \u2013 naïve", "cp1252", "cp1252", id="cp1252-punctuation"
        ),
        pytest.param("Hélène, François", "latin-1", "cp1252", id="latin1-as-cp1252"),
        pytest.param("Müller € Café", "utf-8", "utf-8", id="utf8"),
        pytest.param(
            "Привет мир, как дела? Москва и Петербург",
            "cp1251",
            "cp1251",
            id="cyrillic",
        ),
    ],
)
def test_guess_encoding_sample_gives_code_page(
    text: str, encoding: str, expected: str
) -> None:
    assert guess_encoding(f"id,desc\n1,{text}\n".encode(encoding)) == expected


def test_guess_encoding_undefined_cp1252_byte_falls_back() -> None:
    assert guess_encoding(b"id,desc\n1,caf\xe9 \x81\n") != "cp1252"


def test_detect_encoding_ascii_file_gives_utf8(tmp_path: Path) -> None:
    assert detect_encoding(_write(tmp_path / "a.csv", "id\n1\n")) == "utf-8"


def test_detect_encoding_bom_gives_bom_encoding(tmp_path: Path) -> None:
    assert detect_encoding(_write(tmp_path / "a.csv", "\ufeffid\n1\n")) == "utf-8-sig"


def test_detect_encoding_cp1252_gives_cp1252(tmp_path: Path) -> None:
    assert (
        detect_encoding(_write(tmp_path / "a.csv", "id\n1,Café\n", "cp1252"))
        == "cp1252"
    )


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        pytest.param("utf-8", ",", True, id="utf8"),
        pytest.param("cp1252", ";", True, id="cp1252"),
        pytest.param("utf-16", ",", False, id="utf16"),
        pytest.param("shift_jis", ",", True, id="sjis-comma"),
        pytest.param("shift_jis", "|", False, id="sjis-pipe"),
    ],
)
def test_byte_safe_encoding_and_delimiter(
    encoding: str, delimiter: str, expected: bool
) -> None:
    assert byte_safe(encoding, delimiter) is expected


# -- compression ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "opener"),
    [
        pytest.param(".csv.gz", gzip.open, id="gzip"),
        pytest.param(".csv.bz2", bz2.open, id="bz2"),
        pytest.param(".csv.xz", lzma.open, id="xz"),
    ],
)
def test_csv_source_compressed_file_reads_records(
    tmp_path: Path, suffix: str, opener: object
) -> None:
    with opener(tmp_path / f"calls{suffix}", "wb") as stream:  # type: ignore[operator]
        stream.write("CallID,Desc\n1,Café\n2,x\n".encode("cp1252"))

    source = _open(tmp_path)

    assert source.list_tables() == ["calls"]
    assert source.count("calls") == 2
    assert _read_all(source, "calls") == [
        {"CallID": "1", "Desc": "Café"},
        {"CallID": "2", "Desc": "x"},
    ]


# -- record shapes -------------------------------------------------------------


def test_csv_source_ragged_records_pad_with_none_and_add_columns(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "ragged.csv", "a,b,,a\n1,2\n3,4,5,6,7\n\n8,9,10,11\n")

    source = _open(tmp_path)

    assert source.columns("ragged") == ["a", "b", "column_3", "a#2", "column_5"]
    assert source.count("ragged") == 3
    assert _read_all(source, "ragged", batch_size=2) == [
        {"a": "1", "b": "2", "column_3": None, "a#2": None, "column_5": None},
        {"a": "3", "b": "4", "column_3": "5", "a#2": "6", "column_5": "7"},
        {"a": "8", "b": "9", "column_3": "10", "a#2": "11", "column_5": None},
    ]


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        pytest.param(
            "a,b,,a\n1,2\n3,4,5,6,7\n\n8,9,10,11\n",
            {},
            "csv records differ in field count from the header table=x file=x.csv "
            "records=2 first_line=2 fields=4 narrowest=2 widest=5",
            id="bytes-short-and-long",
        ),
        pytest.param(
            'a,b,c\n1,"x, y",3\n\n4,5,6,7\n8,9\n',
            {},
            "csv records differ in field count from the header table=x file=x.csv "
            "records=2 first_line=4 fields=3 narrowest=2 widest=4",
            id="quoted-csv-module",
        ),
        pytest.param(
            'a,b\n1,"two\nlines"\n3,4,5\n',
            {},
            "csv records differ in field count from the header table=x file=x.csv "
            "records=1 first_line=4 fields=2 narrowest=2 widest=3",
            id="line-after-multiline-field",
        ),
        pytest.param(
            "1,2,3\n4,5\n6,7,8\n",
            {"header": False},
            "csv records differ in field count from the first record table=x "
            "file=x.csv records=1 first_line=2 fields=3 narrowest=2 widest=3",
            id="no-header",
        ),
        pytest.param(
            "a,b,c\n1,2\n3,4\n",
            {},
            "csv records differ in field count from the header table=x file=x.csv "
            "records=2 first_line=2 fields=3 narrowest=2 widest=2",
            id="every-record-short",
        ),
    ],
)
def test_csv_source_ragged_records_warn_with_count_and_first_line(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    options: dict[str, object],
    expected: str,
) -> None:
    _write(tmp_path / "x.csv", text)
    caplog.set_level(logging.WARNING, logger=csv_source.__name__)

    source = _open(tmp_path, **options)
    source.count("x")
    source.count("x")  # profiled once, so warned once

    assert [r.getMessage() for r in caplog.records] == [expected]


def test_csv_source_uniform_file_does_not_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path / "x.csv", 'a,b\n1,2\n\n3,"4, 5"\n')
    caplog.set_level(logging.WARNING, logger=csv_source.__name__)

    assert _open(tmp_path).count("x") == 2
    assert caplog.records == []


@pytest.mark.parametrize(
    ("text", "expected_warning", "expected_records"),
    [
        pytest.param(
            # The export lost a closing quote: 'Blank.' and the next field merge.
            'id,memo,note,n\n1,ok,-,x\n2,"Blank.,"Fix, later.",y\n3,fine,-,z\n',
            "csv file has records with malformed quoting table=x file=x.csv "
            "records=1 first_line=3; read leniently, their fields may be merged",
            [
                {"id": "1", "memo": "ok", "note": "-", "n": "x"},
                {"id": "2", "memo": "Blank.,Fix", "note": ' later."', "n": "y"},
                {"id": "3", "memo": "fine", "note": "-", "n": "z"},
            ],
            id="stray-quote-same-width",
        ),
        pytest.param(
            'id,memo\n1,ok\n2,"never closed\n3,lost\n',
            "csv file has records with malformed quoting table=x file=x.csv "
            "records=1 first_line=3; read leniently, their fields may be merged",
            [{"id": "1", "memo": "ok"}, {"id": "2", "memo": "never closed\n3,lost\n"}],
            id="quote-never-closed",
        ),
    ],
)
def test_csv_source_malformed_quoting_warns_and_reads_like_the_profile(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    text: str,
    expected_warning: str,
    expected_records: list[dict[str, str]],
) -> None:
    _write(tmp_path / "x.csv", text)
    caplog.set_level(logging.WARNING, logger=csv_source.__name__)

    source = _open(tmp_path)
    records = _read_all(source, "x")

    assert [r.getMessage() for r in caplog.records] == [expected_warning]
    assert records == expected_records
    assert "Blank" not in caplog.text


@pytest.mark.parametrize(
    ("data", "options", "missing"),
    [
        pytest.param(b"", {}, "no header line", id="zero-bytes"),
        pytest.param(b"\r\n\n", {}, "no header line", id="blank-lines"),
        pytest.param(b"", {"header": False}, "no record", id="zero-bytes-no-header"),
    ],
)
def test_csv_source_empty_file_raises_source_error_naming_it(
    tmp_path: Path, data: bytes, options: dict[str, object], missing: str
) -> None:
    (tmp_path / "CallLog.csv").write_bytes(data)
    source = _open(tmp_path, **options)

    with pytest.raises(SourceError) as caught:
        source.columns("CallLog")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value) == (
        f"Source 'calls', table 'CallLog': File {str(tmp_path / 'CallLog.csv')!r} is "
        f"empty: {missing}.\nhint: export the table again, or remove the file or "
        "narrow the source's `pattern`."
    )


def test_csv_source_empty_fields_stay_empty_strings(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "a,b,c\n,, \n1,,\n")

    source = _open(tmp_path)

    assert _read_all(source, "a") == [
        {"a": "", "b": "", "c": " "},
        {"a": "1", "b": "", "c": ""},
    ]


def test_csv_source_quoted_fields_keep_delimiters_quotes_and_newlines(
    tmp_path: Path,
) -> None:
    text = (
        'id,memo,n\r\n1,"line one\r\nline two, with comma",x\r\n2,"say ""hi""",""\r\n'
    )
    _write(tmp_path / "notes.csv", text)

    source = _open(tmp_path)

    assert source.count("notes") == 2
    assert _read_all(source, "notes") == [
        {"id": "1", "memo": "line one\r\nline two, with comma", "n": "x"},
        {"id": "2", "memo": 'say "hi"', "n": ""},
    ]


def test_csv_source_values_are_not_stripped_or_typed(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "CallID,Cost,Flag\n  00012 ,5.0,NA\n00013,1e3,null\n")

    source = _open(tmp_path)
    frame = next(source.read_batches("a", ["CallID", "Cost", "Flag"], batch_size=10))

    assert frame.dtypes.tolist() == [object, object, object]
    assert frame.to_dict("records") == [
        {"CallID": "  00012 ", "Cost": "5.0", "Flag": "NA"},
        {"CallID": "00013", "Cost": "1e3", "Flag": "null"},
    ]


def test_csv_source_blank_lines_and_missing_final_newline_are_handled(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "a.csv", "a,b\r\n\r\n1,2\r\n\r\n3,4")

    source = _open(tmp_path)

    assert source.count("a") == 2
    assert _read_all(source, "a") == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_csv_source_blank_first_line_takes_next_line_as_header(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "\na,b\n1,2\n")

    source = _open(tmp_path)

    assert source.columns("a") == ["a", "b"]
    assert _read_all(source, "a") == [{"a": "1", "b": "2"}]


def test_csv_source_single_column_keeps_whitespace_records(tmp_path: Path) -> None:
    _write(tmp_path / "ids.csv", "id\n1\n   \n2\n")

    source = _open(tmp_path)

    assert source.count("ids") == 3
    assert [r["id"] for r in _read_all(source, "ids")] == ["1", "   ", "2"]


def test_csv_source_lone_carriage_returns_end_lines(tmp_path: Path) -> None:
    _write(tmp_path / "mac.csv", "a,b\r1,2\r3,4\r")

    source = _open(tmp_path)

    assert _read_all(source, "mac") == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_csv_source_without_header_names_columns_by_position(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "1,2\n3,4\n")

    source = _open(tmp_path, header=False)

    assert source.columns("a") == ["column_1", "column_2"]
    assert source.count("a") == 2
    assert _read_all(source, "a") == [
        {"column_1": "1", "column_2": "2"},
        {"column_1": "3", "column_2": "4"},
    ]


def test_csv_source_header_only_file_yields_no_frames(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "a,b\n")

    source = _open(tmp_path)

    assert source.count("a") == 0
    assert list(source.read_batches("a", ["a"], batch_size=5)) == []


def test_csv_source_header_wider_than_every_record_pads_none(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "a,b,c\n1,2\n3,4\n")

    source = _open(tmp_path)

    assert _read_all(source, "a") == [
        {"a": "1", "b": "2", "c": None},
        {"a": "3", "b": "4", "c": None},
    ]


# -- batches -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "batch_size", "limit", "sizes"),
    [
        pytest.param("uniform", 3, None, [3, 3, 3, 1], id="uniform"),
        pytest.param("uniform", 10, None, [10], id="uniform-exact"),
        pytest.param("uniform", 100, None, [10], id="uniform-one-batch"),
        pytest.param("uniform", 4, 6, [4, 2], id="uniform-limit"),
        pytest.param("uniform", 4, 0, [], id="uniform-limit-zero"),
        pytest.param("ragged", 3, None, [3, 3, 3, 1], id="ragged"),
        pytest.param("ragged", 4, 5, [4, 1], id="ragged-limit"),
    ],
)
def test_csv_source_read_batches_sizes_follow_batch_size(
    tmp_path: Path, content: str, batch_size: int, limit: int | None, sizes: list[int]
) -> None:
    lines = [
        f"{i},v{i}" + (",extra" if content == "ragged" and i == 0 else "")
        for i in range(10)
    ]
    _write(tmp_path / "a.csv", "id,v\n" + "\n".join(lines) + "\n")
    source = _open(tmp_path)

    frames = list(
        source.read_batches("a", ["v", "id"], batch_size=batch_size, limit=limit)
    )

    assert [len(frame) for frame in frames] == sizes
    assert all(list(frame.columns) == ["v", "id"] for frame in frames)
    assert all(frame.index.tolist() == list(range(len(frame))) for frame in frames)
    ids = [value for frame in frames for value in frame["id"]]
    assert ids == [str(i) for i in range(sum(sizes))]


def test_csv_source_read_batches_ignores_order_by(tmp_path: Path) -> None:
    _write(tmp_path / "a.csv", "id\n3\n1\n2\n")
    source = _open(tmp_path)

    frames = source.read_batches("a", ["id"], batch_size=10, order_by=["id"])

    assert pd.concat(list(frames))["id"].tolist() == ["3", "1", "2"]


def test_csv_source_uniform_and_ragged_paths_agree(tmp_path: Path) -> None:
    body = 'id,memo,n\n1,"a, b",x\n2,,y\n3,"q ""r""",z\n'
    _write(tmp_path / "uniform.csv", body)
    _write(tmp_path / "ragged.csv", body + "4\n")
    source = _open(tmp_path)

    uniform = _read_all(source, "uniform")
    ragged = _read_all(source, "ragged")

    assert source._profile("uniform").uniform_width == 3
    assert source._profile("ragged").uniform_width is None
    assert ragged[:3] == uniform
    assert ragged[3] == {"id": "4", "memo": None, "n": None}


def test_csv_source_changed_file_raises_source_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", "id\n1\n2\n")
    source = _open(tmp_path)
    assert source.count("a") == 2
    path.write_text("id\n1\n2\n3\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"Read 3 records .* but counted 2"):
        _read_all(source, "a")


# -- tables and errors ---------------------------------------------------------


def test_csv_source_per_table_options_override_the_source_options(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "semicolons.csv", "a;b\n1;2\n")
    _write(tmp_path / "commas.csv", "a,b\n1,2\n")

    source = _open(tmp_path, delimiter=";", tables={"COMMAS": {"delimiter": ","}})

    assert source.columns("semicolons") == ["a", "b"]
    assert source.columns("commas") == ["a", "b"]
    assert _read_all(source, "commas") == [{"a": "1", "b": "2"}]


def test_csv_source_per_table_options_for_unknown_table_is_config_error(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "commas.csv", "a,b\n1,2\n")

    with pytest.raises(ConfigError) as info:
        _open(tmp_path, tables={"comas": {"delimiter": ";"}})

    assert str(info.value) == (
        "The CSV source's `tables` names 'comas', which is no file of the source; "
        "tables: ['commas']."
    )


def test_csv_source_folder_lists_and_resolves_tables(tmp_path: Path) -> None:
    _write(tmp_path / "CallLog.csv", "CallID\n1\n")
    _write(tmp_path / "asgnmnt.csv", "CallID\n1\n")
    _write(tmp_path / "notes.txt", "ignored\n")

    source = _open(tmp_path)

    assert source.list_tables() == ["CallLog", "asgnmnt"]
    assert source.resolve_table("CALLLOG") == "CallLog"
    assert source.resolve_table("Asgnmnt") == "asgnmnt"
    assert source.resolve_table("Journal") is None


def test_csv_source_pattern_selects_files(tmp_path: Path) -> None:
    _write(tmp_path / "Detail_Incident.csv", "a\n1\n")
    _write(tmp_path / "activity.csv", "a\n1\n")

    source = _open(tmp_path, pattern="Detail_*.csv")

    assert source.list_tables() == ["Detail_Incident"]


def test_csv_source_single_file_path_is_one_table(tmp_path: Path) -> None:
    path = _write(tmp_path / "calls.csv", "a\n1\n")

    assert _open(path).list_tables() == ["calls"]


def test_csv_source_relative_path_resolves_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    _write(tmp_path / "exports" / "calls.csv", "a\n1\n")

    source = open_source(
        CsvSourceSpec(path="exports"), source_name="calls", base_dir=tmp_path
    )

    assert source.list_tables() == ["calls"]


def test_csv_source_two_files_same_table_raise_source_error(tmp_path: Path) -> None:
    _write(tmp_path / "calls.csv", "a\n1\n")
    with gzip.open(tmp_path / "calls.csv.gz", "wb") as stream:
        stream.write(b"a\n1\n")

    with pytest.raises(SourceError) as caught:
        _open(tmp_path)

    assert str(caught.value) == (
        "Source 'calls': Files 'calls.csv' and 'calls.csv.gz' both give table "
        "'calls'.\nhint: remove one, or narrow the source's `pattern`."
    )


def test_csv_source_files_differing_in_case_raise_source_error(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "CallLog.csv", "a\n1\n")
    _write(tmp_path / "calllog.csv", "a\n1\n")

    with pytest.raises(SourceError) as caught:
        _open(tmp_path)

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value) == (
        "Source 'calls': Files 'CallLog.csv' and 'calllog.csv' both give table "
        "'CallLog' (case ignored).\nhint: remove one, or narrow the source's "
        "`pattern`."
    )


def test_csv_source_no_matching_file_raises_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _open(tmp_path)

    assert caught.value.exit_code is ExitCode.IO
    assert f"No file in {str(tmp_path)!r} matches '*.csv*'." in str(caught.value)


def test_csv_source_unknown_table_raises_source_error(tmp_path: Path) -> None:
    _write(tmp_path / "calls.csv", "a\n1\n")
    source = _open(tmp_path)

    with pytest.raises(
        SourceError, match="table 'journal': No CSV file for this table"
    ):
        source.columns("journal")


def test_csv_source_unknown_column_raises_source_error(tmp_path: Path) -> None:
    _write(tmp_path / "calls.csv", "a\n1\n")
    source = _open(tmp_path)

    with pytest.raises(SourceError, match="No column 'b'"):
        source.read_batches("calls", ["a", "b"], batch_size=10)


def test_csv_source_corrupt_gzip_raises_source_error(tmp_path: Path) -> None:
    (tmp_path / "calls.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    source = _open(tmp_path)

    with pytest.raises(SourceError) as caught:
        source.count("calls")

    assert caught.value.exit_code is ExitCode.IO
    assert str(caught.value).startswith("Source 'calls', table 'calls': Cannot read")


def test_csv_source_unreadable_file_raises_source_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "calls.csv", "a\n1\n")
    source = _open(tmp_path)

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(csv_files, "open_binary", refuse)

    with pytest.raises(SourceError) as caught:
        source.count("calls")

    assert str(caught.value) == (
        f"Source 'calls', table 'calls': Cannot read {str(tmp_path / 'calls.csv')!r}: "
        "Permission denied."
    )


def test_csv_source_close_forgets_profiles(tmp_path: Path) -> None:
    _write(tmp_path / "calls.csv", "a\n1\n")
    with _open(tmp_path) as source:
        assert source.count("calls") == 1

    assert source._profiles == {}


def test_csv_source_profile_logs_counts_not_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path / "calls.csv", "name\nJane Secret\n")
    caplog.set_level(logging.DEBUG, logger=csv_source.__name__)

    _read_all(_open(tmp_path), "calls")

    assert "Jane Secret" not in caplog.text
    assert (
        "csv file profiled table=calls rows=1 columns=1 encoding=utf-8" in caplog.text
    )


# -- the real public exports in ../shared/data ---------------------------------


def _shared_data() -> Path:
    if not DATA.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data folder {DATA} is missing; CI must provide it")
        pytest.skip(f"shared data folder {DATA} is absent on this machine")
    return DATA


def test_real_helpdesk_export_repeated_variant_header_survives() -> None:
    source = _open(_shared_data() / "helpdesk-italian-software-company")

    columns = source.columns("finale")
    records = _read_all(source, "finale", batch_size=5000)

    assert source.list_tables() == ["finale"]
    assert columns == [
        "Case ID", "Activity", "Resource", "Complete Timestamp", "Variant",
        "Variant index", "Variant#2", "seriousness", "customer", "product",
        "responsible_section", "seriousness_2", "service_level", "service_type",
        "support_section", "workgroup",
    ]  # fmt: skip
    assert source.count("finale") == 21_348
    assert len(records) == 21_348
    assert records[0]["Case ID"] == "Case 1"
    assert records[0]["Variant#2"] == "Variant 12"
    assert records[-1]["Case ID"] == "Case 4580"


@pytest.mark.slow
def test_real_servicenow_export_reads_every_event() -> None:
    source = _open(_shared_data() / "uci-servicenow-incident-event-log")

    columns = source.columns("incident_event_log")
    frames = list(source.read_batches("incident_event_log", columns, batch_size=20_000))

    assert source.count("incident_event_log") == 141_712
    assert sum(len(frame) for frame in frames) == 141_712
    assert [len(frame) for frame in frames[:2]] == [20_000, 20_000]
    assert len(columns) == 36
    assert columns[:3] == ["number", "incident_state", "active"]
    assert columns[-2:] == ["resolved_at", "closed_at"]
    assert frames[0].iloc[0]["number"] == "INC0000045"
    assert frames[0].iloc[0]["cmdb_ci"] == "?"
    assert pd.concat(frames)["number"].nunique() == 24_918


@pytest.mark.slow
def test_real_bpic2014_detail_exports_read_with_semicolons() -> None:
    source = _open(
        _shared_data() / "bpic2014-rabobank-ict", delimiter=";", pattern="Detail_*"
    )

    incident_columns = source.columns("Detail_Incident")
    incidents = pd.concat(
        list(
            source.read_batches("Detail_Incident", incident_columns, batch_size=10_000)
        )
    )

    assert source.list_tables() == [
        "Detail_Change",
        "Detail_Incident",
        "Detail_Interaction",
    ]
    assert len(incident_columns) == 78
    assert incident_columns[4] == "Incident ID"
    assert incident_columns[27] == "ServiceComp WBS (CBy)"
    assert incident_columns[28:] == [f"column_{n}" for n in range(29, 79)]
    assert len(incidents) == 46_809
    assert (incidents["Incident ID"] == "").sum() == 203
    assert incidents["Incident ID"].iloc[0] == "IM0000004"
    assert incidents["Handle Time (Hours)"].iloc[0] == "3871,691111"
    assert source.count("Detail_Interaction") == 147_004
    assert source.count("Detail_Change") == 30_275
    assert len(source.columns("Detail_Interaction")) == 17
    assert len(source.columns("Detail_Change")) == 21


@pytest.mark.slow
def test_real_bpic2014_activity_export_keeps_embedded_boms() -> None:
    source = _open(_shared_data() / "bpic2014-rabobank-ict", pattern="*.derived.csv.gz")
    table = "Incident_Activity_joined.derived"

    columns = source.columns(table)
    ids = pd.concat(
        list(source.read_batches(table, ["Incident ID"], batch_size=100_000))
    )

    assert columns[:2] == [
        "Incident ID",
        "Detail Incident Activity.IncidentActivity_Type",
    ]
    assert len(columns) == 11
    assert source.count(table) == 466_660
    assert len(ids) == 466_660
    assert ids["Incident ID"].str.startswith("\ufeff").sum() == 23
    assert ids["Incident ID"].str.lstrip("\ufeff").nunique() == 46_606


def test_csv_source_upper_case_extension_is_a_table(tmp_path: Path) -> None:
    _write(tmp_path / "CALLS.CSV", "id\n1\n")

    source = _open(tmp_path)

    assert source.list_tables() == ["CALLS"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a;b;c\n1;2;3\n4;5;6\n", ";", id="semicolon"),
        pytest.param("a\tb\n1\t2\n", "\t", id="tab"),
        pytest.param('a,b\n"x; y",2\n', ",", id="comma-with-quoted-semicolon"),
        pytest.param("a|b\n1|2\n", "|", id="pipe"),
        pytest.param("only\n1\n2\n", None, id="one-column"),
    ],
)
def test_sniff_delimiter_first_lines_give_the_delimiter(tmp_path, text, expected):
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt", encoding="cp1252") as handle:
        handle.write(text)

    assert sniff_delimiter(path) == expected
