"""profile: column shares, layouts, keys, orphans, pages; real exports (slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.errors import ExitCode
from itilmigrate.extract.base import SqlSourceSpec, open_source
from itilmigrate.profiling import (
    ParentLink,
    detect_layouts,
    parse_key_options,
    parse_parent_options,
    profile_column,
    profile_source,
)
from itilmigrate.profiling_report import md_escape, render_profile

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def small_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = sa.create_engine(url)
    pd.DataFrame(
        {
            "CallID": ["1", "2", "2", "3"],
            "Status": ["Open", "Closed", "", "  "],
            "Opened": ["2024-01-31", "2024-02-01", "31/01/2024", None],
            "Note": ["<b>x</b>", "CafÃ©", "ok", "fine"],
        }
    ).to_sql("CallLog", engine, index=False)
    pd.DataFrame({"CallID": ["1", "9", "9"], "Seq": ["1", "1", "2"]}).to_sql(
        "Journal", engine, index=False
    )
    engine.dispose()
    return url


def test_detect_layouts_mixed_column_counts_unmatched() -> None:
    values = pd.Series(["2024-01-31"] * 19 + ["31/01/2024", None, " "])

    found = detect_layouts(values)

    assert found.layouts == ["%Y-%m-%d"]
    assert found.checked_count == 20
    assert found.unmatched_count == 0


def test_detect_layouts_no_single_layout_gives_the_set_that_parses_95pct() -> None:
    # HEAT's RecvdDate: mostly ISO, d/m/yyyy typed in by hand, one impossible date.
    values = pd.Series(
        ["2024-01-31"] * 900 + ["31/01/2024"] * 95 + ["13/31/2024"] * 4 + ["TBC"]
    )

    found = detect_layouts(values)

    assert found.layouts == ["%Y-%m-%d", "%d/%m/%Y"]
    assert found.checked_count == 1000
    assert found.unmatched_count == 5
    assert found.unmatched_examples == ["13/31/2024", "TBC"]


def test_detect_layouts_two_layouts_that_fit_alone_are_both_listed() -> None:
    found = detect_layouts(pd.Series(["01/02/2024", "03/04/2024"]))

    assert found.layouts == ["%d/%m/%Y", "%m/%d/%Y"]


def test_detect_layouts_garbage_reported_as_unmatched() -> None:
    found = detect_layouts(pd.Series(["2024-01-31", "soon", "soon"]))

    assert found.layouts == []
    assert found.unmatched_count == 2
    assert found.unmatched_examples == ["soon"]


def test_profile_source_shares_keys_and_orphans(small_db: str) -> None:
    source = open_source(SqlSourceSpec(url=small_db), source_name="small")

    data = profile_source(
        source,
        keys={"CallLog": ["CallID"]},
        parents=[
            ParentLink(
                child_table="Journal",
                child_column="CallID",
                parent_table="CallLog",
                parent_column="CallID",
            )
        ],
        sample_size=3,
    )

    calls = next(t for t in data["tables"] if t["table"] == "CallLog")
    assert calls["row_count"] == 4
    assert calls["sampled"] is True
    assert calls["sample_rows"] == 3
    assert calls["duplicate_key_count"] == 1
    assert calls["duplicate_row_count"] == 2
    status = next(c for c in calls["columns"] if c["name"] == "Status")
    assert status["empty_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert status["values"] == {"Closed": 1, "Open": 1}
    opened = next(c for c in calls["columns"] if c["name"] == "Opened")
    assert opened["date_layouts"] == ["%Y-%m-%d", "%d/%m/%Y"]
    assert opened["date_unmatched_count"] == 0
    note = next(c for c in calls["columns"] if c["name"] == "Note")
    assert note["mojibake_count"] == 1
    journal = next(t for t in data["tables"] if t["table"] == "Journal")
    assert journal["orphans"] == [
        {
            "column": "CallID",
            "parent_table": "CallLog",
            "parent_column": "CallID",
            "orphan_count": 2,
            "orphan_key_count": 1,
        }
    ]


def test_render_profile_escapes_legacy_values(small_db: str) -> None:
    source = open_source(SqlSourceSpec(url=small_db), source_name="small")
    data = profile_source(source)

    html = render_profile(data, fmt="html")
    markdown = render_profile(data, fmt="md")

    assert "RESTRICTED" in html
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "RESTRICTED" in markdown
    assert md_escape("<b>|") == "\\<b\\>\\|"


def test_parse_options_reject_malformed_values() -> None:
    assert parse_key_options(["Asgnmnt=CallID, HEATSeq"]) == {
        "Asgnmnt": ["CallID", "HEATSeq"]
    }
    assert parse_parent_options(["Journal.CallID=CallLog.CallID"])[0].parent_table == (
        "CallLog"
    )
    with pytest.raises(ValueError, match="TABLE=COL"):
        parse_key_options(["CallLog"])
    with pytest.raises(ValueError, match=r"CHILD\.COL=PARENT\.COL"):
        parse_parent_options(["Journal=CallLog"])


def test_profile_cli_unknown_table_exits_3(small_db: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["profile", small_db, "--tables", "Nope", "--out", str(tmp_path)]
    )

    assert result.exit_code == ExitCode.CONFIG
    assert "No table 'Nope' in the source" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "job",
    [
        pytest.param("bpic2014.job.yaml", id="bpic2014"),
        pytest.param("helpdesk.job.yaml", id="helpdesk"),
        pytest.param("servicenow.job.yaml", id="servicenow"),
    ],
)
def test_profile_real_export_writes_json_and_pages(job: str, tmp_path: Path) -> None:
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real exports missing in CI: {SHARED}")
        pytest.skip(f"real exports not present at {SHARED}")

    result = CliRunner().invoke(
        cli,
        [
            "profile",
            str(EXAMPLES / job),
            "--out",
            str(tmp_path),
            "--sample-size",
            "20000",
        ],
    )

    assert result.exit_code == ExitCode.OK
    data = json.loads((tmp_path / "profile.json").read_text())
    assert data["tables"]
    assert all(t["row_count"] > 0 for t in data["tables"])
    assert any(c["date_layouts"] for t in data["tables"] for c in t["columns"])
    assert (tmp_path / "profile.html").is_file()
    assert (tmp_path / "profile.md").is_file()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        pytest.param(
            ["--key", "Nope=CallID"],
            "error: Key option Nope=CallID: no table 'Nope' in the source; it has "
            "['CallLog', 'Journal'].\n",
            id="key-unknown-table",
        ),
        pytest.param(
            ["--key", "CallLog=CallNo"],
            "error: Key option CallLog=CallNo: no column 'CallNo' in table 'CallLog'; "
            "it has ['CallID', 'Status', 'Opened', 'Note'].\n",
            id="key-unknown-column",
        ),
        pytest.param(
            ["--parent", "Jornal.CallID=CallLog.CallID"],
            "error: Parent option Jornal.CallID=CallLog.CallID: 'Jornal.CallID' names "
            "no table and column of the source; it has ['CallLog', 'Journal'].\n",
            id="parent-unknown-child",
        ),
    ],
)
def test_profile_cli_key_or_parent_not_in_source_exits_3(
    small_db: str, tmp_path: Path, option: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        cli,
        ["--log-level", "error", "profile", small_db, "--out", str(tmp_path), *option],
    )

    assert result.exit_code == ExitCode.CONFIG
    assert result.stdout == ""
    assert result.stderr == message


def test_profile_csv_folder_sniffs_delimiters_and_dotted_table_names(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Detail_Incident.csv").write_text(
        "Incident ID;Status\nIM1;Closed\nIM2;Open\n", encoding="utf-8"
    )
    (folder / "Activity.derived.csv").write_text(
        "Incident ID,Step\nIM1,1\nIM9,1\nIM9,2\n", encoding="utf-8"
    )

    result = CliRunner().invoke(
        cli,
        [
            "--log-level",
            "error",
            "profile",
            str(folder),
            "--out",
            str(tmp_path / "p"),
            "--parent",
            "Activity.derived.Incident ID=Detail_Incident.Incident ID",
        ],
    )

    assert result.exit_code == ExitCode.OK, result.stderr
    data = json.loads((tmp_path / "p" / "profile.json").read_text())
    assert data["source"] == (
        "CSV export (encoding auto, delimiter sniffed per file, "
        "Detail_Incident delimited by ';')"
    )
    columns = {t["table"]: [c["name"] for c in t["columns"]] for t in data["tables"]}
    assert columns == {
        "Activity.derived": ["Incident ID", "Step"],
        "Detail_Incident": ["Incident ID", "Status"],
    }
    activity = next(t for t in data["tables"] if t["table"] == "Activity.derived")
    assert activity["orphans"] == [
        {
            "column": "Incident ID",
            "parent_table": "Detail_Incident",
            "parent_column": "Incident ID",
            "orphan_count": 2,
            "orphan_key_count": 1,
        }
    ]


def test_profile_csv_folder_with_an_empty_file_exits_4_naming_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Asgnmnt.csv").write_text("CallID,HEATSeq\n1,1\n", encoding="utf-8")
    (folder / "CallLog.csv").write_bytes(b"")

    result = CliRunner().invoke(
        cli,
        ["--log-level", "error", "profile", str(folder), "--out", str(tmp_path / "p")],
    )

    assert result.exit_code == ExitCode.IO
    assert result.stdout == ""
    assert result.stderr == (
        f"error: Source 'source', table 'CallLog': File "
        f"{str(folder / 'CallLog.csv')!r} is empty: no header line.\n"
        "hint: export the table again, or remove the file or narrow the source's "
        "`pattern`.\n"
    )


def test_render_profile_cuts_long_values_on_pages_only() -> None:
    memo = "x" * 500
    data = {
        "generated_at": "2026-01-01T00:00:00+00:00",
        "source": "s",
        "source_name": "s",
        "sample_size": 10,
        "restricted": True,
        "tables": [
            {
                "table": "CallLog",
                "row_count": 1,
                "sampled": False,
                "sample_rows": 1,
                "encoding": None,
                "columns": [
                    {
                        **profile_column("Note", pd.Series([memo])),
                        "name": "Note",
                    }
                ],
            }
        ],
    }

    html = render_profile(data, fmt="html")
    markdown = render_profile(data, fmt="md")

    assert f"{'x' * 120}… (500 characters)" in html
    assert f"{'x' * 120}… \\(500 characters\\)" in markdown
    assert memo not in html
    assert memo not in markdown
    assert data["tables"][0]["columns"][0]["values"] == {memo: 1}


def test_profile_missing_relative_sqlite_file_hint_names_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        cli, ["--log-level", "error", "profile", "sqlite:///nosuch.db", "--out", "p"]
    )

    assert result.exit_code == ExitCode.IO
    assert result.stdout == ""
    assert result.stderr == (
        "error: Source 'source': No SQLite database file 'nosuch.db'.\n"
        "hint: relative paths in sqlite:/// URLs start at the current folder.\n"
    )
