"""Great Expectations behind one door: a suite from a mapping, run on entity frames.

This is the only module that imports ``great_expectations`` (a ruff ban holds the
rest of the package to it), and only inside :func:`run_expectations`: importing
GX takes seconds, which ``itilmigrate --help`` and ``itilmigrate run`` must not pay.

The suite is generated from the mapping and the entity model:

* not null where the entity model or the mapping requires a value;
* status in the ITIL statuses, priority, impact and urgency in 1..5;
* ``opened_at <= resolved_at <= closed_at`` where both are present;
* unique legacy keys per source (``source_name``, ``legacy_id``);
* parseable dates: every required timestamp of a loaded record is present.

GX results become plain :class:`ExpectationOutcome` values, turned into findings
by the caller; the GX data docs (HTML) are built into the output folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itilmigrate.entities import Status
from itilmigrate.mappings.spec import EntityKind

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from itilmigrate.mappings.spec import MappingDefinition

logger = logging.getLogger(__name__)

RECORD_TABLES = ("incident", "service_request", "problem")
_SCORE = [1, 2, 3, 4, 5]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedExpectation:
    """One expectation of the generated suite, independent of GX's classes."""

    table: str
    kind: str
    kwargs: dict[str, Any]
    why: str

    @property
    def expectation_id(self) -> str:
        """A readable, stable id: table, expectation kind and columns."""
        columns = self.kwargs.get("column") or "+".join(
            self.kwargs.get("column_list")
            or [self.kwargs.get("column_A", ""), self.kwargs.get("column_B", "")]
        )
        return f"{self.table}.{self.kind}.{columns}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectationOutcome:
    """The result of one expectation on one entity table of the sample."""

    expectation: PlannedExpectation
    success: bool
    element_count: int
    unexpected_count: int


@dataclass(slots=True, kw_only=True)
class GxRun:
    """Every expectation outcome and where the data docs were written."""

    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_path: str | None = None


def plan_suite(
    definition: MappingDefinition, tables: list[str]
) -> list[PlannedExpectation]:
    """Return the expectations for the entity ``tables`` the sample produced."""
    required = {"opened_at", "status"}
    for source in definition.sources:
        if source.entity is EntityKind.RECORD:
            required |= {n for n, f in source.fields.items() if f.required}
    planned: list[PlannedExpectation] = []
    for table in tables:
        common = [
            PlannedExpectation(
                table=table,
                kind="not_null",
                kwargs={"column": column},
                why="every entity has an id and its legacy key",
            )
            for column in ("entity_id", "legacy_id")
        ]
        common.append(
            PlannedExpectation(
                table=table,
                kind="unique",
                kwargs={"column_list": ["source_name", "legacy_id"]},
                why="a legacy key becomes one entity",
            )
        )
        planned.extend(common)
        if table not in RECORD_TABLES:
            continue
        planned.extend(
            PlannedExpectation(
                table=table,
                kind="not_null",
                kwargs={"column": column},
                why="required by the mapping or the entity model (parseable dates)",
            )
            for column in sorted(required & _RECORD_COLUMNS)
        )
        planned.append(
            PlannedExpectation(
                table=table,
                kind="in_set",
                kwargs={"column": "status", "value_set": [s.value for s in Status]},
                why="status is an ITIL status",
            )
        )
        planned.extend(
            PlannedExpectation(
                table=table,
                kind="in_set",
                kwargs={"column": column, "value_set": _SCORE},
                why="ITIL scores run from 1 to 5",
            )
            for column in ("priority", "impact", "urgency")
        )
        planned.extend(
            PlannedExpectation(
                table=table,
                kind="ordered",
                kwargs={"column_A": later, "column_B": earlier},
                why=f"{earlier} <= {later}",
            )
            for earlier, later in (
                ("opened_at", "resolved_at"),
                ("resolved_at", "closed_at"),
                ("opened_at", "closed_at"),
            )
        )
    return planned


_RECORD_COLUMNS = frozenset(
    {"status", "opened_at", "title", "description", "priority", "category"}
)


def _expectation(gxe: Any, planned: PlannedExpectation) -> Any:  # noqa: ANN401 - GX types
    kw = planned.kwargs
    if planned.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=kw["column"])
    if planned.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(
            column=kw["column"], value_set=kw["value_set"]
        )
    if planned.kind == "unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=kw["column_list"])
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=kw["column_A"],
        column_B=kw["column_B"],
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


_GX_TYPES = {
    "not_null": "expect_column_values_to_not_be_null",
    "in_set": "expect_column_values_to_be_in_set",
    "unique": "expect_compound_columns_to_be_unique",
    "ordered": "expect_column_pair_values_a_to_be_greater_than_b",
}


def _result_key(kind: str, kwargs: Any) -> tuple[str, ...]:  # noqa: ANN401 - GX kwargs
    """Identify an expectation by its type, the columns it tests, its value set."""
    parts = [kind, *(str(kwargs.get(k)) for k in ("column", "column_A", "column_B"))]
    parts.append(",".join(kwargs.get("column_list") or []))
    parts.append(",".join(str(v) for v in kwargs.get("value_set") or []))
    return tuple(parts)


def _prepared(frame: pd.DataFrame) -> pd.DataFrame:
    """Give GX typed columns: timestamps as datetimes, scores as numbers."""
    import pandas as pd  # noqa: PLC0415

    out = frame.copy()
    for column in out.columns:
        if column.endswith("_at"):
            out[column] = pd.to_datetime(out[column], utc=True, errors="coerce")
        elif column in ("priority", "impact", "urgency"):
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out


def run_expectations(
    definition: MappingDefinition,
    frames: dict[str, pd.DataFrame],
    *,
    out_dir: Path | None,
) -> GxRun:
    """Build the suite, run it on each entity frame, build data docs in ``out_dir``.

    Without ``out_dir`` an ephemeral context is used and no data docs are written.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # The one place GX is imported (TID251 bans it elsewhere); lazily, since the
    # import alone takes seconds. GX 1.24 imports modules Python 3.11 deprecates
    # (sre_constants); those warnings are GX's to fix, not ours to report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx  # noqa: PLC0415
        import great_expectations.expectations as gxe  # noqa: PLC0415
        from great_expectations.data_context.types.base import (  # noqa: PLC0415
            ProgressBarsConfig,
        )

    tables = [t for t, f in sorted(frames.items()) if not f.empty and t != "lineage"]
    tables = [t for t in tables if "legacy_id" in frames[t].columns]
    planned = plan_suite(definition, tables)
    context: Any = (
        gx.get_context(mode="ephemeral")
        if out_dir is None
        else gx.get_context(mode="file", project_root_dir=str(out_dir))
    )
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    data_source = context.data_sources.add_or_update_pandas(name="itilmigrate_sample")
    result = GxRun()
    definitions = []
    for table in tables:
        asset = data_source.add_dataframe_asset(name=table)
        batch = asset.add_batch_definition_whole_dataframe(f"{table}_sample")
        suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=f"{definition.name}.{table}")
        )
        mine = [p for p in planned if p.table == table]
        for item in mine:
            suite.add_expectation(_expectation(gxe, item))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(
                name=f"{definition.name}.{table}", data=batch, suite=suite
            )
        )
        definitions.append(validation)
        outcome = validation.run(
            batch_parameters={"dataframe": _prepared(frames[table])},
            result_format="SUMMARY",
        )
        # GX does not keep the suite's order in its results: match by content.
        by_key = {
            _result_key(r.expectation_config.type, r.expectation_config.kwargs): r
            for r in outcome.results
        }
        for item in mine:
            gx_result = by_key[_result_key(_GX_TYPES[item.kind], item.kwargs)]
            stats = gx_result.result or {}
            result.outcomes.append(
                ExpectationOutcome(
                    expectation=item,
                    success=bool(gx_result.success),
                    element_count=int(stats.get("element_count") or len(frames[table])),
                    unexpected_count=int(stats.get("unexpected_count") or 0),
                )
            )
    if out_dir is not None:
        context.build_data_docs()
        sites = context.get_docs_sites_urls()
        result.docs_path = sites[0]["site_url"] if sites else None
    logger.info(
        "gx suite run tables=%d expectations=%d failed=%d",
        len(tables),
        len(result.outcomes),
        sum(not o.success for o in result.outcomes),
    )
    return result
