"""What a destination's rules mean for the layers above, asked without naming a vendor.

The scheduler, the status report and the executor ask these questions; the answers live in
each destination's package (e.g. Actito's key-file validity in `actito/targeting.py`).
"""
from __future__ import annotations

import datetime as dt

from reconciler.changes.imports import ImportTarget
from reconciler.destinations.actito import imports as actito_imports
from reconciler.destinations.actito import targeting as actito_targeting
from reconciler.manifests.models import ActitoDestination, SelligentDestination
from reconciler.manifests.settings import EffectiveActivation


def import_target(spec: SelligentDestination | ActitoDestination) -> ImportTarget | None:
    """Where a destination's attribute updates are bulk-imported against a daily quota, or
    None when its updates are not budgeted (Selligent)."""
    if isinstance(spec, ActitoDestination):
        return actito_imports.import_target(spec)
    return None


def list_refresh_deadline(activation: EffectiveActivation,
                          last_success: dt.datetime) -> dt.datetime | None:
    """When the activation's remote list must be written again at the latest, whatever its
    schedule (a list that expires), or None where lists do not expire."""
    if activation.destination_type == "actito":
        return actito_targeting.refresh_deadline(activation, last_success)
    return None
