"""mapping validate: structure, references, coverage, sample and GX checks."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from itilmigrate.errors import ExitCode
from itilmigrate.extract.base import SqlSourceSpec, open_source
from itilmigrate.generator import generate_heat
from itilmigrate.mappings.loader import load_mapping
from itilmigrate.mappings.sampling import ParentSampledSource
from itilmigrate.mappings.validate import (
    COVERAGE,
    QUARANTINE,
    REFERENCES,
    STRUCTURE,
    _not_codes,
    validate_mapping,
)
from itilmigrate.mappings.validation_report import report_junit, report_text
from itilmigrate.pipeline import plan_sources, sample_entities
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


# The wrong columns of fresh-a-cases/maps/leak.yaml: call descriptions as the status
# and the assignee's name as the group.
HEAT_WRONG_COLUMNS = HEAT_VALID.replace(
    "status: {column: CallStatus,", "status: {column: CallDesc,", 1
).replace("group: {column: GroupName,", "group: {column: Assignee,", 1)


def test_validate_mapping_free_text_and_names_are_counted_not_quoted(
    heat_db: Path,
) -> None:
    report = _validate(HEAT_WRONG_COLUMNS, heat_db)

    assert report.exit_code is ExitCode.FINDINGS
    coverage = [f for f in report.findings if f.rule_id == COVERAGE]
    assert [f.message for f in coverage] == [
        "broken.yaml: value_maps.status (line 15): 343 value(s) of CallLog.CallDesc "
        "(sources[2].fields.status) have no target and no default, 400 record(s). "
        "Values not quoted: the column holds 343 distinct value(s) of up to 131 "
        "character(s), which looks like free text, not legacy codes. Check that "
        "sources[2].fields.status.column names the right column.",
        "broken.yaml: value_maps.groups (line 27): 40 value(s) of Asgnmnt.Assignee "
        "(sources[3].fields.group) have no target and no default, 593 record(s). "
        "Values not quoted: none of the column's 40 distinct value(s) is in the "
        "map, so they may be names or free text rather than the codes it was "
        "written for. Check that sources[3].fields.group.column names the right "
        "column.",
    ]
    assert [f.details for f in coverage] == [
        {
            "location": "value_maps.status",
            "line": 15,
            "table": "CallLog",
            "column": "CallDesc",
            "distinct_count": 343,
            "uncovered_count": 343,
            "record_count": 400,
        },
        {
            "location": "value_maps.groups",
            "line": 27,
            "table": "Asgnmnt",
            "column": "Assignee",
            "distinct_count": 40,
            "uncovered_count": 40,
            "record_count": 593,
        },
    ]


def test_validate_mapping_wrong_columns_leak_no_legacy_value(heat_db: Path) -> None:
    engine = create_engine(f"sqlite:///{heat_db}")
    with engine.connect() as conn:
        legacy = {
            value.strip()
            for (value,) in conn.execute(
                text("SELECT CallDesc FROM CallLog UNION SELECT Assignee FROM Asgnmnt")
            )
            if value and value.strip()
        }
    engine.dispose()

    report = _validate(HEAT_WRONG_COLUMNS, heat_db)

    outputs = report_text(report) + report_junit(report) + json.dumps(report.to_dict())
    assert len(legacy) == 383
    assert sorted(v for v in legacy if v in outputs) == []


@pytest.mark.parametrize(
    ("values", "covered", "expected"),
    [
        pytest.param(
            {f"C{i}": 1 for i in range(50)}, 1, None, id="50-short-codes-quoted"
        ),
        pytest.param(
            {f"C{i}": 1 for i in range(51)},
            1,
            "the column holds 51 distinct value(s) of up to 3 character(s), which "
            "looks like free text, not legacy codes",
            id="51-values-withheld",
        ),
        pytest.param({"x" * 40: 2, "y": 1}, 1, None, id="40-characters-quoted"),
        pytest.param(
            {"x" * 41: 2, "y": 1},
            1,
            "the column holds 2 distinct value(s) of up to 41 character(s), which "
            "looks like free text, not legacy codes",
            id="41-characters-withheld",
        ),
        pytest.param(
            {"Fiona Bell": 16, "Tom Green": 10},
            0,
            "none of the column's 2 distinct value(s) is in the map, so they may be "
            "names or free text rather than the codes it was written for",
            id="nothing-covered-withheld",
        ),
    ],
)
def test_not_codes_limits(
    values: dict[str, int], covered: int, expected: str | None
) -> None:
    assert _not_codes(pd.Series(values), covered=covered) == expected


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


@pytest.fixture(scope="module")
def heat5_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Seed 5 plants 4 assignments and 3 journal entries whose CallIDs (00005174,
    # 00005295, 00005437) sort before every call's and belong to no call.
    path = tmp_path_factory.mktemp("validate5") / "heat.db"
    generate_heat(f"sqlite:///{path}", calls=300, seed=5)
    return path


@pytest.mark.parametrize(
    "sample", [pytest.param(5, id="5"), pytest.param(1000, id="1000")]
)
def test_validate_mapping_orphans_counted_over_whole_table_not_sample(
    heat5_db: Path, sample: int
) -> None:
    source = open_source(SqlSourceSpec(url=f"sqlite:///{heat5_db}"), source_name="heat")
    try:
        report = validate_mapping(
            HEAT_VALID,
            file="heat.yaml",
            source=source,
            run=RunContext.start(),
            sample=sample,
            run_gx=False,
        )
    finally:
        source.close()

    references = [
        (f.severity.name, f.message)
        for f in report.findings
        if f.rule_id == QUARANTINE and f.details["reason"] == "invalid_reference"
    ]
    assert references == [
        (
            "WARNING",
            "heat.yaml: source 'assignments': 4 of 470 record(s) in table 'Asgnmnt' "
            "(0.9%) have a parent key that no record in 'calls' has; a run "
            "quarantines them as 'invalid_reference'. Counted over the whole table: "
            "the sample holds children of sampled records only.",
        ),
        (
            "WARNING",
            "heat.yaml: source 'journal': 3 of 528 record(s) in table 'Journal' "
            "(0.6%) have a parent key that no record in 'calls' has; a run "
            "quarantines them as 'invalid_reference'. Counted over the whole table: "
            "the sample holds children of sampled records only.",
        ),
    ]


def test_parent_sampled_source_reads_children_of_sampled_records(
    heat5_db: Path,
) -> None:
    source = open_source(SqlSourceSpec(url=f"sqlite:///{heat5_db}"), source_name="heat")
    loaded = load_mapping("heat")
    try:
        plans = plan_sources(loaded.definition, source, "heat.yaml")
        kin = ParentSampledSource(source, plans, loaded.definition.blank_values)
        outcome = sample_entities(loaded, kin, RunContext.start(), sample=5)
    finally:
        source.close()

    counts = {
        c.source_name: (c.read_count, c.loaded_count, c.quarantined_count)
        for c in outcome.summary.counts
    }
    assert counts["assignments"] == (5, 5, 0)
    assert counts["journal"] == (5, 5, 0)
    assert outcome.quarantined == []
    calls = ["00010000", "00010001", "00010002", "00010003", "00010004"]
    assert sorted(kin.sampled["calls"]) == calls
    for table in ("assignment", "work_note"):
        assert set(outcome.frames[table]["record_legacy_id"]) <= set(calls)
