"""How Actito answers become our errors (the tree is in reconciler/destinations/errors.py).

    401/403                     → AuthenticationError (after one token refresh, for 401)
    429 naming the bulk quota   → QuotaExceededError (the 12 imports per table per day)
    408, 429, 5xx, connection   → TransientApiError (retried, honouring Retry-After)
    other 4xx, bad answers      → PermanentApiError

Every error names the call (a route template, never a concrete path: paths can hold e-mail
addresses) and what it was about (entity, table, list); never the key, a token or a value.
"""
from __future__ import annotations

from typing import Any

import requests

from reconciler.destinations.errors import (
    AuthenticationError,
    DestinationError,
    PermanentApiError,
    QuotaExceededError,
    TransientApiError,
)
from reconciler.destinations.http import server_wait

DESTINATION = "actito"
TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}
MESSAGE_LIMIT = 300


def api_message(response: requests.Response) -> str:
    """The API's own words: its JSON `message` when there is one, else the start of the body."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:MESSAGE_LIMIT]
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:MESSAGE_LIMIT]
    return response.text[:MESSAGE_LIMIT]


def error_for(response: requests.Response, call: str, subject: str) -> DestinationError:
    """Our error for a non-2xx answer to `call` about `subject` (e.g. 'entity x, table y')."""
    status = response.status_code
    message = api_message(response)
    where = {"destination": DESTINATION, "call": call, "status": status, "api_message": message}
    about = f"failed for {subject}" if subject else "failed"
    if status in (401, 403):
        return AuthenticationError(f"credentials refused; {about}", **where)  # type: ignore[arg-type]
    if status == 429 and "quota" in message.lower():
        return QuotaExceededError(
            f"{about}: the daily bulk import quota is used up; retry tomorrow or buy an "
            "extension pack", **where,  # type: ignore[arg-type]
        )
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientApiError(about, retry_after=server_wait(response.headers),
                                 **where)  # type: ignore[arg-type]
    return PermanentApiError(about, **where)  # type: ignore[arg-type]


def connection_error(exc: requests.RequestException, call: str, subject: str) -> TransientApiError:
    about = f"failed for {subject}" if subject else "failed"
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return TransientApiError(f"{about}: {kind}", destination=DESTINATION, call=call)


def bad_answer(call: str, subject: str, detail: str) -> PermanentApiError:
    return PermanentApiError(f"unexpected answer for {subject}: {detail}",
                             destination=DESTINATION, call=call)
