"""Frame builders for rule tests: one entity per call, overrides by keyword."""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

from itilmigrate.compliance_checks.context import RuleContext, normalise_frame
from itilmigrate.compliance_checks.policy import Policy, load_policy

NOW = pd.Timestamp("2024-03-15T12:00:00Z")
RUN_ID = "check-run"


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _record(legacy_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "entity_id": f"rec-{legacy_id}",
        "source_system": "heat",
        "source_name": "calls",
        "legacy_id": legacy_id,
        "run_id": "load-run",
        "title": "Printer offline",
        "description": "The printer on floor 2 is offline",
        "description_raw": "The printer on floor 2 is offline",
        "status": "closed",
        "legacy_status": "Closed",
        "impact": 2,
        "urgency": 2,
        "priority": 3,
        "legacy_priority": "3",
        "category": "Hardware",
        "service": "Printing",
        "caller_id": "person-1",
        "caller_ref": "C1",
        "assignment_group_id": "group-a",
        "opened_at": _ts("2024-03-11T09:00:00Z"),
        "responded_at": _ts("2024-03-11T09:30:00Z"),
        "resolved_at": _ts("2024-03-11T11:00:00Z"),
        "closed_at": _ts("2024-03-12T09:00:00Z"),
        "updated_at": _ts("2024-03-12T09:00:00Z"),
        "resolution_notes": "Replaced the toner cartridge",
        "resolution_notes_raw": "Replaced the toner cartridge",
        "classification_rule": "default",
    }
    values.update(overrides)
    return values


def make_incident(legacy_id: str = "1", **overrides: Any) -> dict[str, Any]:
    """Return one valid, compliant incident as a dict of column values."""
    return {"major": False, **_record(legacy_id, **overrides)}


def make_service_request(legacy_id: str = "2", **overrides: Any) -> dict[str, Any]:
    """Return one valid, compliant service request."""
    values = _record(
        legacy_id,
        title="New laptop",
        description="Please provide a laptop",
        description_raw="Please provide a laptop",
        resolution_notes="Laptop delivered",
        resolution_notes_raw="Laptop delivered",
    )
    values.update({"request_type": "Hardware order", **overrides})
    return values


def make_problem(legacy_id: str = "3", **overrides: Any) -> dict[str, Any]:
    """Return one valid, compliant problem."""
    values = _record(legacy_id)
    values.update(
        {
            "origin": "classified",
            "origin_rule": "default",
            "root_cause": "Faulty driver",
            "workaround": None,
            "known_error": False,
            "incident_count": 1,
            **overrides,
        }
    )
    return values


def make_assignment(
    record: str, seq: int, group: str, **overrides: Any
) -> dict[str, Any]:
    """Return one assignment step of record entity id ``rec-<record>``."""
    return {
        "entity_id": f"asg-{record}-{seq}",
        "source_system": "heat",
        "source_name": "assignments",
        "legacy_id": f"{record}-{seq}",
        "run_id": "load-run",
        "record_id": f"rec-{record}",
        "record_legacy_id": record,
        "seq": seq,
        "group_id": group,
        "assigned_at": _ts("2024-03-11T09:00:00Z") + pd.Timedelta(minutes=seq),
        **overrides,
    }


def make_work_note(record: str, seq: int = 1, **overrides: Any) -> dict[str, Any]:
    """Return one work note of record entity id ``rec-<record>``."""
    return {
        "entity_id": f"note-{record}-{seq}",
        "source_system": "heat",
        "source_name": "notes",
        "legacy_id": f"{record}-{seq}",
        "run_id": "load-run",
        "record_id": f"rec-{record}",
        "record_legacy_id": record,
        "seq": seq,
        "noted_at": _ts("2024-03-11T10:00:00Z"),
        "note_type": "note",
        "text": "Checked the cable",
        **overrides,
    }


def make_status_change(
    record: str, seq: int, status: str, at: str, **overrides: Any
) -> dict[str, Any]:
    """Return one status change of record entity id ``rec-<record>``."""
    return {
        "entity_id": f"sc-{record}-{seq}",
        "source_system": "heat",
        "source_name": "calls_status",
        "legacy_id": f"{record}#{seq}",
        "run_id": "load-run",
        "record_id": f"rec-{record}",
        "record_legacy_id": record,
        "seq": seq,
        "status": status,
        "legacy_status": status,
        "changed_at": _ts(at),
        **overrides,
    }


def make_group(entity_id: str = "group-a", legacy_id: str = "A") -> dict[str, Any]:
    """Return one assignment group."""
    return {
        "entity_id": entity_id,
        "source_system": "heat",
        "source_name": "groups",
        "legacy_id": legacy_id,
        "run_id": "load-run",
        "name": f"Group {legacy_id}",
    }


def make_person(entity_id: str = "person-1") -> dict[str, Any]:
    """Return one customer."""
    return {
        "entity_id": entity_id,
        "source_system": "heat",
        "source_name": "customers",
        "legacy_id": entity_id,
        "run_id": "load-run",
        "kind": "customer",
    }


def make_run(run_id: str = "load-run", **overrides: Any) -> dict[str, Any]:
    """Return one finished, balanced migration run."""
    return {
        "run_id": run_id,
        "job_name": "job",
        "mapping_name": "heat",
        "started_at": _ts("2024-03-14T20:00:00Z"),
        "finished_at": _ts("2024-03-14T20:05:00Z"),
        "status": "balanced",
        "counts": '{"sources": [{"source_name": "calls", "table": "CallLog", '
        '"read_count": 3, "loaded_count": 3, "quarantined_count": 0, '
        '"excluded_count": 0, "balanced": true}], "reconciliation_problems": []}',
        "dry_run": False,
        **overrides,
    }


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return rows as a frame with ``table``'s columns and canonical dtypes."""
    return normalise_frame(pd.DataFrame(rows), table)


@cache
def default_policy() -> Policy:
    """Return the bundled policy, parsed once per test session."""
    return load_policy()


def make_context(
    *,
    policy: Policy | None = None,
    now: pd.Timestamp = NOW,
    **tables: list[dict[str, Any]],
) -> RuleContext:
    """Return a context holding the given tables (others empty), as the target would."""
    defaults: dict[str, list[dict[str, Any]]] = {
        "assignment_group": [make_group()],
        "person": [make_person()],
    }
    defaults.update(tables)
    return RuleContext(
        tables={name: frame(name, rows) for name, rows in defaults.items()},
        policy=policy if policy is not None else default_policy(),
        run_id=RUN_ID,
        now=now,
    )
