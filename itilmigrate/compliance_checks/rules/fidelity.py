"""Migration fidelity rules: reconciliation, keys, code values, timestamps, text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.compliance_checks.rules._common import blank, emit, show, show_time

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext

_RECORDS = ("incident", "service_request", "problem")
#: Record timestamps in lifecycle order.
_TIMES = ("opened_at", "responded_at", "resolved_at", "closed_at")
_ALL_TIMES = (*_TIMES, "updated_at")
#: Text columns the fidelity rules inspect (cleaned, as loaded).
_TEXTS = ("title", "description", "resolution_notes")
#: Raw text columns and the cleaned column they stand for.
_RAW_TEXTS = {
    "title": "title",
    "description_raw": "description",
    "resolution_notes_raw": "resolution_notes",
}
# UTF-8 read as cp1252 or Latin-1 leaves these pairs ("Ã©" for "é", "â€" for curly
# quotes and dashes); U+FFFD marks bytes a decoder gave up on.
_MOJIBAKE = r"Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|â€|\ufffd"


def _pick(frame: pd.DataFrame, columns: pd.Series) -> pd.Series:
    """Return, per row, the timestamp in the column named by ``columns``."""
    picked = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for name in columns.dropna().unique():
        chosen = columns.eq(name).fillna(False)
        picked = picked.mask(chosen, frame[str(name)])
    return picked


def _latest_run(context: RuleContext) -> pd.DataFrame:
    """Return the latest run that wrote to the target (not a dry run), or no rows."""
    runs = context.table("migration_run")
    runs = runs.loc[~runs["dry_run"].astype(bool)].sort_values("started_at")
    return runs.tail(1)


def _run_finding(
    context: RuleContext, rule_id: str, run_id: str, message: str
) -> Finding:
    return emit(
        context,
        rule_id,
        pd.DataFrame({"entity_id": [run_id]}),
        [message],
        entity_type="migration_run",
    )[0]


@rule(
    "reconciliation.run_balanced",
    title="Latest run does not reconcile",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.CRITICAL,
    needs=("migration_run",),
)
def run_balanced(context: RuleContext) -> list[Finding]:
    """The latest run reconciles: read = loaded + quarantined + excluded per source.

    A migration that loses records silently is not a migration; the run's own
    counts (``migration_run.counts``) must balance for every source table and its
    lineage check must have found no problem. A balanced latest run passes; a
    target without runs is not judged.
    """
    latest = _latest_run(context)
    if latest.empty:
        return []
    run_id = str(latest["run_id"].iloc[0])
    status = str(latest["status"].iloc[0])
    try:
        counts: Any = json.loads(str(latest["counts"].iloc[0]))
    except ValueError:
        counts = None
    if not isinstance(counts, dict):
        message = f"Run {run_id} (status {status}) recorded no counts to reconcile."
        return [_run_finding(context, "reconciliation.run_balanced", run_id, message)]

    messages = [
        f"Run {run_id}: source {s.get('source_name')} table {s.get('table')} read "
        f"{s.get('read_count')} != loaded {s.get('loaded_count')} + quarantined "
        f"{s.get('quarantined_count')} + excluded {s.get('excluded_count')}."
        for s in counts.get("sources", [])
        if isinstance(s, dict) and not s.get("balanced", True)
    ]
    messages += [
        f"Run {run_id}: {p}" for p in counts.get("reconciliation_problems", [])
    ]
    if not messages and status == "unbalanced":
        messages = [f"Run {run_id} ended with status unbalanced."]
    if not messages:
        return []
    # One finding per run: the finding id hashes the rule and the run id.
    return [
        _run_finding(context, "reconciliation.run_balanced", run_id, " ".join(messages))
    ]


@rule(
    "reconciliation.run_completed",
    title="Latest run did not complete",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.CRITICAL,
    needs=("migration_run",),
)
def run_completed(context: RuleContext) -> list[Finding]:
    """The latest run finished (status balanced or unbalanced, with a finish time).

    A failed or still-running run left the target part-loaded, so every other
    finding describes an incomplete migration. A finished latest run passes.
    """
    latest = _latest_run(context)
    finished = (
        latest["status"].isin(["balanced", "unbalanced"])
        & latest["finished_at"].notna()
    )
    failing = latest.loc[~finished]
    messages = (
        "Run "
        + show(failing["run_id"])
        + " has status "
        + show(failing["status"])
        + " and finish time "
        + show_time(failing["finished_at"])
        + "."
    )
    rows = failing.assign(entity_id=failing["run_id"])
    return emit(
        context,
        "reconciliation.run_completed",
        rows,
        messages,
        entity_type="migration_run",
    )


@rule(
    "reconciliation.unmapped_values_quarantined",
    title="Records quarantined for unmapped code values",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.CRITICAL,
    needs=("quarantine", "migration_run"),
)
def unmapped_values_quarantined(context: RuleContext) -> list[Finding]:
    """Every legacy code value of the latest run has a mapping.

    A status, priority or group code missing from the mapping's value maps keeps
    its record out of the target; the mapping must be completed and the run
    repeated. A latest run with no ``unmapped_value`` quarantine passes.
    """
    latest = _latest_run(context)
    quarantine = context.table("quarantine")
    failing = quarantine.loc[
        quarantine["run_id"].isin(set(latest["run_id"]))
        & quarantine["reason"].eq("unmapped_value")
    ].drop_duplicates(["source_name", "legacy_id"])
    rows = failing.assign(entity_id=failing["source_name"] + ":" + failing["legacy_id"])
    messages = (
        "Record of source "
        + show(rows["source_name"])
        + " quarantined in run "
        + show(rows["run_id"])
        + ": "
        + show(rows["detail"])
        + "."
    )
    return emit(
        context,
        "reconciliation.unmapped_values_quarantined",
        rows,
        messages,
        entity_type="quarantine",
    )


@rule(
    "record.duplicate_legacy_id",
    title="Legacy id held by more than one record",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=_RECORDS,
)
def duplicate_legacy_id(context: RuleContext) -> list[Finding]:
    """A legacy record becomes exactly one incident, request or problem.

    Two target records with one legacy key (a record reclassified between runs
    lands in a second table) double-count it in every report. Each copy is
    reported; unique (source system, source name, legacy id) keys pass.
    """
    records = context.records()
    key = ["source_system", "source_name", "legacy_id"]
    copies = records.groupby(key, dropna=False)["entity_type"].transform("size")
    failing = records.loc[copies > 1]
    types = failing.groupby(key, dropna=False)["entity_type"].transform(
        lambda kinds: ", ".join(sorted(kinds))
    )
    messages = (
        "Legacy id of source "
        + show(failing["source_name"])
        + " is held by "
        + copies.loc[failing.index].astype(str)
        + " records ("
        + types.astype(str)
        + ")."
    )
    return emit(context, "record.duplicate_legacy_id", failing, messages)


@rule(
    "record.legacy_priority_unmapped",
    title="Legacy priority not mapped to an ITIL priority",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=_RECORDS,
)
def legacy_priority_unmapped(context: RuleContext) -> list[Finding]:
    """A record with a legacy priority has an ITIL priority.

    A legacy priority code the mapping did not translate loses the record's
    urgency and its SLA. Records whose legacy priority is blank, or mapped, pass.
    """
    records = context.records()
    failing = records.loc[
        ~blank(records["legacy_priority"]) & records["priority"].isna()
    ]
    messages = (
        "Legacy priority '"
        + show(failing["legacy_priority"])
        + "' has no ITIL priority (impact "
        + show(failing["impact"])
        + ", urgency "
        + show(failing["urgency"])
        + ")."
    )
    return emit(context, "record.legacy_priority_unmapped", failing, messages)


@rule(
    "record.status_conflict",
    title="Legacy close fields disagree with the status",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.WARNING,
    needs=_RECORDS,
)
def status_conflict(context: RuleContext) -> list[Finding]:
    """A record's legacy close fields agree with its status.

    The transform keeps a ``status_conflict`` code where, say, a record is open but
    has a close date; the migrated status may then be wrong. Records without a
    conflict code pass.
    """
    records = context.records()
    failing = records.loc[~blank(records["status_conflict"])]
    messages = (
        "Status "
        + show(failing["status"])
        + " (legacy '"
        + show(failing["legacy_status"])
        + "') conflicts with the close fields: "
        + show(failing["status_conflict"])
        + "."
    )
    return emit(context, "record.status_conflict", failing, messages)


@rule(
    "record.timestamp_at_run_time",
    title="Record timestamp equals a migration run's time",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=(*_RECORDS, "migration_run"),
)
def timestamp_at_run_time(context: RuleContext) -> list[Finding]:
    """No record timestamp falls inside a migration run.

    A lifecycle time between a run's start and finish (to the second) was almost
    certainly filled with "now" by the migration instead of coming from the legacy
    data. Records whose times all lie outside every run pass.
    """
    records = context.records()
    runs = context.table("migration_run")
    hit_column = pd.Series(pd.NA, index=records.index, dtype="string")
    hit_run = pd.Series(pd.NA, index=records.index, dtype="string")
    for run_id, started, finished in zip(
        runs["run_id"], runs["started_at"], runs["finished_at"], strict=True
    ):
        if pd.isna(started):
            continue
        low = started.floor("s")
        high = (started if pd.isna(finished) else finished).ceil("s")
        for column in _ALL_TIMES:
            inside = records[column].between(low, high).fillna(False)
            fresh = inside & hit_column.isna()
            hit_column = hit_column.mask(fresh, column)
            hit_run = hit_run.mask(fresh, str(run_id))
    failing = records.loc[hit_column.notna()]
    chosen = hit_column.loc[failing.index]
    messages = (
        show(chosen)
        + " "
        + show_time(_pick(failing, chosen))
        + " lies inside migration run "
        + show(hit_run.loc[failing.index])
        + "."
    )
    return emit(context, "record.timestamp_at_run_time", failing, messages)


@rule(
    "record.timestamps_out_of_order",
    title="Lifecycle timestamps out of order",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=_RECORDS,
)
def timestamps_out_of_order(context: RuleContext) -> list[Finding]:
    """Opened <= responded <= resolved <= closed, for the times a record has.

    Times out of order mean a zone or day/month mix-up in the migration, and give
    negative durations in every SLA and KPI. Missing times are skipped; the first
    pair out of order is reported. Records in order pass.
    """
    records = context.records()
    early = pd.Series(pd.NA, index=records.index, dtype="string")
    late = pd.Series(pd.NA, index=records.index, dtype="string")
    for n, before in enumerate(_TIMES):
        for after in _TIMES[n + 1 :]:
            wrong = (records[before] > records[after]).fillna(False) & early.isna()
            early = early.mask(wrong, before)
            late = late.mask(wrong, after)
    failing = records.loc[early.notna()]
    first, second = early.loc[failing.index], late.loc[failing.index]

    messages = (
        show(first)
        + " "
        + show_time(_pick(failing, first))
        + " is after "
        + show(second)
        + " "
        + show_time(_pick(failing, second))
        + "."
    )
    return emit(context, "record.timestamps_out_of_order", failing, messages)


@rule(
    "record.timestamp_in_future",
    title="Record timestamp in the future",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.ERROR,
    needs=_RECORDS,
)
def timestamp_in_future(context: RuleContext) -> list[Finding]:
    """No record timestamp lies after the check time.

    A future time is a parsing error (two-digit year, day/month swap). Records
    whose times are all in the past pass.
    """
    records = context.records()
    column = pd.Series(pd.NA, index=records.index, dtype="string")
    for name in _ALL_TIMES:
        column = column.mask(
            (records[name] > context.now).fillna(False) & column.isna(), name
        )
    failing = records.loc[column.notna()]
    chosen = column.loc[failing.index]
    messages = (
        show(chosen)
        + " "
        + show_time(_pick(failing, chosen))
        + " is after the check time "
        + context.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        + "."
    )
    return emit(context, "record.timestamp_in_future", failing, messages)


@rule(
    "record.mojibake_text",
    title="Garbled characters (mojibake) in text",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.WARNING,
    needs=_RECORDS,
)
def mojibake_text(context: RuleContext) -> list[Finding]:
    """Migrated text has no mojibake ("Ã©" for "é") or replacement characters.

    Garbled text is unreadable and unsearchable; it shows the source encoding was
    guessed wrong. Text without those sequences passes.
    """
    records = context.records()
    column = pd.Series(pd.NA, index=records.index, dtype="string")
    for name in _TEXTS:
        garbled = records[name].astype("string").str.contains(_MOJIBAKE, regex=True)
        column = column.mask(garbled.fillna(False) & column.isna(), name)
    failing = records.loc[column.notna()]
    messages = (
        "Field " + show(column.loc[failing.index]) + " contains garbled characters."
    )
    return emit(context, "record.mojibake_text", failing, messages)


@rule(
    "record.truncated_text",
    title="Text cut at a source field limit",
    practice=Practice.MIGRATION_FIDELITY,
    severity=Severity.WARNING,
    needs=(*_RECORDS, "policy"),
)
def truncated_text(context: RuleContext) -> list[Finding]:
    """Legacy text is not cut off at a field length limit.

    Text exactly as long as a common column limit (``thresholds.truncation_lengths``,
    255, 2000, 4000...) was very likely truncated by the source or an export.
    Texts of any other length pass.
    """
    records = context.records()
    limits = context.policy.thresholds.truncation_lengths
    column = pd.Series(pd.NA, index=records.index, dtype="string")
    length = pd.Series(pd.NA, index=records.index, dtype="Int64")
    for raw, name in _RAW_TEXTS.items():
        size = records[raw].astype("string").str.len()
        cut = size.isin(limits).fillna(False) & column.isna()
        column = column.mask(cut, name)
        length = length.mask(cut, size)
    failing = records.loc[column.notna()]
    messages = (
        "Field "
        + show(column.loc[failing.index])
        + " is exactly "
        + show(length.loc[failing.index])
        + " characters long, a common field limit."
    )
    return emit(context, "record.truncated_text", failing, messages)
