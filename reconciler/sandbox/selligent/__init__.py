"""A local sandbox of the Selligent (Marigold Engage) v1 REST API under /Portal/Api.

Start it with `start_selligent_sandbox(SelligentSandboxConfig(...))`; behaviours no source
confirms live in `inferred.py`.
"""
from reconciler.sandbox.selligent.app import ServiceAccount
from reconciler.sandbox.selligent.server import (
    SelligentSandbox,
    SelligentSandboxConfig,
    start_selligent_sandbox,
)

__all__ = [
    "SelligentSandbox", "SelligentSandboxConfig", "ServiceAccount", "start_selligent_sandbox",
]
