from __future__ import annotations

import pandas as pd

from itilmigrate.entities import TABLE_MODELS, entity_id, entity_ids, table_columns


def test_entity_ids_equal_uuid5_ids_and_keep_missing_keys():
    keys = pd.Series(["00010001", None, "CallID with é"], index=[5, 6, 7])
    ids = entity_ids("heat", "record", keys, prefix="calls|")

    assert ids.index.tolist() == [5, 6, 7]
    assert ids[5] == entity_id("heat", "record", "calls|00010001")
    assert ids[6] is None
    assert ids[7] == entity_id("heat", "record", "calls|CallID with é")


def test_entity_id_is_stable_across_runs():
    assert entity_id("heat", "record", "calls|00010001") == (
        "{}".format(entity_id("heat", "record", "calls|00010001"))
    )
    assert entity_id("heat", "person", "C1|Employee") != entity_id(
        "heat", "staff", "C1|Employee"
    )


def test_every_target_table_starts_with_its_identity_columns():
    for table in TABLE_MODELS:
        if table == "problem_incident":
            assert table_columns(table) == [
                "problem_id",
                "incident_id",
                "rule",
                "run_id",
            ]
            continue
        assert table_columns(table)[:4] == [
            "entity_id",
            "source_system",
            "source_name",
            "legacy_id",
        ]
