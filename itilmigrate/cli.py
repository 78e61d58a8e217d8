r"""The ``itilmigrate`` command line.

This is the only module that prints, configures logging or calls ``sys.exit``.

Exit codes:

\b
  0    OK           run finished; reconciliation balanced
  1    FINDINGS     run finished, reports written; the data has problems
                    (reconciliation does not balance; check: a finding at
                    or above --fail-on)
  2    USAGE        bad invocation
  3    CONFIG       job, mapping, policy or baseline invalid; no data was touched
  4    IO           a source or target could not be read, or the target written
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

# click keeps a paragraph's line breaks when it starts with a "\b" line.
EXIT_CODES_HELP = (
    __doc__.split("Exit codes:", 1)[1].replace("\\b\n", "\b\n", 1) if __doc__ else ""
)


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
    from itilmigrate.reports import ensure_writable_folder  # noqa: PLC0415
    from itilmigrate.runner import execute_job  # noqa: PLC0415

    ensure_writable_folder(directory, hint="name another DIRECTORY.")
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
            f"\nRerun the migration with:  {_executable()} run {job_file}"
        )
    if not outcome.balanced:
        click.get_current_context().exit(ExitCode.FINDINGS)


_CHECK_FORMATS = ("html", "json", "csv", "junit", "md")


def _check_formats(
    ctx: click.Context,
    param: click.Parameter,
    value: str,
) -> list[str]:
    """Parse ``--format html,json`` into a list of known format names."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(_CHECK_FORMATS))
    if unknown or not names:
        raise click.BadParameter(
            f"unknown format(s) {unknown}; choose from {', '.join(_CHECK_FORMATS)}."
        )
    return list(dict.fromkeys(names))


@cli.command(epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.argument("target_url")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy YAML (default: the bundled policy).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="check-report",
    show_default=True,
    help="Folder the reports are written to.",
)
@click.option(
    "--format",
    "formats",
    default=",".join(_CHECK_FORMATS),
    show_default=True,
    callback=_check_formats,
    help="Comma-separated report formats.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error", "critical", "none"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at or above this severity.",
)
@click.option(
    "--new-only", is_flag=True, help="Only findings not in the baseline can fail."
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="report.json of a previous check; its findings are marked known.",
)
@click.option("--source-system", help="Check only the records of this source system.")
def check(
    target_url: str,
    policy_file: Path | None,
    out_dir: Path,
    formats: list[str],
    fail_on: str,
    new_only: bool,  # noqa: FBT001
    baseline_file: Path | None,
    source_system: str | None,
) -> None:
    """Check a migrated target against the policy; write KPIs and findings.

    TARGET_URL is the SQLAlchemy URL of a target written by `itilmigrate run`.
    """
    from itilmigrate.compliance_checks.findings import Severity  # noqa: PLC0415
    from itilmigrate.compliance_checks.reports.check_run import run_check  # noqa: PLC0415 - pandas, matplotlib and Jinja2 load only here

    outcome = run_check(
        target_url,
        policy_file=policy_file,
        out_dir=out_dir,
        formats=formats,
        fail_on=None if fail_on == "none" else Severity[fail_on.upper()],
        new_only=new_only,
        baseline_file=baseline_file,
        source_system=source_system,
    )
    report = outcome.report
    counts = ", ".join(f"{n} {level}" for level, n in report.severity_counts().items())
    click.echo(
        f"check {report.run_id}: {len(report.outcomes)} rules, findings {counts}, "
        f"{len(report.waived)} waived, {len(report.failing)} failing "
        f"(fail-on {fail_on}{', new only' if new_only else ''}); "
        f"{outcome.seconds:.1f} s"
    )
    for name, path in outcome.written.items():
        click.echo(f"  {name:<6} {path}")
    if report.failing:
        raise SystemExit(ExitCode.FINDINGS)


@cli.command(epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.argument("source")
@click.option(
    "--tables", help="Comma-separated tables to profile (default: every table)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("profile"),
    show_default=True,
    help="Folder for profile.json, profile.html and profile.md.",
)
@click.option(
    "--sample-size",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Rows profiled per table; larger tables are sampled (the profile says so).",
)
@click.option("--key", "keys", multiple=True, help="TABLE=COL[,COL]: a table's key.")
@click.option(
    "--parent", "parents", multiple=True, help="CHILD.COL=PARENT.COL: a parent link."
)
@click.option(
    "--like",
    type=click.Choice(["heat"]),
    help="Use a known system's keys and parent links.",
)
def profile(
    source: str,
    tables: str | None,
    out_dir: Path,
    sample_size: int,
    keys: tuple[str, ...],
    parents: tuple[str, ...],
    like: str | None,
) -> None:
    """Profile a legacy source: what every table really holds.

    SOURCE is a job file (its source), a SQLAlchemy URL or a CSV folder. The
    profile holds legacy values: treat it as restricted, like the quarantine report.
    """
    from itilmigrate import profiling  # noqa: PLC0415
    from itilmigrate.profiling_report import write_profile  # noqa: PLC0415
    from itilmigrate.reports import ensure_writable_folder  # noqa: PLC0415

    try:
        key_map = profiling.parse_key_options(list(keys))
        links = profiling.parse_parent_options(list(parents))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    ensure_writable_folder(out_dir, hint="choose another folder with --out.")
    opened, description = profiling.source_from_argument(source)
    try:
        if like == "heat":
            # HEAT's usual keys, for the HEAT tables this source has; keys and
            # links given as options must name tables the source has.
            heat_keys, heat_parents = profiling.heat_links(opened)
            key_map = {**heat_keys, **key_map}
            links = [*heat_parents, *links]
        data = profiling.profile_source(
            opened,
            tables=[t.strip() for t in tables.split(",")] if tables else None,
            sample_size=sample_size,
            keys=key_map,
            parents=links,
            description=description,
        )
    finally:
        opened.close()
    written = write_profile(data, out_dir)
    logger.info("profile written tables=%d folder=%s", len(data["tables"]), out_dir)
    for path in written:
        click.echo(str(path))


@cli.group()
def mapping() -> None:
    """Write, check and describe mapping files."""


@mapping.command("schema", epilog=f"Exit codes:{EXIT_CODES_HELP}")
def mapping_schema() -> None:
    """Print the JSON Schema of the mapping format (for editors)."""
    from itilmigrate.mappings.spec import dump_schema  # noqa: PLC0415

    click.echo(json.dumps(dump_schema(), indent=2, sort_keys=True))


@mapping.command("init", epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.option(
    "--profile",
    "profile_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="profile.json written by `itilmigrate profile`.",
)
@click.option(
    "--like", type=click.Choice(["heat"]), help="Start from a bundled mapping."
)
@click.option("--name", default="legacy", show_default=True, help="Mapping name.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the skeleton here instead of stdout.",
)
def mapping_init(
    profile_file: Path, like: str | None, name: str, out_file: Path | None
) -> None:
    """Write a mapping skeleton; every legacy code found is marked REVIEW."""
    from itilmigrate.errors import ConfigError  # noqa: PLC0415
    from itilmigrate.mappings.skeleton import write_skeleton  # noqa: PLC0415
    from itilmigrate.reports import ensure_writable_folder  # noqa: PLC0415

    try:
        data = json.loads(profile_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            "Cannot read the profile as JSON.", path=str(profile_file)
        ) from exc
    text = write_skeleton(data, like=like, name=name)
    if out_file is not None:
        # Only once the skeleton exists: a bad profile must not leave a folder.
        ensure_writable_folder(out_file.parent, hint="choose another file with --out.")
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        logger.info("mapping skeleton written file=%s", out_file)


@mapping.command("validate", epilog=f"Exit codes:{EXIT_CODES_HELP}")
@click.argument("mapping_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source", "source_arg", help="Job file, SQLAlchemy URL or CSV folder to check."
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Rows per table transformed for the data expectations.",
)
@click.option(
    "--format",
    "formats",
    default="text",
    show_default=True,
    help="Comma-separated outputs: text (stdout), json, junit (files in --out).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("mapping-validation"),
    show_default=True,
    help="Folder for validation.json, junit.xml and the GX data docs.",
)
@click.option("--no-gx", is_flag=True, help="Skip the Great Expectations suite.")
def mapping_validate(
    mapping_file: Path,
    source_arg: str | None,
    sample: int,
    formats: str,
    out_dir: Path,
    no_gx: bool,  # noqa: FBT001
) -> None:
    """Check a mapping: structure, references, coverage, data expectations.

    MAPPING_FILE is a mapping file or the name of a bundled mapping (heat).
    Exits 0 when valid, 1 when the sample fails data expectations or coverage,
    3 when the mapping itself is invalid.
    """
    from itilmigrate.mappings import validate as checks  # noqa: PLC0415
    from itilmigrate.mappings.loader import read_mapping_text  # noqa: PLC0415
    from itilmigrate.mappings.validation_report import (  # noqa: PLC0415
        report_text,
        write_outputs,
    )
    from itilmigrate.run import RunContext  # noqa: PLC0415

    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(wanted) - {"text", "json", "junit"})
    if unknown:
        raise click.BadParameter(f"unknown format(s) {unknown}", param_hint="--format")
    file, text = read_mapping_text(str(mapping_file))
    if set(wanted) - {"text"} or (source_arg is not None and not no_gx):
        from itilmigrate.reports import ensure_writable_folder  # noqa: PLC0415

        ensure_writable_folder(out_dir, hint="choose another folder with --out.")
    source = None
    if source_arg is not None:
        from itilmigrate.profiling import source_from_argument  # noqa: PLC0415

        source, _ = source_from_argument(source_arg)
    run_context = RunContext.start(options={"sample": sample})
    token = current_run_id.set(run_context.run_id)
    try:
        report = checks.validate_mapping(
            text,
            file=file,
            source=source,
            run=run_context,
            sample=sample,
            out_dir=out_dir.resolve(),
            run_gx=not no_gx,
        )
    finally:
        if source is not None:
            source.close()
        current_run_id.reset(token)
    write_outputs(report, out_dir, [f for f in wanted if f != "text"])
    if "text" in wanted:
        click.echo(report_text(report), nl=False)
    logger.info(
        "mapping validated exit=%d findings=%d seconds=%.1f",
        report.exit_code,
        len(report.findings),
        report.elapsed_seconds,
    )
    if report.exit_code is not ExitCode.OK:
        raise SystemExit(report.exit_code)


def _executable() -> str:
    """Return how the user can call itilmigrate again (the venv is not on PATH)."""
    import shutil  # noqa: PLC0415

    return "itilmigrate" if shutil.which("itilmigrate") else sys.argv[0]


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
    # A terminal gets its own width; a file or pipe gets room for long table names.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
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
