"""Run the policy's rules over a context; apply severity overrides and waivers."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from itilmigrate.compliance_checks.base import Rule, RuleRegistry, registry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding
    from itilmigrate.compliance_checks.policy import Waiver

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """What one check run found.

    Attributes:
        findings: Findings after severity overrides, without the waived ones.
        waived: Findings a live waiver suppressed, with that waiver.
        rules_run: The rules the policy enabled, in rule id order.
    """

    findings: list[Finding]
    waived: list[tuple[Finding, Waiver]]
    rules_run: list[Rule]


def evaluate_rules(
    context: RuleContext, *, registry: RuleRegistry = registry
) -> CheckResult:
    """Evaluate every rule the policy enables and collect their findings.

    A waiver suppresses a finding until its ``expires`` date has passed (it still
    applies on that date, judged by ``context.now``).
    """
    policy = context.policy
    today = context.now.date()
    live = [w for w in policy.waivers if w.expires >= today]

    findings: list[Finding] = []
    waived: list[tuple[Finding, Waiver]] = []
    rules_run = [r for r in registry.all() if policy.rule_enabled(r.rule_id)]
    for rule in rules_run:
        started = time.perf_counter()
        severity = policy.severity_overrides.get(rule.rule_id, rule.severity)
        waivers = [w for w in live if w.rule_id == rule.rule_id]
        produced = rule.evaluate(context)
        for finding in produced:
            if finding.severity != severity:
                finding = dataclasses.replace(finding, severity=severity)  # noqa: PLW2901 - the overridden finding replaces the original
            waiver = next(
                (w for w in waivers if w.matches(finding.legacy_id, finding.entity_id)),
                None,
            )
            if waiver is None:
                findings.append(finding)
            else:
                waived.append((finding, waiver))
        logger.info(
            "rule evaluated run_id=%s rule_id=%s findings=%d seconds=%.3f",
            context.run_id,
            rule.rule_id,
            len(produced),
            time.perf_counter() - started,
        )
    _warn_idle_waivers(policy.waivers, live, waived)
    return CheckResult(findings=findings, waived=waived, rules_run=rules_run)


def _warn_idle_waivers(
    declared: Sequence[Waiver], live: list[Waiver], waived: list[tuple[Finding, Waiver]]
) -> None:
    """Warn about a live waiver that suppressed nothing: a mistyped id or pattern.

    A waiver that matches nothing looks active in the reports while the findings
    it was meant for still count; the warning names its place in the policy.
    """
    used = {id(waiver) for _, waiver in waived}
    for position, waiver in enumerate(declared):
        if any(waiver is w for w in live) and id(waiver) not in used:
            logger.warning(
                "waiver suppressed nothing waiver=waivers[%d] rule_id=%s",
                position,
                waiver.rule_id,
            )
