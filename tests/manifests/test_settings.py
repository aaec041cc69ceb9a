"""Defaults merging: activation over destination defaults over built-in defaults."""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.loading import load_project
from reconciler.manifests.models import DeletionPolicy, DuplicateKeys, EverySchedule, Kind
from reconciler.manifests.settings import (
    BUILTIN_WARNINGS,
    EffectiveActivation,
    OriginKind,
    effective_settings,
)
from tests.manifests.conftest import replace_in


def _effective(path: Path, name: str) -> EffectiveActivation:
    project, _ = load_project(path)
    activation = project.of_kind(Kind.ACTIVATION)[name]
    destination = project.of_kind(Kind.DESTINATION)[activation.document.spec.destination]
    settings = effective_settings(activation, destination)
    assert settings is not None
    return settings


def test_activation_relying_entirely_on_defaults(example_copy: Path) -> None:
    # Scenario: churn-selligent sets only its audience; everything else is inherited.
    settings = _effective(example_copy, "churn-selligent")
    assert settings.match_key.destination == "EXTERNAL_ID"
    assert settings.schedule == EverySchedule(every="1h")
    assert [f.destination for f in settings.fields] == ["FIRSTNAME"]
    assert settings.warnings.max_removal_ratio == 0.2 and settings.warnings.min_match_rate == 0.8
    assert settings.warnings.empty_audience is BUILTIN_WARNINGS.empty_audience
    assert settings.origins["matchKey"].kind is OriginKind.DESTINATION_DEFAULTS
    assert settings.origins["matchKey"].position.line == 18  # type: ignore[union-attr]
    assert settings.origins["deletionPolicy"].kind is OriginKind.BUILTIN
    assert settings.deletion_policy is DeletionPolicy.KEEP
    assert settings.selligent_api_name == "Churn_risk"


def test_activation_overrides_field_by_field(example_copy: Path) -> None:
    # Scenario: vip-selligent overrides one warning and adds a field to the default fields.
    settings = _effective(example_copy, "vip-selligent")
    assert settings.warnings.max_removal_ratio == 0.1  # its own
    assert settings.warnings.min_match_rate == 0.8  # from the destination
    assert settings.origins["warnings.maxRemovalRatio"].kind is OriginKind.ACTIVATION
    assert [f.destination for f in settings.fields] == ["FIRSTNAME", "LTV"]
    assert settings.origins["fields.LTV"].kind is OriginKind.ACTIVATION


def test_activation_field_replaces_default_field_of_same_destination(example_copy: Path) -> None:
    # Scenario: the activation maps FIRSTNAME from another column than the default does.
    replace_in(example_copy / "activations/vip-selligent.yaml",
               "    - {source: lifetime_value,",
               "    - {source: given_name, destination: FIRSTNAME}\n"
               "    - {source: lifetime_value,")
    settings = _effective(example_copy, "vip-selligent")
    assert [(f.source, f.destination) for f in settings.fields] == [
        ("given_name", "FIRSTNAME"), ("lifetime_value", "LTV")]


def test_actito_defaults_and_segment_name_as_list_name(example_copy: Path) -> None:
    # Scenario: Actito lists default to the segment's name; validity from the destination.
    churn = _effective(example_copy, "churn-actito")
    sms = _effective(example_copy, "sms-actito")
    assert churn.validity_period == "2d"
    assert churn.origins["validityPeriod"].kind is OriginKind.DESTINATION_DEFAULTS
    assert sms.audience_name == "sms-benelux" and sms.validity_period == "36h"
    assert sms.schedule_interval().total_seconds() == 86400  # type: ignore[union-attr]
    assert sms.schedule.cron == "0 6 * * *"


def test_duplicate_keys_from_built_in_destination_defaults_or_activation(
        example_copy: Path) -> None:
    # Scenario: duplicateKeys is `keep` unless the destination's defaults say `first`, which
    # an activation's own `fail` overrides whole.
    assert _effective(example_copy, "churn-selligent").duplicate_keys is DuplicateKeys.KEEP
    assert _effective(example_copy, "churn-selligent").origins["duplicateKeys"].kind is (
        OriginKind.BUILTIN)
    replace_in(example_copy / "destinations.yaml", "    schedule: {every: 1h}\n",
               "    schedule: {every: 1h}\n    duplicateKeys: first\n")
    replace_in(example_copy / "activations/vip-selligent.yaml", "  warnings:",
               "  duplicateKeys: fail\n  warnings:")
    churn, vip = (_effective(example_copy, name) for name in ("churn-selligent", "vip-selligent"))
    assert (churn.duplicate_keys, vip.duplicate_keys) == (DuplicateKeys.FIRST,
                                                          DuplicateKeys.FAIL)
    assert churn.origins["duplicateKeys"].kind is OriginKind.DESTINATION_DEFAULTS
    assert vip.origins["duplicateKeys"].kind is OriginKind.ACTIVATION
