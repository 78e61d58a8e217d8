"""Run a job end to end: open everything, run the pipeline, write reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itilmigrate.errors import TargetError, mask_secrets
from itilmigrate.extract.base import open_source
from itilmigrate.load.base import open_target
from itilmigrate.mappings.loader import load_mapping
from itilmigrate.pipeline import Pipeline, RunOptions
from itilmigrate.reports import (
    QuarantineWriter,
    ensure_writable_folder,
    summary_to_dict,
    write_reports,
)
from itilmigrate.run import RunContext, RunSummary, current_run_id

if TYPE_CHECKING:
    from itilmigrate.jobs import JobSpec
    from itilmigrate.load.base import Target

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobOutcome:
    """What a finished job left: its summary and where the reports are."""

    summary: RunSummary
    summary_dict: dict[str, Any]
    report_dir: Path

    @property
    def balanced(self) -> bool:
        """Whether the run reconciled."""
        return self.summary.balanced


class _RichProgress:
    """One progress bar per source table on a terminal (stderr)."""

    def __init__(self) -> None:
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import (  # noqa: PLC0415 - only on a terminal
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._tasks: dict[str, Any] = {}

    def start(self, name: str, total: int | None) -> None:
        if not self._tasks:
            self._progress.start()
        self._tasks[name] = self._progress.add_task(name, total=total)

    def advance(self, name: str, rows: int) -> None:
        self._progress.advance(self._tasks[name], rows)

    def finish(self, name: str) -> None:
        task = self._tasks[name]
        self._progress.update(task, completed=self._progress.tasks[task].total)

    def stop(self) -> None:
        if self._tasks:
            self._progress.stop()


def execute_job(
    job: JobSpec, *, dry_run: bool, limit: int | None, progress: bool = False
) -> JobOutcome:
    """Run ``job``; reports are written even when the run fails.

    Raises:
        ConfigError: the mapping is invalid or does not fit the source (exit 3).
        SourceError: the source cannot be read (exit 4).
        TargetError: the target cannot be written (exit 4).
    """
    loaded = load_mapping(job.mapping)
    if job.options.timezone is not None:
        import yaml  # noqa: PLC0415

        from itilmigrate.mappings.loader import parse_mapping  # noqa: PLC0415

        data = loaded.definition.model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        data["timezone"] = job.options.timezone
        definition = parse_mapping(yaml.safe_dump(data), file=loaded.path)
        loaded = type(loaded)(
            definition=definition, path=loaded.path, sha256=loaded.sha256
        )
    run = RunContext.start(
        options={
            "dry_run": dry_run,
            "limit": limit,
            "batch_size": job.options.batch_size,
        }
    )
    token = current_run_id.set(run.run_id)
    report_dir = Path(job.options.report_dir) / run.run_id
    summary = RunSummary(
        run_id=run.run_id,
        job_name=job.name,
        mapping_name=loaded.definition.name,
        mapping_hash=loaded.sha256,
        target_url=mask_secrets(job.target),
        dry_run=dry_run,
        started_at=run.started_at,
    )
    ensure_writable_folder(
        report_dir,
        hint="choose another folder with --report-dir or options.report_dir.",
    )
    if job.options.export_dir is not None and not dry_run:
        # Checked now: found only after the load, it would fail every rerun too.
        ensure_writable_folder(
            Path(job.options.export_dir),
            hint="choose another folder in options.export_dir.",
        )
    quarantine = QuarantineWriter(report_dir, run.run_id)
    bars = _RichProgress() if progress else None
    target: Target | None = None
    pipeline: Pipeline | None = None
    try:
        logger.info(
            "run started job=%s mapping=%s target=%s dry_run=%s",
            job.name,
            loaded.path,
            mask_secrets(job.target),
            dry_run,
        )
        source = open_source(job.source, source_name=loaded.definition.name)
        try:
            target = open_target(job.target, dry_run=dry_run)
            pipeline = Pipeline(
                loaded=loaded,
                source=source,
                target=target,
                run=run,
                options=RunOptions(
                    batch_size=job.options.batch_size,
                    limit=limit,
                    source_system=job.options.source_system,
                    dry_run=dry_run,
                ),
                summary=summary,
                progress=bars,
                on_quarantine=quarantine.write,
            )
            pipeline.execute()
            summary.status = "balanced" if summary.balanced else "unbalanced"
        finally:
            source.close()
            if bars is not None:
                bars.stop()
    except KeyboardInterrupt:
        summary.status = "interrupted"
        raise
    finally:
        # Whatever stopped the run, the target must not keep it as 'running'.
        if summary.status == "running":
            summary.status = "failed"
        summary.finished_at = run.now()
        quarantine.close()
        write_reports(summary, report_dir)
        if target is not None:
            prepared = pipeline is not None and pipeline.prepared
            _finish_target(target, summary, job, dry_run=dry_run, prepared=prepared)
        logger.info(
            "run finished status=%s quarantined=%d reports=%s",
            summary.status,
            quarantine.count,
            report_dir,
        )
        current_run_id.reset(token)
    return JobOutcome(
        summary=summary, summary_dict=summary_to_dict(summary), report_dir=report_dir
    )


def _finish_target(
    target: Target, summary: RunSummary, job: JobSpec, *, dry_run: bool, prepared: bool
) -> None:
    """Record the run's end in the target and export; close the target.

    After a failed run this is best effort: an error here must not hide the error
    that failed the run, so it is logged instead of raised.
    """
    failed = summary.status in ("failed", "interrupted")
    try:
        if prepared:
            target.finish(summary)
        if (
            job.options.export_dir is not None
            and not dry_run
            and prepared
            and not failed
        ):
            paths = target.export(Path(job.options.export_dir), source_system=None)
            logger.info(
                "export written files=%d folder=%s", len(paths), job.options.export_dir
            )
    except TargetError as exc:
        if not failed:
            raise
        logger.warning("could not record the failed run in the target: %s", exc)
    finally:
        target.close()
