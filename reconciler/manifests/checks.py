"""Semantic checks across documents: names, references, destination naming rules, schedules.

Each check appends diagnostics and never stops at the first problem. Checks need no network,
database or environment variable: what only the destination knows (e.g. whether a custom
attribute is unique) is checked again at plan time.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import timedelta

from reconciler.manifests import naming
from reconciler.manifests.diagnostics import Diagnostic, Severity
from reconciler.manifests.models import (
    ActitoDestination,
    ActivationDocument,
    DestinationDocument,
    SelligentDestination,
)
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import EffectiveActivation, OriginKind, effective_activations
from reconciler.manifests.values import parse_duration

# Actito's predefined unique attributes usable as keys; phone's name is inferred (api/actito.md).
ACTITO_BUILTIN_KEYS = ("emailAddress", "gsmNumber")

# (kind that refers, field in spec, kind referred to)
REFERENCES = (
    ("Model", "source", "Source"),
    ("Segment", "model", "Model"),
    ("Activation", "segment", "Segment"),
    ("Activation", "model", "Model"),
    ("Activation", "destination", "Destination"),
)


def check_project(project: Project) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    diagnostics.extend(_duplicate_names(project))
    diagnostics.extend(_dangling_references(project))
    diagnostics.extend(_dangling_channels(project))
    destinations = project.of_kind("Destination")
    activations = project.of_kind("Activation")
    effective = []
    for name, settings in effective_activations(project).items():
        activation = activations[name]
        effective.append((activation, settings))
        destination = destinations.get(settings.destination)
        diagnostics.extend(_activation_checks(activation, destination, settings))
    diagnostics.extend(_list_name_conflicts(effective, destinations))
    return diagnostics


def _error(manifest: Manifest, path: tuple[str | int, ...], message: str,
           severity: Severity = Severity.ERROR) -> Diagnostic:
    field = ".".join(str(p) for p in path)
    return Diagnostic(severity, manifest.locate(*path), field, message)


def _duplicate_names(project: Project) -> Iterator[Diagnostic]:
    first: dict[tuple[str, str], Manifest] = {}
    for manifest in project.manifests:
        key = (manifest.kind, manifest.name)
        if key in first:
            where = first[key].locate("metadata", "name")
            yield _error(manifest, ("metadata", "name"),
                         f"duplicate {manifest.kind} name {manifest.name!r} "
                         f"(first defined at {where}); names must be unique within a kind")
        else:
            first[key] = manifest


def _dangling_references(project: Project) -> Iterator[Diagnostic]:
    for kind, field, target_kind in REFERENCES:
        targets = project.of_kind(target_kind)
        for manifest in project.of_kind(kind).values():
            name = getattr(manifest.document.spec, field)
            if name is None or name in targets:
                continue
            close = difflib.get_close_matches(name, list(targets), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f"; define a {target_kind} named {name!r}" if not targets else
                f"; defined {target_kind}s: {', '.join(sorted(targets))}")
            yield _error(manifest, ("spec", field),
                         f"{kind} {manifest.name!r} refers to {target_kind} {name!r}, "
                         f"which is not defined{hint}")


def _dangling_channels(project: Project) -> Iterator[Diagnostic]:
    """Every `warnings.notify` name must name a NotificationChannel."""
    channels = project.of_kind("NotificationChannel")
    for manifest, path, names in _notify_lists(project):
        for number, name in enumerate(names):
            if name in channels:
                continue
            close = difflib.get_close_matches(name, list(channels), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else (
                f"; defined NotificationChannels: {', '.join(sorted(channels))}" if channels
                else f"; define a NotificationChannel named {name!r}")
            yield _error(manifest, (*path, number),
                         f"{manifest.kind} {manifest.name!r} notifies channel {name!r}, "
                         f"which is not defined{hint}")


def _notify_lists(project: Project) -> Iterator[tuple[Manifest, tuple[str, ...], list[str]]]:
    """The `notify` lists of activations and of destinations' defaults, with their paths."""
    for manifest in project.of_kind("Activation").values():
        activation: ActivationDocument = manifest.document  # type: ignore[assignment]
        if activation.spec.warnings and activation.spec.warnings.notify:
            yield manifest, ("spec", "warnings", "notify"), activation.spec.warnings.notify
    for manifest in project.of_kind("Destination").values():
        destination: DestinationDocument = manifest.document  # type: ignore[assignment]
        defaults = destination.spec.defaults
        if defaults and defaults.warnings and defaults.warnings.notify:
            yield (manifest, ("spec", "defaults", "warnings", "notify"),
                   defaults.warnings.notify)


def _activation_checks(
    activation: Manifest, destination: Manifest | None, settings: EffectiveActivation
) -> Iterator[Diagnostic]:
    doc: ActivationDocument = activation.document  # type: ignore[assignment]
    if settings.match_key is None and destination is not None:
        yield _error(activation, ("spec",),
                     f"activation {activation.name!r} has no matchKey: set spec.matchKey, or "
                     f"defaults.matchKey on destination {destination.name!r}")
    seen: set[str] = set()
    for number, mapping in enumerate(doc.spec.fields or []):
        if mapping.destination in seen:
            yield _error(activation, ("spec", "fields", number, "destination"),
                         f"destination field {mapping.destination!r} is mapped twice")
        seen.add(mapping.destination)
    if destination is None:
        return
    dest: DestinationDocument = destination.document  # type: ignore[assignment]
    if isinstance(dest.spec, SelligentDestination):
        yield from _selligent_checks(activation, settings)
    elif isinstance(dest.spec, ActitoDestination):
        yield from _actito_checks(activation, destination, dest.spec, settings)


def _audience_path(activation: Manifest) -> tuple[str, ...]:
    doc: ActivationDocument = activation.document  # type: ignore[assignment]
    if doc.spec.audience_name is not None:
        return ("spec", "audienceName")
    return ("spec", "segment") if doc.spec.segment is not None else ("spec", "model")


def _selligent_checks(activation: Manifest, settings: EffectiveActivation) -> Iterator[Diagnostic]:
    refusal = naming.selligent_api_name_refusal(settings.audience_name)
    if refusal is not None:
        yield _error(activation, _audience_path(activation), refusal)
    elif naming.selligent_api_name_differs(settings.audience_name):
        yield _error(activation, _audience_path(activation),
                     f"audience name {settings.audience_name!r} gives the Selligent api name "
                     f"{settings.selligent_api_name!r} (api names hold only letters, digits and "
                     "underscores, and do not start with a digit)", Severity.NOTE)
    if activation.document.spec.validity_period is not None:  # type: ignore[union-attr]
        yield _error(activation, ("spec", "validityPeriod"),
                     "validityPeriod applies to Actito external target lists only; "
                     "Selligent ignores it", Severity.WARNING)


def _actito_checks(
    activation: Manifest,
    destination: Manifest,
    spec: ActitoDestination,
    settings: EffectiveActivation,
) -> Iterator[Diagnostic]:
    key = settings.match_key
    allowed = (*ACTITO_BUILTIN_KEYS, *spec.unique_attributes)
    if key is not None and key.destination not in allowed:
        from_activation = settings.origins["matchKey"].kind is OriginKind.ACTIVATION
        owner = activation if from_activation else destination
        path = ("spec", "matchKey", "destination") if from_activation else (
            "spec", "defaults", "matchKey", "destination")
        yield _error(owner, path,
                     f"Actito match key {key.destination!r} is not a unique attribute: use "
                     f"{', '.join(allowed)}, or list a unique custom attribute in "
                     f"destination {destination.name!r} spec.uniqueAttributes")
    interval = settings.schedule_interval()
    if settings.validity_period and interval is not None:
        validity = parse_duration(settings.validity_period)
        if validity < interval:
            where: dict[OriginKind, tuple[Manifest, tuple[str, ...]]] = {
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


def _list_name_conflicts(
    effective: list[tuple[Manifest, EffectiveActivation]], destinations: dict[str, Manifest]
) -> Iterator[Diagnostic]:
    """Two activations may not own the same remote list (same api name on the same list)."""
    owners: dict[tuple[str, ...], Manifest] = {}
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
