"""External target lists (evidence §8): what is documented, and what is not.

Documented [C]: files dropped on an FTPS/SFTP file transfer location are retrieved "as soon as
they are detected" by a file synchronization, and the last file read becomes the list; a
validity period makes it expire. So with a list set up once in the Actito portal
(`targetList.manage: portal`, the default) this tool only drops key files named by the
synchronization's pattern, and sends no undocumented call.

Inferred [I] (every route and body, routes.py): setting the chain up by API (location → file
synchronization → list with a validity period), reading a list, deleting it. Used only with
`targetList.manage: api`. Every step first looks for what exists (by name), so a retried or
interrupted set-up converges instead of creating doubles; a 409 from a retried POST is answered
by reading again.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.actito.models import TargetList
from reconciler.destinations.actito.transfer import FileTransferSettings
from reconciler.destinations.errors import PermanentApiError
from reconciler.manifests.models import ListManagement
from reconciler.manifests.naming import actito_file_stem
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration

TIMESTAMP_PLACEHOLDER = "$yyyyMMddHHmmss"
# [C] evidence §8 "File name pattern": ETLs and exports name files with `$yyyyMMdd`-style date
# placeholders resolved at execution time; which letters a synchronization accepts is [?]: the
# Java date letters below are resolved, in UTC.
DATE_PLACEHOLDER = re.compile(r"\$([yMdHms]+)")
DATE_LETTERS = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
# Refresh a list this long before its file expires (at most a tenth of its validity) [I]: a
# list whose file expired targets nobody (api/actito.md §2.8).
VALIDITY_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class ListTarget:
    """The external target list an activation fills, as its manifests describe it."""

    name: str
    key_attribute: str
    managed_by_api: bool
    file_pattern: str
    list_id: str | None = None
    description: str | None = None
    validity: timedelta = timedelta(days=2)


def list_target(activation: EffectiveActivation) -> ListTarget:
    settings = activation.target_list
    pattern = settings.file_name_pattern if settings else None
    return ListTarget(
        activation.audience_name, activation.match_key.destination,
        settings is not None and settings.manage is ListManagement.API,
        pattern or default_pattern(activation.audience_name),
        settings.id if settings else None, activation.description,
        parse_duration(activation.target_list_validity))


def default_pattern(name: str) -> str:
    return f"{actito_file_stem(name)}_{TIMESTAMP_PLACEHOLDER}.zip"


def date_format(letters: str) -> str:
    """A placeholder's letters (`yyyyMMdd`) as a strftime/strptime format (`%Y%m%d`)."""
    for run, code in DATE_LETTERS.items():
        letters = letters.replace(run, code)
    return letters


def file_name(pattern: str, moment: datetime) -> str:
    """`pattern` with its date placeholders resolved at `moment` (UTC)."""
    def resolve(match: re.Match[str]) -> str:
        layout = date_format(match.group(1))
        return moment.strftime(layout) if "%" in layout else "$" + match.group(1)

    return DATE_PLACEHOLDER.sub(resolve, pattern)


def refresh_deadline(activation: EffectiveActivation, last_drop: datetime) -> datetime | None:
    """When the list's key file must be dropped again at the latest (None: no validity set
    in the manifests, the list is refreshed by its schedule and by plan alone)."""
    if not activation.validity_period:
        return None
    validity = parse_duration(activation.validity_period)
    return last_drop + validity - min(VALIDITY_MARGIN, validity / 10)


def validity_values(validity: timedelta) -> dict[str, Any]:
    """[I] a validity period as a value and a unit (routes.py's createTargetList body)."""
    seconds = int(validity.total_seconds())
    for unit, size in (("DAYS", 86400), ("HOURS", 3600), ("MINUTES", 60)):
        if seconds % size == 0:
            return {"validityValue": seconds // size, "validityUnit": unit}
    return {"validityValue": seconds, "validityUnit": "SECONDS"}


def target_list(raw: dict[str, Any]) -> TargetList:
    """[I] a list record as the inferred routes answer it."""
    period = raw.get("validityPeriod") or {}
    units = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
    seconds = float(period.get("value", 0)) * units.get(str(period.get("unit")), 1)
    return TargetList(
        str(raw["id"]), str(raw["name"]), str(raw["keyAttribute"]), timedelta(seconds=seconds),
        str(raw.get("status", "")), int(raw.get("memberCount") or 0), raw.get("lastFileName"),
        raw.get("lastReport"),
    )


def _find_or_create(client: ActitoClient, listing: str, creating: str,
                    match: Callable[[dict[str, Any]], bool], values: dict[str, Any]) -> str:
    found = next((r for r in client.listing(listing) if match(r)), None)
    if found is not None:
        return str(found["id"])
    try:
        return client.create(creating, values)
    except PermanentApiError as exc:
        if exc.status != 409:
            raise
        found = next((r for r in client.listing(listing) if match(r)), None)
        if found is None:
            raise
        return str(found["id"])


def ensure_location(client: ActitoClient, transfer: FileTransferSettings,
                    location_id: str | None, location_name: str | None) -> str:
    """The location with `location_id` (not checked), else the one named `location_name`, else
    the one pointing at `transfer`, else a new one."""
    if location_id:
        return location_id
    directory = transfer.directory or "/"

    def same(record: dict[str, Any]) -> bool:
        if location_name:
            return bool(record.get("name") == location_name)
        return (str(record.get("protocol", "")).lower() == transfer.protocol.value
                and record.get("host") == transfer.host
                and int(record.get("port") or 0) == transfer.port
                and record.get("username") == transfer.username
                and (record.get("directory") or "/") == directory)

    values = {"name": location_name or f"reconciler-{transfer.protocol.value}-{transfer.host}",
              "protocol": transfer.protocol.value.upper(), "host": transfer.host,
              "port": transfer.port, "username": transfer.username, "directory": directory}
    return _find_or_create(client, "listLocations", "createLocation", same, values)


def ensure_list(client: ActitoClient, table: str, target: ListTarget,
                location_id: str) -> TargetList:
    """The external target list of `target` (with its synchronization), created when missing."""
    existing = find_list(client, target)
    if existing is not None:
        if existing.key_attribute != target.key_attribute:
            raise PermanentApiError(
                f"external target list {target.name!r} is keyed by {existing.key_attribute}, "
                f"not {target.key_attribute}; rename the audience or change the match key",
                destination="actito", call="GET external-target-lists")
        return existing
    sync_name = f"reconciler-{actito_file_stem(target.name)}"
    sync_id = _find_or_create(
        client, "listSynchronizations", "createSynchronization",
        lambda r: r.get("name") == sync_name,
        {"name": sync_name, "locationId": location_id, "fileNamePattern": target.file_pattern})
    values = {"name": target.name, "description": target.description or "",
              "synchronizationId": sync_id, "keyAttribute": target.key_attribute,
              **validity_values(target.validity)}
    _find_or_create(client, "listTargetLists", "createTargetList",
                    lambda r: r.get("name") == target.name, {**values, "tableName": table})
    created = find_list(client, target)
    assert created is not None
    return created


def find_list(client: ActitoClient, target: ListTarget | str) -> TargetList | None:
    """The list of `target` (by its id when the manifests give one, else by name)."""
    name = target if isinstance(target, str) else target.name
    list_id = None if isinstance(target, str) else target.list_id
    found = next((r for r in client.listing("listTargetLists")
                  if (str(r.get("id")) == list_id if list_id else r.get("name") == name)), None)
    return target_list(found) if found is not None else None


def delete_list(client: ActitoClient, name: str) -> bool:
    """Delete the external target list `name` (its profiles stay); False when already gone.
    Its file synchronization stays: it is harmless, and may be shared with a later list."""
    found = find_list(client, name)
    if found is None:
        return False
    try:
        client.delete("deleteTargetList", found.id)
    except PermanentApiError as exc:
        if exc.status != 404:  # 404: a retried DELETE whose first attempt went through
            raise
    return True


def read_list(client: ActitoClient, list_id: str) -> TargetList:
    return target_list(client.record("getTargetList", list_id))
