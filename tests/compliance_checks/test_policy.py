"""Policy loading: the bundled default, example policies, and every kind of mistake."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.policy import Waiver, load_policy, parse_policy
from itilmigrate.errors import ConfigError, ExitCode

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def test_load_policy_default_has_itil_matrix_and_targets():
    policy = load_policy()

    assert policy.name == "default"
    assert policy.priority_matrix[3][3] == 5
    assert policy.sla.priorities[2].resolve == timedelta(hours=8)
    assert policy.sla.priorities[1].clock == "continuous"
    assert policy.calendar.start == time(8, 0)
    assert policy.rule_enabled("incident.missing_category") is True


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_load_policy_examples_are_valid(path):
    assert load_policy(path).name == path.stem


def test_load_policy_unknown_key_names_path_and_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("name: x\nthresholds:\n  stale_dayz: 3\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_policy(path)

    assert caught.value.exit_code is ExitCode.CONFIG
    assert f"{path}: thresholds.stale_dayz (line 3): unknown key (misspelt?)" in str(
        caught.value
    )


def test_load_policy_bad_duration_and_severity_listed_together(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "sla:\n  priorities:\n    1: {respond: soon, resolve: 4h}\n"
        "severity_overrides:\n  incident.missing_category: fatal\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as caught:
        load_policy(path)

    message = str(caught.value)
    assert "(2 problems)" in message
    assert "sla.priorities[1].respond (line 3): not a duration: 'soon'" in message
    assert (
        "severity_overrides.incident.missing_category (line 5): unknown severity"
        in (message)
    )


def test_load_policy_unknown_rule_id_is_config_error(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("disabled_rules: [incident.no_such_rule]\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"disabled_rules\[0\] \(line 1\): no rule"):
        load_policy(path)


def test_load_policy_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("name: x\nthresholds: [\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"\(yaml\) \(line 3\): not valid YAML"):
        load_policy(path)


def test_load_policy_missing_file_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[1, 2]", "expected a mapping of keys", id="not-a-mapping"),
        pytest.param("calendar: {timezone: Mars/Base}", "unknown time zone", id="zone"),
        pytest.param(
            "calendar: {start: '18:00', end: '08:00'}", "end must be after", id="hours"
        ),
        pytest.param(
            "waivers: [{rule_id: record.stale, owner: a, reason: b, "
            "expires: 2030-01-01}]",
            "exactly one of 'record' or 'pattern'",
            id="waiver-target",
        ),
        pytest.param(
            "thresholds: {request_patterns: ['(']}",
            "not a regular expression",
            id="regex",
        ),
    ],
)
def test_parse_policy_invalid_definition_raises(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_policy(text, file="p.yaml")


def test_parse_policy_empty_text_gives_defaults():
    policy = parse_policy("", file="p.yaml")

    assert policy.severity_overrides == {}
    assert policy.enabled_rules == "all"


def test_policy_rule_enabled_respects_lists():
    policy = parse_policy(
        "enabled_rules: [record.stale, problem.idle]\ndisabled_rules: [problem.idle]\n"
        "severity_overrides: {record.stale: error}\n",
        file="p.yaml",
    )

    assert policy.rule_enabled("record.stale") is True
    assert policy.rule_enabled("problem.idle") is False
    assert policy.rule_enabled("incident.missing_caller") is False
    assert policy.severity_overrides == {"record.stale": Severity.ERROR}


def test_waiver_matches_record_or_pattern():
    by_record = Waiver(
        rule_id="r.x", record="rec-7", owner="o", reason="r", expires=date(2030, 1, 1)
    )
    by_pattern = Waiver(
        rule_id="r.x",
        pattern=r"TEST-\d+",
        owner="o",
        reason="r",
        expires=date(2030, 1, 1),
    )

    assert by_record.matches("7", "rec-7") is True
    assert by_record.matches("7", "rec-8") is False
    assert by_pattern.matches("TEST-12", None) is True
    assert by_pattern.matches("TEST-12a", None) is False
    assert by_pattern.matches(None, "rec-1") is False
