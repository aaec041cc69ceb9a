"""Actito's daily bulk-import budget as the layers above see it: one `ImportTarget` per table.

Actito counts bulk imports per profile table and day (`limits.bulkImportsPerDay`; api/actito.md
§3.4). The account is the entity at the host of the destination's `baseUrl` as written (no
environment reference is resolved: plans and `status` read it without secrets).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from reconciler.changes.imports import ImportTarget
from reconciler.manifests.models import ActitoDestination


def import_target(spec: ActitoDestination) -> ImportTarget:
    host = urlsplit(spec.base_url).netloc or spec.base_url
    return ImportTarget(f"{spec.entity}@{host.lower()}", spec.profile_table,
                        spec.limits.bulk_imports_per_day)
