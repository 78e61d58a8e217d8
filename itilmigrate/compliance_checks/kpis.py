"""Service-management KPIs computed from a migrated target.

Every KPI states its conventions (period, clock, pauses, exclusions) in its
``convention`` text, which the reports print beside the value: two desks that
report "MTTR" rarely mean the same thing, and a migration report must say which.

All KPIs are computed column-wise with pandas over the tables of a
:class:`~itilmigrate.compliance_checks.context.RuleContext`; timestamps are aware
UTC. Months are calendar months in UTC. The SLA KPIs take their verdicts from the
SLA rules' own evaluation (``rules.sla.evaluate_sla``), so the report and the SLA
findings never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from itilmigrate.compliance_checks.rules.sla import SLA_CONVENTION, evaluate_sla

if TYPE_CHECKING:
    from collections.abc import Callable

    from itilmigrate.compliance_checks.context import RuleContext

OPEN_STATES: Final = ("new", "in_progress", "on_hold")
DONE_STATES: Final = ("resolved", "closed")
TOP_N: Final = 15
TREND_STEADY_PCT: Final = 10.0
#: A KPI convention, not a rule threshold: an incident is a repeat when the same
#: caller reported an incident in the same category within this many days.
REPEAT_WINDOW_DAYS: Final = 14
BACKLOG_BUCKETS: Final = (
    ("0-2 days", 0, 2),
    ("3-7 days", 3, 7),
    ("8-30 days", 8, 30),
    ("31-90 days", 31, 90),
    ("91-365 days", 91, 365),
    ("over 365 days", 366, None),
)
_REASSIGNMENT_BUCKETS: Final = ("0", "1", "2", "3", "4", "5+")
_NONE_LABEL: Final = "(none)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Kpi:
    """One KPI: its value, its conventions and an optional breakdown table."""

    kpi_id: str
    title: str
    convention: str
    value: float | int | None
    unit: str
    breakdown: pd.DataFrame | None = None


def _text(series: pd.Series) -> pd.Series:
    """Return a text column with blanks as the ``(none)`` label."""
    text = series.astype("object").where(series.notna(), None)
    text = text.map(lambda value: value.strip() if isinstance(value, str) else value)
    return text.where(text.notna() & (text != ""), _NONE_LABEL).astype(str)


def _times(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(frame[column], utc=True)


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _hours(delta: pd.Series) -> pd.Series:
    seconds: pd.Series = delta.dt.total_seconds()
    return seconds / 3600.0


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _round(value: object) -> float | None:
    number = float(value) if isinstance(value, (int, float, np.number)) else np.nan
    return None if np.isnan(number) else round(number, 2)


def _duration_stats(hours: pd.Series, keys: pd.Series, name: str) -> pd.DataFrame:
    """Count, mean, median and P90 of durations per key (hours)."""
    frame = pd.DataFrame({name: keys, "hours": hours})
    grouped = frame.groupby(name, sort=True)["hours"]
    stats = pd.DataFrame(
        {
            "count": grouped.size(),
            "mean_hours": grouped.mean(),
            "median_hours": grouped.median(),
            "p90_hours": grouped.quantile(0.9),
        }
    ).reset_index()
    return stats.round(2)


def _priority_label(frame: pd.DataFrame) -> pd.Series:
    priority = _numbers(frame, "priority")
    label = "P" + priority.fillna(0).astype(int).astype(str)
    return label.where(priority.notna(), _NONE_LABEL).astype(str)


def _top_counts(labels: pd.Series, name: str, total: int) -> pd.DataFrame:
    counts = labels.value_counts().rename_axis(name).reset_index(name="count")
    counts = counts.sort_values(["count", name], ascending=[False, True])
    top = counts.head(TOP_N)
    rest = int(counts["count"].iloc[TOP_N:].sum())
    if rest:
        top = pd.concat(
            [top, pd.DataFrame({name: ["(other)"], "count": [rest]})],
            ignore_index=True,
        )
    top["share_pct"] = (100.0 * top["count"] / total).round(2) if total else 0.0
    return top.reset_index(drop=True)


def _records(context: RuleContext) -> pd.DataFrame:
    records = context.records()
    return records.reset_index(drop=True)


def as_of(context: RuleContext) -> pd.Timestamp:
    """Return the time the backlog is measured at.

    The check time, unless the target's latest timestamp is earlier: a historical
    export measured against today would age every open record by years.
    """
    records = _records(context)
    latest: pd.Timestamp | None = None
    for column in ("opened_at", "updated_at", "resolved_at", "closed_at"):
        values = _times(records, column).dropna()
        if not values.empty and (latest is None or values.max() > latest):
            latest = values.max()
    now = pd.Timestamp(context.now)
    if latest is None or latest > now:
        return now
    return latest


def volume_kpis(context: RuleContext) -> list[Kpi]:
    """Volumes by record type, month, service, category, caller, department, site."""
    records = _records(context)
    total = len(records)
    opened = _times(records, "opened_at")
    kinds = _text(records["entity_type"]) if total else pd.Series([], dtype=str)
    by_type = kinds.value_counts().rename_axis("entity_type").reset_index(name="count")
    by_type["share_pct"] = (100.0 * by_type["count"] / total).round(2) if total else 0
    by_month = (
        pd.DataFrame({"month": opened.dt.strftime("%Y-%m"), "entity_type": kinds})
        .dropna()
        .groupby(["month", "entity_type"])
        .size()
        .reset_index(name="count")
    )
    scope = "All records (incident, service_request, problem) in the target"
    result = [
        Kpi(
            kpi_id="volume.by_type",
            title="Records by type",
            convention=f"{scope}, every status, whole period.",
            value=total,
            unit="records",
            breakdown=by_type.sort_values("entity_type").reset_index(drop=True),
        ),
        Kpi(
            kpi_id="volume.by_month",
            title="Records opened per month by type",
            convention=f"{scope}, counted in the UTC calendar month of opened_at.",
            value=int(by_month["month"].nunique()),
            unit="months",
            breakdown=by_month,
        ),
    ]
    for column, title in (
        ("service", "service"),
        ("category", "category"),
        ("contact_type", "contact channel"),
    ):
        labels = _text(records[column]) if column in records else kinds.map(str)
        result.append(
            Kpi(
                kpi_id=f"volume.by_{column}",
                title=f"Records by {title}",
                convention=f"{scope}; blank {column} counted as (none); the top "
                f"{TOP_N} shown, the rest as (other).",
                value=int((labels != _NONE_LABEL).sum()),
                unit="records with a value",
                breakdown=_top_counts(labels, column, total),
            )
        )
    result.extend(_people_volumes(context, records))
    return result


def _people_volumes(context: RuleContext, records: pd.DataFrame) -> list[Kpi]:
    people = context.table("person")
    total = len(records)
    callers = records[["caller_id"]].merge(
        people.rename(columns={"entity_id": "caller_id"}),
        on="caller_id",
        how="left",
    )
    name = callers.get("display_name", pd.Series(None, index=callers.index))
    name = name.where(name.notna(), callers.get("login"))
    if "caller_ref" in records:
        name = name.where(name.notna(), records["caller_ref"].to_numpy())
    name = name.where(name.notna(), callers["caller_id"])
    result = [
        Kpi(
            kpi_id="volume.by_caller",
            title="Records by caller",
            convention="All records by their caller (the person's display name, "
            f"else login, else the legacy caller reference); top {TOP_N} shown.",
            value=int(callers["caller_id"].nunique()),
            unit="distinct callers",
            breakdown=_top_counts(_text(name), "caller", total),
        )
    ]
    for column in ("department", "site"):
        labels = (
            _text(callers[column])
            if column in callers
            else pd.Series(_NONE_LABEL, index=callers.index, dtype=str)
        )
        result.append(
            Kpi(
                kpi_id=f"volume.by_{column}",
                title=f"Records by caller {column}",
                convention=f"All records by the {column} of their caller (person "
                f"table); no caller or no {column} counted as (none).",
                value=int((labels != _NONE_LABEL).sum()),
                unit="records with a value",
                breakdown=_top_counts(labels, column, total),
            )
        )
    return result


def resolution_kpis(context: RuleContext) -> list[Kpi]:
    """MTTR per priority, mean time to respond, request fulfilment time."""
    incidents = context.table("incident").reset_index(drop=True)
    resolved_at = _times(incidents, "resolved_at")
    opened_at = _times(incidents, "opened_at")
    not_cancelled = _text(incidents["status"]) != "cancelled"
    hours = _hours(resolved_at - opened_at)
    usable = not_cancelled & hours.notna() & (hours >= 0)
    negative = int((not_cancelled & (hours < 0)).sum())
    mttr = _duration_stats(
        hours[usable], _priority_label(incidents)[usable], "priority"
    )
    respond = _hours(_times(incidents, "responded_at") - opened_at)
    respond_ok = not_cancelled & respond.notna() & (respond >= 0)
    requests = context.table("service_request").reset_index(drop=True)
    done_at = _times(requests, "resolved_at")
    done_at = done_at.where(done_at.notna(), _times(requests, "closed_at"))
    fulfil = _hours(done_at - _times(requests, "opened_at"))
    fulfil_ok = (_text(requests["status"]) != "cancelled") & (fulfil >= 0)
    request_type = (
        _text(requests["request_type"])
        if "request_type" in requests
        else _text(requests["category"])
    )
    clock = "calendar clock (24x7, UTC); on-hold time is not subtracted"
    return [
        Kpi(
            kpi_id="incident.mttr",
            title="Mean time to resolve incidents (MTTR), median and P90 per priority",
            convention=f"Incidents with resolved_at, cancelled excluded; opened_at to "
            f"resolved_at on the {clock}; {negative} incidents resolved before they "
            "were opened are excluded. Value: the median over all priorities.",
            value=_round(hours[usable].median()),
            unit="hours",
            breakdown=mttr,
        ),
        Kpi(
            kpi_id="incident.mean_time_to_respond",
            title="Mean time to respond to incidents",
            convention=f"Incidents with responded_at (the first response the source "
            f"recorded), cancelled excluded; opened_at to responded_at on the {clock}. "
            f"{int(respond_ok.sum())} of {len(incidents)} incidents have a response.",
            value=_round(respond[respond_ok].mean()),
            unit="hours",
            breakdown=_duration_stats(
                respond[respond_ok], _priority_label(incidents)[respond_ok], "priority"
            ),
        ),
        Kpi(
            kpi_id="service_request.fulfilment_time",
            title="Request fulfilment time (median, per request type)",
            convention=f"Service requests with resolved_at (else closed_at), cancelled "
            f"excluded; opened_at to fulfilment on the {clock}. Value: median.",
            value=_round(fulfil[fulfil_ok].median()),
            unit="hours",
            breakdown=_duration_stats(
                fulfil[fulfil_ok], request_type[fulfil_ok], "request_type"
            ),
        ),
    ]


def _reopened_from_history(context: RuleContext) -> set[str]:
    """Records whose status history goes from resolved or closed back to open."""
    history = context.table("status_change")
    if history.empty:
        return set()
    ordered = history.sort_values(["record_id", "seq"])
    previous = ordered.groupby("record_id")["status"].shift()
    back = previous.isin(DONE_STATES) & ordered["status"].isin(OPEN_STATES)
    return set(ordered.loc[back, "record_id"].astype(str))


def quality_kpis(context: RuleContext) -> list[Kpi]:
    """First contact resolution and reopen rate of incidents."""
    incidents = context.table("incident").reset_index(drop=True)
    status = _text(incidents["status"])
    done = status.isin(DONE_STATES) | _times(incidents, "resolved_at").notna()
    done &= status != "cancelled"
    reassigned = _numbers(incidents, "reassignment_count").fillna(0) > 0
    assignments = _numbers(incidents, "assignment_count").fillna(0)
    reopen_count = _numbers(incidents, "reopen_count")
    reopened = (reopen_count.fillna(0) > 0) | incidents["entity_id"].isin(
        _reopened_from_history(context)
    )
    first_contact = done & ~reassigned & (assignments <= 1) & ~reopened
    priority = _priority_label(incidents)
    per_priority = (
        pd.DataFrame({"priority": priority[done], "fcr": first_contact[done]})
        .groupby("priority")["fcr"]
        .agg(["size", "sum"])
        .rename(columns={"size": "resolved", "sum": "first_contact"})
        .reset_index()
    )
    per_priority["rate_pct"] = (
        100.0 * per_priority["first_contact"] / per_priority["resolved"]
    ).round(2)
    reopen_table = (
        pd.DataFrame({"priority": priority[done], "reopened": reopened[done]})
        .groupby("priority")["reopened"]
        .agg(["size", "sum"])
        .rename(columns={"size": "resolved", "sum": "reopened"})
        .reset_index()
    )
    reopen_table["rate_pct"] = (
        100.0 * reopen_table["reopened"] / reopen_table["resolved"]
    ).round(2)
    return [
        Kpi(
            kpi_id="incident.first_contact_resolution",
            title="First contact resolution",
            convention="Resolved or closed incidents (cancelled excluded) handled by "
            "at most one assignment, never reassigned and never reopened, as a share "
            "of all resolved or closed incidents; whole period.",
            value=_pct(int(first_contact.sum()), int(done.sum())),
            unit="%",
            breakdown=per_priority,
        ),
        Kpi(
            kpi_id="incident.reopen_rate",
            title="Reopen rate",
            convention="Resolved or closed incidents (cancelled excluded) with "
            "reopen_count above 0, or whose status history goes from resolved or "
            "closed back to an open state, as a share of resolved or closed incidents.",
            value=_pct(int((reopened & done).sum()), int(done.sum())),
            unit="%",
            breakdown=reopen_table,
        ),
    ]


def backlog_kpis(context: RuleContext) -> list[Kpi]:
    """Open records now (as of :func:`as_of`) and their age buckets."""
    records = _records(context)
    status = _text(records["status"])
    is_open = status.isin(OPEN_STATES)
    measured_at = as_of(context)
    age_days = (measured_at - _times(records, "opened_at")).dt.days
    bucket = pd.Series("", index=records.index, dtype=object)
    for label, low, high in BACKLOG_BUCKETS:
        inside = age_days >= low
        if high is not None:
            inside &= age_days <= high
        bucket = bucket.where(~inside, label)
    order = [label for label, _, _ in BACKLOG_BUCKETS]
    table = (
        pd.DataFrame(
            {"age": bucket[is_open], "entity_type": records["entity_type"], "n": 1}
        )
        .dropna()
        .pivot_table(
            index="age", columns="entity_type", values="n", aggfunc="sum", fill_value=0
        )
        .reindex(order, fill_value=0)
        .rename_axis(None, axis=1)
        .rename_axis("age")
        .reset_index()
    )
    type_columns = [column for column in table.columns if column != "age"]
    table["total"] = table[type_columns].sum(axis=1) if type_columns else 0
    stamp = measured_at.isoformat()
    return [
        Kpi(
            kpi_id="backlog.open_records",
            title="Backlog: open records and their age",
            convention=f"Records of every type whose current status is new, "
            f"in_progress or on_hold, aged from opened_at to {stamp} (the check "
            "time, or the target's latest timestamp when that is earlier, so a "
            "historical export is not aged to today). On-hold time counts as age.",
            value=int(is_open.sum()),
            unit="records",
            breakdown=table,
        ),
        Kpi(
            kpi_id="backlog.median_age",
            title="Backlog median age",
            convention=f"Median age in days of the open records above, at {stamp}.",
            value=_round(age_days[is_open].median()),
            unit="days",
        ),
    ]


def _group_steps(context: RuleContext) -> pd.DataFrame:
    """Assignment steps with consecutive repeats of the same group collapsed."""
    steps = context.table("assignment")
    steps = steps.loc[steps["group_id"].notna(), ["record_id", "seq", "group_id"]]
    steps = steps.sort_values(["record_id", "seq"])
    same_as_previous = (steps["record_id"] == steps["record_id"].shift()) & (
        steps["group_id"] == steps["group_id"].shift()
    )
    return steps.loc[~same_as_previous]


def assignment_kpis(context: RuleContext) -> list[Kpi]:
    """Reassignment distribution and ping-pong rate."""
    records = _records(context)
    records = records.loc[records["entity_type"] != "problem"]
    counts = _numbers(records, "reassignment_count").fillna(0).astype(int)
    labels = counts.clip(upper=5).astype(str).replace({"5": "5+"})
    distribution = (
        labels.value_counts()
        .reindex(list(_REASSIGNMENT_BUCKETS), fill_value=0)
        .rename_axis("reassignments")
        .reset_index(name="count")
    )
    total = len(records)
    distribution["share_pct"] = (
        (100.0 * distribution["count"] / total).round(2) if total else 0.0
    )
    steps = _group_steps(context)
    moved = steps.groupby("record_id").size()
    moved_ids = moved[moved >= 2].index  # noqa: PLR2004 - two groups make a move
    returns = steps.duplicated(["record_id", "group_id"])
    ping_pong_ids = steps.loc[returns, "record_id"].unique()
    return [
        Kpi(
            kpi_id="assignment.reassignment_distribution",
            title="Reassignment distribution",
            convention="Incidents and service requests by their reassignment_count "
            "(the source's counter where it has one, else counted from the "
            "assignment history). Value: the mean count.",
            value=_round(counts.mean()) if total else None,
            unit="reassignments per record",
            breakdown=distribution,
        ),
        Kpi(
            kpi_id="assignment.ping_pong_rate",
            title="Ping-pong rate",
            convention="Records whose assignment history returns to a group that "
            "held them before (A to B to A), as a share of records that moved "
            "between at least two groups; consecutive steps in the same group count "
            "once.",
            value=_pct(len(ping_pong_ids), len(moved_ids)),
            unit="%",
            breakdown=pd.DataFrame(
                {
                    "measure": ["records moved between groups", "records ping-ponged"],
                    "count": [len(moved_ids), len(ping_pong_ids)],
                }
            ),
        ),
    ]


def repeat_kpis(context: RuleContext) -> list[Kpi]:
    """Repeat-incident rate, top repeat issues, clusters linked to a problem."""
    incidents = context.table("incident").reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "entity_id": incidents["entity_id"],
            "caller_id": incidents["caller_id"],
            "category": _text(incidents["category"]),
            "opened_at": _times(incidents, "opened_at"),
        }
    ).dropna(subset=["caller_id", "opened_at"])
    frame = frame.sort_values(["caller_id", "category", "opened_at"])
    same_key = (frame["caller_id"] == frame["caller_id"].shift()) & (
        frame["category"] == frame["category"].shift()
    )
    gap = frame["opened_at"] - frame["opened_at"].shift()
    repeat = same_key & (gap <= pd.Timedelta(days=REPEAT_WINDOW_DAYS))
    # A cluster is a chain of incidents each within the window of the previous one.
    frame["cluster"] = (~repeat).cumsum()
    sizes = frame.groupby("cluster")["entity_id"].transform("size")
    clustered = frame.loc[sizes >= 2]  # noqa: PLR2004 - a repeat needs two incidents
    linked_ids = set(context.table("problem_incident")["incident_id"].astype(str))
    cluster_linked = (
        clustered["entity_id"].isin(linked_ids).groupby(clustered["cluster"]).any()
    ).astype(bool)
    top = (
        frame.loc[repeat]
        .groupby("category")
        .size()
        .sort_values(ascending=False)
        .head(TOP_N)
        .rename_axis("category")
        .reset_index(name="repeat_incidents")
    )
    window = f"{REPEAT_WINDOW_DAYS} days"
    return [
        Kpi(
            kpi_id="incident.repeat_rate",
            title="Repeat-incident rate",
            convention=f"Incidents with a caller whose caller reported an incident in "
            f"the same category within the previous {window}, as a share of "
            "incidents with a caller; whole period.",
            value=_pct(int(repeat.sum()), len(frame)),
            unit="%",
            breakdown=top,
        ),
        Kpi(
            kpi_id="incident.repeat_clusters_with_problem",
            title="Repeat clusters linked to a problem",
            convention=f"Clusters of two or more incidents of one caller and category, "
            f"each within {window} of the previous one; a cluster is linked when any "
            "of its incidents is linked to a problem (problem_incident).",
            value=_pct(int(cluster_linked.sum()), len(cluster_linked)),
            unit="%",
            breakdown=pd.DataFrame(
                {
                    "measure": ["repeat clusters", "linked to a problem"],
                    "count": [len(cluster_linked), int(cluster_linked.sum())],
                }
            ),
        ),
    ]


def sla_kpis(context: RuleContext) -> list[Kpi]:
    """SLA compliance per priority and service, from the SLA rules' own verdicts."""
    clocks = evaluate_sla(context)
    # A record still open and within its target has no verdict yet; one still open
    # and past it is already a breach.
    decided = clocks.loc[clocks["stopped"].astype(bool) | ~clocks["met"].astype(bool)]
    decided = decided.reset_index(drop=True)
    convention = (
        f"{SLA_CONVENTION} Policy '{context.policy.name}'. Open records count only "
        "once they are past their target."
    )
    resolve = decided.loc[decided["target_kind"] == "resolve"]
    result = []
    for key in ("priority", "service"):
        labels = _priority_label(resolve) if key == "priority" else _text(resolve[key])
        table = (
            pd.DataFrame({key: labels, "met": resolve["met"].astype(bool)})
            .groupby(key)["met"]
            .agg(["size", "sum"])
            .rename(columns={"size": "evaluated", "sum": "met"})
            .reset_index()
        )
        table["breached"] = table["evaluated"] - table["met"]
        table["compliance_pct"] = (100.0 * table["met"] / table["evaluated"]).round(2)
        if key == "service":
            table = table.sort_values("evaluated", ascending=False).head(TOP_N)
        result.append(
            Kpi(
                kpi_id=f"sla.compliance_by_{key}",
                title=f"Incident resolution SLA compliance by {key}",
                convention=convention,
                value=_pct(int(resolve["met"].sum()), len(resolve)),
                unit="%",
                breakdown=table.reset_index(drop=True),
            )
        )
    for kind, title in (
        ("respond", "Incident response SLA compliance"),
        ("fulfil", "Request fulfilment SLA compliance"),
    ):
        part = decided.loc[decided["target_kind"] == kind]
        result.append(
            Kpi(
                kpi_id=f"sla.{kind}_compliance",
                title=title,
                convention=convention,
                value=_pct(int(part["met"].astype(bool).sum()), len(part)),
                unit="%",
            )
        )
    return result


def _month_window(context: RuleContext) -> tuple[list[str], list[str]]:
    """The last three complete months before the as-of month, and the three before."""
    current = as_of(context).tz_convert("UTC").tz_localize(None).to_period("M")
    months = [str(current - step) for step in range(6, 0, -1)]
    return months[3:], months[:3]


def trend_kpis(context: RuleContext) -> list[Kpi]:
    """Rising or falling: the last three months against the three before."""
    records = _records(context)
    month = _times(records, "opened_at").dt.strftime("%Y-%m")
    recent, previous = _month_window(context)
    tables = []
    for dimension in ("entity_type", "service", "category", "contact_type"):
        labels = _text(records[dimension])
        frame = pd.DataFrame({"value": labels, "month": month})
        recent_count = frame.loc[frame["month"].isin(recent)].groupby("value").size()
        previous_count = (
            frame.loc[frame["month"].isin(previous)].groupby("value").size()
        )
        table = pd.DataFrame({"recent": recent_count, "previous": previous_count})
        table = table.fillna(0).astype(int).rename_axis("value").reset_index()
        table = table.sort_values(["recent", "value"], ascending=[False, True])
        table.insert(0, "dimension", dimension)
        tables.append(table if dimension == "entity_type" else table.head(8))
    trend = pd.concat(tables, ignore_index=True)
    change = 100.0 * (trend["recent"] - trend["previous"]) / trend["previous"]
    trend["change_pct"] = change.where(trend["previous"] > 0).round(1)
    trend["direction"] = np.select(
        [trend["previous"] == 0, change > TREND_STEADY_PCT, change < -TREND_STEADY_PCT],
        ["new", "rising", "falling"],
        default="steady",
    )
    top_services = (
        _text(records["service"]).loc[lambda s: s != _NONE_LABEL].value_counts()
    ).index[:6]
    by_service = (
        pd.DataFrame({"month": month, "service": _text(records["service"])})
        .loc[lambda f: f["service"].isin(top_services)]
        .dropna()
        .groupby(["month", "service"])
        .size()
        .reset_index(name="count")
    )
    window = f"{recent[0]}..{recent[-1]} against {previous[0]}..{previous[-1]}"
    return [
        Kpi(
            kpi_id="volume.trend",
            title="Rising or falling: the last three months against the three before",
            convention=f"Records opened (UTC months) {window}: the three complete "
            "months before the as-of month. Change within "
            f"{TREND_STEADY_PCT:g}% is steady; the top 8 values of each dimension.",
            value=int(trend.loc[trend["dimension"] == "entity_type", "recent"].sum()),
            unit="records in the last three months",
            breakdown=trend,
        ),
        Kpi(
            kpi_id="volume.by_month_service",
            title="Records opened per month for the six largest services",
            convention="All records with a service, by the UTC month of opened_at.",
            value=len(top_services),
            unit="services",
            breakdown=by_service,
        ),
    ]


KPI_GROUPS: Final[tuple[Callable[[RuleContext], list[Kpi]], ...]] = (
    volume_kpis,
    trend_kpis,
    resolution_kpis,
    quality_kpis,
    backlog_kpis,
    assignment_kpis,
    repeat_kpis,
    sla_kpis,
)


def compute_kpis(context: RuleContext) -> list[Kpi]:
    """Return every KPI of the target, in report order."""
    result: list[Kpi] = []
    for group in KPI_GROUPS:
        result.extend(group(context))
    return result
