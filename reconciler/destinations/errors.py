"""Errors raised by destination clients, shared by every destination.

    DestinationError                 anything that went wrong talking to a destination
                                     (a ReconcilerError)
    ├── TransientApiError            worth retrying: 408, 429, 5xx, connection and timeout errors
    │   └── UnreachableError         no connection made (refused, unknown host): retried once
    ├── PermanentApiError            not worth retrying: other 4xx, bad answers, refused input
    │   └── AuthenticationError      401/403: wrong, expired or under-privileged credentials
    └── QuotaExceededError           a documented quota is used up (e.g. Actito's daily imports)

Every error names the destination, the call (method and path, never the query string's
secrets) and the API's own message. `requests` exceptions never leave `destinations/`: they are
chained as the cause of one of these.
"""
from __future__ import annotations

from reconciler.errors import ReconcilerError


class DestinationError(ReconcilerError):
    def __init__(
        self,
        message: str,
        *,
        destination: str = "",
        call: str = "",
        status: int | None = None,
        api_message: str = "",
    ) -> None:
        self.destination = destination
        self.call = call
        self.status = status
        self.api_message = api_message
        parts = [p for p in (destination, call) if p]
        where = f"{' '.join(parts)}: " if parts else ""
        status_text = f" (HTTP {status})" if status is not None else ""
        api_text = f": {api_message}" if api_message else ""
        super().__init__(f"{where}{message}{status_text}{api_text}")


class TransientApiError(DestinationError):
    """A failure that may succeed when retried later."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 elapsed: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.elapsed = elapsed  # seconds the call ran before it failed, when measured


class UnreachableError(TransientApiError):
    """No connection could be made at all (refused, the host name does not resolve, no
    route): a wrong address or a service that is down, which a backoff of minutes would only
    hide; the shared policy tries once more, then gives up. The message names the URL and
    host:port tried and what to check."""


class PermanentApiError(DestinationError):
    """A failure that retrying will not fix; the message says what to do."""


class AuthenticationError(PermanentApiError):
    """The credentials were refused (wrong, expired, or missing a permission)."""

    hint = ("check the destination's credentials (the environment variables its manifest "
            "names), their expiry and the permissions of the key")


class QuotaExceededError(DestinationError):
    """A documented quota is used up; retry after it resets, not in a tight loop."""
