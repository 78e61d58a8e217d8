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


def _with_dates(formats: str, time_formats: str = "['%H:%M:%S']") -> str:
    return MINIMAL.replace(
        "name: tiny\n",
        f"name: tiny\ndates:\n  formats: {formats}\n  time_formats: {time_formats}\n",
    )


@pytest.mark.parametrize(
    ("formats", "time_formats", "expected"),
    [
        pytest.param(
            "['%Y-%m-%Q']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): '%Q' in '%Y-%m-%Q' is not a strptime "
            "directive; expected a date layout such as '%d/%m/%Y' built from "
            "%d %m %Y %y %b %B %j %G (and %a %A %w %u %U %W %V %H %I %M %S %f %p %%)",
            id="unknown-date-directive",
        ),
        pytest.param(
            "['dd/mm/yyyy']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): 'dd/mm/yyyy' has no date directive; "
            "expected a strptime layout such as '%d/%m/%Y' with at least one of "
            "%d %m %Y %y %b %B %j %G",
            id="literal-date-layout",
        ),
        pytest.param(
            "['%Y-%m-%d%']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): '%Y-%m-%d%' ends with a lone '%'; "
            "write '%%' for a literal percent sign",
            id="trailing-percent",
        ),
        pytest.param(
            "['%Y-%m-%d %z']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): '%Y-%m-%d %z' reads a zone (%z), "
            "which is not supported; drop it and set the mapping's 'timezone'",
            id="zone-directive",
        ),
        pytest.param(
            "['%c']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): '%c' in '%c' depends on the "
            "machine's locale; spell the layout out, such as '%d/%m/%Y %H:%M'",
            id="locale-directive",
        ),
        pytest.param(
            "['%Y-%U']",
            "['%H:%M:%S']",
            "m.yaml: dates.formats[0] (line 3): pandas cannot read dates with "
            "'%Y-%U': Cannot use '%W' or '%U' without day and year",
            id="pandas-refuses-combination",
        ),
        pytest.param(
            "['%Y-%m-%d']",
            "['%H:%M:%Q']",
            "m.yaml: dates.time_formats[0] (line 4): '%Q' in '%H:%M:%Q' is not a "
            "strptime directive; expected a time layout such as '%H:%M:%S' built "
            "from %H %I %M %S %f %p",
            id="unknown-time-directive",
        ),
        pytest.param(
            "['%Y-%m-%d']",
            "['%d/%m/%Y']",
            "m.yaml: dates.time_formats[0] (line 4): '%d/%m/%Y' reads a date (%d %m "
            "%Y); expected a time of day only, such as '%H:%M:%S' (date layouts go "
            "in 'dates.formats')",
            id="date-layout-as-time",
        ),
        pytest.param(
            "['%Y-%m-%d']",
            "['HH:MM']",
            "m.yaml: dates.time_formats[0] (line 4): 'HH:MM' has no time directive; "
            "expected a strptime layout such as '%H:%M:%S' with at least one of "
            "%H %I %M %S %f %p",
            id="literal-time-layout",
        ),
        pytest.param(
            "['%Y-%m-%d']",
            "[]",
            "m.yaml: dates.time_formats (line 4): List should have at least 1 item "
            "after validation, not 0",
            id="no-time-format",
        ),
    ],
)
def test_parse_mapping_bad_date_layout_names_entry_and_expectation(
    formats, time_formats, expected
):
    assert _problems(_with_dates(formats, time_formats)) == [expected]


def test_parse_mapping_every_bad_date_layout_listed_at_once():
    text = _with_dates("['%Y-%m-%Q', 'dd/mm/yyyy', '%d.%m.%Y']", "['%H:%M', '%d']")
    problems = _problems(text)

    assert [p.split(":")[1] for p in problems] == [
        " dates.formats[0] (line 3)",
        " dates.formats[1] (line 3)",
        " dates.time_formats[1] (line 4)",
    ]


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param("%d/%m/%Y %H:%M:%S.%f", id="date-with-time"),
        pytest.param("%d %b %Y %I:%M %p", id="month-name-12-hour"),
        pytest.param("%Y%%%j", id="escaped-percent-day-of-year"),
        pytest.param("%G-W%V-%u", id="iso-week"),
    ],
)
def test_parse_mapping_valid_date_layouts_are_accepted(layout):
    definition = parse_mapping(_with_dates(f"['{layout}']"), file="m.yaml")

    assert definition.dates.formats == [layout]


def test_parse_mapping_escaped_percent_y_needs_no_pivot():
    definition = parse_mapping(_with_dates("['%Y-%m-%d %%y']"), file="m.yaml")

    assert definition.dates.two_digit_year_pivot is None


def test_parse_mapping_matrix_with_a_hole_is_rejected():
    text = MINIMAL + "priority:\n  matrix: {1: {1: 1, 2: 2}, 2: {1: 2}}\n"

    assert _problems(text) == [
        "m.yaml: priority (line 14): impact 2 has no priority for urgency 2; the "
        "matrix must rate every impact [1, 2] x urgency [1, 2] it names"
    ]


def test_parse_mapping_impossible_yaml_date_is_a_problem_not_a_crash():
    text = MINIMAL.replace("name: tiny\n", "name: tiny\ndescription: 2016-02-30\n")

    definition = parse_mapping(text, file="m.yaml")

    assert definition.description == "2016-02-30"


def test_load_mapping_not_utf8_names_file_and_line(tmp_path: Path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(MINIMAL.replace("CallLog", "Caf\xe9").encode("latin-1"))

    with pytest.raises(MappingDefinitionError) as info:
        load_mapping(str(path))

    assert info.value.exit_code is ExitCode.CONFIG
    assert [str(p) for p in info.value.problems] == [
        f"{path}: (file) (line 8): cannot read the mapping file: byte 0xe9 at "
        "offset 136 is not UTF-8; save the file as UTF-8"
    ]
