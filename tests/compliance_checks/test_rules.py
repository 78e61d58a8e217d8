"""Rule behaviour beyond the conformance cases: keys, empty targets, SLA clocks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from itilmigrate.compliance_checks.base import registry
from itilmigrate.compliance_checks.policy import load_policy
from itilmigrate.compliance_checks.rules.sla import SLA_COLUMNS, evaluate_sla
from tests.compliance_checks.factories import (
    make_context,
    make_incident,
    make_status_change,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


@pytest.mark.parametrize("rule", registry.all(), ids=lambda r: r.rule_id)
def test_rule_empty_target_finds_nothing(rule):
    assert rule.evaluate(make_context()) == []


def test_rule_finding_carries_entity_keys():
    context = make_context(incident=[make_incident("7", category=None)])

    (finding,) = registry.get("incident.missing_category").evaluate(context)

    assert finding.entity_type == "incident"
    assert finding.entity_id == "rec-7"
    assert finding.legacy_id == "7"


def test_repeat_without_problem_details_list_members():
    context = make_context(
        incident=[
            make_incident(
                str(n), description="VPN drops", opened_at=f"2024-03-0{n}T09:00:00Z"
            )
            for n in (1, 2, 3)
        ]
    )

    (finding,) = registry.get("incident.repeat_without_problem").evaluate(context)

    assert finding.details == {"incident_ids": ["rec-1", "rec-2", "rec-3"]}


def test_evaluate_sla_pause_is_subtracted_from_response():
    incident = make_incident(
        "8", priority=2, responded_at=pd.Timestamp("2024-03-11T10:00:00Z")
    )
    history = [
        make_status_change("8", 1, "new", "2024-03-11T09:00:00Z"),
        make_status_change("8", 2, "on_hold", "2024-03-11T09:10:00Z"),
        make_status_change("8", 3, "in_progress", "2024-03-11T09:50:00Z"),
    ]

    clocks = evaluate_sla(make_context(incident=[incident], status_change=history))

    assert list(clocks.columns) == list(SLA_COLUMNS)
    respond = clocks.loc[clocks["target_kind"] == "respond"].iloc[0]
    assert respond["paused"] == pd.Timedelta(minutes=40)
    assert respond["taken"] == pd.Timedelta(minutes=20)
    assert bool(respond["met"]) is True
    assert bool(respond["history"]) is True


def test_evaluate_sla_open_record_runs_to_check_time():
    incident = make_incident(
        "9",
        opened_at=pd.Timestamp("2024-03-15T09:00:00Z"),
        status="new",
        responded_at=None,
        resolved_at=None,
        closed_at=None,
    )

    clocks = evaluate_sla(make_context(incident=[incident]))

    assert clocks["stopped"].tolist() == [False, False]
    assert clocks["taken"].tolist() == [pd.Timedelta(hours=3)] * 2
    assert clocks["met"].tolist() == [False, True]


def test_evaluate_sla_no_targets_gives_empty_frame():
    policy = load_policy().model_copy(
        update={
            "sla": load_policy().sla.model_copy(
                update={"priorities": {}, "service_request": None}
            )
        }
    )

    clocks = evaluate_sla(make_context(incident=[make_incident()], policy=policy))

    assert clocks.empty
    assert list(clocks.columns) == list(SLA_COLUMNS)


def test_priority_not_matrix_servicenow_policy_accepts_instance_lookup():
    policy = load_policy(EXAMPLES / "servicenow.yaml")
    incidents = [
        make_incident(f"{i}{u}", impact=i, urgency=u, priority=p)
        for i, row in {1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 4]}.items()
        for u, p in zip((1, 2, 3), row, strict=True)
    ]

    rule = registry.get("incident.priority_not_matrix")

    assert rule.evaluate(make_context(incident=incidents, policy=policy)) == []
    default = rule.evaluate(make_context(incident=incidents))
    assert [(f.legacy_id, f.message) for f in default] == [
        ("33", "Priority 4 for impact 3 x urgency 3; the policy matrix gives 5.")
    ]
