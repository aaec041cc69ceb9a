"""A local Actito: its REST API (both path styles), ETL executions, external target lists fed
by a real FTPS and SFTP server, limits and faults. Every inferred behaviour is in inferred.py.

The servers (and paramiko, pyftpdlib) load when first asked for: a command that only names
the sandbox's settings (`reconciler plan`, `apply`, … import the CLI's `demo` and `sandbox`
commands) does not pay for them at start-up.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.sandbox.actito.config import ActitoSandboxConfig, TransferUser

if TYPE_CHECKING:
    from reconciler.sandbox.actito.server import (
        ActitoSandbox,
        TransferEndpoint,
        start_actito_sandbox,
    )

_SERVER = ("ActitoSandbox", "TransferEndpoint", "start_actito_sandbox")

__all__ = [
    "ActitoSandbox", "ActitoSandboxConfig", "TransferEndpoint", "TransferUser",
    "start_actito_sandbox",
]


def __getattr__(name: str) -> Any:
    if name in _SERVER:
        from reconciler.sandbox.actito import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
