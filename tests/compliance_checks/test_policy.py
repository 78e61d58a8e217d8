"""Policy loading: the bundled default, example policies, and every kind of mistake."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.policy import Waiver, load_policy, parse_policy
from itilmigrate.errors import ConfigError, ExitCode, MappingDefinitionError

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


def _policy_problems(text: str) -> list[str]:
    with pytest.raises(MappingDefinitionError) as caught:
        parse_policy(text, file="p.yaml", known_rules=KNOWN)
    assert caught.value.exit_code is ExitCode.CONFIG
    return [str(p) for p in caught.value.problems]


KNOWN = {"incident.missing_caller", "record.stale"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "calendar:\n  holidays: [2016-02-30]\n",
            "p.yaml: calendar.holidays[0] (line 2): Input should be a valid date or "
            "datetime, day value is outside expected range",
            id="holiday-30-february",
        ),
        pytest.param(
            "waivers:\n  - {rule_id: record.stale, record: '7', owner: a, reason: b,"
            " expires: 2026-13-01}\n",
            "p.yaml: waivers[0].expires (line 2): Input should be a valid date or "
            "datetime, month value is outside expected range of 1-12",
            id="waiver-month-13",
        ),
        pytest.param(
            "sla:\n  priorities:\n    2: {respond: -30min, resolve: 8h}\n",
            "p.yaml: sla.priorities[2].respond (line 3): must be longer than zero; "
            "write a target such as '30min' or '8h'",
            id="negative-respond",
        ),
        pytest.param(
            "sla:\n  priorities:\n    2: {respond: 30min, resolve: 0h}\n",
            "p.yaml: sla.priorities[2].resolve (line 3): must be longer than zero; "
            "write a target such as '30min' or '8h'",
            id="zero-resolve",
        ),
        pytest.param(
            "sla:\n  service_request: {fulfil: 0min}\n",
            "p.yaml: sla.service_request.fulfil (line 2): must be longer than zero; "
            "write a target such as '30min' or '8h'",
            id="zero-fulfil",
        ),
        pytest.param(
            "priority_matrix:\n  1: {1: 1, 2: 2, 3: 3}\n  2: {1: 2, 2: 3, 3: 4}\n"
            "  3: {1: 3, 2: 4}\n",
            "p.yaml: priority_matrix[3] (line 4): impact 3 has no priority for "
            "urgency 3; the matrix must rate every impact [1, 2, 3] x urgency "
            "[1, 2, 3] it names",
            id="matrix-hole",
        ),
    ],
)
def test_parse_policy_invalid_value_names_path_line_and_expectation(text, expected):
    assert _policy_problems(text) == [expected]


def test_parse_policy_typo_and_unknown_rule_listed_in_one_pass():
    text = (
        "thresholds:\n  stael_days: 14\n"
        "disabled_rules: [incident.missing_callr]\n"
        "severity_overrides: {record.stael: error}\n"
        "waivers:\n"
        "  - {rule: x, record: '7', owner: a, reason: b, expires: 2030-01-01}\n"
    )

    assert _policy_problems(text) == [
        "p.yaml: thresholds.stael_days (line 2): unknown key (misspelt?)",
        "p.yaml: waivers[0].rule_id (line 6): Field required",
        "p.yaml: waivers[0].rule (line 6): unknown key (misspelt?)",
        "p.yaml: disabled_rules[0] (line 3): no rule with id 'incident.missing_callr'",
        "p.yaml: severity_overrides.record.stael (line 4): no rule with id "
        "'record.stael'",
    ]


def test_parse_policy_empty_text_equals_bundled_default():
    bundled = load_policy()

    policy = parse_policy("", file="p.yaml")

    assert policy == bundled.model_copy(update={"description": None})


def test_parse_policy_omitted_sla_part_takes_bundled_default():
    policy = parse_policy(
        "sla:\n  priorities:\n    1: {respond: 5min, resolve: 1h}\n", file="p.yaml"
    )

    assert list(policy.sla.priorities) == [1]
    assert policy.sla.service_request == load_policy().sla.service_request


def test_load_policy_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"name: x\ndescription: caf\xe9\n")

    with pytest.raises(MappingDefinitionError) as caught:
        load_policy(path)

    assert [str(p) for p in caught.value.problems] == [
        f"{path}: (file) (line 2): cannot read the policy file: byte 0xe9 at offset "
        "24 is not UTF-8; save the file as UTF-8"
    ]
