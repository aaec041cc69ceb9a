"""Which list an activation owns, and a changed remote list planned as `-/+` (pure logic)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.destinations.base import Structure
from reconciler.manifests.models import DeletionPolicy, MatchKey, Warnings
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.diff import DiffResult
from reconciler.planning.replacement import (
    Owned,
    guard_diff,
    owned_of,
    plan_replacement,
    replaced_list,
    unowned_error,
    with_replacement,
)
from reconciler.state import ActivationRecord, RemoteKind, RemoteList, SnapshotInfo

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
TARGET = "org ACME, list CONTACTS"
OLD = RemoteList("selligent-prod", TARGET, "VIP_customers", "VIP_customers")


def _activation(audience: str = "VIP 2027", policy: DeletionPolicy = DeletionPolicy.KEEP,
                destination: str = "selligent-prod", kind: str = "selligent"
                ) -> EffectiveActivation:
    return EffectiveActivation(
        name="vip", destination=destination, destination_type=kind, segment="vip",
        model=None, audience_name=audience, description=None,
        match_key=MatchKey(source="customer_id", destination="EXTERNAL_ID"), fields=(),
        schedule="manual", warnings=Warnings(), deletion_policy=policy, validity_period=None)


def _snapshot(remote: RemoteList | None = OLD, members: int = 151) -> SnapshotInfo:
    return SnapshotInfo(members, NOW, 3, None, remote)


def _structure(name: str = "VIP_2027", exists: bool = False) -> Structure:
    return Structure(name, list_exists=exists, remote_id=name if exists else None)


@pytest.mark.parametrize(("name", "target", "destination", "replaced"), [
    ("VIP_customers", TARGET, "selligent-prod", False),
    ("vip_CUSTOMERS", TARGET, "selligent-prod", False),  # Selligent api names ignore case
    ("VIP_2027", TARGET, "selligent-prod", True),
    ("VIP_customers", "org ACME, list OTHER", "selligent-prod", True),
    ("VIP_customers", TARGET, "selligent-test", True),
])
def test_a_list_other_than_the_snapshots_is_replaced(name: str, target: str, destination: str,
                                                     replaced: bool) -> None:
    # Scenario: the manifests name a list; the snapshot describes the one the last apply wrote.
    found = replaced_list(_activation(destination=destination), _structure(name), target,
                          _snapshot())
    assert (found == OLD) is replaced


def test_actito_names_are_exact_and_unknown_lists_are_never_replaced() -> None:
    # Scenario: an Actito list whose name changed case is another list; a snapshot older
    # than remote lists is taken to describe its activation's record, or without one the
    # list the manifests name.
    actito = RemoteList("actito-prod", "entity acme, table Profiles", "VIP customers")
    settings = _activation("vip customers", destination="actito-prod", kind="actito")
    assert replaced_list(settings, _structure("vip customers"), actito.target,
                         _snapshot(actito)) == actito
    assert replaced_list(settings, _structure("vip customers"), actito.target,
                         _snapshot(None)) is None
    assert replaced_list(settings, _structure("vip customers"), actito.target, None) is None
    record = ActivationRecord("vip", actito.destination, "actito", actito.target,
                              "VIP customers", "keep", NOW)
    assert replaced_list(settings, _structure("vip customers"), actito.target,
                         _snapshot(None), record) == actito  # the record stands in


def test_the_deleted_list_is_the_old_one_after_the_new_one_is_full() -> None:
    # Scenario: deletionPolicy: delete; the `-/+` change replaces the structure's create.
    change, warnings = plan_replacement(_activation(policy=DeletionPolicy.DELETE),
                                        _structure(), TARGET, OLD, 151, {})
    assert warnings == ()
    assert (change.action, change.name, change.detail) == (Action.REPLACE, "VIP_2027",
                                                           "replaces VIP_customers")
    retired = change.retired()
    assert retired is not None
    assert (retired.action, retired.type, retired.name) == (
        Action.DELETE, ResourceType.SELLIGENT_SEGMENT, "VIP_customers")
    create = ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_SEGMENT,
                            name="VIP_2027", reason="not found")
    field = ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_FIELD,
                           name="LTV", reason="missing")
    assert with_replacement((create, field), change) == (change, field)


@pytest.mark.parametrize(("policy", "owners", "destination", "fate"), [
    (DeletionPolicy.KEEP, {}, "selligent-prod", "deletionPolicy: keep"),
    (DeletionPolicy.DELETE, {"other": ("VIP customers", "VIP_customers")}, "selligent-prod",
     "activation other syncs it now"),
    (DeletionPolicy.DELETE, {}, "selligent-test", "not at the destination and list"),
])
def test_the_old_list_is_kept_unless_it_can_be_deleted_safely(
        policy: DeletionPolicy, owners: dict[str, tuple[str, ...]], destination: str,
        fate: str) -> None:
    # Scenario: keep, a list another activation syncs, a list at another destination.
    change, warnings = plan_replacement(_activation(policy=policy, destination=destination),
                                        _structure(), TARGET, OLD, 151, owners)
    assert change.replaces is not None and not change.replaces.deleted
    assert change.retired() is None
    assert fate in " ".join((change.reason, *warnings))


def test_the_removal_guard_measures_the_members_the_deletion_takes() -> None:
    # Scenario: the old list held 151; 120 go to the new list, 31 are left behind.
    diff = DiffResult(desired=130, matched=120, adds=120, removes=0, updates=0, base_members=0,
                      added_outside=None, removed_outside=None, samples=())
    delete, _ = plan_replacement(_activation(policy=DeletionPolicy.DELETE), _structure(),
                                 TARGET, OLD, 151, {})
    guarded = guard_diff(diff, delete, left_behind=31)
    assert (guarded.removes, guarded.base_members) == (31, 151)
    keep, _ = plan_replacement(_activation(), _structure(), TARGET, OLD, 151, {})
    assert guard_diff(diff, keep, left_behind=31) == diff


def _owned(snapshot: SnapshotInfo | None = None, created: tuple[str, ...] = (),
           records: tuple[ActivationRecord, ...] = ()) -> Owned:
    return owned_of(snapshot, records, tuple((RemoteKind.SEGMENT, c) for c in created), "vip")


@pytest.mark.parametrize(("owned", "refused"), [
    (_owned(), True),  # nothing recorded: someone else's
    (_owned(created=("vip_2027",)), False),  # created by an apply killed before its snapshot
    (_owned(_snapshot(dataclasses.replace(OLD, name="VIP_2027"))), False),  # imported
    (_owned(_snapshot(None)), False),  # a snapshot older than remote lists
    (_owned(_snapshot()), True),  # the activation owns another list
    (_owned(records=(ActivationRecord("vip", "selligent-prod", "selligent", TARGET, "VIP_2027",
                                      "keep", NOW),)), False),
])
def test_an_existing_list_is_written_only_when_owned(owned: Owned, refused: bool) -> None:
    # Scenario: the list the plan names exists at the destination.
    error = unowned_error(_activation(), _structure(exists=True), TARGET, owned)
    assert (error is not None) is refused
    assert unowned_error(_activation(), _structure(), TARGET, owned) is None


def test_the_refusal_names_the_activation_that_wrote_the_list() -> None:
    # Scenario: an activation removed from the manifests (state kept) last wrote the list.
    owned = _owned(records=(ActivationRecord("old-vip", "selligent-prod", "selligent", TARGET,
                                             "VIP_2027", "keep", NOW),))
    error = unowned_error(_activation(), _structure(exists=True), TARGET, owned)
    assert error is not None
    assert "(the last apply of activation 'old-vip' wrote it)" in error
    assert "`reconciler import vip` takes it over" in error
