"""What Selligent declares to the layers above: audiences become static segments (named by
`manifests/naming.py`); no import quota, no expiring lists."""
from __future__ import annotations

from reconciler.changes.resources import ResourceType
from reconciler.destinations.base import DestinationCapabilities
from reconciler.manifests.settings import EffectiveActivation


def _describe(activation: EffectiveActivation) -> str:
    return f"static segment {activation.selligent_api_name}"


# Api names compare case-insensitively ([I], README "Inferred behaviours").
CAPABILITIES = DestinationCapabilities(list_type=ResourceType.SELLIGENT_SEGMENT,
                                       describe_list=_describe, case_insensitive_names=True)
