"""Where credentials may go on a pull request: the vendors' hosts and the ones the repository
allows, never a host a manifest change names.

On a pull request the plan runs the PR's manifests with the repository's secrets. A manifest
change could point a destination's `baseUrl` or `fileTransfer.host` at any server and receive
the API key or the FTPS password with the plan's first call. So, on a pull request
(`GITHUB_EVENT_NAME` = pull_request…), every destination host must match a vendor pattern
below or one of `RECONCILER_ALLOWED_HOSTS` (comma-separated, `*` wildcards), a repository
*variable* the workflow passes and a pull request cannot change; otherwise the destination is
refused before any credential is read. Elsewhere (a laptop, a merge, a schedule) the manifests
are the reviewed ones and every host is allowed.
Vendor hosts, from the references: Selligent `{customer}.slgnt.eu|us` and
`{customer}.{module}.slgnt.eu|us` (api/selligent.md §1.3); Actito `api.actito.com`, `api1`,
`api3`, `api-pre1`, `apitest` (api/actito.md), its FTPS `ftp02.actito.be` and preprod
`testftp.citobi.be` (api/actito.md). A customer's own SFTP server is theirs to allow.
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from reconciler.errors import ReconcilerError

ALLOWED_HOSTS_ENV = "RECONCILER_ALLOWED_HOSTS"
VENDOR_HOSTS = {
    "selligent": ("*.slgnt.eu", "*.slgnt.us"),
    "actito": ("api.actito.com", "api*.actito.com"),
    "actito file transfer": ("ftp*.actito.be", "testftp.citobi.be"),
}


class HostNotAllowedError(ReconcilerError):
    """A destination host a pull request may not send credentials to."""


def on_pull_request(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request")


def host_of(address: str) -> str:
    """The host of a URL, or the address itself when it is a bare host."""
    return (urlsplit(address).hostname if "://" in address else address.split(":")[0]) or ""


def check_host(address: str, vendor: str, where: str,
               environ: Mapping[str, str] = os.environ) -> None:
    """Refuse `address` on a pull request unless its host is `vendor`'s or allowed."""
    if not on_pull_request(environ):
        return
    host = host_of(address).lower()
    allowed = [p.strip().lower() for p in environ.get(ALLOWED_HOSTS_ENV, "").split(",")
               if p.strip()]
    patterns = (*VENDOR_HOSTS[vendor], *allowed)
    if any(fnmatch.fnmatchcase(host, pattern) for pattern in patterns):
        return
    raise HostNotAllowedError(
        f"{where}: host {host or address!r} is not a {vendor} host nor in "
        f"{ALLOWED_HOSTS_ENV}, so a pull-request plan sends it no credential. If the host is "
        f"yours, add it to the repository variable {ALLOWED_HOSTS_ENV} (a pull request cannot "
        f"change it); {vendor} hosts: {', '.join(VENDOR_HOSTS[vendor])}")
