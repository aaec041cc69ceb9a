"""`reconciler status`: per activation of the project, its last run, lock and snapshot, when it
is next due, its match rate, its open warning, and for Actito lists when the key file expires
and how much of the table's daily import budget is used.

Reads the state store only (like `plan`, it takes no lock and never writes) and the manifests
(no secret is resolved, no destination is called); the store is found like every command finds
it. Activations the store still holds but the manifests no longer define are named at the end.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import typer

from reconciler.cli.app import (
    LABEL_OPTION,
    MANIFESTS_HELP,
    NOW_OPTION,
    app,
    chosen_activations,
    locate_project,
    use_state,
    user_errors,
)
from reconciler.cli.manifests import OutputFormat
from reconciler.cli.plan import load_valid_project
from reconciler.cli.state import StateOption, clock, describe_lock, lock_json
from reconciler.clock import clock_from
from reconciler.destinations.capabilities import capabilities_of
from reconciler.destinations.readiness import api_key_expiries, expiry_finding
from reconciler.executing.due import Due, due_status, failures_since_success
from reconciler.executing.importbudget import BudgetUse, import_targets, read_budget
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.manifests.values import parse_duration
from reconciler.notifying import Health, read_health
from reconciler.state import (
    DeferredUpdates,
    IndexInfo,
    LockInfo,
    RunRecord,
    RunStatus,
    SnapshotInfo,
    StateReader,
    exposed_state_files,
    open_state_reader,
)

_HISTORY = 50  # runs looked at for the last success, the last file drop, the match rate
_HEALTH_TEXT = {
    Health.FAILING: "failing: the last sync failed (onFailure)",
    Health.STOPPED: "stopped: a guard stopped the last sync before any write",
    Health.REJECTING: "rejecting: the destination rejected more rows than maxRejectedRatio",
}


@dataclass(frozen=True)
class ActivationStatus:
    activation: str
    destination: str
    last_run: RunRecord | None
    lock: LockInfo | None
    snapshot: SnapshotInfo | None
    due: Due | None = None
    matched: tuple[int, int] | None = None  # (matched, desired) as the last sync planned it
    health: Health = Health.HEALTHY
    key_file_expires: dt.datetime | None = None  # Actito: last file drop + validity period
    budget: BudgetUse | None = None  # Actito: today's imports on the profile table
    deferred: DeferredUpdates | None = None  # the last success left its updates for later
    api_key_expires: dt.date | None = None  # Selligent: the manifest's credentials.expiresOn
    index: IndexInfo | None = None  # the destination's contact index for the match key
    index_stale: bool = False  # older than indexMaxAge: the next plan reads it in full


@dataclass(frozen=True)
class StatusReport:
    location: str
    now: dt.datetime
    activations: tuple[ActivationStatus, ...]
    only_in_state: tuple[str, ...]


def read_status(reader: StateReader, project: Project,
                now: dt.datetime | None = None) -> StatusReport:
    settings = effective_activations(project)
    moment = now or reader.now()
    locks = {lock.activation: lock for lock in reader.locks()}
    health = read_health(reader, {n: s.warnings for n, s in settings.items()}, settings)
    targets = import_targets(project, settings)
    expiries = api_key_expiries(project)
    destinations = project.destinations()
    rows = []
    for name, activation in sorted(settings.items()):
        index = _contact_index(reader, activation)
        max_age = parse_duration(destinations[activation.destination].spec.index_max_age)
        runs = reader.runs(name, limit=_HISTORY)
        success = next((r for r in runs if r.status is RunStatus.SUCCEEDED), None)
        deferred = reader.deferred_updates(success.run_id) if success else None
        target = targets.get(name)
        rows.append(ActivationStatus(
            name, activation.destination, runs[0] if runs else None, locks.get(name),
            reader.snapshot_info(name),
            due_status(activation, success.started_at if success else None, moment,
                       deferred.until if deferred else None, failures_since_success(runs)),
            _matched(runs), health[name], _key_file_expiry(activation, runs),
            read_budget(reader, target, moment) if target else None, deferred,
            expiries.get(activation.destination), index,
            index is not None and index.older_than(max_age, moment)))
    others = tuple(a for a in reader.activations() if a not in settings)
    return StatusReport(reader.location, moment, tuple(rows), others)


def _contact_index(reader: StateReader, activation: EffectiveActivation) -> IndexInfo | None:
    """The contact index a plan of `activation` uses: its destination's, for its match key."""
    key = activation.match_key.destination
    return next((info for info in reader.contact_indexes_of(activation.destination)
                 if info.index.endswith(f"|{key}")), None)


def _index_text(row: ActivationStatus) -> str:
    index = row.index
    if index is None:
        return "no contact index kept (the next plan reads the destination's contacts)"
    text = (f"{index.keys:,} keys"
            + (f" and {index.absent:,} checked absent" if index.absent else "")
            + f", read in full {clock(index.read_at)} ({index.read_how})")
    if row.index_stale:
        text += "; older than indexMaxAge: the next plan reads it in full again"
    return text


def _matched(runs: tuple[RunRecord, ...]) -> tuple[int, int] | None:
    """(matched, desired) of the newest run that recorded its audience."""
    for run in runs:
        if "audience_desired" in run.counts:
            return run.counts.get("audience_matched", 0), run.counts["audience_desired"]
    return None


def _key_file_expiry(settings: EffectiveActivation,
                     runs: tuple[RunRecord, ...]) -> dt.datetime | None:
    """When the Actito list's current file stops targeting: the last successful file drop
    (a run that wrote members; its start, to err early) plus the validity period."""
    declared = capabilities_of(settings.destination_type)
    drop = next((r for r in runs
                 if r.status is RunStatus.SUCCEEDED and "members_sent" in r.counts), None)
    if declared is None or drop is None:
        return None
    return declared.file_expiry(settings, drop.started_at)


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


def _minute(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _due_text(due: Due) -> str:
    if due.next_at is None:
        return "manual (runs only with `reconciler apply`)"
    return f"due now ({due.reason})" if due.due else due.reason.removeprefix("next due ")


def _actito_lines(row: ActivationStatus, now: dt.datetime) -> list[str]:
    expires = row.key_file_expires
    if expires is None:
        key_file = "no file dropped yet"
    elif expires <= now:
        key_file = f"expired at {_minute(expires)}: the list targets nobody until the next sync"
    else:
        key_file = f"expires {_minute(expires)}"
    if row.last_run is not None and row.last_run.counts.get("members_unconfirmed"):
        key_file += ("; the last file's pickup is not confirmed (Actito reads key files "
                     "asynchronously and documents no read of a list)")
    lines = [f"  key file  {key_file}"]
    if row.budget is not None:
        lines.append(f"  imports   {row.budget.describe()}")
    if row.deferred is not None:
        lines.append(f"            attribute updates deferred ({row.deferred.rows:,} profiles) "
                     f"until {_minute(row.deferred.until)}")
    return lines


def _activation_text(row: ActivationStatus, now: dt.datetime) -> list[str]:
    out = ["", f"# {row.activation} → {row.destination}"]
    run = _run_text(row.last_run) if row.last_run else ["never applied"]
    out.append(f"  last run  {run[0]}")
    out += [f"            {line}" for line in run[1:]]
    out.append("  lock      " + (describe_lock(row.lock, now) if row.lock else "none"))
    snapshot = (f"{row.snapshot.members:,} members, taken {clock(row.snapshot.taken_at)}"
                if row.snapshot else "none")
    out.append(f"  snapshot  {snapshot}")
    if row.due is not None:
        out.append(f"  next due  {_due_text(row.due)}")
    match = (f"{row.matched[0] / row.matched[1]:.1%} ({row.matched[0]:,} of "
             f"{row.matched[1]:,} matched)" if row.matched and row.matched[1]
             else "unknown (no sync recorded it yet)")
    out.append(f"  match     {match}")
    out.append(f"  contacts  {_index_text(row)}")
    out.append(f"  warnings  {_HEALTH_TEXT.get(row.health, 'none')}")
    if row.budget is not None or row.key_file_expires is not None:
        out += _actito_lines(row, now)
    expiry = expiry_finding(row.api_key_expires, now.date())
    if expiry is not None:
        out.append(f"  api key   {expiry.message}")
    return out


def render_status_text(report: StatusReport) -> str:
    out = [f"State store: {report.location}"]
    for row in report.activations:
        out += _activation_text(row, report.now)
    if report.only_in_state:
        out += ["", "The state also holds activations the manifests no longer define: "
                + ", ".join(report.only_in_state)]
    return "\n".join(out) + "\n"


def _run_json(run: RunRecord) -> dict[str, object]:
    return {"run_id": run.run_id, "status": run.status.value,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "counts": dict(run.counts), "error": run.error}


def _activation_json(row: ActivationStatus, now: dt.datetime) -> dict[str, object]:
    due = row.due
    budget, deferred = row.budget, row.deferred
    return {
        "activation": row.activation, "destination": row.destination,
        "last_run": _run_json(row.last_run) if row.last_run else None,
        "lock": lock_json(row.lock, now) if row.lock else None,
        "snapshot": {"members": row.snapshot.members,
                     "taken_at": row.snapshot.taken_at.isoformat()} if row.snapshot else None,
        "next_due": None if due is None else {
            "due": due.due, "at": due.next_at.isoformat() if due.next_at else None,
            "reason": due.reason},
        "match_rate": None if not row.matched or not row.matched[1] else {
            "rate": round(row.matched[0] / row.matched[1], 4), "matched": row.matched[0],
            "desired": row.matched[1]},
        "warnings": {"health": row.health.value, "open": row.health is not Health.HEALTHY},
        "key_file_expires_at": row.key_file_expires.isoformat() if row.key_file_expires
        else None,
        "import_budget": None if budget is None else {
            "table": budget.target.table, "day": budget.day.isoformat(), "used": budget.used,
            "budget": budget.target.daily_budget, "refused": budget.refused},
        "api_key_expires_on": row.api_key_expires.isoformat() if row.api_key_expires
        else None,
        "contact_index": None if row.index is None else {
            "keys": row.index.keys, "absent": row.index.absent,
            "read_at": row.index.read_at.isoformat(), "read_how": row.index.read_how,
            "stale": row.index_stale},
        "deferred_updates": None if deferred is None else {
            "rows": deferred.rows, "until": deferred.until.isoformat()},
    }


def render_status_json(report: StatusReport) -> str:
    return json.dumps({
        "state": report.location,
        "now": report.now.isoformat(),
        "activations": [_activation_json(row, report.now) for row in report.activations],
        "only_in_state": list(report.only_in_state),
    }, indent=2) + "\n"


@app.command()
def status(
    path: Path | None = typer.Argument(None, help=MANIFESTS_HELP, show_default=False),
    state: str | None = StateOption,
    label: list[str] = LABEL_OPTION,
    output: OutputFormat = typer.Option(OutputFormat.TEXT, "--format", help="text or json"),
    now: str | None = NOW_OPTION,
) -> None:
    """Show each activation's last run, lock, snapshot, next due time, match rate, open
    warning, and for Actito its key file's expiry and today's import budget (reads only)."""
    with user_errors():
        where = locate_project(path)
        project = load_valid_project(where.manifests)
        chosen = set(chosen_activations(project, [], label))
        location = use_state(state, project.root, where.file)
        for file in exposed_state_files(location):
            typer.echo(f"Warning: {file} is readable by other users and holds member keys: "
                       f"`chmod 600 {file}` (this version creates state files 0600).", err=True)
        with open_state_reader(location, copy_if_busy=True) as reader:  # even mid-apply
            moment = clock_from(now).now() if now is not None else None  # else the store's
            report = read_status(reader, project, moment)
        if label:  # only the labelled ones (those the state alone holds have no labels)
            report = dataclasses.replace(report, only_in_state=(), activations=tuple(
                row for row in report.activations if row.activation in chosen))
    render = render_status_json if output is OutputFormat.JSON else render_status_text
    typer.echo(render(report), nl=False)
