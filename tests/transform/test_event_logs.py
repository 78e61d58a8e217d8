"""Event-log sources: one row per update, regrouped, ordered and reduced per record."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from itilmigrate.runner import execute_job
from tests.factories import (
    make_job,
    quarantine_report,
    query,
    reason_counts,
    table_counts,
)

if TYPE_CHECKING:
    from pathlib import Path

MAPPING = """\
name: events_test
timezone: UTC
dates:
  formats: ["%d/%m/%Y %H:%M"]
blank_values: ["?"]
value_maps:
  state:
    values: {New: new, Active: in_progress, Resolved: resolved, Closed: closed}
priority:
  matrix: {1: {1: 1, 2: 2}, 2: {1: 2, 2: 3}}
classification:
  default: incident
  rules:
    - name: request_category
      type: service_request
      when: {column: category, in: [Request]}
sources:
  - name: events
    table: events
    entity: record
    mode: events
    key: [number]
    exclude:
      - name: test_records
        when: {column: category, in: [Test]}
    fields:
      event_time: {column: updated_at, required: true}
      status: {column: state, map: state, required: true}
      opened_at: {column: updated_at, aggregate: first}
      resolved_at:
        column: updated_at
        aggregate: first
        when: {column: state, in: [Resolved]}
      responded_at:
        column: updated_at
        aggregate: first
        when: {column: state, in: [Active]}
      impact: {column: impact}
      urgency: {column: urgency}
      category: {column: category, aggregate: last_present}
      caller: {column: caller}
    assignments:
      group: {column: group}
      assignee: {column: analyst}
"""

# Rows are deliberately out of order and interleaved between records.
EVENTS = """\
number,state,updated_at,impact,urgency,category,caller,group,analyst
INC2,New,01/03/2016 09:00,2,1,Software,Caller 2,Desk,?
INC1,Active,01/03/2016 10:00,1,2,Network,Caller 1,Network,ann
INC1,New,01/03/2016 08:00,1,2,?,Caller 1,Desk,?
INC3,New,02/03/2016 08:00,1,1,Test,Caller 3,Desk,?
INC1,Active,01/03/2016 11:00,1,2,?,Caller 1,Desk,bob
INC2,Bogus,not a date,2,1,Software,Caller 2,Desk,?
INC1,Active,01/03/2016 12:00,1,2,?,Caller 1,Network,ann
INC1,Resolved,01/03/2016 13:00,1,2,?,Caller 1,Network,ann
INC1,Closed,03/03/2016 13:00,1,2,?,Caller 1,Network,ann
?,New,01/03/2016 09:00,1,1,Software,Caller 9,Desk,?
INC4,New,04/03/2016 08:00,1,1,Request,Caller 4,Desk,?
INC4,Weird,04/03/2016 09:00,1,1,Request,Caller 4,Desk,?
INC4,Active,04/03/2016 10:00,1,1,Request,Caller 4,Desk,?
"""


@pytest.fixture
def job(tmp_path: Path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    mapping = tmp_path / "events.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return make_job(tmp_path, csv_folder=folder, mapping=str(mapping), batch_size=3)


def test_event_log_counts_rows_per_outcome(job, tmp_path):
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    # INC1 (6 rows) loads; INC2 (2 rows, one with a bad time and state) and the
    # blank-key row are quarantined, INC4 too (an unmapped state on an event);
    # INC3's last event is a Test record: excluded.
    assert table_counts(outcome.summary_dict) == {"events": (13, 6, 6, 1)}
    assert outcome.summary_dict["tables"][0]["excluded_by_rule"] == {"test_records": 1}
    assert reason_counts(quarantine_report(tmp_path / "reports")) == {
        ("events", "unparseable"): 2,
        ("events", "missing_required"): 1,
        ("events", "unmapped_value"): 3,
    }


def test_event_log_reduces_events_to_the_current_record(job, tmp_path):
    execute_job(job, dry_run=False, limit=None)
    db = tmp_path / "target.db"

    assert query(
        db,
        "SELECT legacy_id, status, legacy_status, opened_at, responded_at, "
        "resolved_at, "
        "category, impact, urgency, priority, assignment_count, reassignment_count "
        "FROM incident",
    ) == [
        (
            "INC1",
            "closed",
            "Closed",
            "2016-03-01T08:00:00.000000+00:00",
            "2016-03-01T10:00:00.000000+00:00",
            "2016-03-01T13:00:00.000000+00:00",
            "Network",
            1,
            2,
            2,
            4,
            3,
        )
    ]


def test_event_log_builds_assignment_steps_on_each_change(job, tmp_path):
    execute_job(job, dry_run=False, limit=None)
    rows = query(
        tmp_path / "target.db",
        "SELECT a.legacy_id, a.seq, g.name, p.display_name, a.assigned_at, "
        "a.is_reassignment "
        "FROM assignment a LEFT JOIN assignment_group g ON g.entity_id = a.group_id "
        "LEFT JOIN person p ON p.entity_id = a.assignee_id ORDER BY a.seq",
    )

    assert rows == [
        ("INC1#1", 1, "Desk", None, "2016-03-01T08:00:00.000000+00:00", 0),
        ("INC1#2", 2, "Network", "ann", "2016-03-01T10:00:00.000000+00:00", 1),
        ("INC1#3", 3, "Desk", "bob", "2016-03-01T11:00:00.000000+00:00", 1),
        ("INC1#4", 4, "Network", "ann", "2016-03-01T12:00:00.000000+00:00", 1),
    ]


def test_event_log_rerun_changes_nothing(job):
    execute_job(job, dry_run=False, limit=None)
    second = execute_job(job, dry_run=False, limit=None)

    changes = second.summary_dict["target_changes"]
    assert (changes["inserted_total"], changes["updated_total"]) == (0, 0)
    assert json.loads(json.dumps(changes["unchanged"]))["incident"] == 1


def test_event_log_keeps_the_status_history_of_loaded_records(job, tmp_path):
    execute_job(job, dry_run=False, limit=None)

    assert query(
        tmp_path / "target.db",
        "SELECT legacy_id, seq, status, legacy_status, changed_at FROM status_change "
        "ORDER BY seq",
    ) == [
        ("INC1#1", 1, "new", "New", "2016-03-01T08:00:00.000000+00:00"),
        ("INC1#2", 2, "in_progress", "Active", "2016-03-01T10:00:00.000000+00:00"),
        ("INC1#3", 3, "resolved", "Resolved", "2016-03-01T13:00:00.000000+00:00"),
        ("INC1#4", 4, "closed", "Closed", "2016-03-03T13:00:00.000000+00:00"),
    ]


CHILD_MAPPING = """\
name: child_events
timezone: Europe/Amsterdam
dates:
  formats: ["%Y-%m-%d %H:%M:%S"]
value_maps:
  state:
    values: {Open: new, Closed: closed}
sources:
  - name: tickets
    table: tickets
    entity: record
    key: [id]
    fields:
      status: {column: state, map: state, required: true}
      opened_at: {column: opened, required: true}
  - name: team_history
    table: activities
    entity: assignment
    mode: events
    key: [ticket]
    parent: tickets
    parent_key: [ticket]
    fields:
      event_time: {column: at, required: true}
      group: {column: team}
"""
TICKETS = (
    "id,state,opened\nT1,Closed,2014-01-06 09:00:00\nT2,Open,2014-01-07 09:00:00\n"
)
# Interleaved, with a byte-order mark inside one key, an orphan and a bad time.
ACTIVITIES = (
    "ticket,at,team\n"
    "T1,2014-01-06 09:00:00,TEAM1\n"
    "T2,2014-01-07 09:00:00,TEAM1\n"
    "\ufeffT1,2014-01-06 10:00:00,TEAM1\n"
    "T1,2014-01-06 11:00:00,TEAM2\n"
    "T9,2014-01-06 11:00:00,TEAM2\n"
    "T2,not a time,TEAM3\n"
    "T1,2014-01-06 12:00:00,TEAM1\n"
)


def test_assignment_event_log_becomes_team_history_of_its_records(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    (folder / "activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    mapping = tmp_path / "child.yaml"
    mapping.write_text(CHILD_MAPPING, encoding="utf-8")
    job = make_job(tmp_path, csv_folder=folder, mapping=str(mapping), batch_size=2)
    outcome = execute_job(job, dry_run=False, limit=None)

    assert outcome.balanced
    assert table_counts(outcome.summary_dict) == {
        "tickets": (2, 2, 0, 0),
        "team_history": (7, 4, 3, 0),
    }
    assert reason_counts(quarantine_report(tmp_path / "reports")) == {
        ("team_history", "unparseable"): 2,
        ("team_history", "invalid_reference"): 1,
    }
    db = tmp_path / "target.db"
    assert query(
        db,
        "SELECT a.legacy_id, g.name, a.assigned_at, a.is_reassignment "
        "FROM assignment a JOIN assignment_group g ON g.entity_id = a.group_id "
        "ORDER BY a.legacy_id",
    ) == [
        ("T1#1", "TEAM1", "2014-01-06T08:00:00.000000+00:00", 0),
        ("T1#2", "TEAM2", "2014-01-06T10:00:00.000000+00:00", 1),
        ("T1#3", "TEAM1", "2014-01-06T11:00:00.000000+00:00", 1),
    ]
    assert query(
        db,
        "SELECT legacy_id, assignment_count, reassignment_count FROM incident "
        "ORDER BY 1",
    ) == [("T1", 3, 2), ("T2", 0, 0)]
