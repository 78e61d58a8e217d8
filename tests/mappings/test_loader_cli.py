"""``run`` with job and mapping files that cannot be read or hold bad date layouts."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.errors import ExitCode
from itilmigrate.generator import generate_heat

if TYPE_CHECKING:
    from pathlib import Path

HINT = "hint: fix every listed place; the README describes the format.\n"
HEAT_DATES = 'formats: ["%Y-%m-%d", "%d/%m/%Y"]'


@pytest.fixture(scope="module")
def legacy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("loader-cli") / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=200, seed=3)
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--log-level", "warning", *args])
    return result.exit_code, result.stdout, result.stderr


def write_job(folder: Path, legacy_db: Path, mapping: str) -> Path:
    job = folder / "job.yaml"
    job.write_text(
        "name: loader-cli\n"
        f"source: {{kind: sql, url: 'sqlite:///{legacy_db}'}}\n"
        f"mapping: {mapping}\n"
        "target: sqlite:///target.db\n"
        "options: {report_dir: reports}\n",
        encoding="utf-8",
    )
    return job


def heat_with(folder: Path, old: str, new: str) -> Path:
    text = (
        resources.files("itilmigrate.mappings.definitions")
        .joinpath("heat.yaml")
        .read_text(encoding="utf-8")
    )
    assert old in text
    path = folder / "heat.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        pytest.param(
            HEAT_DATES,
            'formats: ["%Y-%m-%d %z"]',
            "dates.formats[0] (line 9): '%Y-%m-%d %z' reads a zone (%z), which is "
            "not supported; drop it and set the mapping's 'timezone'",
            id="zone",
        ),
        pytest.param(
            HEAT_DATES,
            'formats: ["dd/mm/yyyy"]',
            "dates.formats[0] (line 9): 'dd/mm/yyyy' has no date directive; "
            "expected a strptime layout such as '%d/%m/%Y' with at least one of "
            "%d %m %Y %y %b %B %j %G",
            id="literal",
        ),
        pytest.param(
            HEAT_DATES,
            'formats: ["%Y-%m-%d%"]',
            "dates.formats[0] (line 9): '%Y-%m-%d%' ends with a lone '%'; write '%%' "
            "for a literal percent sign",
            id="trailing-percent",
        ),
        pytest.param(
            'time_formats: ["%H:%M:%S", "%H:%M"]',
            'time_formats: ["%d/%m/%Y"]',
            "dates.time_formats[0] (line 10): '%d/%m/%Y' reads a date (%d %m %Y); "
            "expected a time of day only, such as '%H:%M:%S' (date layouts go in "
            "'dates.formats')",
            id="date-as-time",
        ),
    ],
)
def test_run_bad_date_layout_exits_config_before_data_moves(
    tmp_path, legacy_db, old, new, problem
):
    mapping = heat_with(tmp_path, old, new)
    job = write_job(tmp_path, legacy_db, str(mapping))

    code, out, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.CONFIG
    assert err == (
        "error: Mapping definition is invalid (1 problem):\n"
        f"  - {mapping}: {problem}\n{HINT}"
    )
    assert out == ""
    assert not (tmp_path / "target.db").exists()


def test_run_mapping_not_utf8_exits_config(tmp_path, legacy_db):
    mapping = tmp_path / "latin.yaml"
    mapping.write_bytes(b"# caf\xe9\nname: heat\n")
    job = write_job(tmp_path, legacy_db, str(mapping))

    code, out, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.CONFIG
    assert err == (
        "error: Mapping definition is invalid (1 problem):\n"
        f"  - {mapping}: (file) (line 1): cannot read the mapping file: byte 0xe9 "
        f"at offset 5 is not UTF-8; save the file as UTF-8\n{HINT}"
    )
    assert out == ""


@pytest.mark.parametrize(
    ("content", "line", "offset", "byte"),
    [
        pytest.param(b"name: bin\n\xff\xfe\x00garbage", 2, 10, "0xff", id="binary"),
        pytest.param(
            b"name: bin\nsource: {kind: csv, path: caf\xe9/}\n",
            2,
            39,
            "0xe9",
            id="latin1",
        ),
    ],
)
def test_run_job_file_not_utf8_exits_config(tmp_path, content, line, offset, byte):
    job = tmp_path / "job.yaml"
    job.write_bytes(content)

    code, out, err = invoke("run", "--no-progress", str(job))

    assert code == ExitCode.CONFIG
    assert err == (
        "error: Job definition is invalid (1 problem):\n"
        f"  - {job}: (file) (line {line}): cannot read the job file: byte {byte} at "
        f"offset {offset} is not UTF-8; save the file as UTF-8\n{HINT}"
    )
    assert out == ""
