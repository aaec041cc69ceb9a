"""Making a Plan, and checking that a saved one still describes the world.

`make_plan` reads the manifests' effective settings once, the state (read-only), the sources
and the destinations (read-only calls), and returns the Plan with a fingerprint of everything
it read, so a saved plan can be refused when any of it changed.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.base import DestinationObserver, Structure
from reconciler.destinations.factory import open_observer
from reconciler.errors import ReconcilerError
from reconciler.executing.importplan import annotate_imports
from reconciler.manifests.environment import (
    EnvProblem,
    MissingEnvironmentVariables,
    environment_problems,
    manifests_used,
)
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Project
from reconciler.manifests.projectfile import ProjectFile
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.operations.budgets import shared_request_budgets
from reconciler.planning.fingerprint import Fingerprint, fingerprint_of, structure_hash
from reconciler.planning.keyindex import IndexWrite
from reconciler.planning.plan import Plan
from reconciler.planning.planfile import StalePlanError, read_plan_file
from reconciler.planning.planner import Planner, PlanOptions, Refresh, Workspace
from reconciler.planning.removal import removed_records
from reconciler.planning.steps import SILENT, StepReporter
from reconciler.planning.warehouse import adopt_saved_reads
from reconciler.private import private_folder
from reconciler.state import (
    RunStatus,
    StateError,
    StateReader,
    open_state_reader,
    open_state_store,
)
from reconciler.state.encryption import StateKey, configure_key
from reconciler.state.store import check_location

STATE_ENV = "RECONCILER_STATE_URL"
Settings = Mapping[str, EffectiveActivation]


def state_location(option: str | None, project_root: Path | None = None,
                   project_file: ProjectFile | None = None) -> str | None:
    """--state, else $RECONCILER_STATE_URL, else the project file's `state`, else the DuckDB
    file beside the project's manifests (`default_state_path`; None without a project:
    `.reconciler/` here); a location that cannot be a store is an error naming where it came
    from. With a project file, its `state.encryption` key (or none) is what the store at the
    location is opened with from now on (see state/encryption.py)."""
    location = _located(option, project_root, project_file)
    if project_file is not None:
        env = project_file.state_key_env
        configure_key(location, None if env is None
                      else StateKey.from_env(env, project_file.origin("state")))
    return location


def _located(option: str | None, project_root: Path | None,
             project_file: ProjectFile | None) -> str | None:
    if option:
        return check_location(option, "--state")
    from_env = os.environ.get(STATE_ENV)
    if from_env:
        return check_location(from_env, f"${STATE_ENV}")
    configured = project_file.state_location() if project_file is not None else None
    if configured is not None:
        assert project_file is not None
        return check_location(configured, project_file.origin("state"))
    return str(default_state_path(project_root)) if project_root is not None else None


def default_state_path(project_root: Path) -> Path:
    """`.reconciler/state.duckdb` beside the manifests directory (`project_root`), wherever
    the command runs from: a plan from another directory reads the same state. Its folder is
    made here (the location is then checked like any other, and writing needs it anyway)."""
    path = project_root.resolve().parent / ".reconciler" / "state.duckdb"
    with contextlib.suppress(OSError):  # a read-only checkout: reading still works
        private_folder(path.parent)
    return path


@dataclass(frozen=True)
class PlanRun:
    plan: Plan
    fingerprint: Fingerprint


def _chosen(settings: Settings, activations: list[str], reader: StateReader) -> list[str]:
    """The named activations, else all; with those removed from the manifests that the state
    still holds (their plan deletes or keeps the remote list, see planning/removal.py)."""
    removed = removed_records(reader.activation_records(), settings)
    unknown = [name for name in activations if name not in settings and name not in removed]
    if unknown:
        raise ReconcilerError(f"no activation named {', '.join(unknown)} "
                              f"(defined: {', '.join(sorted(settings))})")
    return activations or sorted({*settings, *removed})


@contextlib.contextmanager
def open_observers(project: Project, settings: Settings, chosen: list[str],
                   clock: Clock) -> Iterator[dict[str, DestinationObserver]]:
    """One observer per destination of the chosen activations, closed afterwards."""
    destinations = project.of_kind(Kind.DESTINATION)
    observers: dict[str, DestinationObserver] = {}
    try:
        for name in sorted({settings[a].destination for a in chosen if a in settings}):
            manifest = destinations[name]
            observers[name] = open_observer(name, manifest.document.spec,
                                            manifest.file.parent, clock)
        yield observers
    finally:
        for observer in observers.values():
            observer.close()


def remote_fingerprint(structures: dict[str, Structure]) -> dict[str, dict[str, str]]:
    """Per activation, a hash of each part of its structure at the destination (the parts
    of `fingerprint.REMOTE_PARTS`), so a stale plan can say which one changed."""
    return {name: {"resources": structure_hash([r.model_dump(mode="json")
                                                for r in s.resources]),
                   "list": structure_hash(s.list_exists),
                   "fields": structure_hash(s.field_lengths),
                   "errors": structure_hash(list(s.errors))}
            for name, s in structures.items()}


def make_plan(project: Project, *, activations: list[str], refresh: Refresh,
              state: str | None, workspace: Workspace, show_members: bool = False,
              clock: Clock = SYSTEM_CLOCK,
              note: Callable[[str], None] = lambda _: None,
              steps: StepReporter = SILENT, writing: bool = False,
              refresh_index: bool = False) -> PlanRun:
    """Plan the chosen activations (all when none is named) against their destinations;
    `refresh` says what is read there besides lists and contacts (after an interrupted or
    failed apply, the members at least); `clock` says when (relative conditions, the day
    whose import budget counts); `note` receives what people should know on the way (a
    resume after an interrupted or failed apply, what --refresh could not see), `steps`
    each planning step as it starts and ends. `writing`: this process applies the plan next,
    so the store is created or migrated first (a new store then shares request budgets with
    the other jobs of a matrix from the plan's first call, not only from the apply's).
    `refresh_index`: read the contact indexes in full; what the plan learnt of them is kept
    in the store afterwards (see `keep_contact_indexes`)."""
    moment = clock.now()
    settings = effective_activations(project)
    require_environment(project, settings, activations or list(settings))
    location = state_location(state)
    if writing:
        open_state_store(location).close()
    reader = open_state_reader(location)
    try:
        chosen = _chosen(settings, activations, reader)
        # The serials before anything else is read: an apply writing meanwhile (its run starts,
        # so its serial moves, before its first destination write) makes this plan stale,
        # whatever of its writes the plan saw at the destination.
        serials = {name: reader.serial(name) for name in chosen}
        lagging = {name: why for name in chosen if name in settings
                   and (why := refresh_reason(reader, name)) is not None}
        if lagging and refresh is Refresh.NONE:
            for line in refresh_notes(lagging):
                note(line)
            refresh = Refresh.MEMBERS
        with shared_request_budgets(location), \
                open_observers(project, settings, chosen, clock) as observers:
            planner = Planner(project, settings, reader, observers, workspace, steps)
            try:
                plan = planner.build_plan(PlanOptions(
                    now=moment, activations=chosen, refresh=refresh,
                    show_members=show_members, refresh_index=refresh_index))
            finally:
                planner.close()
            plan = annotate_imports(plan, reader, workspace.conn, workspace.tables_of,
                                    moment)
            for planned in plan.activations:
                for what in planned.unobserved:
                    note(f"Note: {planned.activation}: {what}.")
            fingerprint = fingerprint_of(project, serials, remote_fingerprint(planner.structures))
            # An encrypted store keeps no contact index (see StateReader.contact_index).
            keep = (planner.indexes.writes() if planner.indexes and reader.schema_version()
                    and reader.key is None else [])
    finally:
        reader.close()
    keep_contact_indexes(location, keep, workspace, note)
    return PlanRun(plan, fingerprint)


def keep_contact_indexes(location: str | None, writes: list[IndexWrite], workspace: Workspace,
                         note: Callable[[str], None]) -> None:
    """Store what the plan read of the contact indexes (no serial moves, so no saved plan
    goes stale); a store another process holds only costs the next plan a read."""
    if not writes:
        return
    try:
        with open_state_store(location) as store:
            for write in writes:
                store.write_contact_index(write.info, workspace.conn, write.table,
                                          full=write.full)
    except StateError as exc:
        note(f"Note: the contact index read by this plan was not kept ({exc}); the next plan "
             "reads it again.")


def require_environment(project: Project, settings: Settings, activations: list[str]) -> None:
    """Every variable the activations' destinations and sources need is set and not empty,
    else one error listing each missing one where it is written (before anything opens)."""
    problems = environment_problems(manifests_used(project, settings, activations))
    if problems:
        raise MissingEnvironmentVariables(problems, "the planned activations need")


def channel_environment(project: Project, activations: list[str]) -> list[EnvProblem]:
    """The unset or empty variables of the notification channels `activations` warn: their
    warnings would not be delivered (said before applying; the sync itself goes on)."""
    settings = effective_activations(project)
    return environment_problems(manifests_used(project, settings, activations, channels=True))


def refresh_reason(reader: StateReader, activation: str) -> RunStatus | None:
    """Why the snapshot may lag the destination, so the plan reads the destination instead:
    the last apply was interrupted (killed, or stopped by Ctrl-C, midway) or failed."""
    if reader.unfinished_runs(activation):
        return RunStatus.INTERRUPTED  # still `running`: killed; the next apply marks it so
    runs = reader.runs(activation, limit=1)
    if runs and runs[0].status in (RunStatus.FAILED, RunStatus.INTERRUPTED):
        return runs[0].status
    return None


def refresh_notes(lagging: Mapping[str, RunStatus]) -> list[str]:
    """What to tell people when activations are planned against the destination because
    their last apply was interrupted or failed (each said as what it was)."""
    interrupted = [name for name, why in lagging.items() if why is RunStatus.INTERRUPTED]
    failed = [name for name, why in lagging.items() if why is RunStatus.FAILED]
    notes = []
    if interrupted:
        notes.append(f"Resuming after an interrupted apply of {', '.join(interrupted)}: "
                     "reading the destinations' actual membership.")
    if failed:
        notes.append(f"The last apply of {', '.join(failed)} failed (it may have written part "
                     "of its changes): reading the destinations' actual membership.")
    return notes


def current_fingerprint(project: Project, activations: list[str], state: str | None,
                        clock: Clock = SYSTEM_CLOCK) -> Fingerprint:
    """What a saved plan's inputs look like now (reads only)."""
    settings = effective_activations(project)
    require_environment(project, settings, activations)
    reader = open_state_reader(state_location(state))
    try:
        serials = {name: reader.serial(name) for name in activations}
    finally:
        reader.close()
    with open_observers(project, settings, activations, clock) as observers:
        structures = {name: observers[settings[name].destination].plan_structure(settings[name])
                      for name in activations if name in settings}
    return fingerprint_of(project, serials, remote_fingerprint(structures))


@dataclass(frozen=True)
class SavedPlan:
    project: Project
    plan: Plan
    state_serials: dict[str, int]
    state: str | None  # the store it was checked against, which apply then writes


def load_saved_plan(path: Path, workspace: Workspace, state_for: Callable[[Path], str | None],
                    load: Callable[[Path], Project], clock: Clock = SYSTEM_CLOCK) -> SavedPlan:
    """A saved plan, its project (read by `load` from where the plan was made), the state
    `state_for` the project's root names and the serials it was made at; refused when
    anything it read has changed since."""
    plan, saved, root = read_plan_file(path, workspace)
    project = load(root)
    adopt_saved_reads(workspace, project)
    state = state_for(project.root)
    names = [a.activation for a in plan.activations]
    reasons = saved.differences(current_fingerprint(project, names, state, clock))
    if reasons:
        listed = "".join(f"\n  - {reason}" for reason in reasons)
        raise StalePlanError(f"the saved plan {path} is stale; since it was made:{listed}",
                             hint="run `reconciler plan --out` again and apply the new plan")
    return SavedPlan(project, plan, saved.state_serials, state)
