"""Findings of `reconciler doctor`: is a destination ready for this tool, checked read-only.

Each destination has its own checks (`selligent/readiness.py`); they all report `Finding`s.
A key's expiry date, when its manifest gives one, is checked here for every destination (and
read here from the manifests, for `status`, `run --due` and its notices).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.manifests.models import SelligentDestination
from reconciler.manifests.project import Project

EXPIRY_NOTICE_DAYS = 14


@dataclass(frozen=True)
class Finding:
    """One check: `ok` None means not checked (trying it would change the destination)."""

    check: str
    ok: bool | None
    message: str


def api_key_expiries(project: Project) -> dict[str, dt.date]:
    """The key expiry dates the destinations' manifests give (`credentials.expiresOn`), by
    destination name."""
    return {name: spec.credentials.expires_on
            for name, spec in ((n, d.spec) for n, d in project.destinations().items())
            if isinstance(spec, SelligentDestination) and spec.credentials.expires_on}


def expiry_finding(expires_on: dt.date | None, today: dt.date) -> Finding | None:
    """The key's expiry, failing from `EXPIRY_NOTICE_DAYS` days before it: a scheduled sync
    should never be the first to find the key expired."""
    if expires_on is None:
        return None
    left = (expires_on - today).days
    if left < 0:
        return Finding("key expiry", False, f"the key expired on {expires_on}: renew it and "
                       "update the secret and `credentials.expiresOn`")
    if left <= EXPIRY_NOTICE_DAYS:
        return Finding("key expiry", False, f"the key expires on {expires_on}, in {left} "
                       "day(s): renew it now and update `credentials.expiresOn`")
    return Finding("key expiry", True, f"valid until {expires_on} ({left} days)")
