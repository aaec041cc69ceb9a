"""`reconciler doctor`: every destination of a project checked for readiness, read-only.

A destination that cannot even be opened is a failed finding, not a crash: the others are
still checked. Its unset or empty environment variables are one finding each, all at once.
"""
from __future__ import annotations

from pathlib import Path

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.destinations.actito.readiness import documented_ground
from reconciler.destinations.errors import DestinationError
from reconciler.destinations.factory import open_actito_adapter, open_selligent_adapter
from reconciler.destinations.readiness import Finding, expiry_finding
from reconciler.destinations.selligent.readiness import check_service_account
from reconciler.errors import ReconcilerError
from reconciler.manifests.environment import environment_problems
from reconciler.manifests.models import (
    ActitoDestination,
    DestinationDocument,
    Kind,
    SelligentDestination,
)
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import effective_activations


def check_destinations(project: Project, names: list[str],
                       clock: Clock = SYSTEM_CLOCK) -> dict[str, list[Finding]]:
    """Findings per destination (all of them when `names` is empty)."""
    manifests = project.of_kind(Kind.DESTINATION)
    unknown = [name for name in names if name not in manifests]
    if unknown:
        raise ReconcilerError(f"no destination named {', '.join(unknown)} (defined: "
                              f"{', '.join(sorted(manifests))})")
    settings = effective_activations(project).values()
    found = {name: _unset(manifests[name]) or _check(
        name, manifests[name].document.spec, manifests[name].file.parent, clock)
        for name in (names or sorted(manifests))}
    for name, findings in found.items():
        spec = manifests[name].document.spec
        if isinstance(spec, ActitoDestination):
            findings.append(documented_ground(spec, [a for a in settings
                                                     if a.destination == name]))
    return found


def _unset(manifest: Manifest[DestinationDocument]) -> list[Finding]:
    """Every variable the destination names that is unset or empty (then nothing is called)."""
    return [Finding("environment", False, str(problem))
            for problem in environment_problems([manifest])]


def _check(name: str, spec: SelligentDestination | ActitoDestination, directory: Path,
           clock: Clock) -> list[Finding]:
    try:
        if isinstance(spec, SelligentDestination):
            expiry = expiry_finding(spec.credentials.expires_on, clock.now().date())
            with open_selligent_adapter(name, spec) as adapter:
                found = check_service_account(adapter.client, spec.organization, spec.list)
            return ([expiry] if expiry else []) + found
        structure = open_actito_adapter(name, spec, directory).read_structure()
        return [Finding("authentication and profile table", True,
                        f"table {structure.name} readable ({len(structure.attributes)} "
                        "attributes)")]
    except DestinationError as error:
        return [Finding("reaching the destination", False, str(error))]
    except ReconcilerError as error:  # e.g. an environment variable the manifest names
        return [Finding("opening the destination", False, str(error))]
