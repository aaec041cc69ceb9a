"""Planning activations gone from the manifests: delete, keep, refuse, or leave to a new owner."""
from __future__ import annotations

import datetime as dt

import pytest

from reconciler.changes.resources import Action, ResourceType
from reconciler.manifests.models import DeletionPolicy, MatchKey, Warnings
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import Plan
from reconciler.planning.removal import REASON, plan_removal, removed_records
from reconciler.planning.render import render_text
from reconciler.state import ActivationRecord

KEY = MatchKey(source="customer_id", destination="EXTERNAL_ID")

NOW = dt.datetime(2026, 11, 27, 6, 0, tzinfo=dt.UTC)
DESTINATIONS = {"selligent-prod": "selligent", "actito-prod": "actito"}


def _record(name: str = "churn", destination: str = "selligent-prod",
            kind: str = "selligent", remote: str = "Churn_risk",
            policy: str = "delete") -> ActivationRecord:
    return ActivationRecord(name, destination, kind, "org ACME, list CONTACTS", remote, policy,
                            NOW)


def _activation(name: str, audience: str, destination: str = "selligent-prod"
                ) -> EffectiveActivation:
    return EffectiveActivation(
        name=name, destination=destination, destination_type=DESTINATIONS[destination],
        segment=name, model=None, audience_name=audience, description=None, match_key=KEY,
        fields=(), schedule="manual", warnings=Warnings(), deletion_policy=DeletionPolicy.KEEP,
        validity_period=None)


@pytest.mark.parametrize(("record", "resource_type", "line"), [
    (_record(), ResourceType.SELLIGENT_SEGMENT, f"- static segment Churn_risk  # {REASON}"),
    (_record(destination="actito-prod", kind="actito", remote="Churn risk"),
     ResourceType.ACTITO_TARGET_LIST, f'- external target list "Churn risk"  # {REASON}'),
])
def test_delete_policy_plans_the_deletion_of_the_remote_list(
        record: ActivationRecord, resource_type: ResourceType, line: str) -> None:
    # Scenario: a removed activation recorded with deletionPolicy: delete, its destination kept.
    planned = plan_removal(record, DESTINATIONS, {})
    assert planned.removed and planned.has_changes and planned.error is None
    (change,) = planned.resources
    assert (change.action, change.type, change.name) == (Action.DELETE, resource_type,
                                                         record.remote_name)
    plan = Plan(created_at=NOW, activations=(planned,))
    assert plan.summary.to_delete == 1 and line in render_text(plan)


def test_keep_policy_changes_nothing_but_says_the_list_is_no_longer_managed() -> None:
    # Scenario: a removed activation recorded with the default policy, keep.
    planned = plan_removal(_record(policy="keep"), DESTINATIONS, {})
    assert planned.removed and not planned.has_changes and planned.error is None
    assert planned.warnings == ("removed from the manifests (deletionPolicy: keep): static "
                                "segment 'Churn_risk' stays at the destination and is no "
                                "longer managed (`reconciler state forget churn` "
                                "ends this warning)",)


@pytest.mark.parametrize(("destinations", "says"), [
    ({}, "destination 'selligent-prod' is no longer defined"),
    ({"selligent-prod": "actito"}, "destination 'selligent-prod' is now of type actito"),
])
def test_deleting_needs_the_destination_in_the_manifests(destinations: dict[str, str],
                                                         says: str) -> None:
    # Scenario: the activation and its destination were both removed (or it changed type).
    planned = plan_removal(_record(), destinations, {})
    assert planned.error is not None and says in planned.error
    assert "restore the selligent destination 'selligent-prod'" in planned.error
    assert planned.resources == ()


def test_a_list_now_synced_by_another_activation_is_never_deleted() -> None:
    # Scenario: an activation was renamed; the new one owns the same segment.
    settings = {"churn-v2": _activation("churn-v2", "Churn risk")}
    planned = plan_removal(_record(), DESTINATIONS, settings)
    assert planned.resources == () and planned.error is None
    assert "now synced by activation churn-v2, so it is not deleted" in planned.warnings[0]


def test_only_activations_the_manifests_no_longer_define_are_removed() -> None:
    # Scenario: the state records two activations, one still in the manifests.
    settings = {"vip": _activation("vip", "VIP customers")}
    records = (_record(), _record(name="vip", remote="VIP_customers"))
    assert list(removed_records(records, settings)) == ["churn"]
