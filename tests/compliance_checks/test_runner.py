"""evaluate_rules: rule selection, severity overrides and waivers."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, RuleRegistry, rule
from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.compliance_checks.policy import Policy, Waiver
from itilmigrate.compliance_checks.runner import evaluate_rules
from tests.compliance_checks.factories import make_context, make_incident


def _registry() -> RuleRegistry:
    rules = RuleRegistry()

    @rule(
        "incident.flagged",
        title="Flagged",
        practice=Practice.INCIDENT,
        severity=Severity.WARNING,
        needs=("incident",),
        into=rules,
    )
    def flagged(context):
        """Every incident is flagged.

        Test rule.
        """
        incidents = context.table("incident")
        return [
            Finding(
                rule_id="incident.flagged",
                severity=Severity.WARNING,
                message="flagged",
                run_id=context.run_id,
                entity_id=entity_id,
                legacy_id=legacy_id,
            )
            for entity_id, legacy_id in zip(
                incidents["entity_id"], incidents["legacy_id"], strict=True
            )
        ]

    @rule(
        "record.other",
        title="Other",
        practice=Practice.MIGRATION_FIDELITY,
        severity=Severity.INFO,
        needs=(),
        into=rules,
    )
    def other(context):
        """Never fails.

        Test rule.
        """
        return []

    return rules


def _context(**policy: object):
    return make_context(
        incident=[make_incident("1"), make_incident("TEST-2"), make_incident("3")],
        policy=Policy(**policy),
        now=pd.Timestamp("2024-03-15T12:00:00Z"),
    )


def test_evaluate_rules_runs_enabled_rules_in_id_order():
    result = evaluate_rules(_context(), registry=_registry())

    assert [r.rule_id for r in result.rules_run] == ["incident.flagged", "record.other"]
    assert [f.legacy_id for f in result.findings] == ["1", "TEST-2", "3"]
    assert result.waived == []


def test_evaluate_rules_disabled_rule_does_not_run():
    result = evaluate_rules(
        _context(disabled_rules=["incident.flagged"]), registry=_registry()
    )

    assert [r.rule_id for r in result.rules_run] == ["record.other"]
    assert result.findings == []


def test_evaluate_rules_enabled_list_limits_rules():
    result = evaluate_rules(
        _context(enabled_rules=["record.other"]), registry=_registry()
    )

    assert [r.rule_id for r in result.rules_run] == ["record.other"]


def test_evaluate_rules_severity_override_applies():
    result = evaluate_rules(
        _context(severity_overrides={"incident.flagged": "critical"}),
        registry=_registry(),
    )

    assert {f.severity for f in result.findings} == {Severity.CRITICAL}


def test_evaluate_rules_live_waivers_suppress_expired_do_not():
    waivers = [
        Waiver(
            rule_id="incident.flagged",
            record="rec-1",
            owner="desk",
            reason="migrated as is",
            expires=date(2024, 3, 15),
        ),
        Waiver(
            rule_id="incident.flagged",
            pattern=r"TEST-\d+",
            owner="desk",
            reason="test data",
            expires=date(2030, 1, 1),
        ),
        Waiver(
            rule_id="incident.flagged",
            record="3",
            owner="desk",
            reason="expired",
            expires=date(2024, 3, 14),
        ),
    ]

    result = evaluate_rules(_context(waivers=waivers), registry=_registry())

    assert [f.legacy_id for f in result.findings] == ["3"]
    assert [(f.legacy_id, w.reason) for f, w in result.waived] == [
        ("1", "migrated as is"),
        ("TEST-2", "test data"),
    ]


def test_evaluate_rules_live_waiver_that_suppresses_nothing_warns(caplog):
    waivers = [
        Waiver(
            rule_id="incident.flagged",
            pattern="^TEST-",  # a whole-id match: it cannot match 'TEST-2'
            owner="desk",
            reason="test data",
            expires=date(2030, 1, 1),
        ),
        Waiver(
            rule_id="incident.flagged",
            record="rec-1",
            owner="desk",
            reason="migrated as is",
            expires=date(2030, 1, 1),
        ),
    ]

    with caplog.at_level(logging.WARNING):
        result = evaluate_rules(_context(waivers=waivers), registry=_registry())

    assert len(result.waived) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "waiver suppressed nothing waiver=waivers[0] rule_id=incident.flagged"
    ]


def test_evaluate_rules_default_registry_clean_data_finds_nothing():
    result = evaluate_rules(make_context(incident=[make_incident()]))

    assert result.findings == []
    assert len(result.rules_run) >= 40
