"""Request fulfilment rules: catalogue, caller, fulfilment notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.base import Practice, rule
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.rules._common import DONE_STATUSES, blank, emit, show

if TYPE_CHECKING:
    from itilmigrate.compliance_checks.context import RuleContext
    from itilmigrate.compliance_checks.findings import Finding

_REQUEST = ("service_request",)


@rule(
    "service_request.missing_request_type",
    title="Service request without a catalogue item or request type",
    practice=Practice.REQUEST_FULFILMENT,
    severity=Severity.WARNING,
    needs=_REQUEST,
)
def missing_request_type(context: RuleContext) -> list[Finding]:
    """Every service request names its catalogue item (request type).

    Requests are fulfilled through the service catalogue; without the item there is
    no fulfilment model, approval or lead time. Requests with a type pass.
    """
    requests = context.table("service_request")
    failing = requests.loc[blank(requests["request_type"])]
    messages = (
        "Service request has no request type (status " + show(failing["status"]) + ")."
    )
    return emit(
        context,
        "service_request.missing_request_type",
        failing,
        messages,
        entity_type="service_request",
    )


@rule(
    "service_request.closed_without_fulfilment_notes",
    title="Service request fulfilled without notes",
    practice=Practice.REQUEST_FULFILMENT,
    severity=Severity.WARNING,
    needs=_REQUEST,
)
def closed_without_fulfilment_notes(context: RuleContext) -> list[Finding]:
    """A resolved or closed service request records what was delivered.

    Fulfilment notes are the evidence that the request was met (and the audit
    trail for access requests). Open requests and requests with notes pass.
    """
    requests = context.table("service_request")
    done = requests["status"].isin(DONE_STATUSES)
    failing = requests.loc[done & blank(requests["resolution_notes"])]
    messages = (
        "Service request is " + show(failing["status"]) + " without fulfilment notes."
    )
    return emit(
        context,
        "service_request.closed_without_fulfilment_notes",
        failing,
        messages,
        entity_type="service_request",
    )


@rule(
    "service_request.missing_caller",
    title="Service request without a requester",
    practice=Practice.REQUEST_FULFILMENT,
    severity=Severity.WARNING,
    needs=_REQUEST,
)
def missing_caller(context: RuleContext) -> list[Finding]:
    """Every service request names the person who asked for it.

    Without a requester nobody approves, receives or confirms the fulfilment.
    Requests with a caller (entity or legacy reference) pass.
    """
    requests = context.table("service_request")
    failing = requests.loc[blank(requests["caller_id"]) & blank(requests["caller_ref"])]
    messages = pd.Series("Service request has no requester.", index=failing.index)
    return emit(
        context,
        "service_request.missing_caller",
        failing,
        messages,
        entity_type="service_request",
    )
