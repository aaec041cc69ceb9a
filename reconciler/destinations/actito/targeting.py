"""Setting up an external target list the way §2.8 describes (all routes and bodies [I]):
file transfer location → file synchronization → list with a validity period.

Every step first looks for what exists (by name), so a retried or interrupted set-up converges
instead of creating doubles; a 409 from a retried POST is answered by reading again.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.actito.models import TargetList
from reconciler.destinations.actito.transfer import FileTransferSettings
from reconciler.destinations.errors import PermanentApiError
from reconciler.manifests.naming import actito_file_stem
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration

FILE_TRANSFERS, TARGETINGS = "file-transfers", "targetings"
LOCATIONS = ("file-transfer-locations", "fileTransferLocations")
SYNCHRONIZATIONS = ("file-synchronizations", "fileSynchronizations")
LISTS = ("external-target-lists", "externalTargetLists")
TIMESTAMP_PLACEHOLDER = "$yyyyMMddHHmmss"
# Refresh a list this long before its file expires (at most a tenth of its validity) [I]: a
# list whose file expired targets nobody (api/actito.md §2.8).
VALIDITY_MARGIN = timedelta(hours=1)


def refresh_deadline(activation: EffectiveActivation, last_drop: datetime) -> datetime | None:
    """When the list's key file must be dropped again at the latest (None: no validity set
    in the manifests, the list is refreshed by its schedule and by plan alone)."""
    if not activation.validity_period:
        return None
    validity = parse_duration(activation.validity_period)
    return last_drop + validity - min(VALIDITY_MARGIN, validity / 10)


def validity_body(validity: timedelta) -> dict[str, Any]:
    seconds = int(validity.total_seconds())
    for unit, size in (("DAYS", 86400), ("HOURS", 3600), ("MINUTES", 60)):
        if seconds % size == 0:
            return {"value": seconds // size, "unit": unit}
    return {"value": seconds, "unit": "SECONDS"}


def target_list(raw: dict[str, Any]) -> TargetList:
    period = raw.get("validityPeriod") or {}
    units = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
    seconds = float(period.get("value", 0)) * units.get(str(period.get("unit")), 1)
    return TargetList(
        str(raw["id"]), str(raw["name"]), str(raw["keyAttribute"]), timedelta(seconds=seconds),
        str(raw.get("status", "")), int(raw.get("memberCount") or 0), raw.get("lastFileName"),
        raw.get("lastReport"),
    )


def _find_or_create(client: ActitoClient, family: str, kind: tuple[str, str],
                    match: Callable[[dict[str, Any]], bool], body: dict[str, Any]) -> str:
    found = next((r for r in client.listing(family, *kind) if match(r)), None)
    if found is not None:
        return str(found["id"])
    try:
        return client.create(family, kind[0], body)
    except PermanentApiError as exc:
        if exc.status != 409:
            raise
        found = next((r for r in client.listing(family, *kind) if match(r)), None)
        if found is None:
            raise
        return str(found["id"])


def ensure_location(client: ActitoClient, transfer: FileTransferSettings,
                    location_name: str | None) -> str:
    """The location named `location_name`, else the one pointing at `transfer`, else a new one."""
    directory = transfer.directory or "/"

    def same(record: dict[str, Any]) -> bool:
        if location_name:
            return bool(record.get("name") == location_name)
        return (str(record.get("protocol", "")).lower() == transfer.protocol.value
                and record.get("host") == transfer.host
                and int(record.get("port") or 0) == transfer.port
                and record.get("username") == transfer.username
                and (record.get("directory") or "/") == directory)

    body = {"name": location_name or f"reconciler-{transfer.protocol.value}-{transfer.host}",
            "protocol": transfer.protocol.value.upper(), "host": transfer.host,
            "port": transfer.port, "username": transfer.username, "directory": directory}
    return _find_or_create(client, FILE_TRANSFERS, LOCATIONS, same, body)


def ensure_list(client: ActitoClient, table: str, name: str, key_attribute: str,
                validity: timedelta, location_id: str) -> TargetList:
    """The external target list `name` (with its synchronization), created when missing."""
    existing = find_list(client, name)
    if existing is not None:
        if existing.key_attribute != key_attribute:
            raise PermanentApiError(
                f"external target list {name!r} is keyed by {existing.key_attribute}, "
                f"not {key_attribute}; rename the audience or change the match key",
                destination="actito", call="GET external-target-lists")
        return existing
    stem = actito_file_stem(name)
    sync_name = f"reconciler-{stem}"
    sync_id = _find_or_create(
        client, FILE_TRANSFERS, SYNCHRONIZATIONS, lambda r: r.get("name") == sync_name,
        {"name": sync_name, "locationId": location_id, "encoding": "UTF-8",
         "fileNamePattern": f"{stem}_{TIMESTAMP_PLACEHOLDER}.zip"},
    )
    body = {"name": name, "profileTable": table, "fileSynchronizationId": sync_id,
            "keyAttribute": key_attribute, "validityPeriod": validity_body(validity)}
    _find_or_create(client, TARGETINGS, LISTS, lambda r: r.get("name") == name, body)
    created = find_list(client, name)
    assert created is not None
    return created


def find_list(client: ActitoClient, name: str) -> TargetList | None:
    found = next((r for r in client.listing(TARGETINGS, *LISTS) if r.get("name") == name), None)
    return target_list(found) if found is not None else None


def delete_list(client: ActitoClient, name: str) -> bool:
    """Delete the external target list `name` (its profiles stay); False when already gone.
    Its file synchronization stays: it is harmless, and may be shared with a later list."""
    found = find_list(client, name)
    if found is None:
        return False
    try:
        client.delete(TARGETINGS, LISTS[0], found.id)
    except PermanentApiError as exc:
        if exc.status != 404:  # 404: a retried DELETE whose first attempt went through
            raise
    return True


def read_list(client: ActitoClient, list_id: str) -> TargetList:
    return target_list(client.record(TARGETINGS, LISTS[0], list_id))
