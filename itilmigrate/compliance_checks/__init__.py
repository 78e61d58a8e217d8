"""Compliance rules over migrated ITIL entities; findings.

The rule modules are imported here, explicitly, so that importing the package
registers every bundled rule in :data:`itilmigrate.compliance_checks.base.registry`.
"""

from __future__ import annotations

from itilmigrate.compliance_checks.rules import (
    fidelity,
    incident,
    problem,
    relations,
    service_request,
    sla,
)

__all__ = ["fidelity", "incident", "problem", "relations", "service_request", "sla"]
