"""What Actito declares to the layers above: audiences become external target lists whose
key file expires (`targeting.py`), and attribute updates are bulk imports under a daily
quota per table (`imports.py`)."""
from __future__ import annotations

import datetime as dt

from reconciler.changes.resources import ResourceType
from reconciler.destinations.actito.imports import import_target
from reconciler.destinations.actito.targeting import refresh_deadline
from reconciler.destinations.base import DestinationCapabilities
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration


def _describe(activation: EffectiveActivation) -> str:
    return f"target list {activation.audience_name!r} (valid {activation.validity_period})"


def _file_expiry(activation: EffectiveActivation, dropped: dt.datetime) -> dt.datetime:
    """A file dropped at `dropped` targets until its list's validity runs out."""
    return dropped + parse_duration(activation.target_list_validity)


CAPABILITIES = DestinationCapabilities(
    list_type=ResourceType.ACTITO_TARGET_LIST, describe_list=_describe,
    import_target=import_target, refresh_deadline=refresh_deadline, file_expiry=_file_expiry,
    sends_whole_list=True)  # a key file holds the whole list (writer.py)
