"""Transform record sources (calls) into incidents, service requests and problems."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from itilmigrate.entities import EntityType, ProblemOrigin, entity_ids
from itilmigrate.records import QuarantineReason
from itilmigrate.transform import converters
from itilmigrate.transform.engine import (
    BatchResult,
    Transformer,
    _frame,
    classify,
    record_status_conflict,
)
from itilmigrate.transform.fields import (
    FieldProblems,
    convert_field,
    evaluate,
    extension_json,
    join_key,
    present,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from itilmigrate.mappings.spec import FieldMapping
    from itilmigrate.records import QuarantinedRecord

logger = logging.getLogger(__name__)

_AGGREGATE_COLUMNS = (
    "assignment_count",
    "reassignment_count",
    "group_id",
    "assignee_id",
    "responded_at",
    "resolved_at",
)


def aggregate_events(values: pd.Series, keys: pd.Series, how: str) -> pd.Series:
    """Reduce event values (already in event order) to one value per key."""
    frame = pd.DataFrame(
        {"k": keys.to_numpy(dtype=object), "v": values.to_numpy(dtype=object)}
    )
    if how in ("last_present", "first_present", "min", "max"):
        frame = frame[frame["v"].notna()]
    if how in ("min", "max"):
        grouped = frame.groupby("k", sort=False)["v"]
        return grouped.min() if how == "min" else grouped.max()
    keep: Literal["first", "last"] = (
        "first" if how in ("first", "first_present") else "last"
    )
    frame = frame.drop_duplicates("k", keep=keep)
    return pd.Series(
        frame["v"].to_numpy(dtype=object), index=frame["k"].to_numpy(dtype=object)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class EventReduction:
    """An event-log batch reduced to one row per record, with its histories."""

    rows: pd.Index
    converted: dict[str, pd.Series]
    originals: dict[str, pd.Series]
    problems: FieldProblems
    excluded: pd.Series
    assignments: pd.DataFrame | None
    status_changes: pd.DataFrame


class RecordTransformer(Transformer):
    """Calls → incidents, service requests and problems."""

    def transform(self, df: pd.DataFrame, batch_id: str) -> BatchResult:
        """Transform one batch of a record source (whole records only)."""
        legacy_ids = join_key(df, self.plan.columns, self.mapping.key, self.blanks)
        problems = FieldProblems(df.index)
        excluded, excluded_counts = self._screen(df, legacy_ids, problems)
        fields = {n: s for n, s in self.mapping.fields.items() if n != "event_time"}
        frames: list[tuple[str, pd.DataFrame]] = []
        lineage: list[pd.DataFrame] = []

        assignment_frame: pd.DataFrame | None = None
        status_changes: pd.DataFrame | None = None
        if self.mapping.mode == "events":
            reduced = self._events(
                df, legacy_ids, problems, excluded, fields, frames, lineage
            )
            rows, values, originals = reduced.rows, reduced.converted, reduced.originals
            problems, excluded = reduced.problems, reduced.excluded
            assignment_frame = reduced.assignments
            status_changes = reduced.status_changes
            excluded_counts = self._event_exclusions(df, legacy_ids, excluded)
        else:
            rows = df.index[~excluded.to_numpy(dtype=bool)]
            values, originals = self._convert(df.loc[rows], problems, fields)

        quarantined, good = self._finish_problems(
            df, legacy_ids, rows, values, problems, excluded, batch_id
        )
        record_frames, record_lineage, loaded_keys = self._records(
            df, legacy_ids, good, values, originals, frames, lineage, assignment_frame
        )
        frames.extend(record_frames)
        lineage.append(record_lineage)
        if assignment_frame is not None and not assignment_frame.empty:
            kept = assignment_frame[
                assignment_frame["record_legacy_id"].isin(loaded_keys)
            ]
            frames.append(("assignment", kept.reset_index(drop=True)))
            steps = self._lineage(kept["legacy_id"], "assignment", kept["entity_id"])
            lineage.append(steps.assign(source_name=f"{self.mapping.name}_assignments"))
        if status_changes is not None and not status_changes.empty:
            kept = status_changes[status_changes["record_legacy_id"].isin(loaded_keys)]
            frames.append(("status_change", kept.reset_index(drop=True)))
            history = self._lineage(
                kept["legacy_id"], "status_change", kept["entity_id"]
            )
            lineage.append(history.assign(source_name=f"{self.mapping.name}_status"))
        self.state.loaded_records.setdefault(self.mapping.name, set()).update(
            loaded_keys
        )
        left_out = legacy_ids[excluded & legacy_ids.notna()]
        self.state.excluded_records.setdefault(self.mapping.name, set()).update(
            left_out
        )

        # An event log reconciles rows: every event of a loaded record is loaded.
        loaded_rows = int(legacy_ids.isin(loaded_keys).sum())
        return self._result(
            batch_id, frames, lineage, quarantined, loaded_rows, excluded_counts
        )

    def _event_exclusions(
        self,
        df: pd.DataFrame,
        legacy_ids: pd.Series,
        excluded: pd.Series,
    ) -> dict[str, int]:
        """Count excluded event rows per rule, judged on each key's last event."""
        out: dict[str, int] = {}
        remaining = excluded.copy()
        for rule in self.mapping.exclude:
            hit = evaluate(rule.when, df, self.plan.columns, self.blanks)
            hit_keys = set(legacy_ids[hit & remaining].dropna())
            rows = remaining & (legacy_ids.isin(hit_keys) | (hit & legacy_ids.isna()))
            if rows.any():
                out[rule.name] = int(rows.sum())
                remaining &= ~rows
        return out

    # -- event logs --------------------------------------------------------------

    def _events(
        self,
        df: pd.DataFrame,
        legacy_ids: pd.Series,
        problems: FieldProblems,
        excluded_rows: pd.Series,
        fields: dict[str, FieldMapping],
        derived: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> EventReduction:
        """Reduce an event log batch (whole keys only) to one row per record."""
        event_spec = self.mapping.fields["event_time"]
        event_time = convert_field(
            "event_time",
            "timestamp",
            event_spec,
            df,
            self.plan.columns,
            self.definition,
            problems,
            self.state.dst,
        )[0]
        order = pd.DataFrame(
            {"k": legacy_ids.fillna(""), "t": event_time, "p": range(len(df))},
            index=df.index,
        ).sort_values(["k", "t", "p"], na_position="first", kind="stable")
        ordered = df.loc[order.index]
        keys = legacy_ids.loc[order.index]
        # A field reads only the events its `when` selects: a value on any other
        # event can neither fail its conversion nor reach the record.
        selected = {
            name: evaluate(spec.when, ordered, self.plan.columns, self.blanks)
            for name, spec in fields.items()
            if spec.when is not None
        }
        row_values: dict[str, pd.Series] = {}
        row_originals: dict[str, pd.Series] = {}
        for name, spec in fields.items():
            rows = ordered[selected[name]] if name in selected else ordered
            converted, original = self._convert(rows, problems, {name: spec})
            row_values[name] = converted[name]
            if name in original:
                row_originals[name] = original[name]

        # A key is excluded when its last event meets an exclusion rule.
        last_rows = order.drop_duplicates("k", keep="last").index
        last_rows = last_rows[legacy_ids.loc[last_rows].notna().to_numpy(dtype=bool)]
        excluded_keys = set(legacy_ids.loc[last_rows][excluded_rows.loc[last_rows]])
        excluded = legacy_ids.isin(excluded_keys) | (excluded_rows & legacy_ids.isna())
        last_rows = last_rows[~excluded.loc[last_rows].to_numpy(dtype=bool)]

        values: dict[str, pd.Series] = {}
        originals: dict[str, pd.Series] = {}
        last_keys = legacy_ids.loc[last_rows]
        for name, spec in fields.items():
            series = row_values[name]
            subset_keys = keys.loc[series.index]
            agg = aggregate_events(series, subset_keys, spec.aggregate)
            values[name] = pd.Series(
                agg.reindex(last_keys.to_numpy()).to_numpy(), index=last_rows
            )
            if name in row_originals:
                orig = aggregate_events(
                    row_originals[name].loc[series.index], subset_keys, spec.aggregate
                )
                originals[name] = pd.Series(
                    orig.reindex(last_keys.to_numpy()).to_numpy(), index=last_rows
                )

        # A problem on any event quarantines every event of that record.
        bad_keys = set(legacy_ids[problems.bad].dropna())
        key_problems = FieldProblems(df.index)
        first_problem = pd.DataFrame(
            {
                "k": legacy_ids[problems.bad],
                "r": problems.reason[problems.bad],
                "d": problems.detail[problems.bad],
            }
        ).drop_duplicates("k")
        reason_by_key = dict(zip(first_problem["k"], first_problem["r"], strict=True))
        detail_by_key = dict(zip(first_problem["k"], first_problem["d"], strict=True))
        in_bad = legacy_ids.isin(bad_keys) & ~excluded
        key_problems.reason[in_bad] = legacy_ids[in_bad].map(reason_by_key)
        key_problems.detail[in_bad] = legacy_ids[in_bad].map(detail_by_key)
        blank = legacy_ids.isna() & ~excluded
        key_problems.add(
            blank, QuarantineReason.MISSING_REQUIRED, f"key {self.mapping.key} is blank"
        )

        times = event_time.loc[order.index]
        return EventReduction(
            rows=last_rows,
            converted=values,
            originals=originals,
            problems=key_problems,
            excluded=excluded,
            assignments=self._event_assignments(ordered, keys, times, derived, lineage),
            status_changes=self._status_history(ordered, keys, times, row_values),
        )

    def _status_history(
        self,
        ordered: pd.DataFrame,
        keys: pd.Series,
        event_time: pd.Series,
        row_values: dict[str, pd.Series],
    ) -> pd.DataFrame:
        """One status change per event whose mapped status differs from the last."""
        status = row_values["status"]
        spec = self.mapping.fields["status"]
        legacy = (
            present(
                ordered.loc[status.index], self.plan.columns, spec.column, self.blanks
            )
            if spec.column is not None
            else pd.Series(None, index=status.index, dtype=object)
        )
        frame = pd.DataFrame(
            {
                "k": keys.loc[status.index],
                "s": status,
                "l": legacy,
                "t": event_time.loc[status.index],
            }
        )
        frame = frame[frame["k"].notna() & frame["s"].notna()]
        same_key = frame["k"].eq(frame["k"].shift())
        steps = frame[~(same_key & frame["s"].eq(frame["s"].shift()))].copy()
        steps["seq"] = steps.groupby("k", sort=False).cumcount() + 1
        legacy_ids = steps["k"].astype(str) + "#" + steps["seq"].astype(str)
        system, name = self.state.source_system, self.mapping.name
        data: dict[str, object] = {
            "entity_id": entity_ids(
                system, "status_change", legacy_ids, prefix=f"{name}|"
            ),
            "source_system": system,
            "source_name": f"{name}_status",
            "legacy_id": legacy_ids,
            "run_id": self.state.run_id,
            "record_id": entity_ids(system, "record", steps["k"], prefix=f"{name}|"),
            "record_legacy_id": steps["k"],
            "seq": steps["seq"].astype("Int64"),
            "status": steps["s"],
            "legacy_status": steps["l"],
            "changed_at": pd.to_datetime(steps["t"], utc=True),
        }
        return _frame("status_change", data, steps.index)

    def _event_assignments(
        self,
        ordered: pd.DataFrame,
        keys: pd.Series,
        event_time: pd.Series,
        derived: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
    ) -> pd.DataFrame | None:
        spec = self.mapping.assignments
        if spec is None:
            return None
        problems = FieldProblems(ordered.index)
        parts: dict[str, pd.Series] = {}
        for name, kind, part in (
            ("group", "group_ref", spec.group),
            ("assignee", "staff_ref", spec.assignee),
        ):
            if part is None:
                parts[name] = pd.Series(None, index=ordered.index, dtype=object)
                continue
            value = convert_field(
                name,
                kind,
                part,
                ordered,
                self.plan.columns,
                self.definition,
                problems,
                self.state.dst,
            )[0]
            parts[name] = (
                self._groups(value, derived, lineage)
                if kind == "group_ref"
                else self._staff(value, derived, lineage)
            )
        return collapse_assignments(
            keys,
            parts["group"],
            parts["assignee"],
            event_time,
            source_system=self.state.source_system,
            record_source=self.mapping.name,
            source_name=f"{self.mapping.name}_assignments",
            run_id=self.state.run_id,
        )

    # -- common ----------------------------------------------------------------

    def _finish_problems(
        self,
        df: pd.DataFrame,
        legacy_ids: pd.Series,
        rows: pd.Index,
        values: dict[str, pd.Series],
        problems: FieldProblems,
        excluded: pd.Series,
        batch_id: str,
    ) -> tuple[list[QuarantinedRecord], pd.Index]:
        """Apply priority levels, then quarantine every record with a problem."""
        levels = self.definition.priority.levels
        if (
            levels is not None
            and "impact" not in self.mapping.fields
            and "priority" in values
        ):
            legacy = values["priority"]
            known = {k.strip().casefold() for k in levels}
            unmapped = legacy.notna() & ~legacy.str.casefold().isin(known)
            row_flags = pd.Series(False, index=df.index)
            row_flags.loc[rows] = unmapped.to_numpy(dtype=bool)
            if self.mapping.mode == "events":
                bad_keys = set(legacy_ids.loc[rows][unmapped.to_numpy(dtype=bool)])
                row_flags = legacy_ids.isin(bad_keys)
            problems.add(
                row_flags,
                QuarantineReason.UNMAPPED_VALUE,
                f"field 'priority': value not in priority.levels {sorted(levels)}",
            )
        bad = problems.bad & ~excluded
        quarantined = self._quarantine(
            df, legacy_ids, bad, problems.reason, problems.detail, batch_id
        )
        good = rows[~problems.bad.loc[rows].to_numpy(dtype=bool)]
        return quarantined, good

    def _records(
        self,
        df: pd.DataFrame,
        legacy_ids: pd.Series,
        good: pd.Index,
        values: dict[str, pd.Series],
        originals: dict[str, pd.Series],
        derived: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
        assignment_frame: pd.DataFrame | None,
    ) -> tuple[list[tuple[str, pd.DataFrame]], pd.DataFrame, set[str]]:
        """Build the record frames for the records that passed."""
        system = self.state.source_system
        keys = legacy_ids.loc[good]
        v = {name: series.loc[good] for name, series in values.items()}
        o = {name: series.loc[good] for name, series in originals.items()}
        n = pd.Index(good)
        none = pd.Series(None, index=n, dtype=object)

        def get(name: str) -> pd.Series:
            return v.get(name, none)

        ids = entity_ids(system, "record", keys, prefix=f"{self.mapping.name}|")
        refs = self._refs(
            {
                k: s
                for k, s in v.items()
                if k
                in ("caller", "opened_by", "closed_by", "assignment_group", "assignee")
            },
            derived,
            lineage,
        )
        types, rule_names = classify(df.loc[good], self.plan, self.definition)

        impact, urgency = self._impact_urgency(v, n)
        priority = converters.priority_from_matrix(
            impact, urgency, self.definition.priority.matrix
        )

        aggregates = self._aggregates(keys, assignment_frame)
        group_id = refs.get("assignment_group", aggregates["group_id"])
        assignee_id = refs.get("assignee", aggregates["assignee_id"])
        responded_at = v.get("responded_at", aggregates["responded_at"])
        status = get("status")
        resolved_at = v.get("resolved_at")
        if resolved_at is None:
            done = status.isin(["resolved", "closed"])
            resolved_at = aggregates["resolved_at"].where(done, pd.NaT)
        reassignments = v.get("reassignment_count")
        if reassignments is None:
            reassignments = aggregates["reassignment_count"]
        status_spec = self.mapping.fields["status"]
        legacy_status = (
            present(df.loc[good], self.plan.columns, status_spec.column, self.blanks)
            if status_spec.column
            else none
        )
        common: dict[str, object] = {
            "entity_id": ids,
            "source_system": system,
            "source_name": self.mapping.name,
            "legacy_id": keys,
            "extension": extension_json(
                df.loc[good], self.plan.mapped_actual, self.blanks
            )
            if self.mapping.keep_unmapped
            else None,
            "run_id": self.state.run_id,
            "title": get("title"),
            "description": get("description"),
            "description_raw": o.get("description", none),
            "status": status,
            "legacy_status": legacy_status,
            "status_conflict": record_status_conflict(
                status, get("closed_at"), resolved_at
            ),
            "impact": impact,
            "urgency": urgency,
            "priority": priority,
            "legacy_priority": get("priority"),
            "category": get("category"),
            "subcategory": get("subcategory"),
            "service": get("service"),
            "contact_type": get("contact_type"),
            "caller_id": refs.get("caller", none),
            "caller_ref": get("caller"),
            "opened_by_id": refs.get("opened_by", none),
            "closed_by_id": refs.get("closed_by", none),
            "assignment_group_id": group_id,
            "assignee_id": assignee_id,
            "opened_at": get("opened_at"),
            "responded_at": responded_at,
            "resolved_at": resolved_at,
            "closed_at": get("closed_at"),
            "updated_at": get("updated_at"),
            "resolution_notes": get("resolution_notes"),
            "resolution_notes_raw": o.get("resolution_notes", none),
            "closure_code": get("closure_code"),
            "assignment_count": aggregates["assignment_count"],
            "reassignment_count": reassignments.fillna(0),
            "reopen_count": get("reopen_count"),
            "classification_rule": rule_names,
            "major": get("major").fillna(False) if "major" in v else False,
            "request_type": get("request_type"),
            "origin": ProblemOrigin.CLASSIFIED.value,
            "origin_rule": rule_names,
            "root_cause": get("root_cause"),
            "workaround": get("workaround"),
            "known_error": get("known_error").fillna(False)
            if "known_error" in v
            else False,
            "incident_count": 0,
        }
        out: list[tuple[str, pd.DataFrame]] = []
        for entity_type in EntityType:
            mask = (types == entity_type.value).to_numpy(dtype=bool)
            if not mask.any():
                continue
            part = {
                k: (s[mask] if isinstance(s, pd.Series) else s)
                for k, s in common.items()
            }
            out.append((entity_type.value, _frame(entity_type.value, part, n[mask])))
        incidents = (types == EntityType.INCIDENT.value).to_numpy(dtype=bool)
        if incidents.any():
            self._collect_for_clustering(common, incidents, n)
        record_lineage = self._lineage(keys, types, ids)
        return out, record_lineage, set(keys)

    def _impact_urgency(
        self, v: dict[str, pd.Series], n: pd.Index
    ) -> tuple[pd.Series, pd.Series]:
        levels = self.definition.priority.levels
        if "impact" in v or "urgency" in v or levels is None or "priority" not in v:
            impact = v.get("impact", pd.Series(pd.NA, index=n, dtype="Int64"))
            urgency = v.get("urgency", pd.Series(pd.NA, index=n, dtype="Int64"))
            return impact.astype("Int64"), urgency.astype("Int64")
        folded = {k.strip().casefold(): pair for k, pair in levels.items()}
        pairs = v["priority"].str.casefold().map(folded)
        impact = pairs.map(lambda p: p[0] if isinstance(p, tuple) else pd.NA)
        urgency = pairs.map(lambda p: p[1] if isinstance(p, tuple) else pd.NA)
        return impact.astype("Int64"), urgency.astype("Int64")

    def _aggregates(
        self, keys: pd.Series, assignment_frame: pd.DataFrame | None
    ) -> dict[str, pd.Series]:
        """Per-record facts from the assignment history (count, last group, ...)."""
        table = self.state.record_aggregates.get(self.mapping.name)
        if assignment_frame is not None and not assignment_frame.empty:
            table = summarise_assignments(assignment_frame)
        n = keys.index
        if table is None or table.empty:
            return {
                "assignment_count": pd.Series(0, index=n, dtype="Int64"),
                "reassignment_count": pd.Series(0, index=n, dtype="Int64"),
                "group_id": pd.Series(None, index=n, dtype=object),
                "assignee_id": pd.Series(None, index=n, dtype=object),
                "responded_at": pd.Series(pd.NaT, index=n, dtype="datetime64[ns, UTC]"),
                "resolved_at": pd.Series(pd.NaT, index=n, dtype="datetime64[ns, UTC]"),
            }
        joined = table.reindex(keys.to_numpy())
        joined.index = n
        return {
            "assignment_count": joined["assignment_count"].fillna(0).astype("Int64"),
            "reassignment_count": joined["reassignment_count"]
            .fillna(0)
            .astype("Int64"),
            "group_id": joined["group_id"]
            .astype(object)
            .where(joined["group_id"].notna(), None),
            "assignee_id": joined["assignee_id"]
            .astype(object)
            .where(joined["assignee_id"].notna(), None),
            "responded_at": pd.to_datetime(joined["responded_at"], utc=True),
            "resolved_at": pd.to_datetime(joined["resolved_at"], utc=True),
        }

    def _collect_for_clustering(
        self, common: dict[str, object], mask: npt.NDArray[np.bool_], n: pd.Index
    ) -> None:
        """Keep what repeat-incident clustering needs of this batch's incidents."""
        settings = self.definition.repeat_incidents
        if settings is None:
            return
        wanted = [
            "entity_id",
            "legacy_id",
            "opened_at",
            settings.text,
            *settings.group_by,
        ]
        part = pd.DataFrame(index=n[mask])
        for column in dict.fromkeys(wanted):
            value = common[column]
            part[column] = (
                value[mask]
                if isinstance(value, pd.Series)
                else pd.Series([value] * len(part), index=part.index, dtype=object)
            )
        # Clustering compares the start of each text; the rest only costs memory.
        part[settings.text] = part[settings.text].str.slice(0, 500)
        self.state.cluster_parts.append(part.reset_index(drop=True))


def collapse_assignments(
    keys: pd.Series,
    group_ids: pd.Series,
    assignee_ids: pd.Series,
    event_time: pd.Series,
    *,
    source_system: str,
    record_source: str,
    source_name: str,
    run_id: str,
) -> pd.DataFrame:
    """Turn events in record order into assignment steps: one per change of holder.

    ``keys``, ``group_ids``, ``assignee_ids`` and ``event_time`` share an index
    already sorted by record and event time. A step starts at the first event with
    a group or assignee and whenever either changes.
    """
    frame = pd.DataFrame(
        {
            "k": keys.to_numpy(dtype=object),
            "g": group_ids.to_numpy(dtype=object),
            "a": assignee_ids.to_numpy(dtype=object),
            "t": event_time.to_numpy(),
        }
    )
    frame = frame[frame["k"].notna() & (frame["g"].notna() | frame["a"].notna())]
    if frame.empty:
        from itilmigrate.transform.engine import _empty  # noqa: PLC0415

        return _empty("assignment")
    same_key = frame["k"].eq(frame["k"].shift())
    same_holder = frame["g"].fillna("\x00").eq(
        frame["g"].shift().fillna("\x00")
    ) & frame["a"].fillna("\x00").eq(frame["a"].shift().fillna("\x00"))
    steps = frame[~(same_key & same_holder)].copy()
    steps["seq"] = steps.groupby("k", sort=False).cumcount() + 1
    previous_group = steps.groupby("k", sort=False)["g"].shift()
    steps["re"] = (
        (steps["seq"] > 1)
        & previous_group.notna()
        & steps["g"].notna()
        & steps["g"].ne(previous_group)
    )
    legacy = steps["k"].astype(str) + "#" + steps["seq"].astype(str)
    data = {
        "entity_id": entity_ids(
            source_system, "assignment", legacy, prefix=f"{source_name}|"
        ),
        "source_system": source_system,
        "source_name": source_name,
        "legacy_id": legacy,
        "run_id": run_id,
        "record_id": entity_ids(
            source_system, "record", steps["k"], prefix=f"{record_source}|"
        ),
        "record_legacy_id": steps["k"],
        "seq": steps["seq"].astype("Int64"),
        "group_id": steps["g"],
        "assignee_id": steps["a"],
        "assigned_at": pd.to_datetime(steps["t"], utc=True),
        "is_reassignment": steps["re"].astype(bool),
    }
    return _frame("assignment", data, steps.index)


def summarise_assignments(frame: pd.DataFrame) -> pd.DataFrame:
    """Per record: count, reassignments, last holder, first response, last resolve."""
    ordered = frame.sort_values(["record_legacy_id", "seq"], kind="stable")
    grouped = ordered.groupby("record_legacy_id", sort=False)
    summary = pd.DataFrame(
        {
            "assignment_count": grouped.size(),
            "reassignment_count": grouped["is_reassignment"].sum(),
            "group_id": grouped["group_id"].last(),
            "assignee_id": grouped["assignee_id"].last(),
            "responded_at": pd.to_datetime(grouped["acknowledged_at"].min(), utc=True),
            "resolved_at": pd.to_datetime(grouped["resolved_at"].max(), utc=True),
        }
    )
    return summary.loc[:, list(_AGGREGATE_COLUMNS)]
