"""The HTML report for the service manager: one self-contained file.

Charts are drawn with matplotlib's object API (the Agg canvas, never a GUI) and
embedded as base64 PNG, the style sheet is inline, and nothing loads from the
network, so the file opens anywhere. Jinja2 autoescapes every value: record
text comes from legacy systems and may hold markup such as ``<script>``.
"""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from matplotlib.figure import Figure

from itilmigrate.compliance_checks.reports import EXAMPLES_PER_RULE
from itilmigrate.compliance_checks.reports.json_report import frame_rows

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.compliance_checks.kpis import Kpi
    from itilmigrate.compliance_checks.reports import CheckReport

TEMPLATE: Final = "report.html.j2"
_DPI: Final = 96
_COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _png(figure: Figure) -> str:
    """Return the figure as a ``data:`` URI of a PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _figure() -> tuple[Figure, Any]:
    figure = Figure(figsize=(7.5, 3.4))
    axes = figure.add_subplot()
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _monthly_lines(frame: pd.DataFrame, series: str, title: str) -> str:
    figure, axes = _figure()
    table = frame.pivot_table(
        index="month", columns=series, values="count", aggfunc="sum", fill_value=0
    ).sort_index()
    for colour, column in zip(_COLOURS * 2, table.columns, strict=False):
        # Markers keep a series of a single month visible (a line needs two).
        axes.plot(
            range(len(table)),
            table[column],
            label=str(column),
            color=colour,
            marker="o",
            markersize=3,
        )
    step = max(1, len(table) // 12)
    axes.set_xticks(range(0, len(table), step))
    axes.set_xticklabels(table.index[::step], rotation=45, ha="right", fontsize=8)
    axes.set_ylabel("records opened")
    axes.set_title(title)
    axes.legend(fontsize=8, loc="upper left", frameon=False)
    return _png(figure)


def _bars(labels: list[str], values: list[float], title: str, unit: str) -> str:
    figure, axes = _figure()
    axes.bar(labels, values, color=_COLOURS[0])
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.tick_params(axis="x", labelsize=8)
    return _png(figure)


def _charts(kpis: dict[str, Kpi]) -> list[tuple[str, str]]:
    """Return (title, data URI) for every chart the KPIs allow."""
    charts: list[tuple[str, str]] = []

    def breakdown(kpi_id: str) -> pd.DataFrame | None:
        kpi = kpis.get(kpi_id)
        if kpi is None or kpi.breakdown is None or kpi.breakdown.empty:
            return None
        return kpi.breakdown

    if (frame := breakdown("volume.by_month")) is not None:
        title = "Records opened per month by type"
        charts.append((title, _monthly_lines(frame, "entity_type", title)))
    if (frame := breakdown("volume.by_month_service")) is not None:
        title = "Records opened per month, largest services"
        charts.append((title, _monthly_lines(frame, "service", title)))
    if (frame := breakdown("sla.compliance_by_priority")) is not None:
        title = "SLA compliance by priority"
        charts.append(
            (
                title,
                _bars(
                    frame["priority"].astype(str).tolist(),
                    frame["compliance_pct"].astype(float).tolist(),
                    title,
                    "% met",
                ),
            )
        )
    frame = breakdown("backlog.open_records")
    if frame is not None and int(frame["total"].sum()) > 0:
        figure, axes = _figure()
        bottom = pd.Series(0, index=frame.index)
        types = [c for c in frame.columns if c not in ("age", "total")]
        for colour, column in zip(_COLOURS, types, strict=False):
            axes.bar(
                frame["age"], frame[column], bottom=bottom, label=column, color=colour
            )
            bottom = bottom + frame[column]
        axes.set_title("Backlog by age")
        axes.set_ylabel("open records")
        axes.tick_params(axis="x", labelsize=8)
        if types:
            axes.legend(fontsize=8, frameon=False)
        charts.append(("Backlog by age", _png(figure)))
    if (frame := breakdown("incident.repeat_rate")) is not None:
        figure, axes = _figure()
        ordered = frame.iloc[::-1]
        axes.barh(ordered["category"].astype(str), ordered["repeat_incidents"])
        axes.set_title("Top repeat issues (repeat incidents per category)")
        axes.tick_params(axis="y", labelsize=8)
        charts.append(("Top repeat issues", _png(figure)))
    if (frame := breakdown("assignment.reassignment_distribution")) is not None:
        title = "Reassignment distribution"
        charts.append(
            (
                title,
                _bars(
                    frame["reassignments"].astype(str).tolist(),
                    frame["count"].astype(float).tolist(),
                    title,
                    "records",
                ),
            )
        )
    return charts


def _glance(kpis: dict[str, Kpi]) -> dict[str, Any]:
    """The first page: kinds of records, services and people, rising or falling."""
    trend = kpis.get("volume.trend")
    rows = frame_rows(trend.breakdown) if trend and trend.breakdown is not None else []
    by_dimension: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_dimension[str(row["dimension"])].append(row)
    people = {}
    for kpi_id in ("volume.by_caller", "volume.by_department", "volume.by_site"):
        kpi = kpis.get(kpi_id)
        if kpi is not None and kpi.breakdown is not None and kpi.value:
            people[kpi.title] = frame_rows(kpi.breakdown.head(8))
    return {
        "convention": trend.convention if trend else "",
        "trends": dict(by_dimension),
        "people": people,
        "totals": frame_rows(kpis["volume.by_type"].breakdown)
        if "volume.by_type" in kpis and kpis["volume.by_type"].breakdown is not None
        else [],
    }


def _findings_by_practice(report: CheckReport) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for outcome in report.outcomes:
        examples = []
        for finding in outcome.findings[:EXAMPLES_PER_RULE]:
            legacy_id, text = report.record_texts.get(
                finding.entity_id or "", (finding.legacy_id or "", "")
            )
            examples.append(
                {
                    "legacy_id": finding.legacy_id or legacy_id,
                    "entity_type": finding.entity_type or "",
                    "message": finding.message,
                    "text": text,
                    "status": report.status(finding),
                    "severity": str(finding.severity),
                }
            )
        groups[str(outcome.rule.practice)].append(
            {
                "rule": outcome.rule,
                "count": len(outcome.findings),
                "new": sum(report.status(f) == "new" for f in outcome.findings),
                "waived": outcome.waived_count,
                "severity": str(
                    max(
                        (f.severity for f in outcome.findings),
                        default=outcome.rule.severity,
                    )
                ),
                "examples": examples,
            }
        )
    return [
        {"practice": practice, "rules": rules, "count": sum(r["count"] for r in rules)}
        for practice, rules in sorted(groups.items())
    ]


def _number(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_html(report: CheckReport) -> str:
    """Return the report as one HTML document."""
    environment = Environment(
        loader=PackageLoader("itilmigrate.compliance_checks.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    kpis = {kpi.kpi_id: kpi for kpi in report.kpis}
    tables = [
        {
            "kpi": kpi,
            "rows": frame_rows(kpi.breakdown) if kpi.breakdown is not None else [],
            "columns": [str(c) for c in kpi.breakdown.columns]
            if kpi.breakdown is not None
            else [],
        }
        for kpi in report.kpis
        if kpi.kpi_id not in ("volume.by_month", "volume.by_month_service")
    ]
    return environment.get_template(TEMPLATE).render(
        report=report,
        failing=len(report.failing),
        severity_counts=report.severity_counts(),
        glance=_glance(kpis),
        charts=_charts(kpis),
        kpi_tables=tables,
        practices=_findings_by_practice(report),
        waivers=report.waiver_rows(),
    )


def write_html(report: CheckReport, path: Path) -> None:
    """Write ``report.html``."""
    path.write_text(render_html(report), encoding="utf-8")
