"""mapping init: skeletons list every legacy code, marked REVIEW."""

from __future__ import annotations

import pytest
import yaml

from itilmigrate.errors import ConfigError, ExitCode
from itilmigrate.mappings.skeleton import write_skeleton
from itilmigrate.mappings.validate import STRUCTURE, validate_mapping
from itilmigrate.run import RunContext


def _profile(columns: dict[str, dict[str, int]], table: str = "CallLog") -> dict:
    return {
        "source_name": "heat",
        "tables": [
            {
                "table": table,
                "columns": [
                    {"name": name, "values": values, "date_layouts": []}
                    for name, values in columns.items()
                ],
            }
        ],
    }


def test_write_skeleton_like_heat_lists_profile_values_for_review() -> None:
    profile = _profile(
        {
            "CallStatus": {"Open": 5, "OPEN": 1, "Escalated": 2},
            "Priority": {"1": 3, "7": 1},
            "CallType": {"Incident": 4},
            "Category": {"Email": 2},
        }
    )

    text = write_skeleton(profile, like="heat")
    data = yaml.safe_load(text)

    assert data["value_maps"]["status"]["values"] == {
        "Escalated": "REVIEW",
        "Open": "REVIEW",
    }
    assert data["priority"]["levels"] == {"1": "REVIEW", "7": "REVIEW"}
    assert data["value_maps"]["call_types"]["values"] == {"Incident": "REVIEW"}
    assert data["value_maps"]["services"]["values"] == {"Email": "REVIEW"}
    assert "Escalated: REVIEW  # REVIEW: set the target value" in text


def test_write_skeleton_unreviewed_fails_validation_with_exit_3() -> None:
    profile = _profile({"CallStatus": {"Open": 5}})

    report = validate_mapping(
        write_skeleton(profile, like="heat"),
        file="skeleton.yaml",
        source=None,
        run=RunContext.start(),
    )

    assert report.exit_code is ExitCode.CONFIG
    messages = [f.message for f in report.findings if f.rule_id == STRUCTURE]
    assert any(
        "value_maps.status" in m and "'REVIEW' is not an ITIL status" in m
        for m in messages
    )


def test_write_skeleton_generic_one_record_source_per_table() -> None:
    profile = _profile(
        {
            "number": {"INC1": 1},
            "incident_state": {"New": 3, "Closed": 2},
            "opened_at": {},
            "short_description": {},
        },
        table="incident_event_log",
    )

    data = yaml.safe_load(write_skeleton(profile, like=None, name="snow"))

    source = data["sources"][0]
    assert source["key"] == ["number"]
    assert source["fields"]["status"] == {
        "column": "incident_state",
        "map": "incident_event_log_status",
        "required": True,
    }
    assert source["fields"]["opened_at"] == {"column": "opened_at", "required": True}
    assert data["value_maps"]["incident_event_log_status"]["values"] == {
        "Closed": "REVIEW",
        "New": "REVIEW",
    }


def test_write_skeleton_unknown_system_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown legacy system 'remedy'"):
        write_skeleton(_profile({"CallStatus": {"Open": 1}}), like="remedy")
