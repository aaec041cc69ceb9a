"""Planning activations that are gone from the manifests but still in the state store.

Pure: from what the state recorded at the last apply (`ActivationRecord`) and what the
manifests define now, say what happens to the remote list the activation owned. With
`deletionPolicy: delete` the plan deletes it (a `-` resource) and apply then forgets the
activation; with `keep` (the default) nothing changes, but the plan says the list is no longer
managed. Never deletes a list that an activation of the manifests now owns.
"""
from __future__ import annotations

from collections.abc import Mapping

from reconciler.changes.resources import Action, ResourceChange
from reconciler.destinations.capabilities import capabilities_of
from reconciler.manifests.models import DeletionPolicy
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import ActivationPlan
from reconciler.state import ActivationRecord

REASON = "activation removed from the manifests; deletionPolicy: delete"


def removed_records(records: tuple[ActivationRecord, ...],
                    settings: Mapping[str, EffectiveActivation]) -> dict[str, ActivationRecord]:
    """The recorded activations the manifests no longer define, by name."""
    return {r.activation: r for r in records if r.activation not in settings}


def plan_removal(record: ActivationRecord, destinations: Mapping[str, str],
                 settings: Mapping[str, EffectiveActivation]) -> ActivationPlan:
    """What apply does about a removed activation; `destinations`: the manifests'
    destinations now, name → type."""
    declared = capabilities_of(record.destination_type)
    list_type = declared.list_type if declared else None
    label = list_type.label if list_type else "list"
    head = ActivationPlan(activation=record.activation, destination=record.destination,
                          destination_type=record.destination_type, target=record.target,
                          remote_name=record.remote_name, removed=True)
    owner = _owner(record, settings)
    if owner is not None:
        return head.model_copy(update={"warnings": (
            f"removed from the manifests: {label} {record.remote_name!r} is now synced by "
            f"activation {owner}, so it is not deleted",)})
    if record.deletion_policy != DeletionPolicy.DELETE or list_type is None:
        return head.model_copy(update={"warnings": (
            f"removed from the manifests (deletionPolicy: {record.deletion_policy}): {label} "
            f"{record.remote_name!r} stays at the destination and is no longer managed "
            f"(`reconciler state forget {record.activation}` ends this warning)",)})
    found = destinations.get(record.destination)
    if found != record.destination_type:
        now = "is no longer defined" if found is None else f"is now of type {found}"
        return head.model_copy(update={"error": (
            f"removed from the manifests with deletionPolicy: delete, but destination "
            f"{record.destination!r} {now}: restore the {record.destination_type} destination "
            f"{record.destination!r} to delete {label} {record.remote_name!r}, or restore the "
            "activation with deletionPolicy: keep and apply before removing it again")})
    change = ResourceChange(action=Action.DELETE, type=list_type, name=record.remote_name,
                            reason=REASON)
    return head.model_copy(update={"resources": (change,)})


def _owner(record: ActivationRecord, settings: Mapping[str, EffectiveActivation]) -> str | None:
    """The activation of the manifests that syncs the same remote list, if any."""
    wanted = record.remote_name.casefold()
    for name, activation in sorted(settings.items()):
        names = {activation.audience_name.casefold(), activation.selligent_api_name.casefold()}
        if activation.destination == record.destination and wanted in names:
            return name
    return None
