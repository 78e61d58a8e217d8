"""Write a mapping validation report: text for the terminal, JSON and JUnit for CI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from itilmigrate.compliance_checks.findings import Severity
from itilmigrate.errors import ExitCode

if TYPE_CHECKING:
    from pathlib import Path

    from itilmigrate.mappings.validate import ValidationReport


def report_text(report: ValidationReport) -> str:
    """Return the report as plain text: one line per check, then its findings."""
    verdict = {
        ExitCode.OK: "valid",
        ExitCode.FINDINGS: "data expectations failed",
        ExitCode.CONFIG: "mapping invalid",
    }.get(report.exit_code, "failed")
    lines = [
        f"mapping {report.mapping_path}: {verdict} (exit {int(report.exit_code)}); "
        f"{len(report.checks)} check(s), {len(report.findings)} finding(s), "
        f"sample {report.sample_size} rows per table, "
        f"{report.elapsed_seconds:.1f} s"
    ]
    for check in report.checks:
        state = "skipped" if check.skipped else "ok" if check.passed else "FAILED"
        if check.passed and not check.findings and check.check_id.startswith("gx."):
            continue
        lines.append(f"[{state}] {check.check_id}: {check.title}")
        lines.extend(
            f"  - {finding.severity}: {finding.message}" for finding in check.findings
        )
    passed_gx = sum(
        1 for c in report.checks if c.check_id.startswith("gx.") and c.passed
    )
    if passed_gx:
        lines.append(f"[ok] {passed_gx} Great Expectations expectation(s) met")
    if report.gx_docs:
        lines.append(f"GX data docs: {report.gx_docs}")
    return "\n".join(lines) + "\n"


def report_junit(report: ValidationReport) -> str:
    """Return the report as JUnit XML: one test case per check."""
    from xml.etree import ElementTree as ET  # noqa: PLC0415

    failures = sum(1 for c in report.checks if not c.passed)
    suite = ET.Element(
        "testsuite",
        name=f"mapping validate {report.mapping_path}",
        tests=str(len(report.checks)),
        failures=str(failures),
        time=f"{report.elapsed_seconds:.3f}",
    )
    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=check.check_id.split(".", 1)[0],
            name=check.check_id,
            time=f"{check.seconds:.3f}",
        )
        failing = [f for f in check.findings if f.severity >= Severity.ERROR]
        if failing:
            failure = ET.SubElement(
                case, "failure", message=failing[0].message[:500], type=check.check_id
            )
            failure.text = "\n".join(f.message for f in failing)
        elif check.skipped:
            ET.SubElement(case, "skipped", message=check.skipped)
        warnings = [f.message for f in check.findings if f.severity < Severity.ERROR]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(warnings)
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def write_outputs(
    report: ValidationReport, out_dir: Path, formats: list[str]
) -> list[Path]:
    """Write ``validation.json`` and ``junit.xml`` (as ``formats`` ask) into out_dir."""
    import json  # noqa: PLC0415

    if not formats:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "json" in formats:
        path = out_dir / "validation.json"
        path.write_text(
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        written.append(path)
    if "junit" in formats:
        path = out_dir / "junit.xml"
        path.write_text(report_junit(report), encoding="utf-8")
        written.append(path)
    if "text" in formats:
        path = out_dir / "validation.txt"
        path.write_text(report_text(report), encoding="utf-8")
        written.append(path)
    return written
