"""The command line: exit codes, streams and help, one test per exit-code row."""

from __future__ import annotations

import json
import sqlite3
import sys
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from itilmigrate import cli as cli_module
from itilmigrate.cli import cli, main
from itilmigrate.errors import ExitCode
from itilmigrate.generator import generate_heat

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def legacy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=300, seed=3)
    return path


def write_job(
    folder: Path, legacy_db: Path, *, mapping: str = "heat", source: str | None = None
) -> Path:
    job = folder / "job.yaml"
    job.write_text(
        "name: cli-test\n"
        f"source: {source or '{kind: sql, url: sqlite:///' + str(legacy_db) + '}'}\n"
        f"mapping: {mapping}\n"
        "target: sqlite:///target.db\n"
        "options: {report_dir: reports}\n",
        encoding="utf-8",
    )
    return job


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--log-level", "warning", *args])
    return result.exit_code, result.stdout, result.stderr


def test_run_valid_job_exits_ok_with_json_summary_on_stdout(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    code, out, _ = invoke("run", "--no-progress", "--output", "json", str(job))

    assert code == ExitCode.OK
    summary = json.loads(out)
    assert summary["balanced"] is True
    assert summary["status"] == "balanced"
    assert [t["source_name"] for t in summary["tables"]] == [
        "profiles",
        "call_customers",
        "calls",
        "assignments",
        "journal",
    ]
    assert (tmp_path / "target.db").exists()
    assert (tmp_path / "reports" / summary["run_id"] / "summary.json").exists()


def test_run_table_output_lists_every_source(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    code, out, _ = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.OK
    for name in ("profiles", "call_customers", "calls", "assignments", "journal"):
        assert name in out
    assert "reconciliation balanced" in out


def test_run_unbalanced_reconciliation_exits_findings(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    assert invoke("run", "--no-progress", str(job))[0] == ExitCode.OK
    # A second job writes into the same target from a smaller source: the target
    # then holds lineage the source no longer has.
    smaller = tmp_path / "smaller.db"
    generate_heat(f"sqlite:///{smaller}", calls=200, seed=3)
    job.write_text(
        job.read_text().replace(str(legacy_db), str(smaller)), encoding="utf-8"
    )
    code, out, err = invoke("run", "--no-progress", "--output", "json", str(job))

    assert code == ExitCode.FINDINGS
    assert json.loads(out)["balanced"] is False
    assert "reconciliation does not balance" in err


def test_run_unknown_option_exits_usage(tmp_path, legacy_db):
    code, _, err = invoke(
        "run", "--no-such-option", str(write_job(tmp_path, legacy_db))
    )

    assert code == ExitCode.USAGE
    assert "No such option '--no-such-option'" in err


def test_run_mapping_naming_missing_column_exits_config_before_writing(
    tmp_path, legacy_db
):
    mapping = tmp_path / "broken.yaml"
    from importlib import resources

    text = (
        resources.files("itilmigrate.mappings.definitions")
        .joinpath("heat.yaml")
        .read_text()
    )
    mapping.write_text(
        text.replace("{column: CallStatus,", "{column: CallStatsu,"), encoding="utf-8"
    )
    job = write_job(tmp_path, legacy_db, mapping=str(mapping))
    code, out, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.CONFIG
    assert out == ""
    assert "error: Mapping definition is invalid (1 problem):" in err
    assert (
        "sources[2] (calls) column 'CallStatsu': no column 'CallStatsu' in table "
        "'CallLog'" in err
    )
    assert not (tmp_path / "target.db").exists()


def test_run_invalid_job_file_exits_config(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text("name: x\nsource: {kind: ftp}\nmapping: heat\n", encoding="utf-8")
    code, _, err = invoke("run", str(job))

    assert code == ExitCode.CONFIG
    assert "error: Job definition is invalid" in err


def test_run_missing_source_exits_io(tmp_path):
    job = write_job(tmp_path, tmp_path / "missing.db")
    code, _, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.IO
    assert err.startswith("error: ")
    assert "missing.db" in err


def test_run_unreachable_target_masks_password_and_exits_io(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    code, _, err = invoke(
        "run",
        "--no-progress",
        "--target",
        "postgresql+psycopg://user:s3cret@127.0.0.1:1/none",
        str(job),
    )

    assert code == ExitCode.IO
    assert "s3cret" not in err
    assert "***" in err


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["itilmigrate", *args])
    with pytest.raises(SystemExit) as info:
        main()
    assert isinstance(info.value.code, int)
    return info.value.code


def test_main_unexpected_exception_exits_internal(
    monkeypatch, tmp_path, legacy_db, capsys
):
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("itilmigrate.runner.execute_job", broken)
    code = run_main(monkeypatch, "run", str(write_job(tmp_path, legacy_db)))

    assert code == ExitCode.INTERNAL
    assert "error: internal error; rerun with --debug" in capsys.readouterr().err


def test_main_keyboard_interrupt_exits_interrupted(
    monkeypatch, tmp_path, legacy_db, capsys
):
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("itilmigrate.runner.execute_job", interrupted)
    code = run_main(monkeypatch, "run", str(write_job(tmp_path, legacy_db)))

    assert code == ExitCode.INTERRUPTED
    assert "error: interrupted." in capsys.readouterr().err


def test_main_config_error_exits_config(monkeypatch, tmp_path, capsys):
    job = tmp_path / "job.yaml"
    job.write_text(": not yaml : [", encoding="utf-8")
    code = run_main(monkeypatch, "run", str(job))

    assert code == ExitCode.CONFIG
    assert "The job file is not valid YAML" in capsys.readouterr().err


def test_main_help_exits_ok(monkeypatch, capsys):
    assert run_main(monkeypatch, "--help") == ExitCode.OK
    assert "Exit codes:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", [[], ["run"], ["demo"]], ids=["group", "run", "demo"]
)
def test_help_on_every_command_lists_exit_codes(command):
    code, out, _ = invoke(*command, "--help")

    assert code == ExitCode.OK
    assert "Exit codes:" in out
    lines = [line.strip() for line in out.splitlines()]
    for code in ("0    OK", "1    FINDINGS", "2    USAGE", "3    CONFIG", "4    IO"):
        assert any(line.startswith(code) for line in lines), code
    assert "130  INTERRUPTED  Ctrl-C" in lines


def test_demo_generates_migrates_and_prints_where_everything_is(tmp_path):
    code, out, _ = invoke("demo", str(tmp_path / "demo"), "--calls", "500")

    assert code == ExitCode.OK
    assert "Where everything is:" in out
    for name in ("legacy-heat.db", "heat-demo.job.yaml", "itil-target.db"):
        assert (tmp_path / "demo" / name).exists()
    assert (tmp_path / "demo" / "export" / "incident.csv").exists()
    assert "reconciliation balanced" in out


def test_cli_module_is_the_only_entry_point():
    assert cli_module.main is main


def test_run_classification_rule_on_missing_column_exits_config(tmp_path, legacy_db):
    from importlib import resources

    text = (
        resources.files("itilmigrate.mappings.definitions")
        .joinpath("heat.yaml")
        .read_text()
    )
    mapping = tmp_path / "rule.yaml"
    mapping.write_text(
        text.replace(
            "when: {column: CallType, in: [Problem]}",
            "when: {column: CallTyp, in: [Problem]}",
        ),
        encoding="utf-8",
    )
    code, out, err = invoke(
        "run",
        "--no-progress",
        str(write_job(tmp_path, legacy_db, mapping=str(mapping))),
    )

    assert code == ExitCode.CONFIG
    assert out == ""
    assert (
        "sources[2] (calls) column 'CallTyp': no column 'CallTyp' in table 'CallLog'"
        in err
    )


def test_run_unwritable_report_folder_exits_io_before_data_moves(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    (tmp_path / "file").write_text("", encoding="utf-8")
    job.write_text(
        job.read_text().replace("report_dir: reports", "report_dir: file/reports"),
        encoding="utf-8",
    )
    code, _, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.IO
    assert err.startswith(
        f"error: Cannot write to the folder '{tmp_path}/file/reports/"
    )
    assert not (tmp_path / "target.db").exists()


def test_run_unwritable_export_folder_exits_io_before_data_moves(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    (tmp_path / "file").write_text("", encoding="utf-8")
    job.write_text(
        job.read_text().replace(
            "report_dir: reports", "report_dir: reports, export_dir: file/export"
        ),
        encoding="utf-8",
    )
    code, out, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.IO
    assert out == ""
    assert err == (
        f"error: Cannot write to the folder '{tmp_path}/file/export' "
        "(Not a directory).\nhint: choose another folder in options.export_dir.\n"
    )
    assert not (tmp_path / "target.db").exists()


def test_main_interrupted_run_is_recorded_as_interrupted(
    monkeypatch, tmp_path, legacy_db
):
    def interrupt(_self: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("itilmigrate.pipeline.Pipeline._propose_problems", interrupt)
    code = run_main(
        monkeypatch, "run", "--no-progress", str(write_job(tmp_path, legacy_db))
    )

    assert code == ExitCode.INTERRUPTED
    with sqlite3.connect(tmp_path / "target.db") as connection:
        rows = connection.execute("SELECT status FROM migration_run").fetchall()
    assert rows == [("interrupted",)]
    (summary,) = (tmp_path / "reports").glob("*/summary.json")
    assert json.loads(summary.read_text())["status"] == "interrupted"
    assert json.loads(summary.read_text())["balanced"] is None


def test_run_job_timezone_option_error_names_the_job_file(tmp_path, legacy_db):
    job = write_job(tmp_path, legacy_db)
    job.write_text(
        job.read_text().replace("options: {", "options: {timezone: Mars/Olympus, "),
        encoding="utf-8",
    )
    code, _, err = invoke("run", str(job))

    assert code == ExitCode.CONFIG
    assert (
        f"{job}: options.timezone: Value error, unknown time zone 'Mars/Olympus'" in err
    )


def test_run_target_password_with_raw_at_exits_config_without_the_password(
    tmp_path, legacy_db
):
    job = write_job(tmp_path, legacy_db)
    url = "mysql+pymysql://root:p@ss@Sup3rS3cret@127.0.0.1:3306/test"

    code, out, err = invoke("run", "--no-progress", str(job), "--target", url)

    assert code == ExitCode.CONFIG
    assert out == ""
    assert err == (
        "error: Target URL 'mysql+pymysql://root:***@127.0.0.1:3306/test': its "
        "password or user name holds an unescaped '@', so the host would be read as "
        "part of the password; write '@' as %40.\n"
    )
