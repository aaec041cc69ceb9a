"""Aiming a copy of the example project at running sandboxes (demo and end-to-end tests).

The example manifests name the sandboxes' default addresses; sandboxes started on free ports
(so a demo or a test never collides with `reconciler sandbox`) need a copy whose destinations
point at them instead.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.sandbox.actito import ActitoSandbox
    from reconciler.sandbox.selligent import SelligentSandbox

DEFAULT_SELLIGENT_URL = "http://127.0.0.1:8781/Portal/Api"
DEFAULT_ACTITO_URL = "http://127.0.0.1:8782"
DEFAULT_FTPS_PORT = "port: 8721"
DEFAULT_CA_FILE = "../.reconciler/sandbox/actito/ftps-cert.pem"


def copy_project_for(source: Path, target: Path, selligent: SelligentSandbox,
                     actito: ActitoSandbox) -> Path:
    """Copy the project at `source` to `target`, its destinations aimed at these sandboxes."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    destinations = target / "destinations.yaml"
    text = destinations.read_text("utf-8")
    for old, new in ((DEFAULT_SELLIGENT_URL, selligent.url), (DEFAULT_ACTITO_URL, actito.url),
                     (DEFAULT_FTPS_PORT, f"port: {actito.ftps.port}"),
                     (DEFAULT_CA_FILE, str(actito.ftps.ca_file))):
        if old not in text:
            raise ValueError(f"{destinations} no longer names {old!r}; update {__name__}")
        text = text.replace(old, new)
    destinations.write_text(text, "utf-8")
    return target
