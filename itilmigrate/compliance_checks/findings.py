"""Findings: facts about the data that a rule or a reconciliation reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """How serious a finding is; ``--fail-on`` compares with ``>=``."""

    INFO = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One rule failed for one entity or aggregate."""

    rule_id: str
    severity: Severity
    message: str
    run_id: str
    entity_type: str | None = None
    entity_id: str | None = None
    legacy_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def finding_id(self) -> str:
        """A stable id: the same defect keeps its id across runs."""
        key = f"{self.rule_id}\x1f{self.entity_id or self.legacy_id or self.message}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, severity as its lower-case name."""
        return {
            "finding_id": self.finding_id,
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "legacy_id": self.legacy_id,
            "message": self.message,
            "run_id": self.run_id,
            "details": self.details,
        }
