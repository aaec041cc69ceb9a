"""Adopting a list that already exists at a destination: terraform's `import`.

`import_list` takes over, for one activation of the manifests, the list its plan would create
(`--id` names it by its id, and must name that list: an import never renames). A plan refuses
to write to a list of that name that no apply or import recorded (planning/replacement.py);
after the import, the activation owns it. Where the destination lists a list's members
(Selligent: the static segment's members, by the activation's key field), they become the
activation's snapshot, so the next plan shows only the difference; their attribute values
were never sent by this tool, so each member's mapped fields are updated once. Where it does
not (Actito: an external target list's members cannot be read), only the ownership is
recorded, with a snapshot that says its members are unknown: the next apply replaces the
whole key file, which Actito does on every apply anyway.

Reads the destination (read-only calls) and writes the state under the activation's lock.
"""
from __future__ import annotations

from dataclasses import dataclass

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.base import DestinationObserver, Structure, load_key_pages
from reconciler.errors import ReconcilerError
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.operations.plans import open_observers, require_environment, state_location
from reconciler.planning.planner import Workspace
from reconciler.planning.replacement import list_label, same_name
from reconciler.state import ActivationRecord, RemoteList, StateWriter, open_state_store
from reconciler.state.locks import default_owner

IMPORT_LEASE_SECONDS = 60.0


@dataclass(frozen=True)
class ImportResult:
    activation: str
    label: str  # what the destination calls its lists, e.g. "static segment"
    remote: RemoteList
    members: int | None  # None: the destination does not list them
    released: RemoteList | None  # the list the activation owned before, no longer managed


def import_list(project: Project, activation: str, *, remote_id: str | None,
                state: str | None, clock: Clock = SYSTEM_CLOCK) -> ImportResult:
    """Record the existing list `activation`'s plan names as the activation's own, with its
    members where they can be read; ReconcilerError when there is none, when `remote_id`
    names another, or when another activation of the manifests owns it."""
    settings = effective_activations(project)
    if activation not in settings:
        raise ReconcilerError(f"no activation named {activation} (defined: "
                              f"{', '.join(sorted(settings))})")
    chosen = settings[activation]
    require_environment(project, settings, [activation])
    with open_observers(project, settings, [activation], clock) as observers, \
            open_state_store(state_location(state)) as store:
        observer = observers[chosen.destination]
        structure = observer.plan_structure(chosen)
        remote = RemoteList(chosen.destination, observer.target, structure.remote_name,
                            structure.remote_id)
        _check(chosen, structure, remote, remote_id, store, settings)
        lock = store.acquire_lock(activation, default_owner("import"), IMPORT_LEASE_SECONDS)
        try:
            return _record(store, chosen, observer, remote, clock)
        finally:
            store.release_lock(lock)


def _check(chosen: EffectiveActivation, structure: Structure, remote: RemoteList,
           remote_id: str | None, store: StateWriter,
           settings: dict[str, EffectiveActivation]) -> None:
    label, kind = list_label(chosen.destination_type), chosen.destination_type
    where = f"{remote.destination} ({remote.target})"
    if not structure.list_exists:
        raise ReconcilerError(f"there is no {label} {remote.name!r} at {where} to import; "
                              f"`reconciler apply` creates it")
    if structure.errors:
        raise ReconcilerError(f"{label} {remote.name!r} cannot be synced by activation "
                              f"{chosen.name}: {'; '.join(structure.errors)}")
    found = remote.remote_id or remote.name
    if remote_id is not None and not same_name(kind, remote_id, found):
        raise ReconcilerError(
            f"--id {remote_id} is not the {label} the manifests name: {remote.name!r} at "
            f"{where} has the id {found}. An import never renames: set the activation's "
            "audienceName to the name of the list to take over, then import it")
    for record in store.activation_records():
        if (record.activation != chosen.name and record.activation in settings
                and record.destination == chosen.destination
                and same_name(kind, record.remote_name, remote.name)):
            raise ReconcilerError(f"{label} {remote.name!r} at {where} is synced by activation "
                                  f"{record.activation}: one list, one activation")
    snapshot = store.snapshot_info(chosen.name)
    if (snapshot is not None and snapshot.remote is not None
            and snapshot.remote.destination == remote.destination
            and snapshot.remote.target == remote.target
            and same_name(kind, snapshot.remote.name, remote.name)):
        raise ReconcilerError(f"activation {chosen.name} already owns {label} {remote.name!r} "
                              f"at {where}: nothing to import")


def _record(store: StateWriter, chosen: EffectiveActivation, observer: DestinationObserver,
            remote: RemoteList, clock: Clock) -> ImportResult:
    previous = store.snapshot_info(chosen.name)
    workspace = Workspace()
    try:
        conn = workspace.conn
        readable = observer.load_members(chosen, conn, "listed")
        if not readable:
            load_key_pages(conn, "listed", [])
        conn.execute('CREATE TEMP TABLE imported AS SELECT DISTINCT member_key, '
                     'CAST(NULL AS VARCHAR) AS attributes_hash FROM listed')
        info = store.write_snapshot_from_duckdb(
            chosen.name, conn, "imported", taken_at=clock.now(),
            hash_format=workspace.hash_format, remote=remote, members_known=readable)
    finally:
        workspace.close()
    store.record_activation(ActivationRecord(
        chosen.name, chosen.destination, chosen.destination_type, remote.target, remote.name,
        str(chosen.deletion_policy), clock.now()))
    # `_check` refused the list the activation owns already: a previous one is another.
    return ImportResult(chosen.name, list_label(chosen.destination_type), remote,
                        info.members if readable else None,
                        previous.remote if previous is not None else None)
