r"""The ``itilmigrate`` command line.

This is the only module that prints, configures logging or calls ``sys.exit``.

Exit codes:

\b
  0    OK           run finished; reconciliation balanced
  1    FINDINGS     run finished, reports written; the data has problems
                    (reconciliation does not balance)
  2    USAGE        bad invocation
  3    CONFIG       job or mapping definition invalid; no data was touched
  4    IO           a source could not be read or the target written
  70   INTERNAL     unexpected error (a bug); rerun with --debug
  130  INTERRUPTED  Ctrl-C
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from itilmigrate import __version__
from itilmigrate.errors import ExitCode, MigrationError, mask_secrets
from itilmigrate.run import current_batch_id, current_run_id

logger = logging.getLogger("itilmigrate")

EXIT_CODES_HELP = __doc__.split("Exit codes:", 1)[1] if __doc__ else ""


class _ContextFilter(logging.Filter):
    """Adds run_id and batch_id from context variables to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = current_run_id.get() or "-"
        record.batch_id = current_batch_id.get() or "-"
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
            "run_id": getattr(record, "run_id", "-"),
            "batch_id": getattr(record, "batch_id", "-"),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def _configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter(
                "%(asctime)s %(levelname)s %(name)s run_id=%(run_id)s %(message)s"
            )
        )
    root = logging.getLogger("itilmigrate")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers[:] = [handler]


class _Cli(click.Group):
    """The command group; turns our errors into their exit codes."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 - click's own signature
        """Run the command; a MigrationError prints one line and sets the exit code."""
        try:
            return super().invoke(ctx)
        except MigrationError as exc:
            click.echo(f"error: {exc}", err=True)
            if ctx.obj and ctx.obj.get("debug"):
                logger.exception("traceback")
            ctx.exit(exc.exit_code)


@click.group(cls=_Cli, epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.version_option(__version__, prog_name="itilmigrate")
@click.option("--debug", is_flag=True, help="Log at DEBUG level and print tracebacks.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Lowest level of log lines written to stderr.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or as JSON objects (stderr).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_level: str, log_format: str) -> None:  # noqa: FBT001
    """Migrate legacy service-desk call logs into ITIL entities and check them."""
    ctx.obj = {"debug": debug}
    _configure_logging("debug" if debug else log_level, log_format)


@cli.command(epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.argument("job_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Do everything but write to the target.")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Read at most N rows per table."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Rows per batch (default from the job, else 5000).",
)
@click.option(
    "--target", "target_url", help="Target SQLAlchemy URL; overrides the job's."
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where reports go (default from the job).",
)
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Final summary on stdout as a table or JSON.",
)
@click.option(
    "--no-progress", is_flag=True, help="No progress bars, even on a terminal."
)
def run(
    job_file: Path,
    dry_run: bool,  # noqa: FBT001
    limit: int | None,
    batch_size: int | None,
    target_url: str | None,
    report_dir: Path | None,
    output: str,
    no_progress: bool,  # noqa: FBT001
) -> None:
    """Migrate one job: source → mapping → target, then reconcile.

    JOB_FILE is a YAML file naming the source, the mapping and the target.
    """
    from itilmigrate.jobs import load_job  # noqa: PLC0415 - keeps --help fast
    from itilmigrate.runner import execute_job  # noqa: PLC0415

    job = load_job(job_file)
    if target_url is not None:
        job = job.model_copy(update={"target": target_url})
    if report_dir is not None:
        job = job.model_copy(
            update={
                "options": job.options.model_copy(
                    update={"report_dir": str(report_dir)}
                )
            }
        )
    if batch_size is not None:
        job = job.model_copy(
            update={
                "options": job.options.model_copy(update={"batch_size": batch_size})
            }
        )
    show_progress = sys.stderr.isatty() and not no_progress
    outcome = execute_job(job, dry_run=dry_run, limit=limit, progress=show_progress)
    _print_summary(outcome.summary_dict, output)
    if not outcome.balanced:
        logger.error(
            "reconciliation does not balance; see %s",
            outcome.report_dir / "summary.json",
        )
        raise SystemExit(ExitCode.FINDINGS)


@cli.command(epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.argument(
    "directory",
    required=False,
    default="itilmigrate-demo",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--calls",
    type=click.IntRange(min=200, max=1_000_000),
    default=10_000,
    show_default=True,
    help="Calls in the generated HEAT database.",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Seed of the generator."
)
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Final summary as a table or JSON.",
)
def demo(directory: Path, calls: int, seed: int, output: str) -> None:
    """Generate a legacy HEAT database, migrate it into SQLite and show where it all is.

    DIRECTORY (default ./itilmigrate-demo) receives the legacy database, the job
    file, the target database, the exports and the reports.
    """
    from itilmigrate.generator import generate_heat  # noqa: PLC0415
    from itilmigrate.jobs import load_job  # noqa: PLC0415
    from itilmigrate.runner import execute_job  # noqa: PLC0415

    directory.mkdir(parents=True, exist_ok=True)
    legacy = directory / "legacy-heat.db"
    target = directory / "itil-target.db"
    for stale in (legacy, target):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    manifest = generate_heat(f"sqlite:///{legacy.resolve()}", calls=calls, seed=seed)
    logger.info(
        "legacy database generated calls=%d seconds=%.1f",
        manifest.calls,
        time.perf_counter() - started,
    )
    job_file = directory / "heat-demo.job.yaml"
    job_file.write_text(
        "# Written by `itilmigrate demo`: migrate the generated HEAT database.\n"
        "name: heat-demo\n"
        "source:\n  kind: sql\n  url: sqlite:///legacy-heat.db\n"
        "mapping: heat\n"
        "target: sqlite:///itil-target.db\n"
        "options:\n  batch_size: 5000\n  report_dir: reports\n  export_dir: export\n",
        encoding="utf-8",
    )
    job = load_job(job_file)
    outcome = execute_job(job, dry_run=False, limit=None, progress=sys.stderr.isatty())
    _print_summary(outcome.summary_dict, output)
    if output == "table":
        click.echo(
            "\nWhere everything is:\n"
            f"  legacy HEAT database  {legacy}\n"
            f"  job file              {job_file}\n"
            f"  ITIL target database  {target}\n"
            f"  exports (CSV, JSONL)  {directory / 'export'}\n"
            f"  reports               {outcome.report_dir}\n"
            f"\nRerun the migration with:  itilmigrate run {job_file}"
        )
    if not outcome.balanced:
        click.get_current_context().exit(ExitCode.FINDINGS)


def _print_summary(summary: dict[str, Any], output: str) -> None:
    if output == "json":
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"itilmigrate run {summary['run_id']} ({summary['status']})")
    for column in (
        "source",
        "table",
        "entity",
        "read",
        "loaded",
        "quarantined",
        "excluded",
        "balanced",
    ):
        table.add_column(
            column,
            justify="right"
            if column in ("read", "loaded", "quarantined", "excluded")
            else "left",
        )
    for row in summary["tables"]:
        table.add_row(
            row["source_name"],
            row["table"],
            row["entity"],
            f"{row['read']:,}",
            f"{row['loaded']:,}",
            f"{row['quarantined']:,}",
            f"{row['excluded']:,}",
            "yes" if row["balanced"] else "NO",
        )
    console = Console(file=sys.stdout, width=120)
    console.print(table)
    changes = summary["target_changes"]
    console.print(
        f"target: inserted {changes['inserted_total']:,}, "
        f"updated {changes['updated_total']:,}"
        f"{' (dry run: nothing written)' if summary['dry_run'] else ''}; "
        f"elapsed {summary['elapsed_seconds']} s; reconciliation "
        f"{'balanced' if summary['balanced'] else 'DOES NOT BALANCE'}",
        highlight=False,
    )
    for problem in summary["reconciliation_problems"]:
        console.print(f"  - {problem}", highlight=False)


def main() -> None:
    """Entry point: run the CLI and map every outcome to an exit code."""
    try:
        code = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception:
        logger.exception("internal error")
        click.echo("error: internal error; rerun with --debug", err=True)
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


__all__ = ["cli", "main"]
