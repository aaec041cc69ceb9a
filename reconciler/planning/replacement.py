"""Which remote list an activation owns, and a changed remote list planned as a replacement.

The snapshot belongs to the activation and records which remote list it describes (the
state's `RemoteList`: destination, target, name, id). When the list the manifests name now is
another one — `audienceName` changed, or the activation moved to another destination or list
— the plan replaces (`-/+`): the new list gets every member (measured against the new list,
never against the old snapshot), and the old one is deleted once it does (deletionPolicy:
delete, with the guards a removal has: never a list another activation syncs, and the mass
removal guards measured against the old list) or kept and said to be no longer managed.

A list of the planned name that exists at the destination but that the activation does not
own (no apply or import recorded it) is never written to: the plan refuses it until
`reconciler import` takes it over. Pure: state records and the destination's `Structure` in,
plan objects out.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.changes.resources import Action, ReplacedList, ResourceChange, ResourceType
from reconciler.destinations.base import Structure
from reconciler.destinations.capabilities import capabilities_of
from reconciler.manifests.models import DeletionPolicy
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.diff import DiffResult
from reconciler.state import ActivationRecord, RemoteKind, RemoteList, SnapshotInfo

_LIST_KINDS = (RemoteKind.SEGMENT, RemoteKind.TARGET_LIST)


@dataclass(frozen=True)
class Owned:
    """What the state says an activation owns: its snapshot, its last apply's record, the
    ids of the lists it created."""

    snapshot: SnapshotInfo | None
    record: ActivationRecord | None
    created: tuple[str, ...]
    others: tuple[ActivationRecord, ...]  # every other activation's record


def same_name(destination_type: str, one: str, other: str) -> bool:
    """Whether two names name one list at destinations of this type."""
    found = capabilities_of(destination_type)
    if found is not None and found.case_insensitive_names:
        return one.casefold() == other.casefold()
    return one == other


def list_label(destination_type: str) -> str:
    found = capabilities_of(destination_type)
    return found.list_type.label if found else "list"


def unowned_error(settings: EffectiveActivation, structure: Structure, target: str,
                  owned: Owned) -> str | None:
    """Why the activation must not write to the existing list its plan names, or None."""
    if not structure.list_exists or structure.declared:
        return None
    remote = owned.snapshot.remote if owned.snapshot is not None else None
    if owned.snapshot is not None and remote is None:
        return None  # a snapshot older than remote lists, with no record: it was ours
    tokens = []
    if remote is not None and remote.destination == settings.destination:
        tokens += [remote.name, remote.remote_id or ""]
    if remote is None or remote.destination == settings.destination:
        tokens += owned.created
    if owned.record is not None and owned.record.destination == settings.destination:
        tokens.append(owned.record.remote_name)
    mine = [structure.remote_name, structure.remote_id or structure.remote_name]
    if any(same_name(settings.destination_type, t, m) for t in tokens if t for m in mine):
        return None
    label = list_label(settings.destination_type)
    by = next((f" (the last apply of activation {r.activation!r} wrote it)" for r in owned.others
               if r.destination == settings.destination
               and same_name(settings.destination_type, r.remote_name, structure.remote_name)),
              "")
    return (f"{label} {structure.remote_name!r} already exists at {settings.destination} "
            f"({target}) and this activation does not own it{by}: nothing is written to it. "
            f"`reconciler import {settings.name}` takes it over with its current members (the "
            "next plan then shows only the difference); or give the activation another "
            "audienceName")


def replaced_list(settings: EffectiveActivation, structure: Structure, target: str,
                  snapshot: SnapshotInfo | None,
                  record: ActivationRecord | None = None) -> RemoteList | None:
    """The list the last apply wrote, when the manifests now name another one; `record`
    stands in for a snapshot that does not say (one older than remote lists)."""
    if snapshot is None:
        return None
    remote = snapshot.remote
    if remote is None and record is not None:
        remote = RemoteList(record.destination, record.target, record.remote_name)
    if remote is None:
        return None
    if (remote.destination == settings.destination and remote.target == target
            and same_name(settings.destination_type, remote.name, structure.remote_name)):
        return None
    return remote


def plan_replacement(settings: EffectiveActivation, structure: Structure, target: str,
                     old: RemoteList, members: int, owners: Mapping[str, tuple[str, ...]]
                     ) -> tuple[ResourceChange, tuple[str, ...]]:
    """The `-/+` change (in place of the structure's own list change) and its warnings.
    `owners`: the other activations, by name, whose list (same destination) is named so."""
    label = list_label(settings.destination_type)
    here = old.destination == settings.destination and old.target == target
    owner = next((name for name, names in sorted(owners.items())
                  if any(same_name(settings.destination_type, n, old.name) for n in names)),
                 None)
    deleted = here and owner is None and settings.deletion_policy == DeletionPolicy.DELETE
    if old.destination != settings.destination:
        why = f"the activation moved from destination {old.destination} to {settings.destination}"
    elif not here:
        why = f"the destination's list moved from {old.target} to {target}"
    else:
        why = f"the manifests name {structure.remote_name}, the last apply wrote {old.name}"
    warnings: tuple[str, ...] = ()
    if deleted:
        fate = (f"then {old.name} ({members:,} members) is deleted (deletionPolicy: delete)")
    elif owner is not None:
        fate = f"{old.name} is kept: activation {owner} syncs it now"
    else:
        fate = f"{old.name} ({members:,} members) is kept, no longer managed"
        keep = ("deletionPolicy: keep" if here else
                "it is not at the destination and list this apply writes")
        warnings = (f"{label} {old.name!r} ({members:,} members) stays at {old.destination}, "
                    f"no longer managed by this activation ({keep}): delete it there if "
                    "nothing uses it",)
    change = ResourceChange(
        action=Action.REPLACE, type=_list_type(settings), name=structure.remote_name,
        detail=f"replaces {old.name}" + ("" if here else f" at {old.destination}"),
        reason=f"{why}: the new {label} gets every member, {fate}",
        replaces=ReplacedList(destination=old.destination, name=old.name, members=members,
                              deleted=deleted))
    return change, warnings


def with_replacement(resources: tuple[ResourceChange, ...],
                     change: ResourceChange) -> tuple[ResourceChange, ...]:
    """The structure's changes with the list's own (create, drop its file again) replaced."""
    return (change, *(r for r in resources if r.type is not change.type))


def guard_diff(diff: DiffResult, change: ResourceChange, left_behind: int) -> DiffResult:
    """What the removal guards measure for a replacement: deleting the old list removes its
    members that the new one does not get (`left_behind`), out of all the old one held."""
    if change.replaces is None or not change.replaces.deleted:
        return diff
    return dataclasses.replace(diff, removes=diff.removes + left_behind,
                               base_members=diff.base_members + change.replaces.members)


def _list_type(settings: EffectiveActivation) -> ResourceType:
    found = capabilities_of(settings.destination_type)
    if found is None:  # pragma: no cover - a destination type this version plans
        raise ValueError(f"unknown destination type {settings.destination_type}")
    return found.list_type


def owners_of_lists(settings: Mapping[str, EffectiveActivation], records:
                    tuple[ActivationRecord, ...], activation: EffectiveActivation
                    ) -> dict[str, tuple[str, ...]]:
    """The lists of the same destination other activations sync or last wrote, by activation:
    a replaced list named so is never deleted."""
    out: dict[str, tuple[str, ...]] = {r.activation: (r.remote_name,) for r in records
           if r.activation != activation.name and r.destination == activation.destination}
    for name, other in settings.items():
        if name != activation.name and other.destination == activation.destination:
            # Either name, as planning/removal.py compares them: the vendor's is one of them.
            out[name] = (*out.get(name, ()), other.audience_name, other.selligent_api_name)
    return out


def owned_of(snapshot: SnapshotInfo | None, records: tuple[ActivationRecord, ...],
             created: tuple[tuple[RemoteKind, str], ...], activation: str) -> Owned:
    return Owned(snapshot, next((r for r in records if r.activation == activation), None),
                 tuple(remote_id for kind, remote_id in created if kind in _LIST_KINDS),
                 tuple(r for r in records if r.activation != activation))
