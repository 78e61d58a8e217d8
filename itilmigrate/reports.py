"""Write a run's reports: summary.json, findings.jsonl and quarantine.jsonl.

The quarantine report holds raw legacy values (names, descriptions): it is a
restricted output, written only under the run's report folder.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.errors import TargetError, mask_secrets

QUARANTINE_TABLE = "quarantine"

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.records import QuarantinedRecord
    from itilmigrate.run import RunSummary


def ensure_writable_folder(folder: Path, *, hint: str) -> Path:
    """Create ``folder`` if needed and prove it can be written, before work starts.

    Raises:
        TargetError: The folder cannot be created or written (exit 4).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise TargetError(
            f"Cannot write to the folder {str(folder)!r} ({exc.strerror or exc}).\n"
            f"hint: {hint}"
        ) from exc
    return folder


def summary_to_dict(summary: RunSummary) -> dict[str, Any]:
    """Return the JSON form of a run summary."""
    tables = [
        {
            "source_name": c.source_name,
            "table": c.table,
            "entity": c.entity_type,
            "read": c.read_count,
            "loaded": c.loaded_count,
            "quarantined": c.quarantined_count,
            "excluded": c.excluded_count,
            "excluded_by_rule": dict(sorted(c.excluded.items())),
            "balanced": c.balanced,
        }
        for c in summary.counts
    ]
    elapsed = (
        (summary.finished_at - summary.started_at).total_seconds()
        if summary.finished_at
        else None
    )
    return {
        "run_id": summary.run_id,
        "job": summary.job_name,
        "mapping": summary.mapping_name,
        "mapping_sha256": summary.mapping_hash,
        "target": mask_secrets(summary.target_url),
        "dry_run": summary.dry_run,
        "status": summary.status,
        "started_at": summary.started_at.isoformat(),
        "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
        "elapsed_seconds": round(elapsed, 3) if elapsed is not None else None,
        # Only a finished run can balance; a failed one says nothing either way.
        "balanced": (
            summary.balanced if summary.status in ("balanced", "unbalanced") else None
        ),
        "tables": tables,
        "target_changes": _changes(summary),
        "dst_adjusted": dict(sorted(summary.dst_adjusted.items())),
        "reconciliation_problems": list(summary.reconciliation_problems),
    }


def _changes(summary: RunSummary) -> dict[str, Any]:
    """Rows written per target table; quarantine rows are an audit trail, kept apart."""
    load = summary.load

    def entities(counts: dict[str, int]) -> dict[str, int]:
        return {t: n for t, n in sorted(counts.items()) if t != QUARANTINE_TABLE}

    return {
        "inserted": entities(load.inserted),
        "updated": entities(load.updated),
        "unchanged": entities(load.unchanged),
        "deleted": entities(load.deleted),
        # Totals count entities; lineage rows move with them and are listed apart.
        "inserted_total": _total(entities(load.inserted)),
        "updated_total": _total(entities(load.updated)),
        "quarantine_written": load.inserted.get(QUARANTINE_TABLE, 0),
    }


def _total(counts: dict[str, int]) -> int:
    return sum(n for table, n in counts.items() if table != "lineage")


def reconciliation_findings(summary: RunSummary) -> list[Finding]:
    """Return one CRITICAL finding per reconciliation problem."""
    return [
        Finding(
            rule_id="reconciliation.balanced",
            severity=Severity.CRITICAL,
            message=problem,
            run_id=summary.run_id,
        )
        for problem in summary.reconciliation_problems
    ]


class QuarantineWriter:
    """Appends quarantined records to ``quarantine.jsonl`` as batches finish."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.path = folder / "quarantine.jsonl"
        self.run_id = run_id
        self.count = 0
        self._handle: IO[str] | None = None

    def write(self, records: list[QuarantinedRecord]) -> None:
        """Append ``records`` to the report."""
        if not records:
            return
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        for record in records:
            legacy = record.legacy_record
            line = {
                "run_id": self.run_id,
                "batch_id": legacy.batch_id,
                "source_name": legacy.source_name,
                "legacy_id": legacy.legacy_id,
                "stage": record.stage.value,
                "reason": record.reason.value,
                "detail": record.detail,
                "fields": dict(legacy.fields),
            }
            self._handle.write(
                json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
            )
        self.count += len(records)

    def close(self) -> None:
        """Close the file (an empty one is created when nothing was quarantined)."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        else:
            self._handle.close()
            self._handle = None


def write_reports(summary: RunSummary, folder: Path) -> Path:
    """Write summary.json and findings.jsonl into ``folder``; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(
        json.dumps(summary_to_dict(summary), indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    with (folder / "findings.jsonl").open("w", encoding="utf-8") as handle:
        for finding in reconciliation_findings(summary):
            handle.write(json.dumps(finding.to_dict(), sort_keys=True) + "\n")
    return folder
