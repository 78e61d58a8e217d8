"""Legacy records and quarantine: what a source gave us and what we set aside."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class QuarantineReason(StrEnum):
    """Stable reason codes for a quarantined legacy record."""

    UNPARSEABLE = "unparseable"
    MISSING_REQUIRED = "missing_required"
    UNMAPPED_VALUE = "unmapped_value"
    INVALID_REFERENCE = "invalid_reference"
    DUPLICATE_KEY = "duplicate_key"
    ENTITY_INVALID = "entity_invalid"
    UNSUPPORTED = "unsupported"


class Stage(StrEnum):
    """Pipeline stage where a record was set aside."""

    EXTRACT = "extract"
    TRANSFORM = "transform"
    LOAD = "load"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyRecord:
    """One record as read from a source, values untouched."""

    source_name: str
    legacy_id: str
    fields: Mapping[str, str | None]
    batch_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedRecord:
    """A legacy record set aside with a reason; the run goes on without it.

    ``detail`` names fields and expectations, never the legacy values: those stay in
    ``legacy_record.fields`` and go only to the restricted quarantine report.
    """

    legacy_record: LegacyRecord
    stage: Stage
    reason: QuarantineReason
    detail: str
