"""Service level and flow rules: SLA targets, ageing, reassignment, lifecycle.

:func:`evaluate_sla` computes the response, resolution and fulfilment clocks of
every record once; the SLA rules report its breaches and the KPIs read its
verdicts, so the report and the rules never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.business_time import elapsed, paused_duration
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.rules._common import (
    DONE_STATUSES,
    OPEN_STATUSES,
    emit,
    show,
    show_duration,
    show_time,
)
from itilmigrate.entities import Status

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding

#: Lifecycle moves a record may make (``status_change``); a repeated status is no move.
LEGAL_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {
            Status.IN_PROGRESS,
            Status.ON_HOLD,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.ON_HOLD, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.ON_HOLD: frozenset(
        {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.ON_HOLD, Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

SLA_COLUMNS = (
    "entity_id",
    "entity_type",
    "legacy_id",
    "priority",
    "service",
    "target_kind",
    "clock",
    "target",
    "start",
    "end",
    "stopped",
    "paused",
    "taken",
    "met",
    "history",
)

SLA_CONVENTION = (
    "Response (opened to first response), resolution (opened to resolved, else "
    "closed) and fulfilment (service requests, opened to resolved, else closed) "
    "against the policy's targets per priority; business hours of the policy "
    "calendar unless a target's clock is continuous; time in a pause state "
    "subtracted where status history exists; records still open are measured "
    "to the check time; cancelled records are not evaluated."
)


def _end_of(
    records: pd.DataFrame, first: str, now: pd.Timestamp
) -> tuple[pd.Series, pd.Series]:
    """Return when a clock stopped (``first``, resolved, closed) and whether it did."""
    end = records[first]
    for column in ("resolved_at", "closed_at"):
        if column != first:
            end = end.fillna(records[column])
    stopped = end.notna()
    still_open = records["status"].isin(OPEN_STATUSES)
    end = end.where(stopped | ~still_open, now)
    return end, stopped


def _clocks(context: RuleContext) -> pd.DataFrame:
    """Return one row per record and SLA target, before the clocks are measured."""
    sla = context.policy.sla
    parts: list[pd.DataFrame] = []
    incidents = context.table("incident")
    incidents = incidents.loc[incidents["status"] != Status.CANCELLED]
    targets = pd.DataFrame(
        [
            (priority, kind, getattr(target, kind), target.clock)
            for priority, target in sla.priorities.items()
            for kind in ("respond", "resolve")
        ],
        columns=["priority", "target_kind", "target", "clock"],
    )
    if not incidents.empty and not targets.empty:
        targets["priority"] = targets["priority"].astype("Int64")
        judged = incidents.merge(targets, on="priority")
        respond_end, respond_stopped = _end_of(judged, "responded_at", context.now)
        resolve_end, resolve_stopped = _end_of(judged, "resolved_at", context.now)
        responding = judged["target_kind"].eq("respond")
        judged["end"] = respond_end.where(responding, resolve_end)
        judged["stopped"] = respond_stopped.where(responding, resolve_stopped)
        parts.append(judged.assign(entity_type="incident"))

    requests = context.table("service_request")
    requests = requests.loc[requests["status"] != Status.CANCELLED]
    if sla.service_request is not None and not requests.empty:
        judged = requests.assign(
            target_kind="fulfil",
            target=sla.service_request.fulfil,
            clock=sla.service_request.clock,
            entity_type="service_request",
        )
        judged["end"], judged["stopped"] = _end_of(judged, "resolved_at", context.now)
        parts.append(judged)

    if not parts:
        return pd.DataFrame(columns=[*SLA_COLUMNS, "opened_at"])
    clocks = pd.concat(parts, ignore_index=True)
    clocks = clocks.loc[clocks["end"].notna() & clocks["opened_at"].notna()]
    return clocks.rename(columns={"opened_at": "start"}).reset_index(drop=True)


def evaluate_sla(context: RuleContext) -> pd.DataFrame:
    """Measure every SLA clock: one row per record and target (``SLA_COLUMNS``).

    ``taken`` is the time on the target's clock minus the time paused; ``met`` is
    ``taken <= target``; ``stopped`` is False for records still open (measured to
    the check time); ``history`` says whether status history was available to
    subtract pauses.
    """
    clocks = _clocks(context)
    if clocks.empty:
        return pd.DataFrame(columns=list(SLA_COLUMNS))

    # LIMITATION: without status history (HEAT) time on hold is not subtracted.
    # When: the target has no status_change rows for a record (snapshot sources).
    # Then: its SLA clock includes pauses; a breach finding says "no status history".
    history = context.table("status_change")
    calendar = context.policy.calendar
    pause_states = [str(state) for state in context.policy.pause_states]
    business = clocks["clock"].eq("business")
    windows = clocks.rename(columns={"entity_id": "record_id"})
    clocks["paused"] = pd.Series(pd.Timedelta(0), index=clocks.index)
    gross = pd.Series(pd.NaT, index=clocks.index, dtype="timedelta64[ns]")
    for on_business in (True, False):
        rows = business if on_business else ~business
        if not rows.any():
            continue
        gross.loc[rows] = elapsed(
            clocks.loc[rows, "start"],
            clocks.loc[rows, "end"],
            calendar,
            business=on_business,
        )
        clocks.loc[rows, "paused"] = paused_duration(
            history,
            windows.loc[rows],
            pause_states=pause_states,
            calendar=calendar,
            business=on_business,
        )
    clocks["taken"] = gross - pd.to_timedelta(clocks["paused"])
    clocks["target"] = pd.to_timedelta(clocks["target"])
    clocks["met"] = clocks["taken"] <= clocks["target"]
    clocks["history"] = clocks["entity_id"].isin(set(history["record_id"]))
    return clocks[list(SLA_COLUMNS)]


def _breaches(
    context: RuleContext, rule_id: str, kind: str, noun: str
) -> list[Finding]:
    clocks = evaluate_sla(context)
    failing = clocks.loc[clocks["target_kind"].eq(kind) & ~clocks["met"].astype(bool)]
    state = pd.Series(" took ", index=failing.index).where(
        failing["stopped"].astype(bool), " has been open "
    )
    note = pd.Series("", index=failing.index).where(
        failing["history"].astype(bool), "; no status history, pauses not subtracted"
    )
    messages = (
        noun
        + state
        + show_duration(failing["taken"])
        + " on the "
        + failing["clock"].astype(str)
        + " clock (target "
        + show_duration(failing["target"])
        + ", priority "
        + show(failing["priority"])
        + ", paused "
        + show_duration(failing["paused"])
        + note
        + ")."
    )
    return emit(context, rule_id, failing, messages)


@rule(
    "incident.response_sla_breached",
    title="Incident response target breached",
    practice=Practice.SERVICE_LEVEL,
    severity=Severity.WARNING,
    needs=("incident", "status_change", "policy"),
)
def response_sla_breached(context: RuleContext) -> list[Finding]:
    """An incident is responded to within its priority's response target.

    The response target is part of the service level agreement (policy
    ``sla.priorities``), measured on business hours with pause states subtracted.
    Without a response time the resolution (or the check time, when open) stops
    the clock. An incident within its target passes; priorities without a target
    are not judged.
    """
    return _breaches(context, "incident.response_sla_breached", "respond", "Response")


@rule(
    "incident.resolution_sla_breached",
    title="Incident resolution target breached",
    practice=Practice.SERVICE_LEVEL,
    severity=Severity.WARNING,
    needs=("incident", "status_change", "policy"),
)
def resolution_sla_breached(context: RuleContext) -> list[Finding]:
    """An incident is resolved within its priority's resolution target.

    Resolution targets are the core of an incident SLA (policy ``sla.priorities``);
    the clock runs from opening to resolution (else closure, else the check time)
    in business hours, minus pause states. An incident within its target passes.
    """
    return _breaches(
        context, "incident.resolution_sla_breached", "resolve", "Resolution"
    )


@rule(
    "service_request.fulfilment_sla_breached",
    title="Service request fulfilment target breached",
    practice=Practice.REQUEST_FULFILMENT,
    severity=Severity.WARNING,
    needs=("service_request", "status_change", "policy"),
)
def fulfilment_sla_breached(context: RuleContext) -> list[Finding]:
    """A service request is fulfilled within the fulfilment target.

    Request fulfilment promises a lead time (policy ``sla.service_request``),
    measured like the incident targets. A request within its target passes.
    """
    return _breaches(
        context, "service_request.fulfilment_sla_breached", "fulfil", "Fulfilment"
    )


@rule(
    "incident.open_too_long",
    title="Open incident older than its priority's age limit",
    practice=Practice.SERVICE_LEVEL,
    severity=Severity.WARNING,
    needs=("incident", "policy"),
)
def open_too_long(context: RuleContext) -> list[Finding]:
    """An open incident is younger than the age limit of its priority.

    Old open incidents are backlog nobody owns (policy
    ``thresholds.age_limit_days``, calendar days). Closed incidents, incidents
    within the limit and priorities without a limit pass.
    """
    incidents = context.table("incident")
    limits = pd.Series(context.policy.thresholds.age_limit_days, dtype="Int64")
    limit = incidents["priority"].map(limits)
    age_days = (context.now - incidents["opened_at"]).dt.days
    is_open = incidents["status"].isin(OPEN_STATUSES)
    failing = incidents.loc[is_open & (age_days > limit).fillna(False)]
    messages = (
        "Incident has been open "
        + age_days.loc[failing.index].astype(str)
        + " days (limit "
        + show(limit.loc[failing.index])
        + " for priority "
        + show(failing["priority"])
        + ")."
    )
    return emit(
        context, "incident.open_too_long", failing, messages, entity_type="incident"
    )


@rule(
    "record.stale",
    title="Open record not updated for too long",
    practice=Practice.SERVICE_LEVEL,
    severity=Severity.INFO,
    needs=("incident", "service_request", "policy"),
)
def stale(context: RuleContext) -> list[Finding]:
    """An open incident or service request was updated in the last N days.

    A record nobody touches for ``thresholds.stale_days`` is forgotten. The last
    update is ``updated_at`` (else the opening time). Records updated recently,
    closed ones and problems (see ``problem.idle``) pass.
    """
    records = context.records()
    records = records.loc[records["entity_type"].isin(["incident", "service_request"])]
    last = records["updated_at"].fillna(records["opened_at"])
    idle_days = (context.now - last).dt.days
    limit = context.policy.thresholds.stale_days
    is_open = records["status"].isin(OPEN_STATUSES)
    failing = records.loc[is_open & (idle_days > limit).fillna(False)]
    messages = (
        "No update for "
        + idle_days.loc[failing.index].astype(str)
        + f" days (limit {limit}); last update "
        + show_time(last.loc[failing.index])
        + "."
    )
    return emit(context, "record.stale", failing, messages)


def _group_steps(context: RuleContext) -> pd.DataFrame:
    """Return incidents' assignment steps that changed group, in order, with labels."""
    incidents = context.table("incident")
    steps = context.table("assignment")
    steps = steps.loc[
        steps["record_id"].isin(set(incidents["entity_id"])) & steps["group_id"].notna()
    ].sort_values(["record_id", "seq"], kind="stable")
    changed = steps["group_id"].ne(steps.groupby("record_id")["group_id"].shift())
    steps = steps.loc[changed]
    groups = context.table("assignment_group")
    labels = pd.Series(
        groups["legacy_id"].to_numpy(), index=groups["entity_id"].to_numpy()
    )
    return steps.assign(
        group_label=steps["group_id"].map(labels).fillna(steps["group_id"])
    )


@rule(
    "incident.reassignment_ping_pong",
    title="Incident bounced back to a group (A to B to A)",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=("incident", "assignment", "assignment_group"),
)
def reassignment_ping_pong(context: RuleContext) -> list[Finding]:
    """An incident does not go back to a group that just handed it on.

    A -> B -> A reassignment means the groups disagree on ownership, which delays
    the resolution. Each incident is reported once, at its first bounce. An
    incident whose group history never returns to the group before last passes.
    """
    steps = _group_steps(context)
    by_record = steps.groupby("record_id")["group_label"]
    before = by_record.shift(1)
    two_before = by_record.shift(2)
    bounced = steps.loc[steps["group_label"].eq(two_before).fillna(False)]
    bounced = bounced.assign(via=before.loc[bounced.index]).drop_duplicates("record_id")
    rows = bounced.assign(
        entity_id=bounced["record_id"], legacy_id=bounced["record_legacy_id"]
    )
    messages = (
        "Assignment returned to group "
        + show(rows["group_label"])
        + " after group "
        + show(rows["via"])
        + " (assignment seq "
        + show(rows["seq"])
        + ")."
    )
    return emit(
        context,
        "incident.reassignment_ping_pong",
        rows,
        messages,
        entity_type="incident",
    )


@rule(
    "incident.too_many_group_hops",
    title="Incident reassigned between groups too often",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=("incident", "assignment", "policy"),
)
def too_many_group_hops(context: RuleContext) -> list[Finding]:
    """An incident changes assignment group at most ``max_group_hops`` times.

    Many hops mean poor routing and long resolution times. Hops are counted from
    the assignment history; an incident without history uses its
    ``reassignment_count``. Incidents within the limit pass.
    """
    incidents = context.table("incident")
    steps = _group_steps(context)
    hops = (steps.groupby("record_id").size() - 1).clip(lower=0)
    counted = incidents["entity_id"].map(hops).astype("Int64")
    counted = counted.fillna(incidents["reassignment_count"].astype("Int64"))
    limit = context.policy.thresholds.max_group_hops
    failing = incidents.loc[(counted > limit).fillna(False)]
    messages = (
        show(counted.loc[failing.index]) + f" assignment group changes (limit {limit})."
    )
    return emit(
        context,
        "incident.too_many_group_hops",
        failing,
        messages,
        entity_type="incident",
    )


def _transitions(context: RuleContext) -> pd.DataFrame:
    """Return status changes with the previous status and time of the same record."""
    history = context.table("status_change").sort_values(
        ["record_id", "seq"], kind="stable"
    )
    by_record = history.groupby("record_id")
    history = history.assign(
        previous=by_record["status"].shift(),
        previous_at=by_record["changed_at"].shift(),
    )
    moved = history["previous"].notna() & history["status"].ne(history["previous"])
    records = context.records()
    kinds = pd.Series(
        records["entity_type"].to_numpy(), index=records["entity_id"].to_numpy()
    )
    moves = history.loc[moved]
    return moves.assign(
        entity_id=moves["record_id"],
        legacy_id=moves["record_legacy_id"],
        entity_type=moves["record_id"].map(kinds),
    )


@rule(
    "incident.reopened_outside_window",
    title="Incident reopened after the reopen window",
    practice=Practice.INCIDENT,
    severity=Severity.WARNING,
    needs=("incident", "status_change", "policy"),
)
def reopened_outside_window(context: RuleContext) -> list[Finding]:
    """An incident is reopened only within the reopen window after its resolution.

    Past ``thresholds.reopen_window_days`` a recurrence is a new incident (and
    perhaps a problem), not a reopen. Judged on status history: incidents never
    reopened, or reopened within the window, pass.
    """
    # LIMITATION: reopens are judged only from status history.
    # When: the source has no status history (HEAT snapshots carry only reopen_count).
    # Then: no finding for those incidents; the rule is silent, not wrong.
    moves = _transitions(context)
    reopened = moves["previous"].isin(DONE_STATUSES) & moves["status"].isin(
        OPEN_STATUSES
    )
    moves = moves.loc[reopened & moves["entity_type"].eq("incident")]
    gap = moves["changed_at"] - moves["previous_at"]
    window = pd.Timedelta(days=context.policy.thresholds.reopen_window_days)
    failing = moves.loc[gap > window].drop_duplicates("record_id")
    messages = (
        "Reopened "
        + (failing["changed_at"] - failing["previous_at"]).dt.days.astype(str)
        + " days after being "
        + show(failing["previous"])
        + f" (window {window.days} days) at "
        + show_time(failing["changed_at"])
        + "."
    )
    return emit(context, "incident.reopened_outside_window", failing, messages)


@rule(
    "record.illegal_transition",
    title="Illegal lifecycle transition",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.WARNING,
    needs=("status_change",),
)
def illegal_transition(context: RuleContext) -> list[Finding]:
    """A record's status history follows the ITIL lifecycle.

    Closed and cancelled are final, and nothing returns to new
    (``LEGAL_TRANSITIONS``). An illegal move means a workflow bypass or a wrong
    status mapping. Reported once per record, at its first illegal move, with
    their count; records without status history pass.
    """
    moves = _transitions(context)
    legal = pd.Series(
        [
            status in LEGAL_TRANSITIONS.get(previous, frozenset())
            for previous, status in zip(moves["previous"], moves["status"], strict=True)
        ],
        index=moves.index,
        dtype=bool,
    )
    bad = moves.loc[~legal]
    counts = bad.groupby("record_id").size()
    failing = bad.drop_duplicates("record_id")
    messages = (
        "Status went from "
        + show(failing["previous"])
        + " to "
        + show(failing["status"])
        + " at "
        + show_time(failing["changed_at"])
        + " ("
        + failing["record_id"].map(counts).astype(str)
        + " illegal transition(s))."
    )
    return emit(context, "record.illegal_transition", failing, messages)
