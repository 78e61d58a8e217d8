"""Relation rules: every reference between migrated entities resolves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.rules._common import blank, emit, show

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding


def _orphans(
    context: RuleContext, table: str, rule_id: str, noun: str
) -> list[Finding]:
    children = context.table(table)
    known = set(context.records()["entity_id"])
    failing = children.loc[~children["record_id"].isin(known)]
    messages = (
        noun
        + " seq "
        + show(failing["seq"])
        + " refers to record "
        + show(failing["record_legacy_id"])
        + ", which is not in the target."
    )
    return emit(context, rule_id, failing, messages, entity_type=table)


@rule(
    "relation.orphan_assignment",
    title="Assignment of a record that is not in the target",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=("assignment", "incident", "service_request", "problem"),
)
def orphan_assignment(context: RuleContext) -> list[Finding]:
    """Every assignment step belongs to a migrated record.

    An orphan step is history without its record: its parent was quarantined or
    lost. Assignments whose ``record_id`` is a target record pass.
    """
    return _orphans(context, "assignment", "relation.orphan_assignment", "Assignment")


@rule(
    "relation.orphan_work_note",
    title="Work note of a record that is not in the target",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=("work_note", "incident", "service_request", "problem"),
)
def orphan_work_note(context: RuleContext) -> list[Finding]:
    """Every work note belongs to a migrated record.

    An orphan note is journal text nobody can find again. Notes whose
    ``record_id`` is a target record pass.
    """
    return _orphans(context, "work_note", "relation.orphan_work_note", "Work note")


@rule(
    "relation.unknown_assignment_group",
    title="Record assigned to a group that is not in the target",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=("incident", "service_request", "problem", "assignment_group"),
)
def unknown_assignment_group(context: RuleContext) -> list[Finding]:
    """A record's assignment group exists in the target.

    A dangling group id hides ownership from every queue and report. Records
    without a group (see ``incident.no_assignment_group``) or with a known one
    pass.
    """
    records = context.records()
    groups = set(context.table("assignment_group")["entity_id"])
    has_group = ~blank(records["assignment_group_id"])
    failing = records.loc[has_group & ~records["assignment_group_id"].isin(groups)]
    messages = (
        "Assignment group "
        + show(failing["assignment_group_id"])
        + " is not in the target."
    )
    return emit(context, "relation.unknown_assignment_group", failing, messages)


@rule(
    "relation.unknown_caller",
    title="Record's caller is not in the target",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=("incident", "service_request", "problem", "person"),
)
def unknown_caller(context: RuleContext) -> list[Finding]:
    """A record's caller is a person in the target.

    A caller id without its person cannot be contacted or counted per customer.
    Records without a caller id, or whose caller exists, pass.
    """
    records = context.records()
    people = set(context.table("person")["entity_id"])
    has_caller = ~blank(records["caller_id"])
    failing = records.loc[has_caller & ~records["caller_id"].isin(people)]
    messages = "Caller " + show(failing["caller_id"]) + " is not in the target."
    return emit(context, "relation.unknown_caller", failing, messages)


@rule(
    "relation.dangling_problem_link",
    title="Problem link to a missing problem or incident",
    practice=Practice.PROBLEM,
    severity=Severity.ERROR,
    needs=("problem_incident", "problem", "incident"),
)
def dangling_problem_link(context: RuleContext) -> list[Finding]:
    """Both ends of a problem-incident link exist.

    A link to a missing record breaks the problem's incident count and the
    incident's root-cause trail. Links whose problem and incident exist pass.
    """
    links = context.table("problem_incident")
    problems = set(context.table("problem")["entity_id"])
    incidents = set(context.table("incident")["entity_id"])
    no_problem = ~links["problem_id"].isin(problems)
    no_incident = ~links["incident_id"].isin(incidents)
    failing = links.loc[no_problem | no_incident]
    missing = pd.Series("incident", index=failing.index).mask(
        no_problem.loc[failing.index], "problem"
    )
    rows = failing.assign(
        entity_id=failing["problem_id"] + ":" + failing["incident_id"]
    )
    messages = (
        "Link (rule "
        + show(rows["rule"])
        + ") from problem "
        + show(rows["problem_id"])
        + " to incident "
        + show(rows["incident_id"])
        + ": the "
        + missing
        + " is not in the target."
    )
    return emit(
        context,
        "relation.dangling_problem_link",
        rows,
        messages,
        entity_type="problem_incident",
    )
