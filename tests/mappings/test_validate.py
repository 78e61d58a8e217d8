"""mapping validate: structure, references, coverage, sample and GX checks."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pytest

from itilmigrate.errors import ExitCode
from itilmigrate.extract.base import SqlSourceSpec, open_source
from itilmigrate.generator import generate_heat
from itilmigrate.mappings.loader import load_mapping
from itilmigrate.mappings.validate import (
    COVERAGE,
    REFERENCES,
    STRUCTURE,
    report_junit,
    validate_mapping,
)
from itilmigrate.pipeline import sample_entities
from itilmigrate.run import RunContext

if TYPE_CHECKING:
    from pathlib import Path

HEAT_TEXT = (
    resources.files("itilmigrate.mappings.definitions")
    .joinpath("heat.yaml")
    .read_text(encoding="utf-8")
)
# The generator writes priority 9 on a few calls (a planted defect); the bundled
# mapping has no level for it, so coverage fails on it by design.
HEAT_VALID = HEAT_TEXT.replace('"5": [3, 3]\n', '"5": [3, 3]\n    "9": [3, 3]\n', 1)


@pytest.fixture(scope="module")
def heat_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("validate") / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=400, seed=11)
    return path


def _validate(text: str, heat_db: Path, **options: object):
    source = open_source(SqlSourceSpec(url=f"sqlite:///{heat_db}"), source_name="heat")
    try:
        return validate_mapping(
            text,
            file="broken.yaml",
            source=source,
            run=RunContext.start(),
            sample=300,
            **{"run_gx": False, **options},  # type: ignore[arg-type]
        )
    finally:
        source.close()


def test_validate_mapping_bundled_heat_planted_priority_fails_coverage(
    heat_db: Path,
) -> None:
    report = _validate(HEAT_TEXT, heat_db)

    assert report.exit_code is ExitCode.FINDINGS
    failing = [f for f in report.findings if f.severity >= 30]
    assert [f.rule_id for f in failing] == [COVERAGE]
    assert failing[0].details["uncovered"] == {"9": 3}
    assert "priority.levels (line 52)" in failing[0].message


def test_validate_mapping_heat_with_all_levels_is_valid(heat_db: Path) -> None:
    report = _validate(HEAT_VALID, heat_db)

    assert report.exit_code is ExitCode.OK
    assert [c.check_id for c in report.checks] == [
        STRUCTURE,
        REFERENCES,
        COVERAGE,
        "sample.quarantine",
    ]


@pytest.mark.parametrize(
    ("old", "new", "code", "rule", "expected"),
    [
        pytest.param(
            "{column: RecvdDate,",
            "{column: RecvdDat,",
            ExitCode.CONFIG,
            REFERENCES,
            [
                "sources[2].fields.opened_at.column (line",
                "no column 'RecvdDat' in table 'CallLog'",
                "did you mean 'RecvdDate'?",
                "Fix the column name",
            ],
            id="misspelt-column",
        ),
        pytest.param(
            "time_column: RecvdTime",
            "time_colum: RecvdTime",
            ExitCode.CONFIG,
            STRUCTURE,
            [
                "sources[2].fields.opened_at.time_colum (line",
                "unknown key (misspelt?)",
                "'time_column'",
            ],
            id="misspelt-key",
        ),
        pytest.param(
            "      Pending: on_hold\n",
            "",
            ExitCode.FINDINGS,
            COVERAGE,
            [
                "value_maps.status (line 15)",
                "CallLog.CallStatus",
                "'Pending' (",
                "Add them under value_maps.status.values or set a default.",
            ],
            id="status-without-target",
        ),
        pytest.param(
            'formats: ["%Y-%m-%d", "%d/%m/%Y"]',
            'formats: ["%d.%m.%Y"]',
            ExitCode.FINDINGS,
            "sample.quarantine",
            [
                "quarantined as 'unparseable'",
                "field 'opened_at'",
                "holds dates laid out as ['%Y-%m-%d']",
                "add the right one to dates.formats (line 9)",
            ],
            id="wrong-date-layout",
        ),
        pytest.param(
            "timezone: Europe/London",
            "timezone: Europe/Londn",
            ExitCode.CONFIG,
            STRUCTURE,
            [
                "timezone (line 7)",
                "unknown time zone 'Europe/Londn'",
                "use an IANA name such as 'Europe/London'",
            ],
            id="wrong-time-zone",
        ),
        pytest.param(
            "when: {column: CallType, in: [Problem]}",
            "when: {column: CallTyp, in: [Problem]}",
            ExitCode.CONFIG,
            REFERENCES,
            [
                "classification.rules[0].when.column (line",
                "classification rule 'calltype_problem' tests column 'CallTyp'",
                "did you mean 'CallType'?",
            ],
            id="classification-unknown-column",
        ),
    ],
)
def test_validate_mapping_broken_mapping_names_place_and_fix(
    heat_db: Path,
    old: str,
    new: str,
    code: ExitCode,
    rule: str,
    expected: list[str],
) -> None:
    assert old in HEAT_TEXT
    report = _validate(HEAT_VALID.replace(old, new, 1), heat_db)

    assert report.exit_code is code
    messages = [f.message for f in report.findings if f.rule_id == rule]
    assert len(messages) >= 1
    for part in expected:
        assert any(part in m for m in messages), (part, messages)


def test_validate_mapping_without_source_checks_structure_only() -> None:
    report = validate_mapping(
        HEAT_TEXT, file="heat.yaml", source=None, run=RunContext.start()
    )

    assert report.exit_code is ExitCode.OK
    assert [c.check_id for c in report.checks] == [STRUCTURE]


def test_report_junit_one_testcase_per_check(heat_db: Path) -> None:
    report = _validate(HEAT_VALID.replace("      Pending: on_hold\n", ""), heat_db)

    xml = report_junit(report)

    assert xml.count("<testcase ") == 4
    assert xml.count("<failure ") == 1
    assert 'failures="1"' in xml


def test_sample_entities_limits_rows_and_keeps_frames(heat_db: Path) -> None:
    source = open_source(SqlSourceSpec(url=f"sqlite:///{heat_db}"), source_name="heat")
    try:
        outcome = sample_entities(
            load_mapping("heat"), source, RunContext.start(), sample=50
        )
    finally:
        source.close()

    calls = next(c for c in outcome.summary.counts if c.source_name == "calls")
    assert calls.read_count == 50
    assert calls.balanced
    assert set(outcome.frames) >= {"incident", "person", "assignment", "work_note"}


@pytest.mark.slow
@pytest.mark.integration
def test_validate_mapping_gx_suite_writes_data_docs(
    heat_db: Path, tmp_path: Path
) -> None:
    report = _validate(HEAT_VALID, heat_db, out_dir=tmp_path, run_gx=True)

    gx_checks = [c for c in report.checks if c.check_id.startswith("gx.")]
    failed = sorted(c.check_id for c in gx_checks if not c.passed)
    # The generator plants calls closed before they were opened or resolved.
    assert report.exit_code is ExitCode.FINDINGS
    assert len(gx_checks) == 48
    assert "gx.incident.ordered.closed_at+opened_at" in failed
    assert all(".ordered." in check_id for check_id in failed)
    docs = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    assert report.gx_docs == (docs / "index.html").as_uri()
    assert (docs / "index.html").is_file()
