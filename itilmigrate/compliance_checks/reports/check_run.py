"""One compliance check of a target: policy, rules, KPIs, reports.

The ``check`` command is a thin wrapper around :func:`run_check`, which tests and
scripts call directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from itilmigrate.compliance_checks.context import load_context, parse_target_url
from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.compliance_checks.kpis import compute_kpis
from itilmigrate.compliance_checks.policy import DEFAULT_POLICY, load_policy
from itilmigrate.compliance_checks.reports import (
    CheckReport,
    build_report,
    write_reports,
)
from itilmigrate.compliance_checks.reports.baseline import load_baseline
from itilmigrate.compliance_checks.runner import evaluate_rules
from itilmigrate.reports import ensure_writable_folder
from itilmigrate.run import current_run_id, new_run_id

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """A finished check: its report, the files written and how long it took."""

    report: CheckReport
    written: dict[str, Path]
    seconds: float


def run_check(
    target_url: str,
    *,
    policy_file: Path | None = None,
    out_dir: Path,
    formats: Sequence[str],
    fail_on: Severity | None = Severity.ERROR,
    new_only: bool = False,
    baseline_file: Path | None = None,
    source_system: str | None = None,
    now: pd.Timestamp | None = None,
) -> CheckOutcome:
    """Check ``target_url`` and write the requested reports into ``out_dir``.

    Raises:
        ConfigError: The policy, the baseline or the target URL is invalid (exit 3).
        TargetError: The target cannot be read or holds no completed migration run,
            or ``out_dir`` cannot be written (exit 4).
    """
    started = time.perf_counter()
    policy = load_policy(policy_file)
    baseline = load_baseline(baseline_file) if baseline_file is not None else None
    # An unparseable URL is a configuration error: refuse it before --out is made.
    parse_target_url(target_url)
    ensure_writable_folder(out_dir, hint="choose another folder with --out.")
    clock = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    run_id = new_run_id(clock.to_pydatetime())
    token = current_run_id.set(run_id)
    try:
        context = load_context(
            target_url,
            policy=policy,
            run_id=run_id,
            now=clock,
            source_system=source_system,
        )
        result = evaluate_rules(context)
        kpis = compute_kpis(context)
        report = build_report(
            context,
            result,
            kpis,
            target_url=target_url,
            policy_source=str(policy_file)
            if policy_file is not None
            else f"<bundled>/{DEFAULT_POLICY}",
            baseline_ids=baseline,
            baseline_path=str(baseline_file) if baseline_file is not None else None,
            fail_on=fail_on,
            new_only=new_only,
        )
        written = write_reports(report, out_dir, formats)
        seconds = time.perf_counter() - started
        logger.info(
            "check finished run_id=%s rules=%d findings=%d failing=%d seconds=%.1f",
            run_id,
            len(report.outcomes),
            len(report.findings),
            len(report.failing),
            seconds,
        )
    finally:
        current_run_id.reset(token)
    return CheckOutcome(report=report, written=written, seconds=seconds)
