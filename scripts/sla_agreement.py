"""Compare the check's SLA verdicts with ServiceNow's own ``made_sla`` flag.

Runs the SLA evaluation of ``itilmigrate check`` (the same function the SLA
rules and KPIs use) on a target migrated from the UCI ServiceNow export, reads
``made_sla`` from the source CSV in place, joins both by incident number and
prints the agreement rate, the confusion counts and the policy used::

    .venv/bin/python scripts/sla_agreement.py sqlite:///examples-output/servicenow.db

ServiceNow writes ``made_sla`` on every event; the flag of an incident's last
event (file order, as the mapping reads it) is its final verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from itilmigrate.compliance_checks.context import load_context
from itilmigrate.compliance_checks.policy import load_policy
from itilmigrate.compliance_checks.rules.sla import evaluate_sla
from itilmigrate.errors import MigrationError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = (
    ROOT.parent
    / "shared/data/uci-servicenow-incident-event-log/incident_event_log.csv.gz"
)
DEFAULT_POLICY = ROOT / "examples/policies/servicenow.yaml"


def made_sla(source: Path) -> pd.DataFrame:
    """Return ``number``, final ``made_sla`` and whether it ever changed."""
    events = pd.read_csv(source, usecols=["number", "made_sla"], dtype=str)
    flag = (
        events["made_sla"].str.strip().str.lower().map({"true": True, "false": False})
    )
    events = events.assign(made_sla=flag)
    grouped = events.groupby("number", sort=False)["made_sla"]
    return pd.DataFrame(
        {"made_sla": grouped.last(), "changed": grouped.min() != grouped.max()}
    ).reset_index(names="legacy_id")


def agreement(verdicts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Join resolution verdicts with ``made_sla``; one row per incident in both."""
    resolve = verdicts.loc[verdicts["target_kind"] == "resolve"]
    resolve = resolve[["legacy_id", "priority", "met", "stopped", "history"]]
    joined = resolve.merge(truth, on="legacy_id", how="inner")
    return joined.assign(
        met=joined["met"].astype(bool), made_sla=joined["made_sla"].astype(bool)
    )


@click.command()
@click.argument("target_url", default="sqlite:///examples-output/servicenow.db")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_POLICY,
    show_default=True,
)
@click.option(
    "--source",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_SOURCE,
    show_default=True,
    help="The UCI incident_event_log CSV (gzipped or not).",
)
def main(target_url: str, policy_file: Path, source: Path) -> None:
    """Print how often the SLA verdicts agree with made_sla on TARGET_URL."""
    try:
        policy = load_policy(policy_file)
        context = load_context(
            target_url, policy=policy, run_id="sla-agreement", source_system=None
        )
    except MigrationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    truth = made_sla(source)
    joined = agreement(evaluate_sla(context), truth)
    if joined.empty:
        click.echo("error: no incident of the target is in the source CSV.", err=True)
        sys.exit(1)

    agree = joined["met"] == joined["made_sla"]
    click.echo(f"policy: {policy.name} ({policy_file})")
    for level, target in sorted(policy.sla.priorities.items()):
        click.echo(f"  P{level}: resolve {target.resolve} on the {target.clock} clock")
    click.echo(
        f"  calendar {policy.calendar.timezone} "
        f"{','.join(policy.calendar.working_days)} "
        f"{policy.calendar.start:%H:%M}-{policy.calendar.end:%H:%M}, "
        f"{len(policy.calendar.holidays)} holidays; pauses: "
        f"{', '.join(str(state) for state in policy.pause_states)}"
    )
    click.echo(
        f"incidents compared: {len(joined):,} (source {len(truth):,}; made_sla "
        f"changed during the life of {int(truth['changed'].sum()):,})"
    )
    click.echo(f"agreement: {100.0 * agree.mean():.2f}%")
    confusion = pd.crosstab(
        joined["met"].map({True: "check met", False: "check breached"}),
        joined["made_sla"].map({True: "made_sla true", False: "made_sla false"}),
    )
    click.echo(confusion.to_string())
    per_priority = (
        joined.assign(agree=agree)
        .groupby("priority")
        .agg(incidents=("agree", "size"), agreement_pct=("agree", "mean"))
    )
    per_priority["agreement_pct"] = (100.0 * per_priority["agreement_pct"]).round(2)
    click.echo(per_priority.to_string())


if __name__ == "__main__":
    main()
