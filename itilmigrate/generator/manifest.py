"""The manifest: exact counts and ids of everything the generator planted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from itilmigrate.generator import vocabulary as voc
from itilmigrate.generator.plan import FIRST_CALL_NUMBER, Kind, Plan

if TYPE_CHECKING:
    from itilmigrate.generator.columns import Tally
    from itilmigrate.generator.dates import IntArray


@dataclass(frozen=True, slots=True, kw_only=True)
class HeatManifest:
    r"""What a generated HEAT database holds, so tests can assert exact values.

    CallIDs are given trimmed, in ascending order. Counts of CallLog rows include the
    duplicate rows; Asgnmnt and Journal counts include the orphan rows. "Blank" means
    ``''`` or NULL (the generator mixes both). Control characters are those below
    U+0020 other than tab, CR and LF.

    Attributes:
        seed: The seed the data was drawn from.
        case: ``"mixed"`` (``CallLog``) or ``"upper"`` (``CALLLOG``) names.
        tables: Table names as written: CallLog, Asgnmnt, Journal, Subset, Profile.
        calls: Rows written to CallLog, including the duplicate rows.
        distinct_call_ids: Distinct trimmed CallIDs in CallLog.
        duplicate_call_ids: CallIDs on two CallLog rows. The second row is a stale copy
            of the first: same customer, type, received date and description, status
            ``Open``, blank close fields, no Asgnmnt or Journal rows of its own.
        assignments: Asgnmnt rows, orphans included.
        journals: Journal rows, orphans included.
        subsets: Subset rows: one per distinct CallID.
        profiles: Profile rows.
        orphan_assignments: Asgnmnt rows whose CallID has no CallLog row.
        orphan_journals: Journal rows whose CallID has no CallLog row.
        orphan_call_ids: The CallIDs of the orphan rows.
        unparseable_dates: CallIDs whose RecvdDate no parser can read ('2015-02-30',
            'N/A', ...).
        dmy_dates: CallLog rows whose RecvdDate is d/m/yyyy (no zero padding) instead of
            yyyy-mm-dd; their ModDate and any ClosedDate use the same layout.
        closed_before_opened: Closed calls whose ClosedDate is 1 to 20 days before their
            RecvdDate.
        dst_gap_calls: Calls received 01:00-01:59:59 on a last Sunday of March, a local
            time that does not exist in Europe/London.
        dst_ambiguous_calls: Calls received 01:00-01:59:59 on a last Sunday of October,
            a local time that occurs twice in Europe/London.
        unmapped_priority_calls: Calls with Priority ``'9'`` (outside 1-5 and blank).
        blank_priority_calls: CallLog rows with a blank Priority.
        customers_missing_from_profile: Distinct (CustID, CustType) pairs on CallLog
            rows with no Profile row; their details are in Subset.
        shared_cust_ids: CustIDs present in Profile under two CustTypes, as two
            different people; calls refer to both.
        subset_profile_mismatches: CallIDs whose Subset LastName and EMailID are the
            customer's former ones, so they differ from Profile.
        clusters: Each planted repeat-incident cluster: 4 to 6 Incident calls with one
            Category and near-identical ShortDesc, received within four days. At large
            sizes ordinary calls can also repeat by chance; these are the planted ones.
        request_like_incidents: Calls typed Incident whose CallDesc reads like a
            request ("Please install ...").
        closed_without_close_date: Calls with status ``Closed`` but blank ClosedDate and
            ClosedTime (ClosedBy and CloseDesc are set).
        open_with_close_date: Calls with status ``Open`` or ``Reopened`` that keep the
            ClosedBy, ClosedDate, ClosedTime and CloseDesc of an earlier closure.
        status_variant_calls: CallLog rows whose CallStatus differs from its canonical
            value in case or surrounding spaces ('closed', 'OPEN ', ' Pending').
        status_counts: CallLog rows per canonical status, variants included.
        call_type_counts: CallLog rows per CallType.
        padded_call_ids: CallLog rows whose CallID is right-padded with two spaces.
        padded_child_rows: Asgnmnt, Journal and Subset rows whose CallID is
            right-padded, independently of the CallLog row.
        bounced_calls: Calls whose assignments go back to a group they left (A, B, A).
        rtf_journals: Journal rows whose EntryText is RTF (``{\rtf1\ansi ...}``).
        cp1252_journals: Journal rows whose EntryText is cp1252 mojibake ('cafÃ©',
            'Â£'); ``ftfy.fix_text`` restores the original text.
        control_char_journals: Journal rows whose EntryText holds control characters.
        html_descriptions: CallLog rows whose CallDesc is HTML, the script one included.
        script_descriptions: CallIDs whose CallDesc holds ``<script>alert(1)</script>``.
        control_char_descriptions: CallLog rows whose CallDesc holds control characters.
            NUL is among them, except on PostgreSQL, which cannot store NUL in text: it
            gets U+001A there instead.
    """

    seed: int
    case: str
    tables: tuple[str, ...]
    calls: int
    distinct_call_ids: int
    duplicate_call_ids: tuple[str, ...]
    assignments: int
    journals: int
    subsets: int
    profiles: int
    orphan_assignments: int
    orphan_journals: int
    orphan_call_ids: tuple[str, ...]
    unparseable_dates: tuple[str, ...]
    dmy_dates: int
    closed_before_opened: tuple[str, ...]
    dst_gap_calls: tuple[str, ...]
    dst_ambiguous_calls: tuple[str, ...]
    unmapped_priority_calls: tuple[str, ...]
    blank_priority_calls: int
    customers_missing_from_profile: int
    shared_cust_ids: tuple[str, ...]
    subset_profile_mismatches: tuple[str, ...]
    clusters: tuple[tuple[str, ...], ...]
    request_like_incidents: tuple[str, ...]
    closed_without_close_date: tuple[str, ...]
    open_with_close_date: tuple[str, ...]
    status_variant_calls: int
    status_counts: tuple[tuple[str, int], ...]
    call_type_counts: tuple[tuple[str, int], ...]
    padded_call_ids: int
    padded_child_rows: int
    bounced_calls: int
    rtf_journals: int
    cp1252_journals: int
    control_char_journals: int
    html_descriptions: int
    script_descriptions: tuple[str, ...]
    control_char_descriptions: int


def _ids(rows: IntArray | list[int]) -> tuple[str, ...]:
    return tuple(f"{FIRST_CALL_NUMBER + row:08d}" for row in sorted(rows))


def build_manifest(
    plan: Plan,
    tally: Tally,
    *,
    seed: int,
    case: str,
    tables: tuple[str, ...],
    orphans: tuple[int, int],
) -> HeatManifest:
    """Combine the plan (planted rows) and the tally (what was written)."""
    kinds = plan.kinds

    def ids(kind: Kind) -> tuple[str, ...]:
        return _ids(kinds[kind].rows.tolist())

    duplicates = _ids((kinds[Kind.DUPLICATE].rows - 1).tolist())
    orphan_assignments, orphan_journals = orphans
    missing = np.unique(kinds[Kind.MISSING_CUSTOMER].code)
    return HeatManifest(
        seed=seed,
        case=case,
        tables=tables,
        calls=plan.calls,
        distinct_call_ids=plan.calls - len(duplicates),
        duplicate_call_ids=duplicates,
        assignments=tally.assignments,
        journals=tally.journals,
        subsets=tally.subsets,
        profiles=plan.population.profile_count,
        orphan_assignments=orphan_assignments,
        orphan_journals=orphan_journals,
        orphan_call_ids=tuple(f"{n:08d}" for n in plan.orphan_numbers.tolist()),
        unparseable_dates=ids(Kind.UNPARSEABLE_DATE),
        dmy_dates=len(kinds[Kind.DMY_DATE].rows),
        closed_before_opened=ids(Kind.CLOSED_BEFORE_OPENED),
        dst_gap_calls=ids(Kind.DST_GAP),
        dst_ambiguous_calls=ids(Kind.DST_AMBIGUOUS),
        unmapped_priority_calls=ids(Kind.UNMAPPED_PRIORITY),
        blank_priority_calls=tally.blank_priority_calls,
        customers_missing_from_profile=len(missing),
        shared_cust_ids=plan.population.shared_cust_ids,
        subset_profile_mismatches=ids(Kind.SUBSET_MISMATCH),
        clusters=tuple(sorted(_ids(list(members)) for members in plan.clusters)),
        request_like_incidents=ids(Kind.REQUEST_LIKE_INCIDENT),
        closed_without_close_date=ids(Kind.CLOSED_WITHOUT_DATE),
        open_with_close_date=ids(Kind.OPEN_WITH_CLOSE_DATE),
        status_variant_calls=tally.status_variant_calls,
        status_counts=tuple(
            (name, tally.statuses[name])
            for name in voc.STATUSES
            if tally.statuses[name]
        ),
        call_type_counts=tuple(
            (name, tally.call_types[name])
            for name, *_ in voc.CALL_TYPES
            if tally.call_types[name]
        ),
        padded_call_ids=tally.padded_call_ids,
        padded_child_rows=tally.padded_child_rows,
        bounced_calls=tally.bounced_calls,
        rtf_journals=tally.rtf_journals,
        cp1252_journals=tally.cp1252_journals,
        control_char_journals=tally.control_char_journals,
        html_descriptions=len(kinds[Kind.HTML_DESCRIPTION].rows)
        + len(kinds[Kind.SCRIPT_DESCRIPTION].rows),
        script_descriptions=ids(Kind.SCRIPT_DESCRIPTION),
        control_char_descriptions=len(kinds[Kind.CONTROL_DESCRIPTION].rows),
    )
