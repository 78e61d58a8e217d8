from __future__ import annotations

import pandas as pd
import pytest

from itilmigrate.transform.problems import Cluster, find_repeat_clusters

T0 = pd.Timestamp("2015-03-02 09:00", tz="UTC")
HOUR = pd.Timedelta(hours=1)
OUTLOOK = "Outlook crashes when opening attachments"


def incidents(rows: list[tuple[str, pd.Timestamp, str | None, str | None, str | None]]):
    return pd.DataFrame(
        rows,
        columns=["entity_id", "opened_at", "category", "subcategory", "description"],
    ).astype({"opened_at": "datetime64[ns, UTC]"})


def hand_built_frame() -> pd.DataFrame:
    return incidents(
        [
            # Near-duplicates within two days of i01: one cluster of four.
            ("i01", T0, "Email", "Outlook", OUTLOOK),
            (
                "i02",
                T0 + 2 * HOUR,
                "Email",
                "Outlook",
                "outlook crashes opening attachment!!",
            ),
            ("i03", T0 + 5 * HOUR, "Email", "Outlook", f"{OUTLOOK} (again, call 4711)"),
            ("i04", T0 + 30 * HOUR, "Email", "Outlook", f"{OUTLOOK} 2"),
            # Same text, but more than two days after i01: starts a new cluster.
            ("i05", T0 + 80 * HOUR, "Email", "Outlook", OUTLOOK),
            # Same group and window, different text: its own cluster.
            (
                "i06",
                T0 + 3 * HOUR,
                "Email",
                "Outlook",
                "Password reset for new starter",
            ),
            # Second group: exactly two similar incidents.
            ("i07", T0 + 1 * HOUR, "Hardware", "Printer", "Printer on floor 3 jammed"),
            (
                "i08",
                T0 + 4 * HOUR,
                "Hardware",
                "Printer",
                "printer floor 3 jammed again",
            ),
            # Same text as the second group, but in another group or none at all.
            ("i09", T0 + 4 * HOUR, None, "Printer", "Printer on floor 3 jammed"),
            ("i10", T0 + 4 * HOUR, "Email", "Outlook", None),
            ("i11", T0 + 5 * HOUR, "Hardware", "Scanner", "Printer on floor 3 jammed"),
        ]
    )


def find(frame: pd.DataFrame, **options) -> list[Cluster]:
    settings = {
        "group_columns": ["category", "subcategory"],
        "text_column": "description",
        "time_column": "opened_at",
        "id_column": "entity_id",
        "window": pd.Timedelta(days=2),
        "min_size": 2,
        "similarity": 0.85,
        **options,
    }
    return find_repeat_clusters(frame, **settings)


def test_find_repeat_clusters_hand_built_frame_gives_exact_clusters():
    clusters = find(hand_built_frame())

    assert clusters == [
        Cluster(
            group_key="Email|Outlook",
            member_ids=("i01", "i02", "i03", "i04"),
            first_opened_at=pd.Timestamp("2015-03-02 09:00", tz="UTC"),
            last_opened_at=pd.Timestamp("2015-03-03 15:00", tz="UTC"),
            representative_text=OUTLOOK,
        ),
        Cluster(
            group_key="Hardware|Printer",
            member_ids=("i07", "i08"),
            first_opened_at=pd.Timestamp("2015-03-02 10:00", tz="UTC"),
            last_opened_at=pd.Timestamp("2015-03-02 13:00", tz="UTC"),
            representative_text="Printer on floor 3 jammed",
        ),
    ]


@pytest.mark.parametrize(
    ("min_size", "expected_keys"),
    [
        pytest.param(
            1, ["Email|Outlook"] * 3 + ["Hardware|Printer", "Hardware|Scanner"], id="1"
        ),
        pytest.param(2, ["Email|Outlook", "Hardware|Printer"], id="2"),
        pytest.param(3, ["Email|Outlook"], id="3"),
        pytest.param(4, ["Email|Outlook"], id="4"),
        pytest.param(5, [], id="5"),
    ],
)
def test_find_repeat_clusters_min_size_boundary(min_size, expected_keys):
    clusters = find(hand_built_frame(), min_size=min_size)

    assert [cluster.group_key for cluster in clusters] == expected_keys


def test_find_repeat_clusters_min_size_one_orders_by_group_then_first_opened():
    clusters = find(hand_built_frame(), min_size=1)

    assert [cluster.member_ids for cluster in clusters] == [
        ("i01", "i02", "i03", "i04"),
        ("i06",),
        ("i05",),
        ("i07", "i08"),
        ("i11",),
    ]


def test_find_repeat_clusters_input_order_does_not_matter():
    frame = hand_built_frame()
    shuffled = frame.sample(frac=1.0, random_state=7).set_axis(range(100, 111))

    assert find(shuffled, min_size=1) == find(frame, min_size=1)


def test_find_repeat_clusters_window_is_inclusive_of_its_end():
    frame = incidents(
        [
            ("a", T0, "Email", "Outlook", OUTLOOK),
            ("b", T0 + pd.Timedelta(days=2), "Email", "Outlook", OUTLOOK),
            ("c", T0 + pd.Timedelta(days=2, seconds=1), "Email", "Outlook", OUTLOOK),
        ]
    )

    clusters = find(frame, min_size=1)

    assert [cluster.member_ids for cluster in clusters] == [("a", "b"), ("c",)]


def test_find_repeat_clusters_joins_most_similar_open_cluster():
    frame = incidents(
        [
            ("a", T0, "Email", "Outlook", "outlook crashes on start"),
            ("b", T0 + HOUR, "Email", "Outlook", "vpn drops every ten minutes"),
            (
                "c",
                T0 + 2 * HOUR,
                "Email",
                "Outlook",
                "vpn drops every ten minutes today",
            ),
        ]
    )

    clusters = find(frame, min_size=1, similarity=0.5)

    assert [cluster.member_ids for cluster in clusters] == [("a",), ("b", "c")]


def test_find_repeat_clusters_tie_goes_to_oldest_cluster():
    # "printer jam" scores 100 against both clusters (token subsets).
    frame = incidents(
        [
            ("a", T0, "Hardware", "Printer", "printer jam tray one"),
            ("b", T0 + HOUR, "Hardware", "Printer", "printer jam toner"),
            ("c", T0 + 2 * HOUR, "Hardware", "Printer", "printer jam"),
        ]
    )

    clusters = find(frame, min_size=1, similarity=0.9)

    assert [cluster.member_ids for cluster in clusters] == [("a", "c"), ("b",)]


def test_find_repeat_clusters_similarity_one_needs_same_words():
    frame = incidents(
        [
            ("a", T0, "Email", "Outlook", "Outlook crashes!"),
            ("b", T0 + HOUR, "Email", "Outlook", "outlook CRASHES (call 12)"),
            ("c", T0 + 2 * HOUR, "Email", "Outlook", "outlook crashed"),
        ]
    )

    clusters = find(frame, min_size=1, similarity=1.0)

    assert [cluster.member_ids for cluster in clusters] == [("a", "b"), ("c",)]


def test_find_repeat_clusters_same_time_orders_members_by_id():
    frame = incidents(
        [
            ("b", T0, "Email", "Outlook", OUTLOOK),
            ("a", T0, "Email", "Outlook", OUTLOOK),
        ]
    )

    clusters = find(frame)

    assert [cluster.member_ids for cluster in clusters] == [("a", "b")]
    assert clusters[0].first_opened_at == clusters[0].last_opened_at == T0


def test_find_repeat_clusters_values_containing_separator_stay_apart():
    frame = incidents(
        [
            ("a", T0, "A|B", "C", OUTLOOK),
            ("b", T0 + HOUR, "A", "B|C", OUTLOOK),
        ]
    )

    clusters = find(frame, min_size=1)

    assert [(c.group_key, c.member_ids) for c in clusters] == [
        ("A|B|C", ("a",)),
        ("A|B|C", ("b",)),
    ]


def test_find_repeat_clusters_without_group_columns_uses_one_group():
    clusters = find(hand_built_frame(), group_columns=[], min_size=3)

    assert [(c.group_key, c.member_ids) for c in clusters] == [
        ("", ("i01", "i02", "i03", "i04")),
        ("", ("i07", "i08", "i09", "i11")),
    ]


def test_find_repeat_clusters_empty_frame_gives_no_clusters():
    assert find(incidents([])) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"text_column": "summary"}, "no column", id="missing-column"),
        pytest.param(
            {"window": pd.Timedelta(hours=-1)}, "window", id="negative-window"
        ),
        pytest.param({"min_size": 0}, "min_size", id="min-size-zero"),
        pytest.param({"similarity": 1.5}, "similarity", id="similarity-above-one"),
    ],
)
def test_find_repeat_clusters_bad_option_raises_value_error(options, message):
    with pytest.raises(ValueError, match=message):
        find(hand_built_frame(), **options)
