"""The Markdown summary for a CI job page: outcome, findings per rule, KPIs.

It names rules, counts and KPI values only, never record text: CI pages are
often readable by more people than the report itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.compliance_checks.reports import CheckReport

#: KPIs shown in the summary, in this order.
HEADLINE_KPIS: Final = (
    "volume.by_type",
    "incident.mttr",
    "incident.mean_time_to_respond",
    "incident.first_contact_resolution",
    "sla.compliance_by_priority",
    "incident.reopen_rate",
    "backlog.open_records",
    "assignment.ping_pong_rate",
    "incident.repeat_rate",
    "service_request.fulfilment_time",
)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CheckReport) -> str:
    """Return the Markdown summary."""
    failing = report.failing
    verdict = "FAILED" if failing else "passed"
    scope = " new" if report.new_only else ""
    lines = [
        f"## itilmigrate check: {verdict}",
        "",
        f"- Target: `{report.target}`; run `{report.run_id}`; "
        f"policy `{report.policy.name}` ({_cell(report.policy_source)})",
        f"- Fail on: {report.fail_on or 'never'}{scope}; "
        f"{len(failing)} failing finding(s)",
        "- Findings: "
        + ", ".join(f"{n} {level}" for level, n in report.severity_counts().items())
        + f"; {len(report.waived)} waived",
    ]
    if report.baseline_path:
        lines.append(
            f"- Baseline `{_cell(report.baseline_path)}`: "
            f"{len(report.known_ids)} known, "
            f"{len(report.findings) - len(report.known_ids)} new, "
            f"{report.resolved_since_baseline} resolved"
        )
    lines += [
        "",
        "| rule | practice | severity | findings | new | waived |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for outcome in sorted(
        report.outcomes, key=lambda o: (-len(o.findings), o.rule.rule_id)
    ):
        new = sum(report.status(f) == "new" for f in outcome.findings)
        severity = max(
            (f.severity for f in outcome.findings), default=outcome.rule.severity
        )
        lines.append(
            f"| `{outcome.rule.rule_id}` | {outcome.rule.practice} | {severity} | "
            f"{len(outcome.findings)} | {new} | {outcome.waived_count} |"
        )
    kpis = {kpi.kpi_id: kpi for kpi in report.kpis}
    lines += ["", "| KPI | value |", "| --- | ---: |"]
    for kpi_id in HEADLINE_KPIS:
        if kpi_id in kpis:
            kpi = kpis[kpi_id]
            value = "n/a" if kpi.value is None else f"{kpi.value:,} {kpi.unit}"
            lines.append(f"| {_cell(kpi.title)} | {_cell(value)} |")
    return "\n".join(lines) + "\n"


def write_markdown(report: CheckReport, path: Path) -> None:
    """Write ``summary.md``."""
    path.write_text(render_markdown(report), encoding="utf-8")
