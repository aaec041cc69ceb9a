"""Plan renderers: terraform-style text, versioned JSON (schema-valid) and a bounded PR comment."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.planning.plan import (
    ActivationPlan,
    AttributeChange,
    DataIssue,
    Drift,
    MembershipChange,
    Plan,
    RemoteRead,
)
from reconciler.planning.render import (
    GITHUB_COMMENT_LIMIT,
    describe_stop,
    render_json,
    render_markdown,
    render_text,
)
from tests.manifests.conftest import REPO

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def _vip(name: str = "vip-selligent") -> ActivationPlan:
    return ActivationPlan(
        activation=name,
        destination="selligent-prod",
        destination_type="selligent",
        target="org ACME, list CONTACTS",
        remote_name="VIP_customers",
        resources=(
            ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_SEGMENT,
                           name="VIP_customers", reason="not found at the destination"),
            ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_FIELD, name="LTV",
                           detail="Numeric", reason="mapped with create: true"),
        ),
        members=MembershipChange(desired=12_665, matched=12_304, adds=12_304, removes=0,
                                 samples=("C0***12",)),
        attributes=AttributeChange(updates=12_304, fields=("LTV",)),
        drift=Drift(added_outside=0, removed_outside=12),
        data_issues=(DataIssue(kind="null key", count=3),),
    )


def _unchanged() -> ActivationPlan:
    return ActivationPlan(activation="quiet", destination="d", destination_type="actito",
                          target="entity e, table Profiles", remote_name="quiet",
                          members=MembershipChange(desired=10, matched=10, adds=0, removes=0))


def test_text_follows_terraform_grammar() -> None:
    # Scenario: a reviewer reads a plan with resources, members, updates, drift and bad rows.
    text = render_text(Plan(created_at=NOW, activations=(_vip(), _unchanged())))
    assert "  # vip-selligent → selligent-prod (org ACME, list CONTACTS)" in text
    assert "  + static segment VIP_customers  # not found at the destination" in text
    assert "  + field LTV (Numeric)" in text
    assert "~ members  +12,304 −0   match rate 97.1% (361 unmatched, skipped)" in text
    assert "~ profiles 12,304 contacts: LTV" in text
    assert "! 3 rows not synced: null key" in text
    assert "12 members removed outside this tool will be added back" in text
    assert "quiet" not in text
    assert text.rstrip().splitlines()[-1] == (
        "Plan: 2 to create, 0 to update, 0 to delete; members +12,304 −0; "
        "12,304 profile updates.")


def test_attribute_drift_and_what_the_refresh_read_are_said() -> None:
    # Scenario: plan --refresh found values changed at the destination, read at a cost; an
    # Actito activation's values could not be read: said, but not a change.
    vip = _vip().model_copy(update={
        "drift": Drift(added_outside=0, removed_outside=0, changed_outside=140),
        "remote_read": RemoteRead(members=12_304, fields=("LTV", "FIRSTNAME"), calls=14)})
    quiet = _unchanged().model_copy(update={"unobserved": ("attribute drift at d is not "
                                                           "observable",)})
    text = render_text(Plan(created_at=NOW, activations=(vip, quiet)))
    assert ("~ vip-selligent: attributes changed at the destination: 140 contacts will get "
            "their values again") in text
    assert "  refresh  read 12,304 members with LTV, FIRSTNAME (14 calls)" in text
    assert "quiet" not in text  # nothing to change there
    assert render_text(Plan(created_at=NOW, activations=(quiet,))) == (
        "No changes. The destinations match the manifests.\n")
    members_only = _unchanged().model_copy(update={
        "remote_read": RemoteRead(members=10), "warnings": ("w",)})
    assert "  refresh  read 10 members\n" in render_text(
        Plan(created_at=NOW, activations=(members_only,)))


def test_empty_plan_says_no_changes() -> None:
    # Scenario: destinations already match.
    plan = Plan(created_at=NOW, activations=(_unchanged(),))
    assert not plan.has_changes
    assert render_text(plan) == "No changes. The destinations match the manifests.\n"
    assert "No changes." in render_markdown(plan)


def test_json_is_versioned_and_valid_against_the_published_schema() -> None:
    # Scenario: another tool consumes `plan --format json`.
    document = json.loads(render_json(Plan(created_at=NOW, activations=(_vip(), _unchanged()))))
    schema = json.loads((REPO / "schemas/plan.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["format_version"] == "2.4"
    assert document["summary"]["member_adds"] == 12_304
    assert abs(document["activations"][0]["members"]["match_rate"] - 12_304 / 12_665) < 1e-9
    assert document["activations"][0]["resources"][0]["action"] == "+"


def test_markdown_stays_under_githubs_limit_for_500_activations() -> None:
    # Scenario: a big project's PR comment is truncated with a pointer to the artifact.
    plan = Plan(created_at=NOW, activations=tuple(_vip(f"a{n:03d}") for n in range(500)))
    markdown = render_markdown(plan)
    assert len(markdown) < GITHUB_COMMENT_LIMIT
    assert markdown.startswith("### Audience Reconciler plan\n\n**Plan: 1000 to create")
    assert "more activation(s) not shown: see the full plan" in markdown
    assert "<details><summary>Drift since the last apply</summary>" in markdown
    assert "more lines" in markdown


def test_markdown_small_plan_has_every_section() -> None:
    # Scenario: a small plan fits entirely; each activation gets a diff block.
    markdown = render_markdown(Plan(created_at=NOW, activations=(_vip(), _vip("other"))))
    assert markdown.count("```diff") == 3  # two activations + drift
    assert "not shown" not in markdown


def test_failed_activation_is_reported() -> None:
    # Scenario: one activation could not be planned (e.g. a missing field).
    failed = ActivationPlan(activation="broken", destination="d", destination_type="selligent",
                            target="t", remote_name="r", error="field LTV does not exist")
    plan = Plan(created_at=NOW, activations=(failed,))
    text = render_text(plan)
    assert "! cannot plan: field LTV does not exist" in text
    assert "1 activation(s) could not be planned." in text


@pytest.mark.parametrize(("stop", "words"), [
    (GuardStop(kind=GuardKind.MIN_MATCH_RATE, activation="a", measured=0.4123, limit=0.5),
     "match rate 41.2% is under minMatchRate 50%"),
    (GuardStop(kind=GuardKind.MAX_REMOVAL_RATIO, activation="a", measured=0.45, limit=0.1),
     "removes 45.0% of the list's members, over maxRemovalRatio 10%"),
    (GuardStop(kind=GuardKind.EMPTY_AUDIENCE, activation="a", measured=120),
     "the audience is empty (0 rows to sync): apply would remove all 120 members of the list"),
])
def test_guard_verdicts_are_data_said_in_words_by_the_renderer(stop: GuardStop,
                                                               words: str) -> None:
    # Scenario: each guard kind renders its measured value and limit; JSON keeps the data.
    assert describe_stop(stop) == words
    plan = Plan(created_at=datetime(2026, 11, 1, tzinfo=UTC), activations=(
        ActivationPlan(activation="a", destination="d", destination_type="selligent",
                       target="t", remote_name="A", stops=(stop,)),))
    assert f"! stop: {words}" in render_text(plan)
    [rendered] = json.loads(render_json(plan))["activations"][0]["stops"]
    assert rendered == {"kind": stop.kind.value, "activation": "a", "measured": stop.measured,
                        "limit": stop.limit}
