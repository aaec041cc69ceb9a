"""Selligent's answers turned into our exceptions (`reconciler.destinations.errors`).

    HTTP 401/403                                  → AuthenticationError
    HTTP 408, 429, 5xx; result_code ServiceUnavailable/InternalServerError → TransientApiError
    HTTP 404, or result_code NotFound, or a 400 whose body says "not found"
                                                  → SelligentNotFoundError (permanent)
    other 4xx; 200 with result_code Failed/ValidationFailed → PermanentApiError
    200 with PartiallySucceeded                   → a result, its refused rows in `invalid_records`

The error envelope is `{"errors": [{"error_code", "description"}], "result_code", "message"}`
(§3.1 of the API notes); a 401 body may be a bare string. Messages name the call (method and
path, no query string) and the organization/list/segment; never credentials or row values.
"""
from __future__ import annotations

import re
from typing import Any

from reconciler.destinations.errors import (
    AuthenticationError,
    DestinationError,
    PermanentApiError,
    TransientApiError,
)

DESTINATION = "Selligent"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_RESULTS = frozenset({"ServiceUnavailable", "InternalServerError"})
FAILED_RESULTS = frozenset({"Failed", "ValidationFailed", "NotFound"})


class SelligentNotFoundError(PermanentApiError):
    """The organization, list or segment named in the call does not exist."""


# [?] The Swagger documents only 200 for a segment GET (api/selligent.md §8): a missing one may
# answer 404 or 400. A 400 is taken as "not found" only when its body says so, by result code,
# error code or words; any other 400 stays a refusal (a wrong answer here would make apply
# create a segment that exists, or plan fail for every new activation).
_NOT_FOUND_WORDS = re.compile(r"not[ _]?found|does not exist|doesn't exist|unknown segment",
                              re.IGNORECASE)


def says_not_found(body: Any) -> bool:
    """True when an error body says the thing named does not exist."""
    if isinstance(body, dict) and body.get("result_code") == "NotFound":
        return True
    return bool(_NOT_FOUND_WORDS.search(api_message(body)))



def api_message(body: Any) -> str:
    """The API's own words from an error envelope (or a bare string body)."""
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    parts = []
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            code, text = error.get("error_code"), error.get("description")
            parts.append(f"{code}: {text}" if code and text else str(code or text or ""))
    if body.get("message") and not parts:
        parts.append(str(body["message"]))
    return "; ".join(p for p in parts if p)


def error_for_status(
    status: int, body: Any, *, call: str, where: str, retry_after: float | None = None
) -> DestinationError:
    """The exception for a non-2xx answer."""
    kwargs: dict[str, Any] = {"destination": DESTINATION, "call": call, "status": status,
                              "api_message": api_message(body)}
    if status in (401, 403):
        return AuthenticationError(
            f"credentials refused for {where} (check the API key, its expiry, and the "
            "service account's organizations and endpoints)", **kwargs,
        )
    if status in RETRYABLE_STATUSES or status >= 500:
        message = f"{where} is temporarily unavailable"
        return TransientApiError(message, retry_after=retry_after, **kwargs)
    if status == 404 or (status == 400 and says_not_found(body)):
        return SelligentNotFoundError(f"{where} not found", **kwargs)
    return PermanentApiError(f"{where} refused the request", **kwargs)


def error_for_result(body: Any, *, call: str, where: str) -> DestinationError | None:
    """The exception for a 2xx answer whose result_code says it failed, else None."""
    code = body.get("result_code") if isinstance(body, dict) else None
    kwargs: dict[str, Any] = {
        "destination": DESTINATION, "call": call, "status": 200, "api_message": api_message(body),
    }
    if code in TRANSIENT_RESULTS:
        return TransientApiError(f"{where} answered {code}", **kwargs)
    if code == "NotFound":
        return SelligentNotFoundError(f"{where} not found", **kwargs)
    if code in FAILED_RESULTS:
        return PermanentApiError(f"{where} answered {code}", **kwargs)
    return None
