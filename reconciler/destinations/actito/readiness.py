"""What `reconciler doctor` says of an Actito destination besides reaching it: which of its
activations rest on routes no public source documents (routes.py's table, with the
manifest's replacements), so a team sees every guess before its first real apply."""
from __future__ import annotations

from collections.abc import Iterable

from reconciler.destinations.actito.observer import operations_used
from reconciler.destinations.actito.routes import RouteBook
from reconciler.destinations.readiness import Finding
from reconciler.manifests.models import ActitoDestination
from reconciler.manifests.settings import EffectiveActivation


def documented_ground(spec: ActitoDestination,
                      activations: Iterable[EffectiveActivation]) -> Finding:
    """One finding: the inferred operations each activation may use (none: all documented).
    Attribute creation counts for every mapping with `create: true` (whether the attribute
    is missing is known at plan time)."""
    book = RouteBook.for_destination(spec)
    lines = []
    for activation in activations:
        used = operations_used(activation, [], book.documented_only,
                               spec.profile_export is not None)
        if any(m.create for m in activation.fields):
            used.append("createAttribute")
        inferred = book.inferred(used)
        if inferred:
            lines.append(f"{activation.name}: " + ", ".join(r.operation for r in inferred))
    if not lines:
        return Finding("documented ground", True,
                       "every Actito operation its activations use is documented")
    refused = " (api.documentedOnly refuses them)" if book.documented_only else ""
    return Finding("documented ground", not book.documented_only,
                   "undocumented Actito routes in use" + refused + ": " + "; ".join(lines)
                   + " — confirm them with Actito or replace them under api.routes")
