"""Transform people, assignment and work-note sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.entities import PersonKind, entity_ids
from itilmigrate.records import QuarantineReason
from itilmigrate.transform.engine import (
    LIMIT_RULE,
    PARENT_RULE,
    BatchResult,
    Transformer,
    _frame,
)
from itilmigrate.transform.fields import (
    FieldProblems,
    convert_field,
    extension_json,
    join_key,
)
from itilmigrate.transform.record_source import (
    collapse_assignments,
    summarise_assignments,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from itilmigrate.transform.engine import RunState, SourcePlan


class PersonTransformer(Transformer):
    """Customer master and per-call customer copies → de-duplicated people."""

    def transform(self, df: pd.DataFrame, batch_id: str) -> BatchResult:
        """Transform one batch of a person source."""
        legacy_ids = join_key(df, self.plan.columns, self.mapping.key, self.blanks)
        problems = FieldProblems(df.index)
        excluded, excluded_counts = self._screen(df, legacy_ids, problems)
        assert self.mapping.person_key is not None  # noqa: S101 - checked by the spec
        person_keys = join_key(
            df, self.plan.columns, self.mapping.person_key, self.blanks
        )
        staff = self.mapping.person_kind is PersonKind.STAFF
        if staff:
            person_keys = person_keys.str.casefold()
        problems.add(
            person_keys.isna() & ~excluded,
            QuarantineReason.MISSING_REQUIRED,
            f"person key {self.mapping.person_key} is blank",
        )
        values, _ = self._convert(df, problems, dict(self.mapping.fields))
        bad = problems.bad & ~excluded
        quarantined = self._quarantine(
            df, legacy_ids, bad, problems.reason, problems.detail, batch_id
        )
        good = ~problems.bad & ~excluded

        kind = "staff" if staff else "person"
        ids = entity_ids(self.state.source_system, kind, person_keys)
        known = self.state.staff_keys if staff else self.state.customer_keys
        fresh = good & ~person_keys.isin(known) & ~person_keys.duplicated()
        known.update(person_keys[fresh])
        rows = df.index[fresh.to_numpy(dtype=bool)]
        data: dict[str, object] = {
            name: series.loc[rows] for name, series in values.items()
        }
        data.update(
            entity_id=ids.loc[rows],
            source_system=self.state.source_system,
            source_name=self.mapping.name,
            legacy_id=person_keys.loc[rows],
            kind=self.mapping.person_kind.value,
            extension=extension_json(df.loc[rows], self.plan.mapped_actual, self.blanks)
            if self.mapping.keep_unmapped
            else None,
            run_id=self.state.run_id,
        )
        frames = [("person", _frame("person", data, rows))]
        lineage = [self._lineage(legacy_ids[good], "person", ids[good])]
        return self._result(
            batch_id, frames, lineage, quarantined, int(good.sum()), excluded_counts
        )


class _ChildTransformer(Transformer):
    """Shared parent check of assignments and work notes."""

    def _parent_check(
        self, parents: pd.Series, problems: FieldProblems, excluded: pd.Series
    ) -> tuple[pd.Series, dict[str, int]]:
        """Quarantine orphans; exclude children of excluded or unread parents.

        Returns the new excluded mask and the excluded counts per rule.
        """
        assert self.mapping.parent is not None  # noqa: S101 - checked by the spec
        loaded = self.state.loaded_records.get(self.mapping.parent, set())
        known = self.state.known_records.get(self.mapping.parent, set())
        left_out = self.state.excluded_records.get(self.mapping.parent, set())
        has_parent = parents.isin(loaded)
        # A child follows its parent: a record excluded by a mapping rule takes its
        # assignments and notes with it, under a rule of their own.
        with_parent = ~has_parent & parents.isin(left_out) & ~excluded
        limited = pd.Series(False, index=parents.index)
        if self.state.limit_active:
            limited = ~has_parent & parents.isin(known) & ~excluded & ~with_parent
            limited &= ~problems.bad
        excluded = excluded | with_parent | limited
        problems.add(
            parents.isna() & ~excluded,
            QuarantineReason.MISSING_REQUIRED,
            f"parent key {self.mapping.parent_key} is blank",
        )
        problems.add(
            ~has_parent & parents.isin(known) & ~excluded,
            QuarantineReason.INVALID_REFERENCE,
            f"parent record in {self.mapping.parent!r} was quarantined",
        )
        problems.add(
            ~has_parent & ~parents.isin(known) & ~excluded,
            QuarantineReason.INVALID_REFERENCE,
            f"no record in {self.mapping.parent!r} has this parent key",
        )
        counts = {
            rule: int(mask.sum())
            for rule, mask in ((PARENT_RULE, with_parent), (LIMIT_RULE, limited))
            if mask.any()
        }
        return excluded, counts

    def _record_ids(self, parents: pd.Series) -> pd.Series:
        source = self.mapping.parent
        system = self.state.source_system
        return entity_ids(system, "record", parents, prefix=f"{source}|")


class AssignmentTransformer(_ChildTransformer):
    """Asgnmnt rows (or assignment events) → assignment history."""

    def transform(self, df: pd.DataFrame, batch_id: str) -> BatchResult:
        """Transform one batch of an assignment source."""
        if self.mapping.mode == "events":
            return self._events(df, batch_id)
        legacy_ids = join_key(df, self.plan.columns, self.mapping.key, self.blanks)
        parents = join_key(
            df, self.plan.columns, self.mapping.parent_key or [], self.blanks
        )
        problems = FieldProblems(df.index)
        excluded, excluded_counts = self._screen(df, legacy_ids, problems)
        frames: list[tuple[str, pd.DataFrame]] = []
        lineage: list[pd.DataFrame] = []
        values, originals = self._convert(df, problems, dict(self.mapping.fields))
        excluded, by_rule = self._parent_check(parents, problems, excluded)
        excluded_counts.update(by_rule)
        bad = problems.bad & ~excluded
        quarantined = self._quarantine(
            df, legacy_ids, bad, problems.reason, problems.detail, batch_id
        )
        good = ~problems.bad & ~excluded
        rows = df.index[good.to_numpy(dtype=bool)]
        refs = self._refs({k: v.loc[rows] for k, v in values.items()}, frames, lineage)
        system, name = self.state.source_system, self.mapping.name
        ids = entity_ids(system, "assignment", legacy_ids.loc[rows], prefix=f"{name}|")
        flags = self.state.reassignment_flags.get(name)
        reassigned = (
            legacy_ids.loc[rows].map(flags).fillna(False).astype(bool)
            if flags is not None
            else pd.Series(False, index=rows)
        )
        seq = (
            values["seq"].loc[rows]
            if "seq" in values
            else pd.Series(range(1, len(rows) + 1), index=rows)
        )
        data: dict[str, object] = {
            "entity_id": ids,
            "source_system": system,
            "source_name": name,
            "legacy_id": legacy_ids.loc[rows],
            "extension": extension_json(
                df.loc[rows], self.plan.mapped_actual, self.blanks
            )
            if self.mapping.keep_unmapped
            else None,
            "run_id": self.state.run_id,
            "record_id": self._record_ids(parents.loc[rows]),
            "record_legacy_id": parents.loc[rows],
            "seq": seq.astype("Int64"),
            "group_id": refs.get("group"),
            "assignee_id": refs.get("assignee"),
            "assigned_by_id": refs.get("assigned_by"),
            "assigned_at": values.get(
                "assigned_at", pd.Series(pd.NaT, index=df.index)
            ).loc[rows],
            "acknowledged_at": values.get(
                "acknowledged_at", pd.Series(pd.NaT, index=df.index)
            ).loc[rows],
            "resolved_at": values.get(
                "resolved_at", pd.Series(pd.NaT, index=df.index)
            ).loc[rows],
            "resolution": values["resolution"].loc[rows]
            if "resolution" in values
            else None,
            "is_reassignment": reassigned,
        }
        del originals
        frames.append(("assignment", _frame("assignment", data, rows)))
        lineage.append(self._lineage(legacy_ids.loc[rows], "assignment", ids))
        return self._result(
            batch_id, frames, lineage, quarantined, len(rows), excluded_counts
        )

    def _events(self, df: pd.DataFrame, batch_id: str) -> BatchResult:
        parents = join_key(
            df, self.plan.columns, self.mapping.parent_key or [], self.blanks
        )
        problems = FieldProblems(df.index)
        excluded, excluded_counts = self._screen(df, parents, problems)
        frames: list[tuple[str, pd.DataFrame]] = []
        lineage: list[pd.DataFrame] = []
        steps = self.event_steps(df, parents, problems, frames, lineage)
        excluded, by_rule = self._parent_check(parents, problems, excluded)
        excluded_counts.update(by_rule)
        bad_keys = set(parents[problems.bad].dropna())
        bad = (parents.isin(bad_keys) | problems.bad) & ~excluded
        reason = problems.reason.copy()
        detail = problems.detail.copy()
        first = pd.DataFrame(
            {
                "k": parents[problems.bad],
                "r": reason[problems.bad],
                "d": detail[problems.bad],
            }
        ).drop_duplicates("k")
        spill = bad & reason.isna()
        reason[spill] = parents[spill].map(
            dict(zip(first["k"], first["r"], strict=True))
        )
        detail[spill] = parents[spill].map(
            dict(zip(first["k"], first["d"], strict=True))
        )
        quarantined = self._quarantine(df, parents, bad, reason, detail, batch_id)
        good_keys = set(parents[~bad & ~excluded].dropna())
        kept = steps[steps["record_legacy_id"].isin(good_keys)].reset_index(drop=True)
        frames.append(("assignment", kept))
        lineage.append(
            self._lineage(kept["legacy_id"], "assignment", kept["entity_id"])
        )
        loaded_rows = int((~bad & ~excluded).sum())
        return self._result(
            batch_id, frames, lineage, quarantined, loaded_rows, excluded_counts
        )

    def event_steps(
        self,
        df: pd.DataFrame,
        parents: pd.Series,
        problems: FieldProblems,
        frames: list[tuple[str, pd.DataFrame]],
        lineage: list[pd.DataFrame],
        *,
        register: bool = True,
    ) -> pd.DataFrame:
        """Order the events of whole records and collapse them into steps."""
        spec = self.mapping.fields["event_time"]
        event_time = convert_field(
            "event_time",
            "timestamp",
            spec,
            df,
            self.plan.columns,
            self.definition,
            problems,
            self.state.dst,
        )[0]
        order = pd.DataFrame(
            {"k": parents.fillna(""), "t": event_time, "p": range(len(df))},
            index=df.index,
        )
        order = order.sort_values(["k", "t", "p"], kind="stable", na_position="first")
        ordered = df.loc[order.index]
        values: dict[str, pd.Series] = {}
        for name in ("group", "assignee"):
            part = self.mapping.fields.get(name)
            if part is None:
                values[name] = pd.Series(None, index=ordered.index, dtype=object)
                continue
            raw, _ = convert_field(
                name,
                "group_ref" if name == "group" else "staff_ref",
                part,
                ordered,
                self.plan.columns,
                self.definition,
                problems,
                self.state.dst,
            )
            if register:
                values[name] = (
                    self._groups(raw, frames, lineage)
                    if name == "group"
                    else self._staff(raw, frames, lineage)
                )
            else:
                kind = "group" if name == "group" else "staff"
                system = self.state.source_system
                values[name] = entity_ids(system, kind, raw.str.casefold())
        # A problem on any event sets aside every event of that record.
        bad_keys = set(parents[problems.bad].dropna())
        ok = ~parents.loc[order.index].isin(bad_keys) & ~problems.bad.loc[order.index]
        return collapse_assignments(
            parents.loc[order.index].where(ok, None),
            values["group"],
            values["assignee"],
            event_time.loc[order.index],
            source_system=self.state.source_system,
            record_source=self.mapping.parent or "",
            source_name=self.mapping.name,
            run_id=self.state.run_id,
        )


class WorkNoteTransformer(_ChildTransformer):
    """Journal rows → work notes with author and time."""

    def transform(self, df: pd.DataFrame, batch_id: str) -> BatchResult:
        """Transform one batch of a work-note source."""
        legacy_ids = join_key(df, self.plan.columns, self.mapping.key, self.blanks)
        parents = join_key(
            df, self.plan.columns, self.mapping.parent_key or [], self.blanks
        )
        problems = FieldProblems(df.index)
        excluded, excluded_counts = self._screen(df, legacy_ids, problems)
        frames: list[tuple[str, pd.DataFrame]] = []
        lineage: list[pd.DataFrame] = []
        values, originals = self._convert(df, problems, dict(self.mapping.fields))
        excluded, by_rule = self._parent_check(parents, problems, excluded)
        excluded_counts.update(by_rule)
        bad = problems.bad & ~excluded
        quarantined = self._quarantine(
            df, legacy_ids, bad, problems.reason, problems.detail, batch_id
        )
        good = ~problems.bad & ~excluded
        rows = df.index[good.to_numpy(dtype=bool)]
        refs = self._refs({k: v.loc[rows] for k, v in values.items()}, frames, lineage)
        system, name = self.state.source_system, self.mapping.name
        ids = entity_ids(system, "work_note", legacy_ids.loc[rows], prefix=f"{name}|")
        seq = (
            values["seq"].loc[rows]
            if "seq" in values
            else pd.Series(range(1, len(rows) + 1), index=rows)
        )
        none = pd.Series(None, index=df.index, dtype=object)
        data: dict[str, object] = {
            "entity_id": ids,
            "source_system": system,
            "source_name": name,
            "legacy_id": legacy_ids.loc[rows],
            "extension": extension_json(
                df.loc[rows], self.plan.mapped_actual, self.blanks
            )
            if self.mapping.keep_unmapped
            else None,
            "run_id": self.state.run_id,
            "record_id": self._record_ids(parents.loc[rows]),
            "record_legacy_id": parents.loc[rows],
            "seq": seq.astype("Int64"),
            "author_id": refs.get("author"),
            "noted_at": values.get("noted_at", pd.Series(pd.NaT, index=df.index)).loc[
                rows
            ],
            "note_type": values.get("note_type", none).loc[rows],
            "text": values.get("text", none).loc[rows],
            "text_raw": originals.get("text", none).loc[rows],
        }
        frames.append(("work_note", _frame("work_note", data, rows)))
        lineage.append(self._lineage(legacy_ids.loc[rows], "work_note", ids))
        return self._result(
            batch_id, frames, lineage, quarantined, len(rows), excluded_counts
        )


def prescan_assignments(
    plan: SourcePlan, state: RunState, batches: Iterable[pd.DataFrame]
) -> None:
    """First pass over an assignment source: per-record history facts.

    Records are transformed before their assignments (so orphans can be told from
    children of quarantined records), yet a record's current group, reassignment
    count, response and resolve times come from its assignments. This pass reads
    the assignment source once, keeps a compact frame of what those facts need and
    stores the per-record summary and the per-assignment reassignment flag.
    """
    # LIMITATION: the compact assignment history is held in memory while summarised.
    # When: tens of millions of assignment rows (about 200 bytes each).
    # Then: memory grows with the assignment table; the summary stays exact.
    transformer = AssignmentTransformer(plan, state)
    blanks = state.definition.blank_values
    parts: list[pd.DataFrame] = []
    system = state.source_system
    for df in batches:
        parents = join_key(df, plan.columns, plan.mapping.parent_key or [], blanks)
        problems = FieldProblems(df.index)
        if plan.mapping.mode == "events":
            steps = transformer.event_steps(
                df, parents, problems, [], [], register=False
            )
            no_time = pd.Series(pd.NaT, index=steps.index, dtype="datetime64[ns, UTC]")
            steps = steps.assign(acknowledged_at=no_time, resolved_at=no_time)
            parts.append(
                steps[
                    [
                        "legacy_id",
                        "record_legacy_id",
                        "seq",
                        "group_id",
                        "assignee_id",
                        "acknowledged_at",
                        "resolved_at",
                    ]
                ]
            )
            continue
        legacy_ids = join_key(df, plan.columns, plan.mapping.key, blanks)
        fields = {
            k: v
            for k, v in plan.mapping.fields.items()
            if k in ("seq", "group", "assignee", "acknowledged_at", "resolved_at")
        }
        values: dict[str, pd.Series] = {}
        for name, spec in fields.items():
            kind = {"group": "group_ref", "assignee": "staff_ref", "seq": "int"}.get(
                name, "timestamp"
            )
            values[name] = convert_field(
                name,
                kind,
                spec,
                df,
                plan.columns,
                state.definition,
                problems,
                type(state.dst)(),
            )[0]
        ok = ~problems.bad & parents.notna() & legacy_ids.notna()
        nat = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
        none = pd.Series(None, index=df.index, dtype=object)
        frame = pd.DataFrame(
            {
                "legacy_id": legacy_ids,
                "record_legacy_id": parents,
                "seq": values.get("seq", pd.Series(range(len(df)), index=df.index)),
                "group_id": entity_ids(
                    system, "group", values.get("group", none).str.casefold()
                ),
                "assignee_id": entity_ids(
                    system, "staff", values.get("assignee", none).str.casefold()
                ),
                "acknowledged_at": values.get("acknowledged_at", nat),
                "resolved_at": values.get("resolved_at", nat),
            }
        )
        parts.append(frame[ok.to_numpy(dtype=bool)])
    if not parts:
        return
    history = pd.concat(parts, ignore_index=True).sort_values(
        ["record_legacy_id", "seq"], kind="stable"
    )
    previous = history.groupby("record_legacy_id", sort=False)["group_id"].shift()
    history["is_reassignment"] = (
        previous.notna()
        & history["group_id"].notna()
        & history["group_id"].ne(previous)
    )
    assert plan.mapping.parent is not None  # noqa: S101 - checked by the spec
    state.record_aggregates[plan.mapping.parent] = summarise_assignments(history)
    state.reassignment_flags[plan.mapping.name] = pd.Series(
        history["is_reassignment"].to_numpy(dtype=bool),
        index=history["legacy_id"].to_numpy(dtype=object),
    )
