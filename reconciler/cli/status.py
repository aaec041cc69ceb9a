"""`reconciler status`: per activation of the project, its last run, lock and snapshot.

Reads the state store only (like `plan`, it takes no lock and never writes); the store is found
like every command finds it. Activations the store still holds but the manifests no longer
define are named at the end.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler.cli.app import app, user_errors
from reconciler.cli.manifests import DEFAULT_PATH, OutputFormat
from reconciler.cli.plan import load_valid_project, state_location
from reconciler.cli.state import StateOption, clock, describe_lock, lock_json
from reconciler.manifests.settings import effective_activations
from reconciler.state import LockInfo, RunRecord, SnapshotInfo, StateReader, open_state_reader


@dataclass(frozen=True)
class ActivationStatus:
    activation: str
    destination: str
    last_run: RunRecord | None
    lock: LockInfo | None
    snapshot: SnapshotInfo | None


@dataclass(frozen=True)
class StatusReport:
    location: str
    now: dt.datetime
    activations: tuple[ActivationStatus, ...]
    only_in_state: tuple[str, ...]


def read_status(reader: StateReader, destinations: dict[str, str]) -> StatusReport:
    locks = {lock.activation: lock for lock in reader.locks()}
    rows = tuple(
        ActivationStatus(name, destination, next(iter(reader.runs(name, limit=1)), None),
                         locks.get(name), reader.snapshot_info(name))
        for name, destination in sorted(destinations.items()))
    others = tuple(a for a in reader.activations() if a not in destinations)
    return StatusReport(reader.location, reader.now(), rows, others)


def _run_text(run: RunRecord) -> list[str]:
    line = f"{run.status.value}, started {clock(run.started_at)}"
    if run.finished_at is not None:
        line += f", finished {clock(run.finished_at)}"
    lines = [line]
    if run.counts:
        lines.append(", ".join(f"{key} {value:,}" for key, value in sorted(run.counts.items())))
    if run.error:
        lines.append(f"error: {run.error}")
    return lines


def render_status_text(report: StatusReport) -> str:
    out = [f"State store: {report.location}"]
    for row in report.activations:
        out += ["", f"# {row.activation} → {row.destination}"]
        run = _run_text(row.last_run) if row.last_run else ["never applied"]
        out.append(f"  last run  {run[0]}")
        out += [f"            {line}" for line in run[1:]]
        out.append("  lock      " + (describe_lock(row.lock, report.now) if row.lock else "none"))
        snapshot = (f"{row.snapshot.members:,} members, taken {clock(row.snapshot.taken_at)}"
                    if row.snapshot else "none")
        out.append(f"  snapshot  {snapshot}")
    if report.only_in_state:
        out += ["", "The state also holds activations the manifests no longer define: "
                + ", ".join(report.only_in_state)]
    return "\n".join(out) + "\n"


def render_status_json(report: StatusReport) -> str:
    def run_json(run: RunRecord) -> dict[str, object]:
        return {"run_id": run.run_id, "status": run.status.value,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "counts": dict(run.counts), "error": run.error}

    return json.dumps({
        "state": report.location,
        "activations": [{
            "activation": row.activation, "destination": row.destination,
            "last_run": run_json(row.last_run) if row.last_run else None,
            "lock": lock_json(row.lock, report.now) if row.lock else None,
            "snapshot": {"members": row.snapshot.members,
                         "taken_at": row.snapshot.taken_at.isoformat()}
            if row.snapshot else None,
        } for row in report.activations],
        "only_in_state": list(report.only_in_state),
    }, indent=2) + "\n"


@app.command()
def status(
    path: Path = typer.Argument(DEFAULT_PATH, help="A manifest file or a directory of them."),
    state: str | None = StateOption,
    output: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", help="text or json"),
) -> None:
    """Show each activation's last run, open lock and snapshot (reads only)."""
    with user_errors():
        project = load_valid_project(path)
        destinations = {name: settings.destination
                        for name, settings in effective_activations(project).items()}
        with open_state_reader(state_location(state)) as reader:
            report = read_status(reader, destinations)
    render = render_status_json if output is OutputFormat.JSON else render_status_text
    typer.echo(render(report), nl=False)
