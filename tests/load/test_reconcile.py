from __future__ import annotations

import pytest

from itilmigrate.load.reconcile import reconcile
from itilmigrate.run import SourceCounts

from .factories import make_batch, make_incident_frame


class LineageOnlyTarget:
    """Answers lineage counts from a table; every other Target call is unused."""

    def __init__(self, held: dict[tuple[str, str], int]) -> None:
        self.held = held
        self.asked: list[tuple[str, str]] = []

    def lineage_count(self, source_system: str, source_name: str) -> int:
        self.asked.append((source_system, source_name))
        return self.held.get((source_system, source_name), 0)


def _counts(**overrides) -> SourceCounts:
    values = {
        "source_name": "CallLog",
        "table": "calls",
        "entity_type": "record",
        "read_count": 10000,
        "loaded_count": 9990,
        "quarantined_count": 5,
        "excluded": {"closed_before_cutoff": 3, "test_calls": 2},
        "lineage_count": 9990,
    }
    values.update(overrides)
    return SourceCounts(**values)


def test_reconcile_balanced_counts_without_target_has_no_problems():
    assert reconcile([_counts()], None, source_system="heat", limited=False) == []


def test_reconcile_unbalanced_counts_names_table_and_difference():
    counts = _counts(excluded={"closed_before_cutoff": 3})

    problems = reconcile([counts], None, source_system="heat", limited=False)

    assert problems == [
        "Source table 'calls' (CallLog → record): read 10000 != loaded 9990 + "
        "quarantined 5 + excluded 3 (difference 2)."
    ]


def test_reconcile_more_accounted_than_read_gives_negative_difference():
    counts = _counts(read_count=9990)

    problems = reconcile([counts], None, source_system="heat", limited=False)

    assert problems == [
        "Source table 'calls' (CallLog → record): read 9990 != loaded 9990 + "
        "quarantined 5 + excluded 5 (difference -10)."
    ]


def test_reconcile_target_lineage_equal_to_loaded_has_no_problems():
    target = LineageOnlyTarget({("heat", "CallLog"): 9990})

    problems = reconcile([_counts()], target, source_system="heat", limited=False)

    assert problems == []
    assert target.asked == [("heat", "CallLog")]


def test_reconcile_target_lineage_short_of_loaded_reports_missing():
    target = LineageOnlyTarget({("heat", "CallLog"): 9980})

    problems = reconcile([_counts()], target, source_system="heat", limited=False)

    assert problems == [
        "Source 'CallLog': the target holds lineage for 9980 legacy ids but this run "
        "loaded 9990 (10 missing)."
    ]


def test_reconcile_target_lineage_beyond_loaded_reports_records_gone_from_source():
    target = LineageOnlyTarget({("heat", "CallLog"): 10005})

    problems = reconcile([_counts()], target, source_system="heat", limited=False)

    assert problems == [
        "Source 'CallLog': the target holds lineage for 10005 legacy ids but this run "
        "loaded 9990; 15 of them came from an earlier run and are no longer in the "
        "source."
    ]


def test_reconcile_tables_of_one_source_add_up_before_the_target_check():
    calls = _counts(lineage_count=9000)
    archive = _counts(table="calls_archive", lineage_count=990)
    target = LineageOnlyTarget({("heat", "CallLog"): 9990})

    problems = reconcile([calls, archive], target, source_system="heat", limited=False)

    assert problems == []
    assert target.asked == [("heat", "CallLog")]


@pytest.mark.parametrize(
    "target",
    [pytest.param(None, id="dry-run"), pytest.param("limited", id="limited-run")],
)
def test_reconcile_without_full_target_check_reports_counts_only(target):
    fake = LineageOnlyTarget({})
    counts = [_counts(), _counts(source_name="Subset", table="subset", read_count=1)]

    problems = reconcile(
        counts,
        None if target is None else fake,
        source_system="heat",
        limited=target == "limited",
    )

    assert problems == [
        "Source table 'subset' (Subset → record): read 1 != loaded 9990 + "
        "quarantined 5 + excluded 5 (difference -9999)."
    ]
    assert fake.asked == []


@pytest.mark.parametrize(
    ("lineage_count", "expected"),
    [
        pytest.param(3, [], id="equal"),
        pytest.param(
            2,
            [
                "Source 'CallLog': the target holds lineage for 3 legacy ids but this "
                "run loaded 2; 1 of them came from an earlier run and are no longer in "
                "the source."
            ],
            id="source-lost-one",
        ),
    ],
)
def test_reconcile_with_sql_target_counts_stored_lineage(
    sqlite_target, lineage_count, expected
):
    sqlite_target.load_batch(
        make_batch({"incident": make_incident_frame(3)}), source_system="heat"
    )
    counts = _counts(
        read_count=lineage_count,
        loaded_count=lineage_count,
        quarantined_count=0,
        excluded={},
        lineage_count=lineage_count,
    )

    problems = reconcile([counts], sqlite_target, source_system="heat", limited=False)

    assert problems == expected
