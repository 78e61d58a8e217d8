"""Problem management rules: repeat incidents, major incidents, root causes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.rules._common import (
    DONE_STATUSES,
    OPEN_STATUSES,
    blank,
    emit,
    show,
    show_time,
)
from itilmigrate.transform.problems import find_repeat_clusters

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding

_TIME = "%Y-%m-%dT%H:%M:%SZ"


@rule(
    "incident.repeat_without_problem",
    title="Repeat incidents with no linked problem",
    practice=Practice.PROBLEM,
    severity=Severity.WARNING,
    needs=("incident", "problem_incident", "policy"),
)
def repeat_without_problem(context: RuleContext) -> list[Finding]:
    """A cluster of repeat incidents is linked to a problem.

    Incidents with the same grouping values (``thresholds.repeat_group_by``),
    similar descriptions (``repeat_similarity``) and opened within
    ``repeat_window_days`` of the first are one recurring fault: ITIL problem
    management investigates it. Reported once per cluster, on its first incident.
    Clusters smaller than ``repeat_min_incidents`` or with any incident linked to
    a problem pass.
    """
    incidents = context.table("incident")
    thresholds = context.policy.thresholds
    if incidents.empty:
        return []
    clusters = find_repeat_clusters(
        incidents,
        group_columns=thresholds.repeat_group_by,
        text_column="description",
        time_column="opened_at",
        id_column="entity_id",
        window=pd.Timedelta(days=thresholds.repeat_window_days),
        min_size=thresholds.repeat_min_incidents,
        similarity=thresholds.repeat_similarity,
    )
    linked = set(context.table("problem_incident")["incident_id"])
    unlinked = [c for c in clusters if not linked.intersection(c.member_ids)]
    legacy = pd.Series(incidents["legacy_id"].to_numpy(), index=incidents["entity_id"])
    rows = pd.DataFrame(
        {
            "entity_id": [c.member_ids[0] for c in unlinked],
            "legacy_id": [legacy.get(c.member_ids[0]) for c in unlinked],
        }
    )
    messages = [
        f"{len(c.member_ids)} similar incidents opened {c.first_opened_at:{_TIME}} "
        f"to {c.last_opened_at:{_TIME}}"
        f" (first {rows['legacy_id'].iloc[n]}, last "
        f"{legacy.get(c.member_ids[-1])}) have no linked problem."
        for n, c in enumerate(unlinked)
    ]
    return emit(
        context,
        "incident.repeat_without_problem",
        rows,
        messages,
        entity_type="incident",
        details=[{"incident_ids": list(c.member_ids)} for c in unlinked],
    )


@rule(
    "incident.major_without_problem",
    title="Major incident not linked to a problem",
    practice=Practice.PROBLEM,
    severity=Severity.ERROR,
    needs=("incident", "problem_incident"),
)
def major_without_problem(context: RuleContext) -> list[Finding]:
    """Every resolved or closed major incident is linked to a problem.

    ITIL opens a problem for every major incident so that its root cause is
    found and removed. Major incidents still open, or linked, pass.
    """
    incidents = context.table("incident")
    linked = set(context.table("problem_incident")["incident_id"])
    major = incidents["major"].astype(bool) & incidents["status"].isin(DONE_STATUSES)
    failing = incidents.loc[major & ~incidents["entity_id"].isin(linked)]
    messages = (
        "Major incident is " + show(failing["status"]) + " without a linked problem."
    )
    return emit(
        context,
        "incident.major_without_problem",
        failing,
        messages,
        entity_type="incident",
    )


@rule(
    "problem.closed_without_root_cause",
    title="Problem resolved or closed without a root cause",
    practice=Practice.PROBLEM,
    severity=Severity.ERROR,
    needs=("problem",),
)
def closed_without_root_cause(context: RuleContext) -> list[Finding]:
    """A resolved or closed problem states its root cause.

    Finding the root cause is the purpose of a problem record; closing without it
    loses the knowledge. Open problems and problems with a root cause pass.
    """
    problems = context.table("problem")
    done = problems["status"].isin(DONE_STATUSES)
    failing = problems.loc[done & blank(problems["root_cause"])]
    messages = "Problem is " + show(failing["status"]) + " without a root cause."
    return emit(
        context,
        "problem.closed_without_root_cause",
        failing,
        messages,
        entity_type="problem",
    )


@rule(
    "problem.known_error_without_workaround",
    title="Known error without a workaround",
    practice=Practice.PROBLEM,
    severity=Severity.WARNING,
    needs=("problem",),
)
def known_error_without_workaround(context: RuleContext) -> list[Finding]:
    """A known error documents its workaround.

    A known error is published so the service desk can restore service quickly;
    without a workaround it helps nobody. Problems that are not known errors, or
    have a workaround, pass.
    """
    problems = context.table("problem")
    failing = problems.loc[
        problems["known_error"].astype(bool) & blank(problems["workaround"])
    ]
    messages = "Known error (status " + show(failing["status"]) + ") has no workaround."
    return emit(
        context,
        "problem.known_error_without_workaround",
        failing,
        messages,
        entity_type="problem",
    )


@rule(
    "problem.idle",
    title="Open problem idle too long",
    practice=Practice.PROBLEM,
    severity=Severity.INFO,
    needs=("problem", "policy"),
)
def idle(context: RuleContext) -> list[Finding]:
    """An open problem was updated within ``thresholds.problem_idle_days``.

    A problem nobody works on keeps its incidents recurring. The last update is
    ``updated_at`` (else the opening time). Closed problems and recently updated
    ones pass.
    """
    problems = context.table("problem")
    last = problems["updated_at"].fillna(problems["opened_at"])
    idle_days = (context.now - last).dt.days
    limit = context.policy.thresholds.problem_idle_days
    is_open = problems["status"].isin(OPEN_STATUSES)
    failing = problems.loc[is_open & (idle_days > limit).fillna(False)]
    messages = (
        "Open problem not updated for "
        + idle_days.loc[failing.index].astype(str)
        + f" days (limit {limit}); last update "
        + show_time(last.loc[failing.index])
        + "."
    )
    return emit(context, "problem.idle", failing, messages, entity_type="problem")


@rule(
    "problem.without_incidents",
    title="Resolved or closed problem with no incident",
    practice=Practice.PROBLEM,
    severity=Severity.INFO,
    needs=("problem", "problem_incident"),
)
def without_incidents(context: RuleContext) -> list[Finding]:
    """A resolved or closed problem is linked to at least one incident.

    A problem explains incidents; one closed with none linked cannot show what
    its fix prevented (proactive problems excepted, hence INFO). Problems with a
    link or a positive ``incident_count`` pass.
    """
    problems = context.table("problem")
    linked = set(context.table("problem_incident")["problem_id"])
    done = problems["status"].isin(DONE_STATUSES)
    counted = problems["incident_count"].fillna(0).gt(0)
    failing = problems.loc[done & ~counted & ~problems["entity_id"].isin(linked)]
    messages = "Problem is " + show(failing["status"]) + " with no linked incident."
    return emit(
        context, "problem.without_incidents", failing, messages, entity_type="problem"
    )
