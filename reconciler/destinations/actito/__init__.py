"""Actito: the wire client (client.py), its errors, limits, file writing and transfer, and the
adapter (adapter.py) the planner and executor use. Inferred routes are marked [I] where used.
"""
from reconciler.destinations.actito.adapter import ActitoAdapter
from reconciler.destinations.actito.limits import ActitoLimits
from reconciler.destinations.actito.models import AttributeSpec, ValueType
from reconciler.destinations.actito.transfer import FileTransferSettings, TransferProtocol
from reconciler.destinations.http import RetryPolicy

__all__ = [
    "ActitoAdapter", "ActitoLimits", "AttributeSpec", "FileTransferSettings", "RetryPolicy",
    "TransferProtocol", "ValueType",
]
