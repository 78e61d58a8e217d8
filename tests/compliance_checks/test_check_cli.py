"""The ``check`` command: reports written, every exit code, baseline and --new-only."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.errors import ExitCode
from itilmigrate.generator import generate_heat

FILES = ["findings.csv", "junit.xml", "report.html", "report.json", "summary.md"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--log-level", "error", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("check")
    generate_heat(f"sqlite:///{folder / 'heat.db'}", calls=300, seed=5)
    job = folder / "job.yaml"
    job.write_text(
        "name: check-test\n"
        f"source: {{kind: sql, url: 'sqlite:///{folder / 'heat.db'}'}}\n"
        "mapping: heat\n"
        "target: sqlite:///target.db\n"
        "options: {report_dir: reports}\n",
        encoding="utf-8",
    )
    code, _, stderr = invoke("run", "--no-progress", str(job))
    assert code == ExitCode.OK, stderr
    return f"sqlite:///{folder / 'target.db'}"


@pytest.mark.slow
def test_check_with_errors_exits_findings_and_writes_every_format(tmp_path, target):
    code, out, _ = invoke("check", target, "--out", str(tmp_path))

    assert code == ExitCode.FINDINGS
    assert sorted(p.name for p in tmp_path.iterdir()) == FILES
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["outcome"]["failed"] is True
    assert data["outcome"]["failing_count"] == sum(
        data["severity_counts"][level] for level in ("critical", "error")
    )
    assert out.startswith(f"check {data['run_id']}: ")
    assert f"  json   {tmp_path / 'report.json'}" in out


@pytest.mark.slow
def test_check_fail_on_none_exits_ok(tmp_path, target):
    code, out, _ = invoke(
        "check", target, "--out", str(tmp_path), "--fail-on", "none", "--format", "md"
    )

    assert code == ExitCode.OK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]
    assert ", 0 failing (fail-on none)" in out


@pytest.mark.slow
def test_check_baseline_new_only_exits_ok_when_nothing_is_new(tmp_path, target):
    first, second = tmp_path / "first", tmp_path / "second"
    invoke("check", target, "--out", str(first), "--format", "json")

    code, _, _ = invoke(
        "check",
        target,
        "--out",
        str(second),
        "--format",
        "json,md",
        "--baseline",
        str(first / "report.json"),
        "--fail-on",
        "info",
        "--new-only",
    )

    assert code == ExitCode.OK
    data = json.loads((second / "report.json").read_text(encoding="utf-8"))
    assert data["baseline"]["new"] == 0
    assert data["baseline"]["known"] == len(data["findings"])
    assert {f["status"] for f in data["findings"]} == {"known"}


def test_check_unknown_format_exits_usage(tmp_path):
    code, out, err = invoke(
        "check", "sqlite://", "--out", str(tmp_path), "--format", "pdf"
    )

    assert code == ExitCode.USAGE
    assert out == ""
    assert "unknown format(s) ['pdf']" in err


def test_check_bad_policy_exits_config(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("thresholds:\n  stale_dayz: 3\n", encoding="utf-8")

    code, out, err = invoke(
        "check", "sqlite://", "--policy", str(policy), "--out", str(tmp_path / "out")
    )

    assert code == ExitCode.CONFIG
    assert out == ""
    assert "thresholds.stale_dayz (line 2): unknown key" in err
    assert not (tmp_path / "out").exists()


HINT = (
    "hint: check the URL (database name, schema, file path); `itilmigrate run` "
    "writes the target that `check` reads.\n"
)


def test_check_missing_sqlite_file_exits_io_and_creates_nothing(tmp_path):
    missing = tmp_path / "no" / "such" / "target.db"

    code, out, err = invoke(
        "check", f"sqlite:///{missing}", "--out", str(tmp_path / "out")
    )

    assert code == ExitCode.IO
    assert err == (
        f"error: Target 'sqlite:///{missing}' holds no itilmigrate migration: there "
        f"is no SQLite database file '{missing}'.\n{HINT}"
    )
    assert out == ""
    assert not (tmp_path / "no").exists()


def test_check_unreadable_target_exits_io(tmp_path):
    path = tmp_path / "not-a-db.db"
    path.write_bytes(b"this is not sqlite" * 100)

    code, out, err = invoke("check", f"sqlite:///{path}", "--out", str(tmp_path))

    assert code == ExitCode.IO
    assert err == (f"error: Cannot read target 'sqlite:///{path}' (DatabaseError).\n")
    assert out == ""


@pytest.mark.slow
def test_check_legacy_database_exits_io_no_migration(tmp_path, target):
    # The HEAT database the target was migrated from: a typo away from the target.
    legacy = target.removesuffix("target.db") + "heat.db"

    code, out, err = invoke("check", legacy, "--out", str(tmp_path))

    assert code == ExitCode.IO
    assert err == (
        f"error: Target {legacy!r} holds no itilmigrate migration: it has "
        f"no 'migration_run' table among its 5 table(s).\n{HINT}"
    )
    assert out == ""


def test_check_unparseable_url_exits_config_naming_the_argument(tmp_path):
    code, out, err = invoke("check", "notaurl", "--out", str(tmp_path))

    assert code == ExitCode.CONFIG
    assert err == (
        "error: The TARGET_URL argument 'notaurl' is not a SQLAlchemy database URL; "
        "expected the form 'dialect+driver://user@host/db' or 'sqlite:///path'.\n"
    )
    assert out == ""


def test_check_refused_connection_names_driver_reason_without_password(tmp_path):
    # Port 1 has no server: the connection is refused at once.
    url = "postgresql+psycopg://migrator:s3cret@127.0.0.1:1/itil"

    code, out, err = invoke("check", url, "--out", str(tmp_path))

    assert code == ExitCode.IO
    assert err == (
        "error: Cannot connect to the target "
        "'postgresql+psycopg://migrator:***@127.0.0.1:1/itil' (OperationalError: "
        'connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused).\n"
        "hint: check that the server runs and the URL is right.\n"
    )
    assert out == ""
    assert "s3cret" not in err


@pytest.mark.slow
def test_check_unknown_source_system_exits_io_listing_known_ones(tmp_path, target):
    code, out, err = invoke(
        "check", target, "--out", str(tmp_path), "--source-system", "nosuch"
    )

    assert code == ExitCode.IO
    assert err == (
        f"error: Target {target!r} holds no completed run of source system 'nosuch'; "
        "it holds runs of ['heat'].\n"
        "hint: choose one of them with --source-system, or leave it out.\n"
    )
    assert out == ""


def test_check_bad_baseline_exits_config(tmp_path):
    baseline = tmp_path / "old.json"
    baseline.write_text("{}", encoding="utf-8")

    code, _, err = invoke(
        "check", "sqlite://", "--baseline", str(baseline), "--out", str(tmp_path)
    )

    assert code == ExitCode.CONFIG
    assert "Not a check report" in err


def test_check_out_folder_under_a_file_exits_io_naming_it(tmp_path, target):
    (tmp_path / "file").write_text("", encoding="utf-8")

    code, out, err = invoke("check", target, "--out", str(tmp_path / "file" / "out"))

    assert code == ExitCode.IO
    assert out == ""
    assert err == (
        f"error: Cannot write to the folder '{tmp_path}/file/out' (Not a directory).\n"
        "hint: choose another folder with --out.\n"
    )


def test_check_password_with_raw_at_exits_config_without_the_password(tmp_path):
    url = "postgresql+psycopg://u:p@ss@Sup3rS3cret@127.0.0.1/itil"

    code, out, err = invoke("check", url, "--out", str(tmp_path / "out"))

    assert code == ExitCode.CONFIG
    assert out == ""
    assert "Sup3rS3cret" not in err
    assert err.startswith(
        "error: The TARGET_URL argument 'postgresql+psycopg://u:***@127.0.0.1/itil': "
        "its password or user name holds an unescaped '@'"
    )


def test_check_baseline_not_json_exits_config_naming_the_expected_file(tmp_path):
    baseline = tmp_path / "findings.csv"
    baseline.write_text("rule_id,severity\n", encoding="utf-8")

    code, out, err = invoke(
        "check", "sqlite://", "--baseline", str(baseline), "--out", str(tmp_path)
    )

    assert code == ExitCode.CONFIG
    assert out == ""
    assert err == (
        f"error: {baseline}: Cannot read the baseline as JSON (JSONDecodeError); "
        "pass the report.json of a previous 'itilmigrate check'.\n"
    )


def test_check_missing_baseline_file_exits_config(tmp_path, target):
    missing = tmp_path / "old" / "report.json"

    code, out, err = invoke(
        "check", target, "--baseline", str(missing), "--out", str(tmp_path / "out")
    )

    assert code == ExitCode.CONFIG
    assert out == ""
    assert err == (
        f"error: {missing}: Cannot read the baseline (No such file or directory); "
        "pass the report.json of a previous 'itilmigrate check'.\n"
    )
