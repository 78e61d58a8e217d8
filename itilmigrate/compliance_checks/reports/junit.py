"""The JUnit XML report: one test case per rule, failed when it has findings.

CI servers show it as a test suite per practice; a rule's failure message gives
its finding count and first examples. Only findings at or above ``--fail-on``
fail a test case; lower ones are listed in its ``system-out``.
"""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Final
from xml.etree import ElementTree as ET

from itilmigrate.compliance_checks.reports import EXAMPLES_PER_RULE

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.compliance_checks.findings import Finding
    from itilmigrate.compliance_checks.reports import CheckReport, RuleOutcome

SUITE_NAME: Final = "itilmigrate.check"


def _lines(findings: list[Finding]) -> str:
    return "\n".join(
        f"{f.severity} {f.entity_type or '-'} {f.legacy_id or f.entity_id or '-'}: "
        f"{f.message}"
        for f in findings[:EXAMPLES_PER_RULE]
    )


def _case(
    report: CheckReport,
    outcome: RuleOutcome,
    parent: ET.Element,
    failing_ids: set[int],
) -> bool:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=f"{SUITE_NAME}.{outcome.rule.practice}",
        name=outcome.rule.rule_id,
        time="0",
    )
    failing = [f for f in outcome.findings if id(f) in failing_ids]
    if failing:
        failure = ET.SubElement(
            case,
            "failure",
            message=f"{len(failing)} finding(s) at or above "
            f"{report.fail_on}: {outcome.rule.title}",
            type=str(max(f.severity for f in failing)),
        )
        failure.text = _lines(failing)
    elif outcome.findings:
        out = ET.SubElement(case, "system-out")
        out.text = f"{len(outcome.findings)} finding(s) below the fail level\n" + (
            _lines(outcome.findings)
        )
    return bool(failing)


def write_junit(report: CheckReport, path: Path) -> None:
    """Write ``junit.xml``: a suite per practice, a test case per rule."""
    root = ET.Element("testsuites", name=SUITE_NAME)
    ordered = sorted(
        report.outcomes, key=lambda o: (str(o.rule.practice), o.rule.rule_id)
    )
    total_failures = 0
    failing_ids = {id(f) for f in report.failing}
    for practice, group in groupby(ordered, key=lambda o: str(o.rule.practice)):
        outcomes = list(group)
        suite = ET.SubElement(root, "testsuite", name=f"{SUITE_NAME}.{practice}")
        failures = sum(
            _case(report, outcome, suite, failing_ids) for outcome in outcomes
        )
        suite.set("tests", str(len(outcomes)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_failures += failures
    root.set("tests", str(len(report.outcomes)))
    root.set("failures", str(total_failures))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
