"""The profile and mapping commands end to end, through click's CliRunner."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import resources
from typing import TYPE_CHECKING

import pytest
import yaml
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.errors import ExitCode
from itilmigrate.generator import generate_heat

if TYPE_CHECKING:
    from pathlib import Path

HEAT = yaml.safe_load(
    resources.files("itilmigrate.mappings.definitions")
    .joinpath("heat.yaml")
    .read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def heat_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mapping_cli") / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=300, seed=5)
    return path


def test_mapping_schema_prints_json_schema() -> None:
    result = CliRunner().invoke(cli, ["mapping", "schema"])

    assert result.exit_code == ExitCode.OK
    assert result.stderr == ""
    schema = json.loads(result.stdout)
    assert schema["title"] == "MappingDefinition"
    assert set(schema["required"]) == {"name", "timezone", "sources"}


def test_mapping_validate_invalid_structure_exits_3(tmp_path: Path) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("name: bad\ntimezone: Mars/Olympus\nsources: []\n")

    result = CliRunner().invoke(
        cli, ["mapping", "validate", str(mapping), "--out", str(tmp_path / "out")]
    )

    assert result.exit_code == ExitCode.CONFIG
    assert "mapping invalid (exit 3)" in result.stdout
    assert "timezone (line 2): unknown time zone 'Mars/Olympus'" in result.stdout


def test_mapping_validate_coverage_gap_exits_1_and_writes_junit(
    heat_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"

    result = CliRunner().invoke(
        cli,
        [
            "mapping",
            "validate",
            str(_bundled_heat(tmp_path)),
            "--source",
            f"sqlite:///{heat_db}",
            "--sample",
            "200",
            "--format",
            "text,json,junit",
            "--out",
            str(out),
            "--no-gx",
        ],
    )

    assert result.exit_code == ExitCode.FINDINGS
    assert "[FAILED] mapping.coverage" in result.stdout
    report = json.loads((out / "validation.json").read_text())
    assert report["exit_code"] == 1
    assert "<testsuites>" in (out / "junit.xml").read_text()


def _bundled_heat(folder: Path) -> Path:
    path = folder / "heat.yaml"
    path.write_text(
        resources.files("itilmigrate.mappings.definitions")
        .joinpath("heat.yaml")
        .read_text(encoding="utf-8")
    )
    return path


def _fill_review(text: str) -> str:
    """Answer every REVIEW mark as a migration engineer would, from heat.yaml."""
    status = {
        k.casefold(): v for k, v in HEAT["value_maps"]["status"]["values"].items()
    }
    levels = dict(HEAT["priority"]["levels"])
    section = ""
    lines = []
    for line in text.splitlines():
        head = re.match(r"^  ([a-z_]+):$", line)
        if re.match(r"^[a-z_]+:", line):
            section = line.split(":")[0]
        elif head:
            section = head.group(1) if section == "value_maps" else section
        match = re.match(r"^(\s*)(.+?): REVIEW  # REVIEW:.*$", line)
        if match:
            key = yaml.safe_load(match.group(2))
            if section == "priority":
                target = str(list(levels.get(str(key), [3, 3])))
            elif section == "status":
                target = status.get(str(key).casefold(), "in_progress")
            else:
                target = json.dumps(str(key))
            lines.append(f"{match.group(1)}{match.group(2)}: {target}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _profile_and_init(runner: CliRunner, heat_db: Path, folder: Path, skeleton: Path):
    """Profile the HEAT database into ``folder``, then write a skeleton from it."""
    profiled = runner.invoke(
        cli,
        ["profile", f"sqlite:///{heat_db}", "--like", "heat", "--out", str(folder)],
    )
    assert profiled.exit_code == ExitCode.OK
    return runner.invoke(
        cli,
        [
            "mapping",
            "init",
            "--profile",
            str(folder / "profile.json"),
            "--like",
            "heat",
            "--out",
            str(skeleton),
        ],
    )


@pytest.mark.slow
def test_profile_init_review_run_balances(heat_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    skeleton = tmp_path / "skeleton.yaml"
    init = _profile_and_init(runner, heat_db, tmp_path, skeleton)
    assert init.exit_code == ExitCode.OK
    unreviewed = runner.invoke(cli, ["mapping", "validate", str(skeleton)])
    assert unreviewed.exit_code == ExitCode.CONFIG
    # Every mark is listed in one pass: the priority levels pydantic rejects and
    # the statuses, groups and services behind them.
    marks = skeleton.read_text().count(": REVIEW  # REVIEW:")
    listed = [
        line for line in unreviewed.stdout.splitlines() if line.startswith("  - ")
    ]
    assert marks == 42
    assert len(listed) == marks
    assert all("REVIEW" in line for line in listed)

    reviewed = tmp_path / "reviewed.yaml"
    reviewed.write_text(_fill_review(skeleton.read_text()))
    checked = runner.invoke(
        cli,
        [
            "mapping",
            "validate",
            str(reviewed),
            "--source",
            f"sqlite:///{heat_db}",
            "--no-gx",
            "--out",
            str(tmp_path / "val"),
        ],
    )
    assert checked.exit_code == ExitCode.OK, checked.stdout
    job = tmp_path / "job.yaml"
    job.write_text(
        "name: reviewed\n"
        f"source: {{kind: sql, url: 'sqlite:///{heat_db}'}}\n"
        f"mapping: {reviewed}\n"
        "target: sqlite:///target.db\n"
        "options: {report_dir: reports}\n"
    )
    ran = runner.invoke(cli, ["run", str(job), "--output", "json", "--no-progress"])

    assert ran.exit_code == ExitCode.OK
    summary = json.loads(ran.stdout)
    assert summary["balanced"] is True
    calls = next(t for t in summary["tables"] if t["source_name"] == "calls")
    assert calls["read"] == 300


def test_run_dry_run_does_not_import_great_expectations(
    heat_db: Path, tmp_path: Path
) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(
        "name: nogx\n"
        f"source: {{kind: sql, url: 'sqlite:///{heat_db}'}}\n"
        "mapping: heat\n"
        "options: {report_dir: reports}\n"
    )
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import itilmigrate.cli\n"
        "assert 'great_expectations' not in sys.modules\n"
        "CliRunner().invoke(itilmigrate.cli.cli, ['--help'])\n"
        f"r = CliRunner().invoke(itilmigrate.cli.cli, ['run', {str(job)!r}, "
        "'--dry-run', '--no-progress'])\n"
        "assert r.exit_code in (0, 1), r.output\n"
        "print('great_expectations' in sys.modules)\n"
    )

    done = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_mapping_init_out_in_missing_folder_creates_it(
    heat_db: Path, tmp_path: Path
) -> None:
    skeleton = tmp_path / "new" / "folder" / "heat.yaml"

    init = _profile_and_init(CliRunner(), heat_db, tmp_path, skeleton)

    assert init.exit_code == ExitCode.OK
    assert init.stdout == ""
    assert skeleton.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=itilmigrate-mapping.schema.json\n"
    )


def test_mapping_init_out_under_a_file_exits_io(heat_db: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")

    init = _profile_and_init(
        CliRunner(), heat_db, tmp_path, tmp_path / "file" / "m.yaml"
    )

    assert init.exit_code == ExitCode.IO
    assert init.stderr == (
        f"error: Cannot write to the folder '{tmp_path}/file' (File exists).\n"
        "hint: choose another file with --out.\n"
    )


def test_profile_out_under_a_file_exits_io_before_reading(
    heat_db: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")

    result = CliRunner().invoke(
        cli,
        ["profile", f"sqlite:///{heat_db}", "--out", str(tmp_path / "file" / "p")],
    )

    assert result.exit_code == ExitCode.IO
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"error: Cannot write to the folder '{tmp_path}/file/p' (Not a directory)."
    )


def test_mapping_validate_bundled_name_is_accepted() -> None:
    result = CliRunner().invoke(
        cli, ["--log-level", "error", "mapping", "validate", "heat"]
    )

    assert result.exit_code == ExitCode.OK
    assert result.stderr == ""
    assert result.stdout.startswith("mapping <bundled>/heat.yaml: valid (exit 0); ")


def test_mapping_validate_out_folder_unwritable_exits_io(
    heat_db: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")

    result = CliRunner().invoke(
        cli,
        [
            "--log-level",
            "error",
            "mapping",
            "validate",
            "heat",
            "--source",
            f"sqlite:///{heat_db}",
            "--format",
            "json",
            "--out",
            str(tmp_path / "file" / "out"),
            "--no-gx",
        ],
    )

    assert result.exit_code == ExitCode.IO
    assert result.stdout == ""
    assert result.stderr == (
        f"error: Cannot write to the folder '{tmp_path}/file/out' (Not a directory).\n"
        "hint: choose another folder with --out.\n"
    )


def test_mapping_init_bad_profile_exits_config_and_creates_no_folder(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text("not json", encoding="utf-8")

    init = CliRunner().invoke(
        cli,
        [
            "mapping",
            "init",
            "--profile",
            str(profile),
            "--out",
            str(tmp_path / "new" / "m.yaml"),
        ],
    )

    assert init.exit_code == ExitCode.CONFIG
    assert not (tmp_path / "new").exists()
