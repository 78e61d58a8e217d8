"""The CSV report: one line per finding, waived findings included and marked."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.compliance_checks.reports import CheckReport

COLUMNS: Final = (
    "finding_id",
    "rule_id",
    "practice",
    "severity",
    "status",
    "entity_type",
    "entity_id",
    "legacy_id",
    "message",
    "details",
)


def write_csv(report: CheckReport, path: Path) -> None:
    """Write ``findings.csv``; ``status`` is new, known or waived."""
    practices = {o.rule.rule_id: str(o.rule.practice) for o in report.outcomes}
    rows = [
        (finding, report.status(finding))
        for outcome in report.outcomes
        for finding in outcome.findings
    ]
    rows += [(finding, "waived") for finding, _ in report.waived]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for finding, status in rows:
            writer.writerow(
                (
                    report.finding_id(finding),
                    finding.rule_id,
                    practices.get(finding.rule_id, ""),
                    str(finding.severity),
                    status,
                    finding.entity_type or "",
                    finding.entity_id or "",
                    finding.legacy_id or "",
                    finding.message,
                    json.dumps(finding.details, sort_keys=True, default=str),
                )
            )
