"""The entry point the CLI calls around an apply: read health before, notify changes after.

Owns routing: each health change goes to every channel in the activation's effective
`warnings.notify`, and, under GitHub Actions, the run's problems become annotations on stdout.
Failed deliveries are printed on stderr, naming the channel, and returned; they never raise.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from reconciler.executing.executor import ActivationResult
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.notifying.annotations import annotation, in_github_actions
from reconciler.notifying.channels import DeliveryError, send
from reconciler.notifying.health import (
    Change,
    Health,
    counts_of,
    health_changes,
    health_of_result,
    read_health,
)
from reconciler.notifying.message import Warning_, render
from reconciler.state import StateReader

GITHUB_ACTIONS = "github-actions"
"""The channel name deliveries as annotations are reported under."""


@dataclass(frozen=True)
class Delivery:
    """One warning given to one channel (or printed as an annotation)."""

    channel: str
    activation: str
    health: Health
    delivered: bool
    error: str | None = None


def previous_health(project: Project, reader: StateReader,
                    activations: Iterable[str]) -> dict[str, Health]:
    """Read before applying: each activation's health after its last finished run."""
    settings = effective_activations(project)
    names = [name for name in activations if name in settings]
    return read_health(reader, {name: settings[name].warnings for name in names}, names)


def notify_results(project: Project, results: Sequence[ActivationResult],
                   previous: Mapping[str, Health], *, now: dt.datetime | None = None,
                   environ: Mapping[str, str] | None = None, out: IO[str] | None = None,
                   err: IO[str] | None = None) -> list[Delivery]:
    """Send a warning for every activation whose health changed since `previous`."""
    settings = effective_activations(project)
    moment = now or dt.datetime.now(dt.UTC)
    out, err = out or sys.stdout, err or sys.stderr
    results = [r for r in results if r.activation in settings]
    by_name = {r.activation: r for r in results}
    warnings = {name: s.warnings for name, s in settings.items()}
    channels = project.of_kind(Kind.NOTIFICATION_CHANNEL)
    deliveries = []
    for change in health_changes(results, previous, warnings):
        warning = _warning(change, settings[change.activation], by_name[change.activation],
                           moment)
        for name in settings[change.activation].warnings.notify or []:
            delivery = _deliver(name, channels.get(name), warning)
            deliveries.append(delivery)
            if delivery.delivered:
                print(f"Warning sent to {name}: {change.activation}: {warning.headline}.",
                      file=out)
            else:
                print(f"warning: notification channel {name!r} did not get the warning for "
                      f"{change.activation}: {delivery.error}", file=err)
    if in_github_actions(os.environ if environ is None else environ):
        deliveries += _annotate(results, previous, settings, moment, out)
    return deliveries


def _warning(change: Change, settings: EffectiveActivation, result: ActivationResult,
             now: dt.datetime) -> Warning_:
    guards = tuple(stop.kind.value for stop in result.stops) \
        if change.current is Health.STOPPED else ()
    return Warning_(change, settings.destination, now, counts_of(result), guards)


def _deliver(name: str, channel: Manifest[Any] | None, warning: Warning_) -> Delivery:
    try:
        send(name, channel, render(warning))
    except DeliveryError as exc:
        return Delivery(name, warning.activation, warning.change.current, False, str(exc))
    return Delivery(name, warning.activation, warning.change.current, True)


def _annotate(results: Sequence[ActivationResult], previous: Mapping[str, Health],
              settings: Mapping[str, EffectiveActivation], now: dt.datetime,
              out: IO[str]) -> list[Delivery]:
    """An annotation for every activation unhealthy in this run, and a notice per recovery."""
    deliveries = []
    for result in results:
        current = health_of_result(result, settings[result.activation].warnings)
        before = previous.get(result.activation, Health.HEALTHY)
        if current is None or (current is Health.HEALTHY and before is Health.HEALTHY):
            continue
        change = Change(result.activation, before, current)
        print(annotation(_warning(change, settings[result.activation], result, now)), file=out)
        deliveries.append(Delivery(GITHUB_ACTIONS, result.activation, current, True))
    return deliveries
