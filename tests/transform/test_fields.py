from __future__ import annotations

import pandas as pd

from itilmigrate.mappings.loader import parse_mapping
from itilmigrate.transform.fields import DstCounter, FieldProblems, convert_field

MAPPING = """\
name: dst
timezone: Europe/Paris
dates: {formats: ["%Y-%m-%d %H:%M"], nonexistent: quarantine}
value_maps: {status: {values: {Open: new}}}
sources:
  - name: calls
    table: calls
    entity: record
    key: [ID]
    fields:
      status: {column: Status, map: status}
      opened_at: {column: Opened}
"""


def test_convert_field_dst_gap_under_quarantine_policy_says_so():
    definition = parse_mapping(MAPPING, file="m.yaml")
    spec = definition.sources[0].fields["opened_at"]
    df = pd.DataFrame(
        {"Opened": ["2015-03-29 02:30", "2015-03-29 03:30"]}, dtype=object
    )
    problems = FieldProblems(df.index)
    dst = DstCounter()

    values, _ = convert_field(
        "opened_at",
        "timestamp",
        spec,
        df,
        {"Opened": "Opened"},
        definition,
        problems,
        dst,
    )

    assert values.isna().tolist() == [True, False]
    assert problems.bad.tolist() == [True, False]
    assert problems.reason[0] == "unparseable"
    assert problems.detail[0] == (
        "field 'opened_at': 'Opened' fits none of the date layouts ['%Y-%m-%d %H:%M'], "
        "or is a local time that does not exist or occurs twice in Europe/Paris "
        "(dates.nonexistent/ambiguous: quarantine)"
    )
    assert dst.counts == {"opened_at": 1}
