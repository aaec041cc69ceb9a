"""What a destination's rules mean for the layers above, asked without naming a vendor.

Each destination package declares its `DestinationCapabilities` (destinations/base.py); the
planner, the scheduler, `status` and `show` ask them by destination type. This registry is
the one place outside a vendor's package that knows the vendors' names.
"""
from __future__ import annotations

import datetime as dt

from reconciler.changes.imports import ImportTarget
from reconciler.destinations.actito.capabilities import CAPABILITIES as ACTITO
from reconciler.destinations.base import DestinationCapabilities
from reconciler.destinations.selligent.capabilities import CAPABILITIES as SELLIGENT
from reconciler.manifests.models import ActitoDestination, SelligentDestination
from reconciler.manifests.settings import EffectiveActivation

_BY_TYPE: dict[str, DestinationCapabilities] = {"selligent": SELLIGENT, "actito": ACTITO}


def capabilities_of(destination_type: str) -> DestinationCapabilities | None:
    """The capabilities of a destination type (None for a type this version does not know,
    e.g. one recorded in the state by another version)."""
    return _BY_TYPE.get(destination_type)


def import_target(spec: SelligentDestination | ActitoDestination) -> ImportTarget | None:
    """Where a destination's attribute updates are bulk-imported against a daily quota, or
    None when its updates are not budgeted."""
    found = capabilities_of(spec.type)
    return found.import_target(spec) if found else None


def list_refresh_deadline(activation: EffectiveActivation,
                          last_success: dt.datetime) -> dt.datetime | None:
    """When the activation's remote list must be written again at the latest, whatever its
    schedule (a list that expires), or None where lists do not expire."""
    found = capabilities_of(activation.destination_type)
    return found.refresh_deadline(activation, last_success) if found else None
