"""Incident management rules: classification, priority, closure, ownership."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.rules._common import (
    DONE_STATUSES,
    blank,
    emit,
    show,
)
from itilmigrate.entities import Status

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding

_INCIDENT = ("incident",)


def stop_listed(notes: pd.Series, stop_list: list[str]) -> pd.Series:
    """Return the stop-list word a note consists of, or NA (case and dots ignored)."""
    words = {word.strip().casefold() for word in stop_list}
    reduced = (
        notes.astype("string").str.strip().str.rstrip(".!").str.strip().str.casefold()
    )
    return reduced.where(reduced.isin(words))


@rule(
    "incident.missing_category",
    title="Incident has no category",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=_INCIDENT,
)
def missing_category(context: RuleContext) -> list[Finding]:
    """Every incident has a category.

    ITIL incident logging categorises each incident so that trends, routing and
    problem analysis work. An incident with a non-blank category passes.
    """
    incidents = context.table("incident")
    failing = incidents.loc[blank(incidents["category"])]
    messages = "Incident has no category (status " + show(failing["status"]) + ")."
    return emit(
        context, "incident.missing_category", failing, messages, entity_type="incident"
    )


@rule(
    "incident.missing_impact_urgency",
    title="Incident lacks impact or urgency",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=_INCIDENT,
)
def missing_impact_urgency(context: RuleContext) -> list[Finding]:
    """Every incident has both an impact and an urgency.

    ITIL derives priority from impact and urgency; without them the priority cannot
    be justified or recomputed. An incident with both values passes.
    """
    incidents = context.table("incident")
    failing = incidents.loc[incidents["impact"].isna() | incidents["urgency"].isna()]
    messages = (
        "Incident lacks impact or urgency (impact "
        + show(failing["impact"])
        + ", urgency "
        + show(failing["urgency"])
        + ")."
    )
    return emit(
        context,
        "incident.missing_impact_urgency",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.priority_not_matrix",
    title="Incident priority differs from the priority matrix",
    practice=Practice.INCIDENT,
    severity=Severity.ERROR,
    needs=("incident", "policy"),
)
def priority_not_matrix(context: RuleContext) -> list[Finding]:
    """An incident's priority is the policy matrix's value for its impact and urgency.

    A priority set by hand, against the agreed impact x urgency matrix, breaks SLA
    targets and reporting. Incidents lacking impact or urgency are left to
    ``incident.missing_impact_urgency``; an incident whose priority equals
    ``priority_matrix[impact][urgency]`` passes.
    """
    incidents = context.table("incident")
    rated = incidents.loc[incidents["impact"].notna() & incidents["urgency"].notna()]
    matrix = pd.DataFrame(
        [
            (impact, urgency, priority)
            for impact, row in context.policy.priority_matrix.items()
            for urgency, priority in row.items()
        ],
        columns=["impact", "urgency", "expected"],
    ).astype("Int64")
    judged = rated.merge(matrix, on=["impact", "urgency"], how="left")
    wrong = judged["expected"].isna() | judged["priority"].ne(
        judged["expected"]
    ).fillna(True)
    failing = judged.loc[wrong]
    verdict = ("the policy matrix gives " + show(failing["expected"])).where(
        failing["expected"].notna(), "the policy matrix has no entry for them"
    )
    messages = (
        "Priority "
        + show(failing["priority"])
        + " for impact "
        + show(failing["impact"])
        + " x urgency "
        + show(failing["urgency"])
        + "; "
        + verdict
        + "."
    )
    return emit(
        context,
        "incident.priority_not_matrix",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.missing_resolution_notes",
    title="Resolved or closed incident without resolution notes",
    practice=Practice.INCIDENT,
    severity=Severity.ERROR,
    needs=_INCIDENT,
)
def missing_resolution_notes(context: RuleContext) -> list[Finding]:
    """A resolved or closed incident records how it was resolved.

    Resolution notes are the knowledge that lets the next analyst, and problem
    management, reuse the fix. A resolved or closed incident with notes passes.
    """
    incidents = context.table("incident")
    done = incidents["status"].isin(DONE_STATUSES)
    failing = incidents.loc[done & blank(incidents["resolution_notes"])]
    messages = "Incident is " + show(failing["status"]) + " without resolution notes."
    return emit(
        context,
        "incident.missing_resolution_notes",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.placeholder_resolution_notes",
    title="Resolution notes are a stop-list word",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=("incident", "policy"),
)
def placeholder_resolution_notes(context: RuleContext) -> list[Finding]:
    """Resolution notes say more than a stop-list word such as "done" or "fixed".

    A note that only says "fixed" documents nothing (policy
    ``thresholds.stop_list_notes``). Notes with any other content pass.
    """
    incidents = context.table("incident")
    done = incidents.loc[incidents["status"].isin(DONE_STATUSES)]
    word = stop_listed(
        done["resolution_notes"], context.policy.thresholds.stop_list_notes
    )
    failing = done.loc[word.notna()]
    messages = (
        "Incident is "
        + show(failing["status"])
        + " with the stop-list resolution note '"
        + show(word.loc[failing.index])
        + "'."
    )
    return emit(
        context,
        "incident.placeholder_resolution_notes",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.closed_without_resolved_time",
    title="Closed incident without a resolved time",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=_INCIDENT,
)
def closed_without_resolved_time(context: RuleContext) -> list[Finding]:
    """A closed incident has a resolved time.

    Resolution time is what MTTR and the resolution SLA measure; a closed incident
    without it drops out of both. A closed incident with ``resolved_at`` passes.
    """
    incidents = context.table("incident")
    closed = incidents["status"].eq(Status.CLOSED)
    failing = incidents.loc[closed & incidents["resolved_at"].isna()]
    messages = pd.Series(
        "Incident is closed without a resolved time.", index=failing.index
    )
    return emit(
        context,
        "incident.closed_without_resolved_time",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.no_assignment_group",
    title="Incident past 'new' without an assignment group",
    practice=Practice.INCIDENT,
    severity=Severity.ERROR,
    needs=_INCIDENT,
)
def no_assignment_group(context: RuleContext) -> list[Finding]:
    """An incident that left 'new' has an assignment group.

    Ownership: once work starts some team is accountable. Incidents in status new
    or cancelled pass, as does any incident with an assignment group.
    """
    incidents = context.table("incident")
    started = ~incidents["status"].isin([Status.NEW, Status.CANCELLED])
    failing = incidents.loc[started & blank(incidents["assignment_group_id"])]
    messages = (
        "Incident is " + show(failing["status"]) + " without an assignment group."
    )
    return emit(
        context,
        "incident.no_assignment_group",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.missing_caller",
    title="Incident without a caller",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=_INCIDENT,
)
def missing_caller(context: RuleContext) -> list[Finding]:
    """Every incident names the person who reported it.

    Without a caller nobody can be told about progress or asked to confirm the
    resolution. An incident with a caller (entity or legacy reference) passes.
    """
    incidents = context.table("incident")
    failing = incidents.loc[
        blank(incidents["caller_id"]) & blank(incidents["caller_ref"])
    ]
    messages = pd.Series("Incident has no caller.", index=failing.index)
    return emit(
        context, "incident.missing_caller", failing, messages, entity_type="incident"
    )


@rule(
    "incident.probable_service_request",
    title="Incident worded like a service request",
    practice=Practice.REQUEST_FULFILMENT,
    severity=Severity.INFO,
    needs=("incident", "policy"),
)
def probable_service_request(context: RuleContext) -> list[Finding]:
    """An incident's text does not read like a service request.

    ITIL separates requests ("please install ...") from incidents; a request logged
    as an incident distorts incident KPIs and SLAs. The request wording is the
    policy's ``thresholds.request_patterns``; incidents matching none pass.
    """
    incidents = context.table("incident")
    text = (
        incidents["title"].astype("string").fillna("")
        + "\n"
        + incidents["description"].astype("string").fillna("")
    )
    matched = pd.Series(pd.NA, index=incidents.index, dtype="string")
    for pattern in context.policy.thresholds.request_patterns:
        hit = text.str.count(pattern, flags=re.IGNORECASE).gt(0)
        matched = matched.mask(matched.isna() & hit.fillna(False), pattern)
    failing = incidents.loc[matched.notna()]
    messages = (
        "Incident text matches request wording /"
        + show(matched.loc[failing.index])
        + "/."
    )
    return emit(
        context,
        "incident.probable_service_request",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.major_without_review",
    title="Major incident closed without a review",
    practice=Practice.INCIDENT,
    severity=Severity.ERROR,
    needs=("incident", "work_note", "policy"),
)
def major_without_review(context: RuleContext) -> list[Finding]:
    """A resolved or closed major incident has a major-incident review.

    ITIL requires a review after every major incident so that its lessons reach
    problem management. The review is a work note whose type is one of
    ``thresholds.review_note_types`` or whose text matches
    ``thresholds.review_patterns``. Major incidents still open pass.
    """
    incidents = context.table("incident")
    notes = context.table("work_note")
    thresholds = context.policy.thresholds
    note_type = notes["note_type"].astype("string").str.strip().str.casefold()
    is_review = note_type.isin([t.casefold() for t in thresholds.review_note_types])
    text = notes["text"].astype("string").fillna("")
    for pattern in thresholds.review_patterns:
        is_review |= text.str.count(pattern, flags=re.IGNORECASE).gt(0)
    reviewed = set(notes.loc[is_review.fillna(False), "record_id"])

    major = incidents["major"].astype(bool) & incidents["status"].isin(DONE_STATUSES)
    failing = incidents.loc[major & ~incidents["entity_id"].isin(reviewed)]
    messages = (
        "Major incident is " + show(failing["status"]) + " without a review note."
    )
    return emit(
        context,
        "incident.major_without_review",
        failing,
        messages,
        entity_type="incident",
    )
