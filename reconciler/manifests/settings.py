"""Effective activation settings: the activation's own, over its destination's `defaults:`,
over the built-in defaults — with the origin of every value, so users see where it came from.

Merge rules (documented in the README):
- `matchKey`, `schedule`, `deletionPolicy`, `validityPeriod`, `duplicateKeys`, `etlId`: the
  activation's value wins whole.
- the Actito destination's `emptyValues` is carried as it is (the plan says how NULLs go out).
- `warnings`: merged field by field.
- `fields`: the union of both lists, matched by destination field; the activation's mapping
  wins for the same destination field.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from reconciler.manifests import naming
from reconciler.manifests.diagnostics import Position
from reconciler.manifests.models import (
    ActivationDocument,
    ActivationSettings,
    CronSchedule,
    DeletionPolicy,
    DestinationDocument,
    DuplicateKeys,
    EmptyValues,
    EverySchedule,
    FieldMapping,
    Kind,
    MatchKey,
    TargetListSettings,
    Warnings,
)
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.values import cron_max_interval, parse_duration

BUILTIN_WARNINGS = Warnings(
    on_failure=True,
    max_removal_ratio=0.3,
    min_match_rate=0.0,
    empty_audience=True,
    max_rejected_ratio=0.05,
    notify=[],
)
BUILTIN_VALIDITY_PERIOD = naming.ACTITO_DEFAULT_VALIDITY_PERIOD


class OriginKind(enum.StrEnum):
    ACTIVATION = "activation"
    DESTINATION_DEFAULTS = "destination defaults"
    BUILTIN = "built-in default"


@dataclass(frozen=True)
class Origin:
    kind: OriginKind
    position: Position | None = None

    def describe(self) -> str:
        return f"{self.kind.value} ({self.position})" if self.position else self.kind.value


@dataclass(frozen=True)
class EffectiveActivation:
    name: str
    destination: str
    destination_type: str
    segment: str | None
    model: str | None
    audience_name: str
    description: str | None
    match_key: MatchKey  # an activation without one has no effective settings
    fields: tuple[FieldMapping, ...]
    schedule: Literal["manual"] | EverySchedule | CronSchedule
    warnings: Warnings
    deletion_policy: DeletionPolicy
    validity_period: str | None  # Actito only
    duplicate_keys: DuplicateKeys = DuplicateKeys.KEEP
    target_list: TargetListSettings | None = None  # Actito only
    etl_id: str | None = None  # Actito only: a predefined ETL (trigger-execution)
    empty_values: EmptyValues = EmptyValues.CLEAR  # Actito only: the destination's emptyValues
    origins: dict[str, Origin] = field(default_factory=dict)

    @property
    def selligent_api_name(self) -> str:
        """The api name of the Selligent segment of this audience (see naming.py)."""
        return naming.selligent_api_name(self.audience_name)

    @property
    def target_list_validity(self) -> str:
        """Actito: how long the external target list is valid (the built-in default if unset)."""
        return self.validity_period or naming.ACTITO_DEFAULT_VALIDITY_PERIOD

    def schedule_interval(self) -> timedelta | None:
        """The longest time between two scheduled runs; None for a manual schedule."""
        if isinstance(self.schedule, EverySchedule):
            return parse_duration(self.schedule.every)
        if isinstance(self.schedule, CronSchedule):
            return cron_max_interval(self.schedule.cron, self.schedule.timezone)
        return None


def effective_activations(project: Project) -> dict[str, EffectiveActivation]:
    """Every activation's effective settings, by name; one without a match key is left out
    (validate reports it as an error, and an invalid project is never planned)."""
    destinations = project.of_kind(Kind.DESTINATION)
    result = {}
    for name, activation in project.of_kind(Kind.ACTIVATION).items():
        destination = destinations.get(activation.document.spec.destination)
        settings = effective_settings(activation, destination)
        if settings is not None:
            result[name] = settings
    return result


def effective_settings(
    activation: Manifest[ActivationDocument], destination: Manifest[DestinationDocument] | None
) -> EffectiveActivation | None:
    """Merge one activation over its destination's defaults (the destination may be missing);
    None when neither gives a match key."""
    doc = activation.document
    spec = doc.spec
    dest_doc = destination.document if destination else None
    defaults = dest_doc.spec.defaults if dest_doc and dest_doc.spec.defaults else None
    origins: dict[str, Origin] = {}

    def pick(name: str, builtin: Any) -> Any:
        own = getattr(spec, name)
        alias = ActivationSettings.model_fields[name].alias or name
        if own is not None:
            origins[alias] = Origin(OriginKind.ACTIVATION, activation.locate("spec", alias))
            return own
        inherited = getattr(defaults, name) if defaults else None
        if inherited is not None and destination is not None:
            position = destination.locate("spec", "defaults", alias)
            origins[alias] = Origin(OriginKind.DESTINATION_DEFAULTS, position)
            return inherited
        origins[alias] = Origin(OriginKind.BUILTIN)
        return builtin

    match_key: MatchKey | None = pick("match_key", None)
    if match_key is None:
        return None
    is_actito = dest_doc is not None and dest_doc.spec.type == "actito"
    return EffectiveActivation(
        name=doc.metadata.name,
        destination=spec.destination,
        destination_type=dest_doc.spec.type if dest_doc else "unknown",
        segment=spec.segment,
        model=spec.model,
        audience_name=naming.audience_name(spec.audience_name, spec.segment, spec.model,
                                           doc.metadata.name),
        description=spec.description,
        match_key=match_key,
        fields=_merge_fields(activation, destination, spec.fields, defaults, origins),
        schedule=pick("schedule", "manual"),
        warnings=_merge_warnings(activation, destination, spec.warnings, defaults, origins),
        deletion_policy=pick("deletion_policy", DeletionPolicy.KEEP),
        validity_period=pick("validity_period", BUILTIN_VALIDITY_PERIOD if is_actito else None),
        duplicate_keys=pick("duplicate_keys", DuplicateKeys.KEEP),
        target_list=pick("target_list", TargetListSettings() if is_actito else None),
        etl_id=pick("etl_id", None),
        empty_values=_empty_values(dest_doc.spec if dest_doc else None),
        origins=origins,
    )


def _empty_values(spec: object) -> EmptyValues:
    return getattr(spec, "empty_values", None) or EmptyValues.CLEAR


def _merge_warnings(
    activation: Manifest[ActivationDocument],
    destination: Manifest[DestinationDocument] | None,
    own: Warnings | None,
    defaults: ActivationSettings | None,
    origins: dict[str, Origin],
) -> Warnings:
    inherited = defaults.warnings if defaults else None
    merged: dict[str, Any] = {}
    for name, info in Warnings.model_fields.items():
        alias = info.alias or name
        key = f"warnings.{alias}"
        if own is not None and getattr(own, name) is not None:
            merged[name] = getattr(own, name)
            position = activation.locate("spec", "warnings", alias)
            origins[key] = Origin(OriginKind.ACTIVATION, position)
        elif inherited is not None and getattr(inherited, name) is not None and destination:
            merged[name] = getattr(inherited, name)
            position = destination.locate("spec", "defaults", "warnings", alias)
            origins[key] = Origin(OriginKind.DESTINATION_DEFAULTS, position)
        else:
            merged[name] = getattr(BUILTIN_WARNINGS, name)
            origins[key] = Origin(OriginKind.BUILTIN)
    return Warnings(**merged)


def _merge_fields(
    activation: Manifest[ActivationDocument],
    destination: Manifest[DestinationDocument] | None,
    own: list[FieldMapping] | None,
    defaults: ActivationSettings | None,
    origins: dict[str, Origin],
) -> tuple[FieldMapping, ...]:
    merged: dict[str, FieldMapping] = {}
    for number, mapping in enumerate(defaults.fields or [] if defaults else []):
        if destination is not None:
            position = destination.locate("spec", "defaults", "fields", number)
            origins[f"fields.{mapping.destination}"] = Origin(
                OriginKind.DESTINATION_DEFAULTS, position
            )
        merged[mapping.destination] = mapping
    for number, mapping in enumerate(own or []):
        position = activation.locate("spec", "fields", number)
        origins[f"fields.{mapping.destination}"] = Origin(OriginKind.ACTIVATION, position)
        merged.pop(mapping.destination, None)
        merged[mapping.destination] = mapping
    return tuple(merged.values())
