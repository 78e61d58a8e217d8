"""The JSON report: everything a check found, machine-readable.

It is also the baseline format: ``--baseline`` reads ``findings[*].finding_id``
from a previous run's ``report.json``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.compliance_checks.findings import Finding
    from itilmigrate.compliance_checks.kpis import Kpi
    from itilmigrate.compliance_checks.reports import CheckReport

SCHEMA: Final = "itilmigrate.check/1"


def _plain(value: object) -> object:
    """Return a JSON-safe form of a pandas or numpy cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def frame_rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Return a frame's rows as JSON-safe dictionaries."""
    return [
        {str(key): _plain(cell) for key, cell in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def kpi_to_dict(kpi: Kpi) -> dict[str, Any]:
    """Return the JSON form of a KPI."""
    return {
        "kpi_id": kpi.kpi_id,
        "title": kpi.title,
        "convention": kpi.convention,
        "value": _plain(kpi.value),
        "unit": kpi.unit,
        "breakdown": None if kpi.breakdown is None else frame_rows(kpi.breakdown),
    }


def finding_to_dict(
    report: CheckReport, finding: Finding, practice: str
) -> dict[str, Any]:
    """Return a finding's JSON form with its practice and new/known status."""
    return {**finding.to_dict(), "practice": practice, "status": report.status(finding)}


def report_to_dict(report: CheckReport) -> dict[str, Any]:
    """Return the whole report as a JSON-serialisable dictionary."""
    failing = report.failing
    return {
        "schema": SCHEMA,
        "run_id": report.run_id,
        "generated_at": report.generated_at.isoformat(),
        "target": report.target,
        "policy": {
            "name": report.policy.name,
            "source": report.policy_source,
            "settings": report.policy.model_dump(mode="json"),
        },
        "outcome": {
            "fail_on": str(report.fail_on) if report.fail_on is not None else None,
            "new_only": report.new_only,
            "failed": bool(failing),
            "failing_count": len(failing),
        },
        "baseline": {
            "path": report.baseline_path,
            "known": len(report.known_ids),
            "new": len(report.findings) - len(report.known_ids),
            "resolved": report.resolved_since_baseline,
        },
        "table_counts": report.table_counts,
        "severity_counts": report.severity_counts(),
        "rules": [
            {
                "rule_id": outcome.rule.rule_id,
                "title": outcome.rule.title,
                "practice": str(outcome.rule.practice),
                "default_severity": str(outcome.rule.severity),
                "rationale": outcome.rule.rationale,
                "needs": list(outcome.rule.needs),
                "passed": outcome.passed,
                "finding_count": len(outcome.findings),
                "waived_count": outcome.waived_count,
            }
            for outcome in report.outcomes
        ],
        "findings": [
            finding_to_dict(report, finding, str(outcome.rule.practice))
            for outcome in report.outcomes
            for finding in outcome.findings
        ],
        "waivers": report.waiver_rows(),
        "waived": [
            {**report.finding_dict(finding), "waiver_owner": waiver.owner}
            for finding, waiver in report.waived
        ],
        "kpis": [kpi_to_dict(kpi) for kpi in report.kpis],
    }


def write_json(report: CheckReport, path: Path) -> None:
    """Write ``report.json``."""
    # No indent: only the unindented encoder runs in C, which matters with
    # hundreds of thousands of findings.
    with path.open("w", encoding="utf-8") as handle:
        json.dump(report_to_dict(report), handle, default=str)
        handle.write("\n")
