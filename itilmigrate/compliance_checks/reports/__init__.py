"""Reports of a compliance check: HTML, JSON, CSV, JUnit XML and Markdown.

:func:`build_report` gathers what every format shows into one
:class:`CheckReport`; :func:`write_reports` writes the requested formats. Findings
are marked ``new`` or ``known`` against a baseline (the previous run's JSON).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.errors import mask_secrets

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from itilmigrate.compliance_checks.base import Rule
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.kpis import Kpi
    from itilmigrate.compliance_checks.policy import Policy, Waiver
    from itilmigrate.compliance_checks.runner import CheckResult

FORMATS: Final = ("html", "json", "csv", "junit", "md")
FILE_NAMES: Final = {
    "html": "report.html",
    "json": "report.json",
    "csv": "findings.csv",
    "junit": "junit.xml",
    "md": "summary.md",
}
#: Examples shown per rule in the HTML and Markdown reports.
EXAMPLES_PER_RULE: Final = 5
#: Characters of a record's text shown beside an example finding.
EXCERPT_CHARS: Final = 160


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutcome:
    """One rule's findings in this run."""

    rule: Rule
    findings: list[Finding]
    waived_count: int

    @property
    def passed(self) -> bool:
        """True when the rule produced no finding (waived ones aside)."""
        return not self.findings


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """Everything the report formats show about one check run."""

    run_id: str
    generated_at: pd.Timestamp
    target: str
    policy: Policy
    policy_source: str
    outcomes: list[RuleOutcome]
    waived: list[tuple[Finding, Waiver]]
    kpis: list[Kpi]
    table_counts: dict[str, int]
    known_ids: frozenset[str] = frozenset()
    baseline_path: str | None = None
    baseline_ids: frozenset[str] = frozenset()
    fail_on: Severity | None = Severity.ERROR
    new_only: bool = False
    #: entity_id -> (legacy_id, short text) of the records the examples name.
    record_texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: id() of each finding -> its finding_id, hashed once (it is a SHA-256).
    finding_ids: dict[int, str] = field(init=False)
    #: Every finding, rule by rule.
    findings: list[Finding] = field(init=False)
    #: Findings at or above ``fail_on`` (only new ones with ``new_only``).
    failing: list[Finding] = field(init=False)
    #: Baseline findings this run no longer reports (waived ones count as open).
    resolved_since_baseline: int = field(init=False)

    def __post_init__(self) -> None:
        findings = [f for outcome in self.outcomes for f in outcome.findings]
        ids = {id(f): f.finding_id for f in findings}
        ids.update({id(f): f.finding_id for f, _ in self.waived})
        failing = []
        if self.fail_on is not None:
            failing = [
                f
                for f in findings
                if f.severity >= self.fail_on
                and not (self.new_only and ids[id(f)] in self.known_ids)
            ]
        object.__setattr__(self, "finding_ids", ids)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "failing", failing)
        object.__setattr__(
            self, "resolved_since_baseline", len(self.baseline_ids - set(ids.values()))
        )

    def finding_id(self, finding: Finding) -> str:
        """The finding's id, without hashing it again."""
        return self.finding_ids.get(id(finding)) or finding.finding_id

    def status(self, finding: Finding) -> str:
        """``known`` when the baseline had this finding, else ``new``."""
        return "known" if self.finding_id(finding) in self.known_ids else "new"

    def finding_dict(self, finding: Finding) -> dict[str, Any]:
        """The finding's JSON form (as :meth:`Finding.to_dict`) with its status."""
        return {
            "finding_id": self.finding_id(finding),
            "rule_id": finding.rule_id,
            "severity": str(finding.severity),
            "entity_type": finding.entity_type,
            "entity_id": finding.entity_id,
            "legacy_id": finding.legacy_id,
            "message": finding.message,
            "run_id": finding.run_id,
            "details": finding.details,
            "status": self.status(finding),
        }

    def severity_counts(self) -> dict[str, int]:
        """Findings per severity name, every severity present, highest first."""
        counts = Counter(finding.severity for finding in self.findings)
        return {str(level): counts[level] for level in sorted(Severity, reverse=True)}

    def waiver_rows(self) -> list[dict[str, object]]:
        """Every waiver of the policy, whether it is live, and what it suppressed."""
        today = self.generated_at.date()
        used = Counter(waiver for _, waiver in self.waived)
        waivers = list(dict.fromkeys([*self.policy.waivers, *used]))
        return [
            {
                "rule_id": waiver.rule_id,
                "record": waiver.record,
                "pattern": waiver.pattern,
                "owner": waiver.owner,
                "reason": waiver.reason,
                "expires": waiver.expires.isoformat(),
                "state": "active" if waiver.expires >= today else "expired",
                "suppressed": used[waiver],
            }
            for waiver in waivers
        ]


def _record_texts(
    context: RuleContext, findings: Sequence[Finding]
) -> dict[str, tuple[str, str]]:
    """Legacy id and a short text (title, else description) of example records."""
    wanted = {finding.entity_id for finding in findings if finding.entity_id}
    if not wanted:
        return {}
    records = context.records()
    records = records.loc[records["entity_id"].isin(wanted)]
    text = records["title"].where(records["title"].notna(), records["description"])
    text = text.fillna("").astype(str).str.slice(0, EXCERPT_CHARS)
    return dict(
        zip(
            records["entity_id"].astype(str),
            zip(records["legacy_id"].astype(str), text, strict=True),
            strict=True,
        )
    )


def build_report(
    context: RuleContext,
    result: CheckResult,
    kpis: list[Kpi],
    *,
    target_url: str,
    policy_source: str,
    baseline_ids: frozenset[str] | None = None,
    baseline_path: str | None = None,
    fail_on: Severity | None = Severity.ERROR,
    new_only: bool = False,
) -> CheckReport:
    """Gather a check run's results into one report.

    Args:
        context: The checked target's tables, policy and check time.
        result: What the rules found.
        kpis: The KPIs of the target.
        target_url: The target; its password is masked.
        policy_source: The policy file, or ``<bundled>/default.yaml``.
        baseline_ids: Finding ids of the previous run; these findings are known.
        baseline_path: Where the baseline came from, for the report.
        fail_on: The lowest severity that fails the run; None never fails.
        new_only: Only new findings fail the run.
    """
    by_rule: dict[str, list[Finding]] = {rule.rule_id: [] for rule in result.rules_run}
    for finding in result.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    waived_counts = Counter(finding.rule_id for finding, _ in result.waived)
    outcomes = [
        RuleOutcome(
            rule=rule,
            findings=by_rule[rule.rule_id],
            waived_count=waived_counts[rule.rule_id],
        )
        for rule in result.rules_run
    ]
    examples = [
        finding
        for outcome in outcomes
        for finding in outcome.findings[:EXAMPLES_PER_RULE]
    ]
    baseline = baseline_ids or frozenset()
    now = pd.Timestamp(context.now)
    return CheckReport(
        run_id=context.run_id,
        generated_at=now,
        target=mask_secrets(target_url),
        policy=context.policy,
        policy_source=policy_source,
        outcomes=outcomes,
        waived=list(result.waived),
        kpis=kpis,
        table_counts={name: len(frame) for name, frame in context.tables.items()},
        known_ids=frozenset(
            {f.finding_id for f in result.findings} & baseline if baseline else ()
        ),
        baseline_path=baseline_path,
        baseline_ids=baseline,
        fail_on=fail_on,
        new_only=new_only,
        record_texts=_record_texts(context, examples),
    )


def write_reports(
    report: CheckReport, out_dir: Path, formats: Sequence[str]
) -> dict[str, Path]:
    """Write each requested format into ``out_dir``; return format -> file.

    The JSON report is written first: it is the baseline of the next run.
    """
    from itilmigrate.compliance_checks.reports import (  # noqa: PLC0415 - matplotlib and Jinja2 load only when asked for
        csv_report,
        html,
        json_report,
        junit,
        markdown,
    )

    writers = {
        "json": json_report.write_json,
        "html": html.write_html,
        "csv": csv_report.write_csv,
        "junit": junit.write_junit,
        "md": markdown.write_markdown,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in sorted(formats, key=lambda f: (f != "json", FORMATS.index(f))):
        path = out_dir / FILE_NAMES[name]
        writers[name](report, path)
        written[name] = path
    return written
