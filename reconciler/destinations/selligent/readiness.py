"""Is a Selligent service account ready for this tool? Read-only checks, one finding each.

Marigold's service accounts have per-endpoint permissions (a missing one answers 401),
organization limits, IP filtering and expiry dates (api/selligent.md §8). A first real user
should learn which of those stands in the way before the first scheduled sync fails, so each
operation the plan and apply need is tried without changing anything:
- reads are called for real (status, list, fields, record count, one search row, one page of
  segments, a segment that cannot exist — "not found" proves the permission);
- the data calls that write (segment loads and deletes, profile updates) are called with no
  rows, or on a segment that cannot exist. [I] That a permitted call then answers 200, 400 or
  404 and a missing permission 401 is inferred (the sandbox behaves so); such a finding says
  it was inferred;
- creating a segment or a field cannot be tried without creating one: reported as not checked.
A 401 tells its reason from the body: an expired key (`ERR_APIKEY_EXPIRED`), a caller address
outside the IP filter (`ERR_APIKEY_IPNOTALLOWED`) — the sandbox's codes, [I] for a real tenant,
which is why the words "expired" and "IP" are matched too — or else a missing permission.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.destinations.errors import AuthenticationError, DestinationError
from reconciler.destinations.readiness import Finding
from reconciler.destinations.selligent.client import SelligentClient
from reconciler.destinations.selligent.errors import SelligentNotFoundError
from reconciler.destinations.selligent.transport import Call

_EXPIRED = re.compile(r"ERR_APIKEY_EXPIRED|\bexpired\b", re.IGNORECASE)
_IP = re.compile(r"ERR_APIKEY_IPNOTALLOWED|\bIP address\b", re.IGNORECASE)
_PERMISSION = "refused (401):"


def refusal(error: AuthenticationError, operation: str) -> str:
    """What to do about a 401, from its body."""
    said = error.api_message
    if _EXPIRED.search(said):
        return (f"the API key has expired ({said}): renew the service account's key and "
                "update the secret the manifest names")
    if _IP.search(said):
        return (f"this machine's address is refused by the service account's IP filter "
                f"({said}): allow the address the tool runs from (GitHub-hosted runners' "
                "addresses cannot be allow-listed: use a self-hosted runner)")
    return (f"{_PERMISSION} give the service account the permission {operation}, and "
            "check its organizations")


def check_service_account(client: SelligentClient, organization: str,
                          list_name: str) -> list[Finding]:
    """Every finding about the key, for the audience list `list_name` of `organization`."""
    probe = f"RECONCILER_DOCTOR_{uuid.uuid4().hex[:8].upper()}"  # a segment that cannot exist
    lists = f"/organizations/{organization}/lists/{list_name}"
    where = f"organization {organization}, list {list_name}"

    def call(method: str, path: str, **kwargs: Any) -> Callable[[], Any]:
        return lambda: client.transport.request(Call(method, lists + path, where), **kwargs)

    reads: list[tuple[str, Callable[[], Any]]] = [
        ("Status_Get", client.get_status),
        ("List_GetList", lambda: client.get_list(organization, list_name)),
        ("List_GetListFields", lambda: client.get_fields(organization, list_name)),
        ("List_GetListRecordsCount", lambda: client.count_list_records(organization, list_name)),
        ("Data_SearchData", call("POST", "/data/search", body={
            "fields": [], "filters": [], "skip": 0, "take": 1})),
        ("List_GetListSegments", call("GET", "/segments", params={"skip": 0, "take": 1})),
        ("List_GetListSegment", call("GET", f"/segments/{probe}")),
    ]
    writes: list[tuple[str, Callable[[], Any]]] = [
        ("Data_LoadSegmentData", call("POST", f"/segments/{probe}/data/load", body=[],
                                      params={"keyFields": "X", "fields": "X"})),
        ("Data_DeleteSegmentData", call("DELETE", f"/segments/{probe}/data", body=[],
                                        params={"keyFields": "X", "fields": "X"})),
        ("List_DeleteSegment", call("DELETE", f"/segments/{probe}")),
        ("Data_LoadData", call("POST", "/data/load", body=[], params={
            "keyFields": "X", "fields": "X", "data_import_option": "OnlyUpdate"})),
    ]
    findings = [_try(operation, attempt, inferred=False) for operation, attempt in reads]
    if not any(f.ok for f in findings):
        # Nothing was allowed: the key itself (or the address, or the URL) is the problem,
        # and every other check would say the same.
        first = findings[0]
        if first.message.startswith(_PERMISSION):
            first = Finding("credentials", False, "every call was refused (401): the key or "
                            f"secret is wrong, or the account may not use organization "
                            f"{organization}")
        return [first]
    findings += [_try(operation, attempt, inferred=True) for operation, attempt in writes]
    findings += [Finding(operation, None, "not checked: trying it would create one; the first "
                         "apply that needs it will say") for operation in
                 ("List_CreateStaticSegment", "List_CreateListFields")]
    return findings


def _try(operation: str, attempt: Callable[[], Any], *, inferred: bool) -> Finding:
    try:
        attempt()
    except AuthenticationError as error:
        return Finding(operation, False, refusal(error, operation))
    except SelligentNotFoundError:
        pass  # the probe segment does not exist: the call was allowed that far
    except DestinationError as error:
        if error.status is None or error.status >= 500:
            return Finding(operation, False, f"failed: {error}")
        # Another 4xx: the probe's input was refused, not the key [I].
        return Finding(operation, True, f"permitted (inferred: answered HTTP {error.status} "
                       "to the probe, not 401)")
    how = " (inferred: not refused as unauthorized)" if inferred else ""
    return Finding(operation, True, f"permitted{how}")
