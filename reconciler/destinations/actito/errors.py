"""How Actito answers become our errors (the tree is in reconciler/destinations/errors.py).

    401/403                     → AuthenticationError (after one token refresh, for 401)
    408, 429, 5xx, connection   → TransientApiError (retried, honouring Retry-After)
    429 still, on an import     → QuotaExceededError (`quota_refusal`, see below)
    other 4xx, bad answers      → PermanentApiError

A 429 means "over 5 requests in flight" or "over the 24 imports per table per day" ([C]
evidence §10), and its body is undocumented ([?]): the words are never read. On the call that
starts an import, a 429 that persists through a few quick retries is taken for the quota.

Every error names the call (a route template, never a concrete path: paths can hold e-mail
addresses) and what it was about (entity, table, list); never the key, a token or a value.
"""
from __future__ import annotations

from typing import Any

import requests

from reconciler.destinations import http
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
    # 501 Not Implemented will not change by retrying (a route the service does not serve).
    if status in TRANSIENT_STATUSES or (status >= 500 and status != 501):
        return TransientApiError(about, retry_after=server_wait(response.headers),
                                 **where)  # type: ignore[arg-type]
    return PermanentApiError(about, **where)  # type: ignore[arg-type]


def quota_refusal(refused: TransientApiError, subject: str, attempts: int) -> QuotaExceededError:
    """A 429 that `attempts` tries of an import start all got, taken for the daily quota
    (evidence §10: "concurrency or quota": retry briefly, then treat as quota)."""
    return QuotaExceededError(
        f"refused for {subject} with 429 ({attempts} tries): taken for the daily bulk import "
        "quota (Actito documents 24 per table per day; its 429 does not say which limit it "
        "is); retry tomorrow or buy an extension pack",
        destination=DESTINATION, call=refused.call, status=429,
        api_message=refused.api_message)


def connection_error(exc: requests.RequestException, url: str, call: str,
                     subject: str) -> TransientApiError:
    """The shared wording (../http.py): the URL and host:port tried, what to check; a refused
    connection or an unknown host is retried once, not for the whole backoff."""
    return http.connection_error(exc, url, destination=DESTINATION, call=call, where=subject)


def bad_answer(call: str, subject: str, detail: str) -> PermanentApiError:
    return PermanentApiError(f"unexpected answer for {subject}: {detail}",
                             destination=DESTINATION, call=call)
