"""A passing and a failing example for every rule, with the exact findings expected.

The conformance suite (test_conformance.py) requires an entry here for every
registered rule, so a new rule without examples fails CI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from tests.compliance_checks.factories import (
    make_assignment,
    make_context,
    make_group,
    make_incident,
    make_problem,
    make_run,
    make_service_request,
    make_status_change,
    make_work_note,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from itilmigrate.compliance_checks.context import RuleContext


@dataclass(frozen=True, slots=True)
class RuleCase:
    """Contexts on which a rule finds nothing, and exactly ``expected``."""

    passing: Callable[[], RuleContext]
    failing: Callable[[], RuleContext]
    #: (legacy_id, message) of every finding on the failing context, in order.
    expected: list[tuple[str | None, str]]


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def _incidents(
    *incidents: dict[str, object], **tables: object
) -> Callable[[], RuleContext]:
    return lambda: make_context(incident=list(incidents), **tables)  # type: ignore[arg-type]


def _requests(*requests: dict[str, object]) -> Callable[[], RuleContext]:
    return lambda: make_context(service_request=list(requests))


def _problems(
    *problems: dict[str, object], **tables: object
) -> Callable[[], RuleContext]:
    return lambda: make_context(problem=list(problems), **tables)  # type: ignore[arg-type]


_OPEN = {"status": "in_progress", "resolved_at": None, "closed_at": None}
_REPEATS = [
    make_incident(
        str(n),
        entity_id=f"rec-{n}",
        description="Outlook crashes when opening the calendar",
        opened_at=_ts(f"2024-03-0{n}T09:00:00Z"),
        responded_at=None,
        resolved_at=None,
        closed_at=None,
        updated_at=None,
    )
    for n in (4, 5, 6)
]
_LINK = {
    "problem_id": "rec-P1",
    "incident_id": "rec-5",
    "rule": "manual",
    "run_id": "r",
}


RULE_CASES: dict[str, RuleCase] = {
    "incident.missing_category": RuleCase(
        _incidents(make_incident()),
        _incidents(make_incident(), make_incident("7", category="  ")),
        [("7", "Incident has no category (status closed).")],
    ),
    "incident.missing_impact_urgency": RuleCase(
        _incidents(make_incident()),
        _incidents(make_incident("7", urgency=None)),
        [("7", "Incident lacks impact or urgency (impact 2, urgency none).")],
    ),
    "incident.priority_not_matrix": RuleCase(
        _incidents(make_incident(), make_incident("8", impact=None)),
        _incidents(
            make_incident("7", priority=1), make_incident("8", impact=4, urgency=1)
        ),
        [
            ("7", "Priority 1 for impact 2 x urgency 2; the policy matrix gives 3."),
            (
                "8",
                "Priority 3 for impact 4 x urgency 1; the policy matrix has no "
                "entry for them.",
            ),
        ],
    ),
    "incident.missing_resolution_notes": RuleCase(
        _incidents(make_incident(), make_incident("8", **_OPEN, resolution_notes=None)),
        _incidents(make_incident("7", status="resolved", resolution_notes="")),
        [("7", "Incident is resolved without resolution notes.")],
    ),
    "incident.placeholder_resolution_notes": RuleCase(
        _incidents(make_incident(resolution_notes="Fixed the driver")),
        _incidents(make_incident("7", resolution_notes=" Fixed. ")),
        [("7", "Incident is closed with the stop-list resolution note 'fixed'.")],
    ),
    "incident.closed_without_resolved_time": RuleCase(
        _incidents(make_incident(), make_incident("8", **_OPEN)),
        _incidents(make_incident("7", resolved_at=None)),
        [("7", "Incident is closed without a resolved time.")],
    ),
    "incident.no_assignment_group": RuleCase(
        _incidents(
            make_incident(),
            make_incident("8", status="new", assignment_group_id=None),
            make_incident("9", status="cancelled", assignment_group_id=None),
        ),
        _incidents(make_incident("7", status="on_hold", assignment_group_id=None)),
        [("7", "Incident is on_hold without an assignment group.")],
    ),
    "incident.missing_caller": RuleCase(
        _incidents(make_incident(), make_incident("8", caller_id=None)),
        _incidents(make_incident("7", caller_id=None, caller_ref=None)),
        [("7", "Incident has no caller.")],
    ),
    "incident.probable_service_request": RuleCase(
        _incidents(make_incident()),
        _incidents(make_incident("7", description="Could you please install Visio")),
        [
            (
                "7",
                "Incident text matches request wording "
                r"/\bplease (install|provide|set up|order|create)\b/.",
            )
        ],
    ),
    "incident.major_without_review": RuleCase(
        _incidents(
            make_incident(major=True),
            make_incident("8", major=True, **_OPEN),
            make_incident("9", major=True),
            work_note=[
                make_work_note("1", note_type="major_incident_review"),
                make_work_note("9", text="Post-incident review held on Monday"),
            ],
        ),
        _incidents(
            make_incident("7", major=True),
            work_note=[make_work_note("7")],
        ),
        [("7", "Major incident is closed without a review note.")],
    ),
}

_GROUPS = [make_group(), make_group("group-b", "B"), make_group("group-c", "C")]
_PAUSED_HISTORY = [
    make_status_change("8", 1, "new", "2024-03-11T09:00:00Z"),
    make_status_change("8", 2, "on_hold", "2024-03-11T09:10:00Z"),
    make_status_change("8", 3, "in_progress", "2024-03-11T09:50:00Z"),
    make_status_change("8", 4, "resolved", "2024-03-11T11:00:00Z"),
]


def _history(record: str, *steps: tuple[str, str]) -> list[dict[str, object]]:
    return [
        make_status_change(record, n, status, at)
        for n, (status, at) in enumerate(steps, start=1)
    ]


def _hops(record: str, *groups: str) -> list[dict[str, object]]:
    return [make_assignment(record, n, g) for n, g in enumerate(groups, start=1)]


RULE_CASES.update(
    {
        "incident.response_sla_breached": RuleCase(
            _incidents(
                make_incident(),
                make_incident(
                    "8", priority=2, responded_at=_ts("2024-03-11T10:00:00Z")
                ),
                status_change=_PAUSED_HISTORY,
            ),
            _incidents(
                make_incident("7", priority=2, responded_at=_ts("2024-03-11T10:00:00Z"))
            ),
            [
                (
                    "7",
                    "Response took 1h00m on the business clock (target 0h30m, priority "
                    "2, paused 0h00m; no status history, pauses not subtracted).",
                )
            ],
        ),
        "incident.resolution_sla_breached": RuleCase(
            _incidents(
                make_incident(), make_incident("8", **{**_OPEN, "status": "cancelled"})
            ),
            _incidents(
                make_incident("7", priority=2, resolved_at=_ts("2024-03-12T11:00:00Z")),
                make_incident(
                    "9",
                    opened_at=_ts("2024-03-01T09:00:00Z"),
                    responded_at=None,
                    **_OPEN,
                ),
            ),
            [
                (
                    "7",
                    "Resolution took 12h00m on the business clock (target 8h00m, "
                    "priority 2, paused 0h00m; no status history, pauses not "
                    "subtracted).",
                ),
                (
                    "9",
                    "Resolution has been open 103h00m on the business clock (target "
                    "30h00m, priority 3, paused 0h00m; no status history, pauses not "
                    "subtracted).",
                ),
            ],
        ),
        "service_request.fulfilment_sla_breached": RuleCase(
            _requests(make_service_request()),
            _requests(
                make_service_request(
                    "7",
                    opened_at=_ts("2024-03-01T09:00:00Z"),
                    responded_at=None,
                    resolved_at=_ts("2024-03-14T09:00:00Z"),
                    closed_at=_ts("2024-03-14T10:00:00Z"),
                )
            ),
            [
                (
                    "7",
                    "Fulfilment took 90h00m on the business clock (target 50h00m, "
                    "priority 3, paused 0h00m; no status history, pauses not "
                    "subtracted).",
                )
            ],
        ),
        "incident.open_too_long": RuleCase(
            _incidents(
                make_incident(),
                make_incident("8", opened_at=_ts("2024-03-10T09:00:00Z"), **_OPEN),
            ),
            _incidents(
                make_incident("7", opened_at=_ts("2024-02-01T09:00:00Z"), **_OPEN)
            ),
            [("7", "Incident has been open 43 days (limit 20 for priority 3).")],
        ),
        "record.stale": RuleCase(
            lambda: make_context(
                incident=[
                    make_incident(),
                    make_incident("8", updated_at=_ts("2024-03-10T09:00:00Z"), **_OPEN),
                ],
                problem=[make_problem("9", updated_at=None, **_OPEN)],
            ),
            lambda: make_context(
                service_request=[
                    make_service_request(
                        "7", updated_at=_ts("2024-02-20T10:00:00Z"), **_OPEN
                    )
                ]
            ),
            [
                (
                    "7",
                    "No update for 24 days (limit 14); last update "
                    "2024-02-20T10:00:00Z.",
                )
            ],
        ),
        "incident.reassignment_ping_pong": RuleCase(
            _incidents(
                make_incident(),
                assignment=_hops("1", "group-a", "group-a", "group-b"),
                assignment_group=_GROUPS,
            ),
            _incidents(
                make_incident("7"),
                assignment=_hops("7", "group-a", "group-b", "group-a", "group-b"),
                assignment_group=_GROUPS,
            ),
            [("7", "Assignment returned to group A after group B (assignment seq 3).")],
        ),
        "incident.too_many_group_hops": RuleCase(
            _incidents(
                make_incident(),
                make_incident("8", reassignment_count=3),
                assignment=_hops("1", "group-a", "group-b", "group-a", "group-b"),
            ),
            _incidents(
                make_incident("7"),
                make_incident("8", reassignment_count=5),
                assignment=_hops("7", "a", "b", "c", "d", "e"),
            ),
            [
                ("7", "4 assignment group changes (limit 3)."),
                ("8", "5 assignment group changes (limit 3)."),
            ],
        ),
        "incident.reopened_outside_window": RuleCase(
            _incidents(
                make_incident(),
                status_change=_history(
                    "1",
                    ("new", "2024-03-01T09:00:00Z"),
                    ("resolved", "2024-03-01T10:00:00Z"),
                    ("in_progress", "2024-03-05T10:00:00Z"),
                    ("closed", "2024-03-06T10:00:00Z"),
                ),
            ),
            _incidents(
                make_incident("7"),
                status_change=_history(
                    "7",
                    ("new", "2024-03-01T09:00:00Z"),
                    ("resolved", "2024-03-01T10:00:00Z"),
                    ("in_progress", "2024-03-14T10:00:00Z"),
                ),
            ),
            [
                (
                    "7",
                    "Reopened 13 days after being resolved (window 10 days) at "
                    "2024-03-14T10:00:00Z.",
                )
            ],
        ),
        "record.illegal_transition": RuleCase(
            _incidents(
                make_incident(),
                status_change=_history(
                    "1",
                    ("new", "2024-03-01T09:00:00Z"),
                    ("in_progress", "2024-03-01T10:00:00Z"),
                    ("in_progress", "2024-03-01T10:30:00Z"),
                    ("on_hold", "2024-03-01T11:00:00Z"),
                    ("resolved", "2024-03-01T12:00:00Z"),
                    ("in_progress", "2024-03-01T13:00:00Z"),
                    ("resolved", "2024-03-01T14:00:00Z"),
                    ("closed", "2024-03-02T09:00:00Z"),
                ),
            ),
            _incidents(
                make_incident("7"),
                status_change=_history(
                    "7",
                    ("new", "2024-03-01T09:00:00Z"),
                    ("in_progress", "2024-03-01T10:00:00Z"),
                    ("closed", "2024-03-01T11:00:00Z"),
                    ("in_progress", "2024-03-01T12:00:00Z"),
                    ("new", "2024-03-01T13:00:00Z"),
                ),
            ),
            [
                (
                    "7",
                    "Status went from closed to in_progress at 2024-03-01T12:00:00Z "
                    "(2 illegal transition(s)).",
                )
            ],
        ),
        "incident.repeat_without_problem": RuleCase(
            _incidents(
                *_REPEATS,
                problem=[make_problem("P1")],
                problem_incident=[_LINK],
            ),
            _incidents(*_REPEATS, make_incident()),
            [
                (
                    "4",
                    "3 similar incidents opened 2024-03-04T09:00:00Z to "
                    "2024-03-06T09:00:00Z (first 4, last 6) have no linked problem.",
                )
            ],
        ),
        "incident.major_without_problem": RuleCase(
            _incidents(
                make_incident("5", major=True),
                make_incident("8", major=True, **_OPEN),
                problem_incident=[_LINK],
            ),
            _incidents(make_incident("7", major=True), make_incident()),
            [("7", "Major incident is closed without a linked problem.")],
        ),
        "problem.closed_without_root_cause": RuleCase(
            _problems(make_problem(), make_problem("8", root_cause=None, **_OPEN)),
            _problems(make_problem("7", status="resolved", root_cause=" ")),
            [("7", "Problem is resolved without a root cause.")],
        ),
        "problem.known_error_without_workaround": RuleCase(
            _problems(
                make_problem(), make_problem("8", known_error=True, workaround="Reboot")
            ),
            _problems(make_problem("7", known_error=True, **_OPEN)),
            [("7", "Known error (status in_progress) has no workaround.")],
        ),
        "problem.idle": RuleCase(
            _problems(
                make_problem(updated_at=_ts("2023-01-01T00:00:00Z")),
                make_problem("8", updated_at=_ts("2024-03-01T00:00:00Z"), **_OPEN),
            ),
            _problems(
                make_problem("7", updated_at=_ts("2023-11-01T12:00:00Z"), **_OPEN)
            ),
            [
                (
                    "7",
                    "Open problem not updated for 135 days (limit 90); last update "
                    "2023-11-01T12:00:00Z.",
                )
            ],
        ),
        "problem.without_incidents": RuleCase(
            _problems(
                make_problem(),
                make_problem("P1", incident_count=0),
                make_problem("9", incident_count=0, **_OPEN),
                problem_incident=[_LINK],
            ),
            _problems(make_problem("7", incident_count=0)),
            [("7", "Problem is closed with no linked incident.")],
        ),
        "service_request.missing_request_type": RuleCase(
            _requests(make_service_request()),
            _requests(make_service_request("7", request_type=None)),
            [("7", "Service request has no request type (status closed).")],
        ),
        "service_request.closed_without_fulfilment_notes": RuleCase(
            _requests(
                make_service_request(),
                make_service_request("8", resolution_notes=None, **_OPEN),
            ),
            _requests(make_service_request("7", resolution_notes=None)),
            [("7", "Service request is closed without fulfilment notes.")],
        ),
        "service_request.missing_caller": RuleCase(
            _requests(
                make_service_request(), make_service_request("8", caller_ref=None)
            ),
            _requests(make_service_request("7", caller_id="", caller_ref=None)),
            [("7", "Service request has no requester.")],
        ),
    }
)

_UNBALANCED = (
    '{"sources": [{"source_name": "calls", "table": "CallLog", "read_count": 3, '
    '"loaded_count": 2, "quarantined_count": 0, "excluded_count": 0, '
    '"balanced": false}], "reconciliation_problems": ["Source \'calls\': the target '
    'holds lineage for 2 legacy ids but this run loaded 3 (1 missing)."]}'
)
_UNMAPPED = (
    "field 'status': value of 'CallStatus' not in value map 'status' and no default"
)


def _quarantined(legacy_id: str, run_id: str, reason: str) -> dict[str, object]:
    return {
        "id": int(legacy_id),
        "run_id": run_id,
        "batch_id": f"{run_id}:00001",
        "source_system": "heat",
        "source_name": "calls",
        "legacy_id": legacy_id,
        "stage": "transform",
        "reason": reason,
        "detail": _UNMAPPED,
        "raw": "{}",
        "quarantined_at": _ts("2024-03-14T20:01:00Z"),
    }


def _runs(*runs: dict[str, object], **tables: object) -> Callable[[], RuleContext]:
    return lambda: make_context(migration_run=list(runs), **tables)  # type: ignore[arg-type]


_OLD_RUN = make_run(
    "old-run",
    started_at=_ts("2024-03-01T20:00:00Z"),
    finished_at=_ts("2024-03-01T20:05:00Z"),
    status="unbalanced",
    counts=_UNBALANCED,
)
_DRY_RUN = make_run(
    "dry-run",
    started_at=_ts("2024-03-15T08:00:00Z"),
    status="unbalanced",
    counts=_UNBALANCED,
    dry_run=True,
)
_ORPHAN = {"record_id": "rec-99", "record_legacy_id": "99"}

RULE_CASES.update(
    {
        "reconciliation.run_balanced": RuleCase(
            _runs(_OLD_RUN, make_run(), _DRY_RUN),
            _runs(make_run(status="unbalanced", counts=_UNBALANCED)),
            [
                (
                    None,
                    "Run load-run: source calls table CallLog read 3 != loaded 2 + "
                    "quarantined 0 + excluded 0. Run load-run: Source 'calls': the "
                    "target holds lineage for 2 legacy ids but this run loaded 3 (1 "
                    "missing).",
                )
            ],
        ),
        "reconciliation.run_completed": RuleCase(
            _runs(make_run(), _DRY_RUN),
            _runs(_OLD_RUN, make_run(status="failed", finished_at=None)),
            [(None, "Run load-run has status failed and finish time none.")],
        ),
        "reconciliation.unmapped_values_quarantined": RuleCase(
            _runs(
                _OLD_RUN,
                make_run(),
                quarantine=[
                    _quarantined("5", "old-run", "unmapped_value"),
                    _quarantined("6", "load-run", "missing_required"),
                ],
            ),
            _runs(
                make_run(),
                quarantine=[_quarantined("77", "load-run", "unmapped_value")],
            ),
            [
                (
                    "77",
                    f"Record of source calls quarantined in run load-run: {_UNMAPPED}.",
                )
            ],
        ),
        "record.duplicate_legacy_id": RuleCase(
            lambda: make_context(
                incident=[make_incident()], service_request=[make_service_request()]
            ),
            lambda: make_context(
                incident=[make_incident("7")],
                service_request=[make_service_request("7", entity_id="rec-7b")],
            ),
            [
                (
                    "7",
                    "Legacy id of source calls is held by 2 records (incident, "
                    "service_request).",
                ),
                (
                    "7",
                    "Legacy id of source calls is held by 2 records (incident, "
                    "service_request).",
                ),
            ],
        ),
        "record.legacy_priority_unmapped": RuleCase(
            _incidents(
                make_incident(), make_incident("8", legacy_priority=None, priority=None)
            ),
            _incidents(
                make_incident(
                    "7", legacy_priority="P9", priority=None, impact=None, urgency=None
                )
            ),
            [
                (
                    "7",
                    "Legacy priority 'P9' has no ITIL priority (impact none, "
                    "urgency none).",
                )
            ],
        ),
        "record.status_conflict": RuleCase(
            _incidents(make_incident()),
            _incidents(
                make_incident(
                    "7",
                    status="in_progress",
                    legacy_status="Open",
                    status_conflict="open_with_close_date",
                )
            ),
            [
                (
                    "7",
                    "Status in_progress (legacy 'Open') conflicts with the close "
                    "fields: open_with_close_date.",
                )
            ],
        ),
        "record.timestamp_at_run_time": RuleCase(
            _incidents(make_incident(), migration_run=[make_run()]),
            _incidents(
                make_incident("7", closed_at=_ts("2024-03-14T20:02:00Z")),
                migration_run=[make_run()],
            ),
            [
                (
                    "7",
                    "closed_at 2024-03-14T20:02:00Z lies inside migration run "
                    "load-run.",
                )
            ],
        ),
        "record.timestamps_out_of_order": RuleCase(
            _incidents(make_incident(), make_incident("8", responded_at=None)),
            _incidents(make_incident("7", resolved_at=_ts("2024-03-11T08:00:00Z"))),
            [
                (
                    "7",
                    "opened_at 2024-03-11T09:00:00Z is after resolved_at "
                    "2024-03-11T08:00:00Z.",
                )
            ],
        ),
        "record.timestamp_in_future": RuleCase(
            _incidents(make_incident()),
            _incidents(make_incident("7", closed_at=_ts("2025-03-12T09:00:00Z"))),
            [
                (
                    "7",
                    "closed_at 2025-03-12T09:00:00Z is after the check time "
                    "2024-03-15T12:00:00Z.",
                )
            ],
        ),
        "record.mojibake_text": RuleCase(
            _incidents(make_incident(title="Café printer, floor 2")),
            _incidents(make_incident("7", resolution_notes="CafÃ© printer fixed")),
            [("7", "Field resolution_notes contains garbled characters.")],
        ),
        "record.truncated_text": RuleCase(
            _incidents(make_incident(description_raw="x" * 254)),
            _incidents(make_incident("7", description_raw="x" * 255)),
            [
                (
                    "7",
                    "Field description is exactly 255 characters long, a common "
                    "field limit.",
                )
            ],
        ),
        "relation.orphan_assignment": RuleCase(
            _incidents(make_incident(), assignment=_hops("1", "group-a")),
            _incidents(
                make_incident(),
                assignment=[make_assignment("99", 1, "group-a", **_ORPHAN)],
            ),
            [
                (
                    "99-1",
                    "Assignment seq 1 refers to record 99, which is not in the target.",
                )
            ],
        ),
        "relation.orphan_work_note": RuleCase(
            _incidents(make_incident(), work_note=[make_work_note("1")]),
            _incidents(make_incident(), work_note=[make_work_note("99", 2)]),
            [
                (
                    "99-2",
                    "Work note seq 2 refers to record 99, which is not in the target.",
                )
            ],
        ),
        "relation.unknown_assignment_group": RuleCase(
            _incidents(make_incident(), make_incident("8", assignment_group_id=None)),
            _incidents(make_incident("7", assignment_group_id="group-z")),
            [("7", "Assignment group group-z is not in the target.")],
        ),
        "relation.unknown_caller": RuleCase(
            _incidents(make_incident(), make_incident("8", caller_id=None)),
            _incidents(make_incident("7", caller_id="person-9")),
            [("7", "Caller person-9 is not in the target.")],
        ),
        "relation.dangling_problem_link": RuleCase(
            _incidents(
                make_incident("5"),
                problem=[make_problem("P1")],
                problem_incident=[_LINK],
            ),
            _incidents(
                make_incident("5"),
                problem=[make_problem("P1")],
                problem_incident=[{**_LINK, "incident_id": "rec-77"}],
            ),
            [
                (
                    None,
                    "Link (rule manual) from problem rec-P1 to incident rec-77: the "
                    "incident is not in the target.",
                )
            ],
        ),
    }
)
