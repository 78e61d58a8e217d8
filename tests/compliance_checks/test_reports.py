"""Report formats: JSON, CSV, JUnit, Markdown, HTML, the baseline and fail-on."""

from __future__ import annotations

import csv
import json
from datetime import date
from xml.etree import ElementTree as ET

import pytest

from itilmigrate.compliance_checks.base import Practice, Rule
from itilmigrate.compliance_checks.findings import Finding, Severity
from itilmigrate.compliance_checks.kpis import compute_kpis
from itilmigrate.compliance_checks.policy import Waiver
from itilmigrate.compliance_checks.reports import (
    CheckReport,
    build_report,
    write_reports,
)
from itilmigrate.compliance_checks.reports.baseline import (
    BaselineError,
    load_baseline,
)
from itilmigrate.compliance_checks.reports.html import render_html
from itilmigrate.compliance_checks.reports.markdown import render_markdown
from itilmigrate.compliance_checks.runner import CheckResult
from itilmigrate.errors import ExitCode
from tests.compliance_checks.factories import (
    RUN_ID,
    default_policy,
    make_context,
    make_incident,
)

SCRIPT = "<script>document.body.dataset.pwned = 1</script>"


def _rule(rule_id: str, severity: Severity, practice: Practice) -> Rule:
    return Rule(
        rule_id=rule_id,
        title=f"Title of {rule_id}",
        practice=practice,
        severity=severity,
        rationale="Because.",
        needs=("incident",),
        evaluate=lambda context: [],
    )


MISSING = _rule("incident.missing_category", Severity.ERROR, Practice.INCIDENT)
STALE = _rule("record.stale", Severity.WARNING, Practice.SERVICE_LEVEL)
CLEAN = _rule("incident.clean", Severity.ERROR, Practice.INCIDENT)


def _finding(rule: Rule, legacy_id: str) -> Finding:
    return Finding(
        rule_id=rule.rule_id,
        severity=rule.severity,
        message=f"Record {legacy_id} fails.",
        run_id=RUN_ID,
        entity_type="incident",
        entity_id=f"rec-{legacy_id}",
        legacy_id=legacy_id,
        details={"n": 1},
    )


WAIVER = Waiver(
    rule_id="record.stale",
    record="9",
    owner="desk lead",
    reason="Migrated as is",
    expires=date(2030, 1, 1),
)


def make_report(
    *,
    baseline: frozenset[str] | None = None,
    fail_on: Severity | None = Severity.ERROR,
    new_only: bool = False,
) -> CheckReport:
    context = make_context(
        incident=[
            make_incident("1", title=SCRIPT),
            make_incident("2"),
            make_incident("9"),
            make_incident("10", status="in_progress", resolved_at=None, closed_at=None),
        ]
    )
    result = CheckResult(
        findings=[_finding(MISSING, "1"), _finding(MISSING, "2"), _finding(STALE, "2")],
        waived=[(_finding(STALE, "9"), WAIVER)],
        rules_run=[CLEAN, MISSING, STALE],
    )
    return build_report(
        context,
        result,
        compute_kpis(context),
        target_url="postgresql://itil:secret@db/itil",
        policy_source="<bundled>/default.yaml",
        baseline_ids=baseline,
        baseline_path="old/report.json" if baseline is not None else None,
        fail_on=fail_on,
        new_only=new_only,
    )


def test_build_report_masks_the_password_and_counts_failing():
    report = make_report()

    assert report.target == "postgresql://itil:***@db/itil"
    assert len(report.findings) == 3
    assert [f.legacy_id for f in report.failing] == ["1", "2"]
    assert report.severity_counts() == {
        "critical": 0,
        "error": 2,
        "warning": 1,
        "info": 0,
    }


def test_build_report_fail_on_none_never_fails():
    assert make_report(fail_on=None).failing == []


def test_build_report_baseline_marks_known_and_new_only_ignores_them():
    first = make_report()
    known = frozenset({first.findings[0].finding_id, "gone0000000000ff"})
    report = make_report(baseline=known, new_only=True)

    assert [report.status(f) for f in report.findings] == ["known", "new", "new"]
    assert [f.legacy_id for f in report.failing] == ["2"]
    assert report.resolved_since_baseline == 1


def test_write_reports_writes_every_format(tmp_path):
    written = write_reports(
        make_report(), tmp_path, ["md", "junit", "csv", "html", "json"]
    )

    assert list(written) == ["json", "html", "csv", "junit", "md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "findings.csv",
        "junit.xml",
        "report.html",
        "report.json",
        "summary.md",
    ]


def test_json_report_holds_findings_rules_waivers_and_kpis(tmp_path):
    path = write_reports(make_report(), tmp_path, ["json"])["json"]
    data = json.loads(path.read_text(encoding="utf-8"))

    assert data["schema"] == "itilmigrate.check/1"
    assert data["outcome"] == {
        "fail_on": "error",
        "new_only": False,
        "failed": True,
        "failing_count": 2,
    }
    assert [
        (r["rule_id"], r["finding_count"], r["waived_count"]) for r in data["rules"]
    ] == [
        ("incident.clean", 0, 0),
        ("incident.missing_category", 2, 0),
        ("record.stale", 1, 1),
    ]
    assert data["findings"][0] == {
        **_finding(MISSING, "1").to_dict(),
        "status": "new",
        "practice": "incident",
    }
    assert data["waivers"] == [
        {
            "rule_id": "record.stale",
            "record": "9",
            "pattern": None,
            "owner": "desk lead",
            "reason": "Migrated as is",
            "expires": "2030-01-01",
            "state": "active",
            "suppressed": 1,
        }
    ]
    assert data["policy"]["name"] == "default"
    assert {k["kpi_id"] for k in data["kpis"]} >= {"incident.mttr", "volume.by_type"}


def test_csv_report_lists_findings_then_waived(tmp_path):
    path = write_reports(make_report(), tmp_path, ["csv"])["csv"]
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))

    assert [(r["rule_id"], r["legacy_id"], r["status"]) for r in lines] == [
        ("incident.missing_category", "1", "new"),
        ("incident.missing_category", "2", "new"),
        ("record.stale", "2", "new"),
        ("record.stale", "9", "waived"),
    ]
    assert lines[0]["details"] == '{"n": 1}'
    assert lines[0]["practice"] == "incident"


def test_junit_report_has_one_case_per_rule_failing_at_fail_on(tmp_path):
    path = write_reports(make_report(), tmp_path, ["junit"])["junit"]
    root = ET.parse(path).getroot()  # noqa: S314 - our own output

    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert sorted(cases) == [
        "incident.clean",
        "incident.missing_category",
        "record.stale",
    ]
    assert root.get("tests") == "3"
    assert root.get("failures") == "1"
    failure = cases["incident.missing_category"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "2 finding(s) at or above error: Title of incident.missing_category"
    )
    assert cases["record.stale"].find("failure") is None
    assert (
        cases["record.stale"]
        .findtext("system-out", "")
        .startswith("1 finding(s) below the fail level")
    )


def test_markdown_summary_names_rules_without_record_text():
    text = render_markdown(make_report())

    assert text.startswith("## itilmigrate check: FAILED\n")
    assert "| `incident.missing_category` | incident | error | 2 | 2 | 0 |" in text
    assert "- Findings: 0 critical, 2 error, 1 warning, 0 info; 1 waived" in text
    assert "<script>" not in text


def test_html_report_escapes_record_text_and_embeds_charts():
    page = render_html(make_report())

    assert SCRIPT not in page
    assert "&lt;script&gt;document.body.dataset.pwned = 1&lt;/script&gt;" in page
    assert page.count('src="data:image/png;base64,') == 6
    assert "http://" not in page
    assert "https://" not in page
    assert "desk lead" in page


def test_html_report_says_so_when_the_trend_window_is_empty():
    # Every record of make_report() is opened in one month, the as-of month, so
    # the six months before it hold nothing to compare.
    page = render_html(make_report())

    assert (
        page.count(
            "No records were opened in the six months of this window, so nothing can "
            "be called rising or falling."
        )
        == 1
    )


def test_load_baseline_reads_finding_and_waived_ids(tmp_path):
    path = write_reports(make_report(), tmp_path, ["json"])["json"]

    ids = load_baseline(path)

    assert ids == frozenset(
        [
            _finding(MISSING, "1").finding_id,
            _finding(MISSING, "2").finding_id,
            _finding(STALE, "2").finding_id,
            _finding(STALE, "9").finding_id,
        ]
    )


@pytest.mark.parametrize("text", ["not json", '{"findings": 3}', "[]"])
def test_load_baseline_rejects_other_files_with_exit_3(tmp_path, text):
    path = tmp_path / "old.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(BaselineError) as caught:
        load_baseline(path)

    assert caught.value.exit_code == ExitCode.CONFIG
    assert str(path) in str(caught.value)


def test_default_policy_has_no_waivers():
    assert default_policy().waivers == []
