"""Helpers the rule modules share: building findings from failing rows, blanks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from itilmigrate.compliance_checks.base import registry
from itilmigrate.compliance_checks.findings import Finding
from itilmigrate.entities import Status

if TYPE_CHECKING:
    from collections.abc import Iterable

    from itilmigrate.compliance_checks.context import RuleContext

#: Statuses of a record that is still being worked on.
OPEN_STATUSES: tuple[str, ...] = (Status.NEW, Status.IN_PROGRESS, Status.ON_HOLD)
#: Statuses of a record whose work is done.
DONE_STATUSES: tuple[str, ...] = (Status.RESOLVED, Status.CLOSED)


def blank(values: pd.Series) -> pd.Series:
    """Return True where a text value is missing or only whitespace."""
    return values.isna() | values.astype("string").str.strip().eq("").fillna(True)


def show_time(values: pd.Series) -> pd.Series:
    """Return UTC timestamps as ``2024-01-31T09:15:00Z`` text (``none`` if missing)."""
    moments = pd.to_datetime(values, utc=True)
    return moments.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("none").astype(str)


def show(values: pd.Series) -> pd.Series:
    """Return short code values as text (``none`` if missing)."""
    return values.astype("string").fillna("none").astype(str)


def show_duration(values: pd.Series) -> pd.Series:
    """Return timedeltas as whole hours and minutes, ``26h05m``."""
    minutes = (pd.to_timedelta(values).dt.total_seconds() // 60).fillna(0).astype(int)
    return (
        (minutes // 60).astype(str)
        + "h"
        + (minutes % 60).astype(str).str.zfill(2)
        + "m"
    )


def emit(
    context: RuleContext,
    rule_id: str,
    rows: pd.DataFrame,
    messages: pd.Series | Iterable[str],
    *,
    entity_type: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> list[Finding]:
    """Return one finding per row of ``rows`` with the rule's default severity.

    ``rows`` supplies ``entity_id``, ``legacy_id`` and ``entity_type`` where it has
    those columns; ``entity_type`` overrides the column.
    """
    severity = registry.get(rule_id).severity
    count = len(rows)
    texts = list(messages)

    def column(name: str) -> list[Any]:
        if name in rows.columns:
            return [None if pd.isna(v) else str(v) for v in rows[name].tolist()]
        return [None] * count

    types = [entity_type] * count if entity_type else column("entity_type")
    return [
        Finding(
            rule_id=rule_id,
            severity=severity,
            message=text,
            run_id=context.run_id,
            entity_type=kind,
            entity_id=entity_id,
            legacy_id=legacy_id,
            details=details[n] if details is not None else {},
        )
        for n, (text, kind, entity_id, legacy_id) in enumerate(
            zip(
                texts,
                types,
                column("entity_id"),
                column("legacy_id"),
                strict=True,
            )
        )
    ]
