"""``check --policy`` with invalid policies: exit 3, every problem listed at once."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from itilmigrate.cli import cli
from itilmigrate.errors import ExitCode

if TYPE_CHECKING:
    from pathlib import Path

HINT = "hint: fix every listed place; the README describes the format.\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--log-level", "error", *args])
    return result.exit_code, result.stdout, result.stderr


def bundled_with(folder: Path, *changes: tuple[str, str]) -> Path:
    text = (
        resources.files("itilmigrate.compliance_checks")
        .joinpath("policies/default.yaml")
        .read_text(encoding="utf-8")
    )
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        pytest.param(
            [("holidays: []", "holidays: [2016-02-30]")],
            [
                "calendar.holidays[0] (line 44): Input should be a valid date or "
                "datetime, day value is outside expected range"
            ],
            id="impossible-holiday",
        ),
        pytest.param(
            [
                (
                    "waivers: []",
                    "waivers:\n  - {rule_id: incident.missing_caller, record: '7', "
                    "owner: me, reason: x, expires: 2026-13-01}",
                )
            ],
            [
                "waivers[0].expires (line 58): Input should be a valid date or "
                "datetime, month value is outside expected range of 1-12"
            ],
            id="impossible-expiry",
        ),
        pytest.param(
            [
                (
                    "2: {respond: 30min, resolve: 8h}",
                    "2: {respond: -30min, resolve: 0h}",
                ),
                ("  3: {1: 3, 2: 4, 3: 5}", "  3: {1: 3, 2: 4}"),
            ],
            [
                "sla.priorities[2].respond (line 33): must be longer than zero; write "
                "a target such as '30min' or '8h'",
                "sla.priorities[2].resolve (line 33): must be longer than zero; write "
                "a target such as '30min' or '8h'",
                "priority_matrix[3] (line 52): impact 3 has no priority for urgency 3; "
                "the matrix must rate every impact [1, 2, 3] x urgency [1, 2, 3] it "
                "names",
            ],
            id="durations-and-matrix",
        ),
        pytest.param(
            [
                ("  stale_days: 14", "  stael_days: 14"),
                ("disabled_rules: []", "disabled_rules: [incident.missing_callr]"),
            ],
            [
                "thresholds.stael_days (line 10): unknown key (misspelt?)",
                "disabled_rules[0] (line 55): no rule with id 'incident.missing_callr'",
            ],
            id="typo-and-unknown-rule",
        ),
    ],
)
def test_check_invalid_policy_exits_config_listing_every_problem(
    tmp_path, changes, problems
):
    policy = bundled_with(tmp_path, *changes)

    code, out, err = invoke(
        "check", f"sqlite:///{tmp_path / 'absent.db'}", "--policy", str(policy)
    )

    assert code == ExitCode.CONFIG
    count = len(problems)
    listed = "".join(f"  - {policy}: {p}\n" for p in problems)
    assert err == (
        f"error: Policy definition is invalid ({count} problem"
        f"{'' if count == 1 else 's'}):\n{listed}{HINT}"
    )
    assert out == ""
