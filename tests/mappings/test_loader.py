from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from itilmigrate.errors import ExitCode, MappingDefinitionError
from itilmigrate.mappings.loader import bundled_names, load_mapping, parse_mapping
from itilmigrate.mappings.spec import EntityKind, dump_schema

if TYPE_CHECKING:
    from pathlib import Path

MINIMAL = """\
name: tiny
timezone: Europe/London
value_maps:
  status:
    values: {Open: new, Closed: closed}
sources:
  - name: calls
    table: CallLog
    entity: record
    key: [CallID]
    fields:
      status: {column: CallStatus, map: status}
      opened_at: {column: RecvdDate, time_column: RecvdTime}
"""


def test_bundled_heat_mapping_loads_with_five_sources():
    loaded = load_mapping("heat")
    assert bundled_names() == ["heat"]
    assert loaded.path == "<bundled>/heat.yaml"
    assert [s.name for s in loaded.definition.sources] == [
        "profiles",
        "call_customers",
        "calls",
        "assignments",
        "journal",
    ]
    assert [s.entity for s in loaded.definition.sources] == [
        EntityKind.PERSON,
        EntityKind.PERSON,
        EntityKind.RECORD,
        EntityKind.ASSIGNMENT,
        EntityKind.WORK_NOTE,
    ]
    assert len(loaded.sha256) == 64


def test_parse_mapping_minimal_is_valid():
    definition = parse_mapping(MINIMAL, file="tiny.yaml")
    assert definition.name == "tiny"
    assert definition.dates.formats == ["%Y-%m-%d"]
    assert definition.classification.default.value == "incident"


def _problems(text: str) -> list[str]:
    with pytest.raises(MappingDefinitionError) as info:
        parse_mapping(text, file="m.yaml")
    assert info.value.exit_code is ExitCode.CONFIG
    return [str(p) for p in info.value.problems]


def test_parse_mapping_misspelt_key_names_path_and_line():
    text = MINIMAL.replace("    key: [CallID]", "    kye: [CallID]")
    assert _problems(text) == [
        "m.yaml: sources[0].key (line 7): Field required",
        "m.yaml: sources[0].kye (line 10): unknown key (misspelt?); expected one of "
        "['assignments', 'entity', 'exclude', 'fields', 'keep_unmapped', 'key', "
        "'mode', 'name', 'parent', 'parent_key', 'person_key', 'person_kind', 'table']",
    ]


def test_parse_mapping_every_problem_listed_at_once():
    text = (
        MINIMAL.replace("Europe/London", "Europe/Lundon")
        .replace("map: status}", "map: statuses}")
        .replace("entity: record", "entity: recrd")
    )
    problems = _problems(text)
    assert problems == [
        "m.yaml: timezone (line 2): unknown time zone 'Europe/Lundon'; use an IANA "
        "name such as 'Europe/London'",
        "m.yaml: sources[0].entity (line 9): Input should be 'record', 'person', "
        "'assignment' or 'work_note'",
    ]


def test_parse_mapping_unknown_value_map_is_a_cross_problem():
    text = MINIMAL.replace("map: status}", "map: statuses}")
    assert _problems(text) == [
        "m.yaml: sources[0].fields.status.map (line 12): no value map named "
        "'statuses'; "
        "expected one of ['status']"
    ]


def test_parse_mapping_status_target_not_itil_is_rejected():
    text = MINIMAL.replace("Closed: closed", "Closed: done")
    assert _problems(text) == [
        "m.yaml: value_maps.status (line 4): 'done' is not an ITIL status; "
        "expected one of "
        "['cancelled', 'closed', 'in_progress', 'new', 'on_hold', 'resolved']"
    ]


def test_parse_mapping_two_digit_year_without_pivot_is_rejected():
    text = MINIMAL.replace(
        "name: tiny\n", "name: tiny\ndates:\n  formats: ['%d/%m/%y']\n"
    )
    assert _problems(text) == [
        "m.yaml: dates (line 2): a format uses '%y' (two-digit year): set "
        "'two_digit_year_pivot'"
    ]


def test_parse_mapping_classification_rule_needs_a_test():
    text = MINIMAL + (
        "classification:\n  rules:\n    - name: req\n      type: service_request\n"
        "      when: {column: CallType}\n"
    )
    assert _problems(text) == [
        "m.yaml: classification.rules[0].when (line 18): a condition needs one of "
        "'in', "
        "'not_in', 'matches', 'blank'"
    ]


def test_parse_mapping_bad_regex_is_rejected():
    text = MINIMAL + (
        "classification:\n  rules:\n    - name: req\n      type: service_request\n"
        "      when: {column: CallDesc, matches: '(unclosed'}\n"
    )
    problems = _problems(text)
    assert len(problems) == 1
    assert problems[0].startswith(
        "m.yaml: classification.rules[0].when.matches (line 18): invalid regular "
        "expression:"
    )


def test_parse_mapping_invalid_yaml_reports_line():
    assert _problems("name: [unclosed\n") == [
        "m.yaml: (yaml) (line 2): not valid YAML: expected ',' or ']', but got "
        "'<stream end>'"
    ]


def test_load_mapping_missing_file_lists_bundled_names(tmp_path: Path):
    with pytest.raises(MappingDefinitionError) as info:
        load_mapping(str(tmp_path / "nope.yaml"))
    assert str(info.value.problems[0]) == (
        f"{tmp_path / 'nope.yaml'}: (file): cannot read the mapping file "
        "(No such file or directory); give a path or one of the bundled names ['heat']"
    )


def test_dump_schema_forbids_unknown_keys():
    schema = dump_schema()
    assert schema["additionalProperties"] is False
    assert schema["title"] == "MappingDefinition"
    assert "sources" in schema["required"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            (
                "      status: {column: CallStatus",
                "      status: {column: X}\n      status: {column: CallStatus",
            ),
            "m.yaml: (yaml) (line 13): not valid YAML: found the key 'status' twice; "
            "keep one",
            id="repeated-key",
        ),
        pytest.param(
            ("{Open: new, Closed: closed}", "{Open: new, ' open': closed}"),
            "m.yaml: value_maps.status.values (line 5): keys 'Open' and ' open' are "
            "the same code once trimmed and compared case-insensitively; keep one",
            id="value-map-keys-collide",
        ),
    ],
)
def test_parse_mapping_ambiguous_definitions_are_rejected(change, expected):
    assert _problems(MINIMAL.replace(*change)) == [expected]


def test_parse_mapping_repeated_rule_names_are_rejected():
    text = MINIMAL + (
        "classification:\n  rules:\n"
        "    - {name: req, type: service_request, when: {column: T, in: [R]}}\n"
        "    - {name: req, type: problem, when: {column: T, in: [P]}}\n"
    )
    assert _problems(text) == [
        "m.yaml: classification (line 14): rule names ['req'] are used twice; each "
        "record keeps the name of the rule that typed it, so names must be unique"
    ]


def test_parse_mapping_priority_level_outside_matrix_is_rejected():
    text = MINIMAL + "priority:\n  levels: {'3': [4, 3]}\n"
    assert _problems(text) == [
        "m.yaml: priority (line 14): level '3' is impact 4 x urgency 3, which the "
        "matrix does not rate; add it to 'matrix'"
    ]
