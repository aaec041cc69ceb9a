"""Semantic checks across documents: names, references, destination naming rules, schedules,
segment values against declared column types (`conditiontypes.py`).

Each check appends diagnostics and never stops at the first problem. Checks need no network,
database or environment variable: what only the destination knows (e.g. whether a custom
attribute is unique) is checked again at plan time.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reconciler.manifests import naming
from reconciler.manifests.conditiontypes import check_condition_types
from reconciler.manifests.diagnostics import Diagnostic, Severity
from reconciler.manifests.models import (
    ActitoDestination,
    ActivationDocument,
    DestinationDocument,
    Document,
    EmptyValues,
    Kind,
    SelligentDestination,
)
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import EffectiveActivation, OriginKind, effective_settings
from reconciler.manifests.values import parse_duration

# Actito's predefined unique attributes usable as keys; phone's name is inferred (api/actito.md).
ACTITO_BUILTIN_KEYS = ("emailAddress", "gsmNumber")

# (kind that refers, field in spec, kind referred to)
REFERENCES = (
    (Kind.MODEL, "source", Kind.SOURCE),
    (Kind.SEGMENT, "model", Kind.MODEL),
    (Kind.ACTIVATION, "segment", Kind.SEGMENT),
    (Kind.ACTIVATION, "model", Kind.MODEL),
    (Kind.ACTIVATION, "destination", Kind.DESTINATION),
)


def check_project(project: Project, unseen: Unseen | None = None) -> list[Diagnostic]:
    """The problems across documents; `unseen`: what may be defined by documents that could
    not be read or validated (their own errors are reported: references to them are not)."""
    unseen = unseen or Unseen()
    diagnostics: list[Diagnostic] = []
    diagnostics.extend(_duplicate_names(project))
    diagnostics.extend(_dangling_references(project, unseen))
    diagnostics.extend(_dangling_channels(project, unseen))
    diagnostics.extend(_deprecated_fields(project))
    diagnostics.extend(check_condition_types(project))
    destinations = project.of_kind(Kind.DESTINATION)
    effective = []
    for activation in project.of_kind(Kind.ACTIVATION).values():
        destination = destinations.get(activation.document.spec.destination)
        diagnostics.extend(_mapped_twice(activation))
        settings = effective_settings(activation, destination)
        if settings is None:  # no match key: nothing else about it can be worked out
            if destination is not None:
                diagnostics.append(_error(
                    activation, ("spec",), f"activation {activation.name!r} has no matchKey: "
                    f"set spec.matchKey, or defaults.matchKey on destination "
                    f"{destination.name!r}"))
            continue
        effective.append((activation, settings))
        diagnostics.extend(_activation_checks(activation, destination, settings))
    diagnostics.extend(_list_name_conflicts(effective, destinations))
    return diagnostics


def _error(manifest: Manifest[Any], path: tuple[str | int, ...], message: str,
           severity: Severity = Severity.ERROR) -> Diagnostic:
    field = ".".join(str(p) for p in path)
    return Diagnostic(severity, manifest.locate(*path), field, message)


def _deprecated_fields(project: Project) -> Iterator[Diagnostic]:
    for model in project.of_kind(Kind.MODEL).values():
        if model.document.spec.primary_key is not None:
            yield _error(model, ("spec", "primaryKey"), "primaryKey is deprecated and ignored: "
                         "members are identified (and checked for nulls and duplicates) by "
                         "each activation's matchKey.source; remove this line",
                         Severity.WARNING)


def _duplicate_names(project: Project) -> Iterator[Diagnostic]:
    first: dict[tuple[str, str], Manifest[Document]] = {}
    for manifest in project.manifests:
        key = (manifest.kind, manifest.name)
        if key in first:
            where = first[key].locate("metadata", "name")
            yield _error(manifest, ("metadata", "name"),
                         f"duplicate {manifest.kind} name {manifest.name!r} "
                         f"(first defined at {where}); names must be unique within a kind")
        else:
            first[key] = manifest


@dataclass(frozen=True)
class Unseen:
    """Documents the checks cannot see: a file that is not valid YAML may define anything;
    a document that failed validation still names its kind and name."""

    unreadable_files: bool = False
    invalid: frozenset[tuple[str, str]] = frozenset()  # (kind, name)

    def may_define(self, kind: str, name: str) -> bool:
        return self.unreadable_files or (kind, name) in self.invalid


def _dangling_references(project: Project, unseen: Unseen) -> Iterator[Diagnostic]:
    for kind, field, target_kind in REFERENCES:
        targets = project.of_kind(target_kind)
        for manifest in project.of_kind(kind).values():
            name = getattr(manifest.document.spec, field)
            if name is None or name in targets or unseen.may_define(target_kind, name):
                continue
            close = difflib.get_close_matches(name, list(targets), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f"; define a {target_kind} named {name!r}" if not targets else
                f"; defined {target_kind}s: {', '.join(sorted(targets))}")
            yield _error(manifest, ("spec", field),
                         f"{kind} {manifest.name!r} refers to {target_kind} {name!r}, "
                         f"which is not defined{hint}")


def _dangling_channels(project: Project, unseen: Unseen) -> Iterator[Diagnostic]:
    """Every `warnings.notify` name must name a NotificationChannel."""
    channels = project.of_kind(Kind.NOTIFICATION_CHANNEL)
    for manifest, path, names in _notify_lists(project):
        for number, name in enumerate(names):
            if name in channels or unseen.may_define(Kind.NOTIFICATION_CHANNEL, name):
                continue
            close = difflib.get_close_matches(name, list(channels), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f"; defined NotificationChannels: {', '.join(sorted(channels))}" if channels
                else f"; define a NotificationChannel named {name!r}")
            yield _error(manifest, (*path, number),
                         f"{manifest.kind} {manifest.name!r} notifies channel {name!r}, "
                         f"which is not defined{hint}")


def _notify_lists(
    project: Project,
) -> Iterator[tuple[Manifest[Any], tuple[str, ...], list[str]]]:
    """The `notify` lists of activations and of destinations' defaults, with their paths."""
    for activation in project.of_kind(Kind.ACTIVATION).values():
        warnings = activation.document.spec.warnings
        if warnings and warnings.notify:
            yield activation, ("spec", "warnings", "notify"), warnings.notify
    for manifest in project.of_kind(Kind.DESTINATION).values():
        defaults = manifest.document.spec.defaults
        if defaults and defaults.warnings and defaults.warnings.notify:
            yield (manifest, ("spec", "defaults", "warnings", "notify"),
                   defaults.warnings.notify)


def _mapped_twice(activation: Manifest[ActivationDocument]) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for number, mapping in enumerate(activation.document.spec.fields or []):
        if mapping.destination in seen:
            yield _error(activation, ("spec", "fields", number, "destination"),
                         f"destination field {mapping.destination!r} is mapped twice")
        seen.add(mapping.destination)


def _activation_checks(
    activation: Manifest[ActivationDocument],
    destination: Manifest[DestinationDocument] | None,
    settings: EffectiveActivation,
) -> Iterator[Diagnostic]:
    if destination is None:
        return
    spec = destination.document.spec
    if isinstance(spec, SelligentDestination):
        yield from _selligent_checks(activation, settings)
    elif isinstance(spec, ActitoDestination):
        yield from _actito_checks(activation, destination, spec, settings)


def _audience_path(activation: Manifest[ActivationDocument]) -> tuple[str, ...]:
    doc = activation.document
    if doc.spec.audience_name is not None:
        return ("spec", "audienceName")
    return ("spec", "segment") if doc.spec.segment is not None else ("spec", "model")


def _selligent_checks(
    activation: Manifest[ActivationDocument], settings: EffectiveActivation
) -> Iterator[Diagnostic]:
    refusal = naming.selligent_api_name_refusal(settings.audience_name)
    if refusal is not None:
        yield _error(activation, _audience_path(activation), refusal)
    elif naming.selligent_api_name_differs(settings.audience_name):
        yield _error(activation, _audience_path(activation),
                     f"audience name {settings.audience_name!r} gives the Selligent api name "
                     f"{settings.selligent_api_name!r} (api names hold only letters, digits and "
                     "underscores, and do not start with a digit)", Severity.NOTE)
    if activation.document.spec.validity_period is not None:
        yield _error(activation, ("spec", "validityPeriod"),
                     "validityPeriod applies to Actito external target lists only; "
                     "Selligent ignores it", Severity.WARNING)
    if activation.document.spec.target_list is not None:
        yield _error(activation, ("spec", "targetList"),
                     "targetList applies to Actito external target lists only; "
                     "Selligent ignores it", Severity.WARNING)
    if activation.document.spec.etl_id is not None:
        yield _error(activation, ("spec", "etlId"),
                     "etlId names an Actito ETL definition; a Selligent activation cannot "
                     "use one")


def _actito_checks(
    activation: Manifest[ActivationDocument],
    destination: Manifest[DestinationDocument],
    spec: ActitoDestination,
    settings: EffectiveActivation,
) -> Iterator[Diagnostic]:
    key = settings.match_key
    allowed = (*ACTITO_BUILTIN_KEYS, *spec.unique_attributes)
    if key.destination not in allowed:
        from_activation = settings.origins["matchKey"].kind is OriginKind.ACTIVATION
        owner = activation if from_activation else destination
        path = ("spec", "matchKey", "destination") if from_activation else (
            "spec", "defaults", "matchKey", "destination")
        yield _error(owner, path,
                     f"Actito match key {key.destination!r} is not a unique attribute: use "
                     f"{', '.join(allowed)}, or list a unique custom attribute in "
                     f"destination {destination.name!r} spec.uniqueAttributes")
    yield from _actito_attribute_names(activation, settings)
    yield from _actito_documented_only(activation, destination, spec, settings)
    if settings.etl_id is not None and spec.empty_values is EmptyValues.SKIP:
        from_activation = settings.origins["etlId"].kind is OriginKind.ACTIVATION
        yield _error(activation if from_activation else destination,
                     ("spec", "etlId") if from_activation else ("spec", "defaults", "etlId"),
                     f"etlId {settings.etl_id!r} cannot be used with destination "
                     f"{destination.name!r} emptyValues: skip: a predefined ETL's columns "
                     "are fixed, so a NULL could not be left out; use emptyValues: clear or "
                     "no etlId")
    interval = settings.schedule_interval()
    if settings.validity_period and interval is not None:
        validity = parse_duration(settings.validity_period)
        if validity < interval:
            where: dict[OriginKind, tuple[Manifest[Any], tuple[str, ...]]] = {
                OriginKind.ACTIVATION: (activation, ("spec", "validityPeriod")),
                OriginKind.DESTINATION_DEFAULTS: (
                    destination, ("spec", "defaults", "validityPeriod")),
                OriginKind.BUILTIN: (activation, ("spec", "schedule")),
            }
            owner, field_path = where[settings.origins["validityPeriod"].kind]
            yield _error(owner, field_path,
                         f"the external target list of {activation.name!r} is valid for "
                         f"{settings.validity_period} but the schedule runs only every "
                         f"{_human(interval)}: the list will expire between syncs; make "
                         "validityPeriod longer than the schedule interval", Severity.WARNING)


# [C] evidence §3: an attribute's technical name is at most 50 characters (and immutable).
ACTITO_ATTRIBUTE_NAME_MAX = 50
# Operations `targetList.manage: api` needs (the names of the Actito route table).
ACTITO_LIST_OPERATIONS = ("listLocations", "createLocation", "listSynchronizations",
                          "createSynchronization", "listTargetLists", "createTargetList",
                          "getTargetList", "deleteTargetList")


def _actito_attribute_names(activation: Manifest[ActivationDocument],
                            settings: EffectiveActivation) -> Iterator[Diagnostic]:
    for index, mapping in enumerate(settings.fields):
        if mapping.create and len(mapping.destination) > ACTITO_ATTRIBUTE_NAME_MAX:
            yield _error(activation, ("spec", "fields", str(index), "destination"),
                         f"Actito attribute name {mapping.destination!r} has "
                         f"{len(mapping.destination)} characters; Actito allows at most "
                         f"{ACTITO_ATTRIBUTE_NAME_MAX}, and a name cannot be changed once "
                         "created")


def _actito_documented_only(activation: Manifest[ActivationDocument],
                            destination: Manifest[DestinationDocument], spec: ActitoDestination,
                            settings: EffectiveActivation) -> Iterator[Diagnostic]:
    """`api.documentedOnly` with an activation that needs inferred list routes."""
    target = settings.target_list
    if not spec.api.documented_only or target is None or target.manage != "api":
        return
    missing = [o for o in ACTITO_LIST_OPERATIONS if o not in spec.api.routes]
    if missing:
        yield _error(activation, ("spec", "targetList", "manage"),
                     f"targetList.manage: api sets the list up through undocumented Actito "
                     f"routes ({', '.join(missing)}) and destination {destination.name!r} sets "
                     "api.documentedOnly: true: set the list up in the portal "
                     "(manage: portal) or give those routes under api.routes")


def _list_name_conflicts(
    effective: list[tuple[Manifest[ActivationDocument], EffectiveActivation]],
    destinations: dict[str, Manifest[DestinationDocument]],
) -> Iterator[Diagnostic]:
    """Two activations may not own the same remote list (same api name on the same list)."""
    owners: dict[tuple[str, ...], Manifest[ActivationDocument]] = {}
    for activation, settings in effective:
        destination = destinations.get(settings.destination)
        if destination is None:
            continue
        spec = destination.document.spec
        if isinstance(spec, SelligentDestination):
            key: tuple[str, ...] = ("selligent", spec.base_url, spec.organization, spec.list,
                                    settings.selligent_api_name.lower())
            what = f"Selligent segment {settings.selligent_api_name!r} of list {spec.list!r}"
        elif isinstance(spec, ActitoDestination):
            key = ("actito", spec.base_url, spec.entity, settings.audience_name.lower())
            what = f"Actito external target list {settings.audience_name!r}"
        else:
            continue
        if key in owners:
            yield _error(activation, _audience_path(activation),
                         f"{what} is already owned by activation {owners[key].name!r} "
                         f"({owners[key].locate(*_audience_path(owners[key]))}); give one of "
                         "them another audienceName")
        else:
            owners[key] = activation


def _human(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
