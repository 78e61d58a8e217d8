"""End-to-end migrations of a generated HEAT database (seed 7, 1,000 calls)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from itilmigrate.errors import ConfigError
from itilmigrate.generator import HeatManifest, generate_heat, write_heat_csv
from itilmigrate.runner import execute_job
from tests.factories import (
    make_job,
    quarantine_report,
    query,
    reason_counts,
    table_counts,
)

pytestmark = pytest.mark.slow

EXPECTED_COUNTS = {
    "profiles": (2002, 2002, 0, 0),
    "call_customers": (999, 999, 0, 0),
    "calls": (1000, 992, 8, 0),
    "assignments": (1457, 1441, 16, 0),
    "journal": (1859, 1844, 15, 0),
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HeatManifest]:
    folder = tmp_path_factory.mktemp("legacy")
    path = folder / "heat.db"
    manifest = generate_heat(f"sqlite:///{path}", calls=1000, seed=7)
    return path, manifest


@pytest.fixture
def heat_copy(legacy: tuple[Path, HeatManifest], tmp_path: Path) -> Path:
    """A private copy of the legacy database that a test may change."""
    copy = tmp_path / "heat.db"
    shutil.copyfile(legacy[0], copy)
    return copy


def test_heat_migration_counts_balance_per_table(legacy, tmp_path):
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{legacy[0]}"), dry_run=False, limit=None
    )

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS
    assert outcome.summary_dict["reconciliation_problems"] == []
    assert outcome.summary_dict["target_changes"]["inserted"] == {
        "assignment": 1441,
        "assignment_group": 7,
        "incident": 629,
        "lineage": 7328,
        "person": 2045,
        "problem": 27,
        "problem_incident": 16,
        "service_request": 339,
        "work_note": 1844,
    }
    assert outcome.summary_dict["target_changes"]["quarantine_written"] == 39


def test_heat_migration_quarantines_each_planted_defect_with_its_reason(
    legacy, tmp_path
):
    path, manifest = legacy
    execute_job(make_job(tmp_path, f"sqlite:///{path}"), dry_run=False, limit=None)
    lines = quarantine_report(tmp_path / "reports")

    assert reason_counts(lines) == {
        ("calls", "duplicate_key"): 2,
        ("calls", "unparseable"): 3,
        ("calls", "unmapped_value"): 3,
        ("assignments", "invalid_reference"): 16,
        ("journal", "invalid_reference"): 15,
    }
    by_reason: dict[str, list[str]] = {}
    for line in lines:
        if line["source_name"] == "calls":
            by_reason.setdefault(line["reason"], []).append(line["legacy_id"])
    assert sorted(by_reason["duplicate_key"]) == [manifest.duplicate_call_ids[0]] * 2
    assert sorted(by_reason["unparseable"]) == list(manifest.unparseable_dates)
    assert sorted(by_reason["unmapped_value"]) == list(manifest.unmapped_priority_calls)
    orphans = [
        line
        for line in lines
        if line["detail"] == "no record in 'calls' has this parent key"
    ]
    assert len(orphans) == manifest.orphan_assignments + manifest.orphan_journals


def test_heat_migration_target_holds_itil_values(legacy, tmp_path):
    path, manifest = legacy
    execute_job(make_job(tmp_path, f"sqlite:///{path}"), dry_run=False, limit=None)
    db = tmp_path / "target.db"

    assert query(
        db, "SELECT status, COUNT(*) FROM incident GROUP BY status ORDER BY 1"
    ) == [
        ("cancelled", 16),
        ("closed", 569),
        ("in_progress", 8),
        ("new", 12),
        ("on_hold", 13),
        ("resolved", 11),
    ]
    assert query(
        db,
        "SELECT classification_rule, COUNT(*) FROM service_request "
        "GROUP BY 1 ORDER BY 1",
    ) == [("calltype_request", 336), ("request_wording", 3)]
    assert sorted(
        r[0]
        for r in query(
            db,
            "SELECT legacy_id FROM service_request "
            "WHERE classification_rule = 'request_wording'",
        )
    ) == list(manifest.request_like_incidents)
    assert query(db, "SELECT COUNT(*) FROM problem WHERE origin = 'classified'") == [
        (24,)
    ]
    # Every incident's caller resolved through Profile or Subset (CustID + CustType).
    assert query(db, "SELECT COUNT(*) FROM incident WHERE caller_id IS NULL") == [(0,)]


def test_heat_migration_local_times_at_dst_changes_become_utc(legacy, tmp_path):
    path, manifest = legacy
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{path}"), dry_run=False, limit=None
    )
    db = tmp_path / "target.db"
    ids = [*manifest.dst_gap_calls, *manifest.dst_ambiguous_calls]
    rows = query(
        db,
        "SELECT legacy_id, opened_at FROM incident WHERE legacy_id IN (?, ?, ?, ?) "
        "UNION SELECT legacy_id, opened_at FROM service_request "
        "WHERE legacy_id IN (?, ?, ?, ?) ORDER BY 1",
        *ids,
        *ids,
    )

    assert outcome.summary_dict["dst_adjusted"] == {"opened_at": 4}
    assert [r[0] for r in rows] == sorted(ids)
    legacy_times = dict(
        query(
            path,
            "SELECT TRIM(CallID), RecvdDate || ' ' || RecvdTime FROM CallLog "
            "WHERE TRIM(CallID) IN (?, ?, ?, ?)",
            *ids,
        )
    )
    # Gap times move forward to 02:00 BST (01:00 UTC); repeated times take BST (UTC+1).
    for legacy_id, opened_at in rows:
        local = legacy_times[legacy_id]
        if legacy_id in manifest.dst_gap_calls:
            assert opened_at == f"{local[:10]}T01:00:00.000000+00:00"
        else:
            hour_minute = local[14:19]
            assert opened_at == f"{local[:10]}T00:{hour_minute}.000000+00:00"


def test_heat_migration_proposes_problems_for_repeat_incidents(legacy, tmp_path):
    path, _ = legacy
    execute_job(make_job(tmp_path, f"sqlite:///{path}"), dry_run=False, limit=None)
    rows = query(
        tmp_path / "target.db",
        "SELECT p.legacy_id, p.incident_count, i.legacy_id FROM problem_incident l "
        "JOIN problem p ON p.entity_id = l.problem_id "
        "JOIN incident i ON i.entity_id = l.incident_id ORDER BY 1, 3",
    )
    clusters: dict[str, list[str]] = {}
    for problem, count, incident in rows:
        clusters.setdefault(problem, []).append(incident)
        assert count == len([r for r in rows if r[0] == problem])

    assert clusters == {
        "repeat_incident_cluster|Email|00010526": [
            "00010525",
            "00010526",
            "00010527",
            "00010528",
            "00010529",
            "00010530",
        ],
        "repeat_incident_cluster|Network|00010298": [
            "00010296",
            "00010297",
            "00010298",
            "00010299",
            "00010300",
            "00010301",
        ],
        "repeat_incident_cluster|Printing|00010672": [
            "00010672",
            "00010673",
            "00010674",
            "00010675",
        ],
    }


def test_rerun_of_same_job_inserts_and_updates_nothing(legacy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{legacy[0]}")
    execute_job(job, dry_run=False, limit=None)
    second = execute_job(job, dry_run=False, limit=None)

    changes = second.summary_dict["target_changes"]
    assert second.balanced
    assert changes["inserted_total"] == 0
    assert changes["updated_total"] == 0
    assert changes["deleted"] == {}
    assert changes["quarantine_written"] == 39
    assert changes["unchanged"]["incident"] == 629


def test_rerun_after_source_change_updates_exactly_that_record(heat_copy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{heat_copy}")
    execute_job(job, dry_run=False, limit=None)
    with sqlite3.connect(heat_copy) as connection:
        connection.execute(
            "UPDATE CallLog SET ShortDesc = 'Changed summary' WHERE CallID = '00010100'"
        )
    second = execute_job(job, dry_run=False, limit=None)

    changes = second.summary_dict["target_changes"]
    assert changes["inserted_total"] == 0
    assert {t: n for t, n in changes["updated"].items() if n} == {
        "incident": 1,
        "lineage": 1,
    }
    assert query(
        tmp_path / "target.db",
        "SELECT title, run_id FROM incident WHERE legacy_id = '00010100'",
    ) == [("Changed summary", second.summary.run_id)]


def test_rerun_after_call_type_change_moves_the_record(heat_copy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{heat_copy}")
    execute_job(job, dry_run=False, limit=None)
    with sqlite3.connect(heat_copy) as connection:
        connection.execute(
            "UPDATE CallLog SET CallType = 'Service Request' WHERE CallID = '00010100'"
        )
    second = execute_job(job, dry_run=False, limit=None)

    changes = second.summary_dict["target_changes"]
    assert {t: n for t, n in changes["deleted"].items() if n} == {"incident": 1}
    assert {
        t: n for t, n in changes["inserted"].items() if n and t != "quarantine"
    } == {"service_request": 1}
    db = tmp_path / "target.db"
    assert query(db, "SELECT COUNT(*) FROM incident WHERE legacy_id = '00010100'") == [
        (0,)
    ]
    assert query(
        db,
        "SELECT entity_type FROM lineage "
        "WHERE legacy_id = '00010100' AND source_name = 'calls'",
    ) == [("service_request",)]


def test_rerun_after_source_record_deleted_does_not_balance(heat_copy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{heat_copy}")
    execute_job(job, dry_run=False, limit=None)
    with sqlite3.connect(heat_copy) as connection:
        connection.execute("DELETE FROM Journal WHERE CallID = '00010961'")
        deleted = connection.execute("SELECT changes()").fetchone()[0]
    second = execute_job(job, dry_run=False, limit=None)

    assert deleted == 5
    assert not second.balanced
    assert second.summary_dict["reconciliation_problems"] == [
        "Source 'journal': the target holds lineage for 1844 legacy ids but this run "
        "loaded 1839; 5 of them came from an earlier run and are no longer in the "
        "source."
    ]
    assert (second.report_dir / "findings.jsonl").read_text(encoding="utf-8").count(
        "reconciliation.balanced"
    ) == 1


def test_dry_run_writes_nothing_to_the_target(legacy, tmp_path):
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{legacy[0]}"), dry_run=True, limit=None
    )

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS
    assert not (tmp_path / "target.db").exists()


def test_limit_reads_n_rows_per_table_and_excludes_children_of_unread_calls(
    legacy, tmp_path
):
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{legacy[0]}"), dry_run=False, limit=100
    )

    assert outcome.balanced
    counts = table_counts(outcome.summary_dict)
    assert counts["calls"][0] == 100
    assert counts["assignments"][0] == 100
    excluded = {
        t["source_name"]: t["excluded_by_rule"] for t in outcome.summary_dict["tables"]
    }
    assert excluded["calls"] == {}
    assert set(excluded["journal"]) <= {"option_limit"}


def test_limit_on_a_fully_migrated_target_is_refused_before_writing(legacy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{legacy[0]}")
    full = execute_job(job, dry_run=False, limit=None)
    limited_again = make_job(tmp_path / "other", f"sqlite:///{legacy[0]}")
    execute_job(limited_again, dry_run=False, limit=50)
    rehearsal = execute_job(job, dry_run=True, limit=50)

    with pytest.raises(ConfigError) as caught:
        execute_job(job, dry_run=False, limit=50)

    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        f"--limit on the target 'sqlite:///{tmp_path / 'target.db'}', which holds "
        f"the full run {full.summary.run_id!r}: a limited run would rewrite people "
        "and links from part of the source; nothing was written.\n"
        "hint: rehearse with --dry-run --limit N, or give a new target with --target."
    )
    assert rehearsal.balanced
    assert query(
        tmp_path / "target.db", "SELECT COUNT(*), MIN(status) FROM migration_run"
    ) == [(1, "balanced")]


def test_upper_case_oracle_style_names_migrate_the_same(tmp_path):
    path = tmp_path / "upper.db"
    generate_heat(f"sqlite:///{path}", calls=1000, seed=7, case="upper")
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{path}"), dry_run=False, limit=None
    )

    counts = table_counts(outcome.summary_dict)
    assert counts == EXPECTED_COUNTS
    assert [t["table"] for t in outcome.summary_dict["tables"]] == [
        "PROFILE",
        "SUBSET",
        "CALLLOG",
        "ASGNMNT",
        "JOURNAL",
    ]


def test_cp1252_csv_export_migrates_like_the_database(tmp_path):
    folder = tmp_path / "csv"
    write_heat_csv(folder, calls=1000, seed=7, encoding="cp1252")
    outcome = execute_job(
        make_job(tmp_path, csv_folder=folder), dry_run=False, limit=None
    )

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == EXPECTED_COUNTS
    db = tmp_path / "target.db"
    fixed = query(db, "SELECT COUNT(*) FROM work_note WHERE text_raw LIKE '%Ã©%'")
    repaired = query(
        db,
        "SELECT COUNT(*) FROM work_note WHERE text_raw LIKE '%Ã©%' AND text LIKE '%é%'",
    )
    assert fixed == repaired


def test_rerun_after_cluster_breaks_up_removes_its_proposed_problem(
    heat_copy, tmp_path
):
    job = make_job(tmp_path, f"sqlite:///{heat_copy}")
    execute_job(job, dry_run=False, limit=None)
    with sqlite3.connect(heat_copy) as connection:
        connection.execute(
            "UPDATE CallLog SET ShortDesc = 'Toner order for the finance office' "
            "WHERE CallID = '00010673'"
        )
    second = execute_job(job, dry_run=False, limit=None)

    assert second.balanced
    deleted = second.summary_dict["target_changes"]["deleted"]
    assert deleted == {"lineage": 1, "problem": 1, "problem_incident": 4}
    db = tmp_path / "target.db"
    assert query(db, "SELECT COUNT(*) FROM problem WHERE origin = 'proposed'") == [(2,)]
    assert query(db, "SELECT COUNT(*) FROM problem_incident") == [(12,)]


def test_dry_run_against_existing_target_rehearses_a_rerun(heat_copy, tmp_path):
    job = make_job(tmp_path, f"sqlite:///{heat_copy}")
    execute_job(job, dry_run=False, limit=None)
    with sqlite3.connect(heat_copy) as connection:
        connection.execute(
            "UPDATE CallLog SET ShortDesc = 'Changed summary' WHERE CallID = '00010100'"
        )
    rehearsal = execute_job(job, dry_run=True, limit=None)

    changes = rehearsal.summary_dict["target_changes"]
    assert (changes["inserted_total"], changes["updated_total"]) == (0, 1)
    assert changes["updated"]["incident"] == 1
    assert query(
        tmp_path / "target.db",
        "SELECT title FROM incident WHERE legacy_id = '00010100'",
    ) != [("Changed summary",)]
    assert query(tmp_path / "target.db", "SELECT COUNT(*) FROM migration_run") == [(1,)]


def test_children_of_an_excluded_call_are_excluded_with_it(heat_copy, tmp_path):
    mapping = tmp_path / "heat.yaml"
    text = (
        Path(__file__).parents[1] / "itilmigrate/mappings/definitions/heat.yaml"
    ).read_text()
    mapping.write_text(
        text.replace(
            "    key: [CallID]\n    fields:\n      title:",
            "    key: [CallID]\n    exclude:\n      - name: complaints\n"
            "        when: {column: CallType, in: [Complaint]}\n"
            "    fields:\n      title:",
        ),
        encoding="utf-8",
    )
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{heat_copy}", mapping=str(mapping)),
        dry_run=False,
        limit=None,
    )

    assert outcome.balanced
    rules = {
        t["source_name"]: t["excluded_by_rule"] for t in outcome.summary_dict["tables"]
    }
    complaints = query(
        heat_copy, "SELECT COUNT(*) FROM CallLog WHERE CallType = 'Complaint'"
    )
    assert rules["calls"] == {"complaints": complaints[0][0]}
    child_rows = query(
        heat_copy,
        "SELECT COUNT(*) FROM Asgnmnt WHERE TRIM(CallID) IN "
        "(SELECT TRIM(CallID) FROM CallLog WHERE CallType = 'Complaint')",
    )
    assert rules["assignments"] == {"parent_excluded": child_rows[0][0]}


def test_nul_in_a_key_quarantines_the_record_as_unparseable(heat_copy, tmp_path):
    with sqlite3.connect(heat_copy) as connection:
        connection.execute(
            "UPDATE CallLog SET CallID = '0001' || char(0) || '0100' "
            "WHERE CallID = '00010100'"
        )
    outcome = execute_job(
        make_job(tmp_path, f"sqlite:///{heat_copy}"), dry_run=False, limit=None
    )

    assert outcome.balanced
    counts = table_counts(outcome.summary_dict)
    assert counts["calls"] == (1000, 991, 9, 0)
    assert query(
        tmp_path / "target.db",
        "SELECT legacy_id, reason, detail FROM quarantine "
        "WHERE detail LIKE '%control character%'",
    ) == [("0001\u24000100", "unparseable", "key ['CallID'] holds a control character")]
