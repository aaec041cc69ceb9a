"""The Selligent (Marigold Engage) destination: wire client, adapter, error mapping."""
from reconciler.destinations.selligent.adapter import (
    FieldInfo,
    FieldSpec,
    ListInfo,
    SegmentInfo,
    SelligentAdapter,
)
from reconciler.destinations.selligent.client import SelligentClient
from reconciler.destinations.selligent.results import DataResult, InvalidRecord
from reconciler.destinations.selligent.transport import SelligentLimits

__all__ = [
    "DataResult", "FieldInfo", "FieldSpec", "InvalidRecord", "ListInfo", "SegmentInfo",
    "SelligentAdapter", "SelligentClient", "SelligentLimits",
]
