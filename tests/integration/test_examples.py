"""The example jobs in examples/ migrate the three real public exports.

Each job reads its export in place from the shared data folder next to the
repository (``../shared/data``), so these tests skip when that folder is absent
and fail instead when ``CI`` is set. The expected counts are the exports' own:
they change only when a mapping or the engine changes what a record becomes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.mappings.loader import load_mapping

if TYPE_CHECKING:
    from collections.abc import Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@dataclass(frozen=True, slots=True, kw_only=True)
class TableCounts:
    """One row of a run summary's ``tables``."""

    source_name: str
    read: int
    loaded: int
    quarantined: int = 0
    excluded_by_rule: Mapping[str, int] = field(default_factory=dict)

    @property
    def excluded(self) -> int:
        return sum(self.excluded_by_rule.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Expected:
    """What one example job must produce on an empty target."""

    data_folder: str
    tables: list[TableCounts]
    entities: Mapping[str, int]


EXPECTED: dict[str, Expected] = {
    # 141,712 update events of 24,918 incidents; '?' blanks and the '-100' state
    # artefact are mapped, so nothing is quarantined.
    "servicenow": Expected(
        data_folder="uci-servicenow-incident-event-log",
        tables=[
            TableCounts(source_name="incident_events", read=141_712, loaded=141_712)
        ],
        entities={
            "incident": 24_918,
            "service_request": 0,
            "assignment": 57_086,
            "status_change": 88_794,
        },
    ),
    # 203 empty export lines excluded; interactions linked to an incident excluded;
    # the activity log (its own delimiter) gives the incidents' team history.
    "bpic2014": Expected(
        data_folder="bpic2014-rabobank-ict",
        tables=[
            TableCounts(
                source_name="incidents",
                read=46_809,
                loaded=46_606,
                excluded_by_rule={"empty_export_line": 203},
            ),
            TableCounts(
                source_name="interactions",
                read=147_004,
                loaded=94_250,
                excluded_by_rule={"linked_to_incident": 52_754},
            ),
            TableCounts(
                source_name="incident_assignments", read=466_660, loaded=466_660
            ),
        ],
        entities={
            "incident": 111_737,
            "service_request": 29_119,
            "assignment": 153_427,
        },
    ),
    "helpdesk": Expected(
        data_folder="helpdesk-italian-software-company",
        tables=[TableCounts(source_name="case_events", read=21_348, loaded=21_348)],
        entities={
            "incident": 4_580,
            "service_request": 0,
            "assignment": 13_232,
            "status_change": 20_206,
        },
    ),
}


def _job_names() -> list[str]:
    return sorted(p.name.removesuffix(".job.yaml") for p in EXAMPLES.glob("*.job.yaml"))


def _require_data(folder: str) -> Path:
    path = SHARED_DATA / folder
    if path.is_dir():
        return path
    reason = f"the shared export folder {str(path)!r} is absent"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def test_example_jobs_each_job_file_has_expected_counts() -> None:
    assert _job_names() == sorted(EXPECTED)


@pytest.mark.parametrize(
    "mapping_file",
    [
        pytest.param(path, id=path.stem)
        for path in sorted((EXAMPLES / "mappings").glob("*.yaml"))
    ],
)
def test_example_mapping_valid_loads(mapping_file: Path) -> None:
    loaded = load_mapping(str(mapping_file))

    assert loaded.definition.name == mapping_file.stem


@pytest.mark.slow
@pytest.mark.parametrize("job_name", [pytest.param(n, id=n) for n in sorted(EXPECTED)])
def test_example_job_real_export_balances_with_exact_counts(
    job_name: str, tmp_path: Path
) -> None:
    expected = EXPECTED[job_name]
    _require_data(expected.data_folder)
    job = EXAMPLES / f"{job_name}.job.yaml"

    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--no-progress",
            "--output",
            "json",
            str(job),
            "--target",
            f"sqlite:///{tmp_path}/t.db",
            "--report-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "balanced"
    assert summary["reconciliation_problems"] == []
    tables = [
        {
            "source_name": t["source_name"],
            "read": t["read"],
            "loaded": t["loaded"],
            "quarantined": t["quarantined"],
            "excluded": t["excluded"],
            "excluded_by_rule": t["excluded_by_rule"],
        }
        for t in summary["tables"]
    ]
    assert tables == [
        {
            "source_name": t.source_name,
            "read": t.read,
            "loaded": t.loaded,
            "quarantined": t.quarantined,
            "excluded": t.excluded,
            "excluded_by_rule": dict(t.excluded_by_rule),
        }
        for t in expected.tables
    ]
    inserted = summary["target_changes"]["inserted"]
    assert {name: inserted.get(name, 0) for name in expected.entities} == dict(
        expected.entities
    )
    _check_example(job_name, f"sqlite:///{tmp_path}/t.db", tmp_path / "check")


def _check_example(job_name: str, target: str, out: Path) -> None:
    """``check`` the migrated export with its example policy, if it has one.

    Each example's priorities follow its own matrix (ServiceNow's lookup,
    Rabobank's 5 x 5 rule, the help desk's single level), so the priority rule
    must find nothing on any of them.
    """
    policy = EXAMPLES / "policies" / f"{job_name}.yaml"
    options = ["--policy", str(policy)] if policy.is_file() else []
    result = CliRunner().invoke(
        cli, ["--log-level", "error", "check", target, "--out", str(out), *options]
    )

    assert result.exit_code == 1, result.stderr  # every export has error findings
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "junit.xml",
        "report.html",
        "report.json",
        "summary.md",
    ]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    counts = {r["rule_id"]: r["finding_count"] for r in report["rules"]}
    assert counts["incident.priority_not_matrix"] == 0
