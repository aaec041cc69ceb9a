"""A local Actito: its REST API (both path styles), ETL executions, external target lists fed
by a real FTPS and SFTP server, limits and faults. Every inferred behaviour is in inferred.py.
"""
from reconciler.sandbox.actito.config import ActitoSandboxConfig, TransferUser
from reconciler.sandbox.actito.server import ActitoSandbox, TransferEndpoint, start_actito_sandbox

__all__ = [
    "ActitoSandbox", "ActitoSandboxConfig", "TransferEndpoint", "TransferUser",
    "start_actito_sandbox",
]
