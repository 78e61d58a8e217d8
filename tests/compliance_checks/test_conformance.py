"""Rule conformance suite: every registered rule is well formed and has examples."""

from __future__ import annotations

import pytest

from itilmigrate.compliance_checks.base import RULE_ID_PATTERN, Rule, registry
from itilmigrate.compliance_checks.findings import Severity
from tests.compliance_checks.cases import RULE_CASES

RULES = registry.all()


def test_registry_has_at_least_forty_rules():
    assert len(RULES) >= 40


def test_registry_ids_are_unique_and_sorted():
    ids = [r.rule_id for r in RULES]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule_id)
def test_rule_is_well_formed(rule: Rule):
    assert RULE_ID_PATTERN.match(rule.rule_id)
    assert isinstance(rule.severity, Severity)
    assert rule.title.strip()
    assert "\n" not in rule.title
    assert len(rule.rationale.splitlines()) >= 3
    assert rule.needs
    if rule.rule_id.startswith("reconciliation."):
        assert rule.severity is Severity.CRITICAL


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule_id)
def test_rule_has_passing_and_failing_cases(rule: Rule):
    case = RULE_CASES[rule.rule_id]

    assert rule.evaluate(case.passing()) == []
    found = rule.evaluate(case.failing())
    assert [(f.legacy_id, f.message) for f in found] == case.expected
    assert {f.rule_id for f in found} == {rule.rule_id}
    assert {f.severity for f in found} == {rule.severity}
    assert {f.run_id for f in found} == {"check-run"}


def test_cases_name_only_registered_rules():
    assert set(RULE_CASES) == {r.rule_id for r in RULES}
