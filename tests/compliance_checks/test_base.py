"""The rule registry and the @rule decorator."""

from __future__ import annotations

import pytest

from itilmigrate.compliance_checks.base import Practice, RuleRegistry, registry, rule
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.errors import ConfigError, RuleDefinitionError


def _define(rules: RuleRegistry, rule_id: str, doc: str | None = "Why.\n\nWhat.", **kw):
    def evaluate(context):
        return []

    evaluate.__doc__ = doc
    options = {"severity": Severity.ERROR, **kw}
    return rule(
        rule_id,
        title="t",
        practice=Practice.INCIDENT,
        needs=("incident",),
        into=rules,
        **options,
    )(evaluate)


def test_rule_decorator_registers_and_returns_function():
    rules = RuleRegistry()

    function = _define(rules, "incident.example")

    assert rules.get("incident.example").evaluate is function
    assert rules.get("incident.example").rationale == "Why.\n\nWhat."
    assert "incident.example" in rules
    assert len(rules) == 1


def test_rule_duplicate_id_raises_config_error():
    rules = RuleRegistry()
    _define(rules, "incident.example")

    with pytest.raises(RuleDefinitionError, match="registered twice"):
        _define(rules, "incident.example")


@pytest.mark.parametrize(
    ("rule_id", "doc", "severity", "message"),
    [
        pytest.param(
            "Incident.Bad", "d", Severity.ERROR, "dotted snake_case", id="case"
        ),
        pytest.param("ticket.x", "d", Severity.ERROR, "dotted snake_case", id="prefix"),
        pytest.param("incident.x", None, Severity.ERROR, "no rationale", id="no-doc"),
        pytest.param("incident.x", "d", "error", "not a Severity", id="severity"),
    ],
)
def test_rule_malformed_definition_raises(rule_id, doc, severity, message):
    with pytest.raises(ConfigError, match=message):
        _define(RuleRegistry(), rule_id, doc, severity=severity)


def test_registry_get_unknown_id_raises():
    with pytest.raises(RuleDefinitionError, match=r"No rule with id 'incident\.nope'"):
        registry.get("incident.nope")
