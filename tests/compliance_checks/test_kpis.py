"""KPIs: exact values on hand-built targets, one KPI family per test."""

from __future__ import annotations

import pandas as pd
import pytest

from itilmigrate.compliance_checks.kpis import Kpi, as_of, compute_kpis
from tests.compliance_checks.factories import (
    make_assignment,
    make_context,
    make_incident,
    make_problem,
    make_service_request,
    make_status_change,
)

T = pd.Timestamp


def kpi(kpis: list[Kpi], kpi_id: str) -> Kpi:
    return next(k for k in kpis if k.kpi_id == kpi_id)


def rows(item: Kpi) -> list[dict[str, object]]:
    assert item.breakdown is not None
    return item.breakdown.to_dict(orient="records")


def test_compute_kpis_every_kpi_states_a_convention():
    kpis = compute_kpis(make_context(incident=[make_incident("1")]))

    assert [k.kpi_id for k in kpis] == [
        "volume.by_type",
        "volume.by_month",
        "volume.by_service",
        "volume.by_category",
        "volume.by_contact_type",
        "volume.by_caller",
        "volume.by_department",
        "volume.by_site",
        "volume.trend",
        "volume.by_month_service",
        "incident.mttr",
        "incident.mean_time_to_respond",
        "service_request.fulfilment_time",
        "incident.first_contact_resolution",
        "incident.reopen_rate",
        "backlog.open_records",
        "backlog.median_age",
        "assignment.reassignment_distribution",
        "assignment.ping_pong_rate",
        "incident.repeat_rate",
        "incident.repeat_clusters_with_problem",
        "sla.compliance_by_priority",
        "sla.compliance_by_service",
        "sla.respond_compliance",
        "sla.fulfil_compliance",
    ]
    assert all(len(k.convention) > 40 for k in kpis)


def test_volume_kpis_counts_types_months_and_services():
    context = make_context(
        incident=[
            make_incident("1"),
            make_incident("2", opened_at=T("2024-02-10T09:00Z"), service=None),
        ],
        service_request=[make_service_request("3", service="Laptops")],
        problem=[make_problem("4")],
    )
    kpis = compute_kpis(context)

    assert kpi(kpis, "volume.by_type").value == 4
    assert rows(kpi(kpis, "volume.by_type")) == [
        {"entity_type": "incident", "count": 2, "share_pct": 50.0},
        {"entity_type": "problem", "count": 1, "share_pct": 25.0},
        {"entity_type": "service_request", "count": 1, "share_pct": 25.0},
    ]
    assert rows(kpi(kpis, "volume.by_month")) == [
        {"month": "2024-02", "entity_type": "incident", "count": 1},
        {"month": "2024-03", "entity_type": "incident", "count": 1},
        {"month": "2024-03", "entity_type": "problem", "count": 1},
        {"month": "2024-03", "entity_type": "service_request", "count": 1},
    ]
    assert rows(kpi(kpis, "volume.by_service")) == [
        {"service": "Printing", "count": 2, "share_pct": 50.0},
        {"service": "(none)", "count": 1, "share_pct": 25.0},
        {"service": "Laptops", "count": 1, "share_pct": 25.0},
    ]
    assert kpi(kpis, "volume.by_service").value == 3


def test_volume_by_caller_uses_person_name_and_site():
    person = {
        "entity_id": "person-1",
        "source_system": "heat",
        "source_name": "customers",
        "legacy_id": "C1",
        "run_id": "r",
        "kind": "customer",
        "display_name": "Ada Lovelace",
        "site": "Leeds",
    }
    context = make_context(
        incident=[make_incident("1"), make_incident("2", caller_id=None)],
        person=[person],
    )
    kpis = compute_kpis(context)

    assert rows(kpi(kpis, "volume.by_caller")) == [
        {"caller": "Ada Lovelace", "count": 1, "share_pct": 50.0},
        {"caller": "C1", "count": 1, "share_pct": 50.0},
    ]
    assert rows(kpi(kpis, "volume.by_site")) == [
        {"site": "(none)", "count": 1, "share_pct": 50.0},
        {"site": "Leeds", "count": 1, "share_pct": 50.0},
    ]


def test_mttr_gives_median_and_p90_per_priority_excluding_cancelled():
    opened = T("2024-03-11T08:00Z")
    context = make_context(
        incident=[
            make_incident(
                str(n), opened_at=opened, resolved_at=opened + pd.Timedelta(hours=h)
            )
            for n, h in ((1, 2), (2, 4), (3, 10))
        ]
        + [
            make_incident(
                "4",
                priority=1,
                opened_at=opened,
                resolved_at=opened + pd.Timedelta(hours=1),
            ),
            make_incident(
                "5",
                status="cancelled",
                opened_at=opened,
                resolved_at=opened + pd.Timedelta(hours=99),
            ),
            make_incident(
                "6", opened_at=opened, resolved_at=opened - pd.Timedelta(hours=1)
            ),
        ]
    )
    mttr = kpi(compute_kpis(context), "incident.mttr")

    assert mttr.value == 3.0
    assert rows(mttr) == [
        {
            "priority": "P1",
            "count": 1,
            "mean_hours": 1.0,
            "median_hours": 1.0,
            "p90_hours": 1.0,
        },
        {
            "priority": "P3",
            "count": 3,
            "mean_hours": 5.33,
            "median_hours": 4.0,
            "p90_hours": 8.8,
        },
    ]
    assert (
        "1 incidents resolved before they were opened are excluded" in mttr.convention
    )


def test_respond_and_fulfilment_time_in_hours():
    context = make_context(
        incident=[make_incident("1"), make_incident("2", responded_at=None)],
        service_request=[make_service_request("3")],
    )
    kpis = compute_kpis(context)

    assert kpi(kpis, "incident.mean_time_to_respond").value == 0.5
    assert kpi(kpis, "service_request.fulfilment_time").value == 2.0
    assert rows(kpi(kpis, "service_request.fulfilment_time"))[0]["request_type"] == (
        "Hardware order"
    )


def test_first_contact_resolution_and_reopen_rate():
    context = make_context(
        incident=[
            make_incident("1", assignment_count=1),
            make_incident("2", assignment_count=2, reassignment_count=1),
            make_incident("3", reopen_count=1),
            make_incident("4"),
            make_incident("5", status="in_progress", resolved_at=None),
        ],
        status_change=[
            make_status_change("4", 1, "resolved", "2024-03-11T10:00Z"),
            make_status_change("4", 2, "in_progress", "2024-03-11T11:00Z"),
            make_status_change("4", 3, "closed", "2024-03-12T09:00Z"),
        ],
    )
    kpis = compute_kpis(context)

    assert kpi(kpis, "incident.first_contact_resolution").value == 25.0
    assert kpi(kpis, "incident.reopen_rate").value == 50.0
    assert rows(kpi(kpis, "incident.reopen_rate")) == [
        {"priority": "P3", "resolved": 4, "reopened": 2, "rate_pct": 50.0}
    ]


def test_backlog_ages_open_records_at_the_latest_target_time():
    context = make_context(
        incident=[
            make_incident(
                "1",
                status="in_progress",
                resolved_at=None,
                closed_at=None,
                opened_at=T("2024-03-10T12:00Z"),
                updated_at=T("2024-03-12T12:00Z"),
            ),
            make_incident(
                "2",
                status="on_hold",
                resolved_at=None,
                closed_at=None,
                opened_at=T("2023-01-01T12:00Z"),
                updated_at=None,
            ),
            make_incident("3"),
        ],
        problem=[
            make_problem(
                "4",
                status="new",
                resolved_at=None,
                closed_at=None,
                opened_at=T("2024-02-01T12:00Z"),
                updated_at=None,
            )
        ],
        now=T("2030-01-01T00:00Z"),
    )
    kpis = compute_kpis(context)

    assert as_of(context) == T("2024-03-12T12:00Z")
    backlog = kpi(kpis, "backlog.open_records")
    assert backlog.value == 3
    assert rows(backlog) == [
        {"age": "0-2 days", "incident": 1, "problem": 0, "total": 1},
        {"age": "3-7 days", "incident": 0, "problem": 0, "total": 0},
        {"age": "8-30 days", "incident": 0, "problem": 0, "total": 0},
        {"age": "31-90 days", "incident": 0, "problem": 1, "total": 1},
        {"age": "91-365 days", "incident": 0, "problem": 0, "total": 0},
        {"age": "over 365 days", "incident": 1, "problem": 0, "total": 1},
    ]
    assert kpi(kpis, "backlog.median_age").value == 40.0


def test_reassignment_distribution_and_ping_pong_rate():
    context = make_context(
        incident=[
            make_incident("1", reassignment_count=2),
            make_incident("2", reassignment_count=1),
            make_incident("3", reassignment_count=7),
        ],
        assignment=[
            make_assignment("1", 1, "group-a"),
            make_assignment("1", 2, "group-b"),
            make_assignment("1", 3, "group-a"),
            make_assignment("2", 1, "group-a"),
            make_assignment("2", 2, "group-b"),
            make_assignment("3", 1, "group-a"),
            make_assignment("3", 2, "group-a"),
        ],
    )
    kpis = compute_kpis(context)

    distribution = kpi(kpis, "assignment.reassignment_distribution")
    assert distribution.value == 3.33
    assert [(r["reassignments"], r["count"]) for r in rows(distribution)] == [
        ("0", 0),
        ("1", 1),
        ("2", 1),
        ("3", 0),
        ("4", 0),
        ("5+", 1),
    ]
    assert kpi(kpis, "assignment.ping_pong_rate").value == 50.0


def test_repeat_rate_and_clusters_linked_to_a_problem():
    day = pd.Timedelta(days=1)
    start = T("2024-01-01T09:00Z")
    context = make_context(
        incident=[
            make_incident("1", opened_at=start),
            make_incident("2", opened_at=start + 5 * day),
            make_incident("3", opened_at=start + 30 * day),
            make_incident("4", opened_at=start + 31 * day),
            make_incident("5", opened_at=start + 32 * day, category="Network"),
        ],
        problem_incident=[
            {"problem_id": "rec-9", "incident_id": "rec-2", "rule": "r", "run_id": "r"}
        ],
    )
    kpis = compute_kpis(context)

    repeat = kpi(kpis, "incident.repeat_rate")
    assert repeat.value == 40.0
    assert rows(repeat) == [{"category": "Hardware", "repeat_incidents": 2}]
    assert kpi(kpis, "incident.repeat_clusters_with_problem").value == 50.0


def test_sla_compliance_uses_the_sla_rule_verdicts():
    context = make_context(
        incident=[
            make_incident("1"),
            make_incident(
                "2",
                opened_at=T("2024-03-01T09:00Z"),
                resolved_at=T("2024-03-11T09:00Z"),
            ),
            make_incident("3", priority=None),
        ]
    )
    kpis = compute_kpis(context)

    by_priority = kpi(kpis, "sla.compliance_by_priority")
    assert by_priority.value == 50.0
    assert rows(by_priority) == [
        {
            "priority": "P3",
            "evaluated": 2,
            "met": 1,
            "breached": 1,
            "compliance_pct": 50.0,
        }
    ]
    assert "Policy 'default'" in by_priority.convention


@pytest.mark.parametrize(
    "kpi_id", ["incident.mttr", "incident.repeat_rate", "sla.compliance_by_priority"]
)
def test_compute_kpis_on_an_empty_target_gives_no_value(kpi_id):
    kpis = compute_kpis(make_context())

    assert kpi(kpis, kpi_id).value is None
    assert kpi(kpis, "volume.by_type").value == 0
