"""Actito authentication (§1.1, all [C]): `GET /auth/token` with the raw API key, opaque bearer
tokens that expire (15 minutes by default), 401 for a bad or expired token, 406 for a bad Accept.

Tokens live in memory: a restarted sandbox forgets them, and clients re-authenticate on 401.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable

from reconciler.sandbox.http import Handler, Request, Response, Router

ACCEPTABLE = ("application/json", "application/*", "*/*")


class TokenIssuer:
    def __init__(self, api_key: str, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`clock`: seconds, for token lifetimes (the sandbox's configured clock)."""
        self.api_key = api_key
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> dict[str, str]:
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._expiry[token] = self.clock() + self.ttl_seconds
        return {
            "accessToken": token, "tokenType": "bearer",
            "expiresIn": f"{max(1, round(self.ttl_seconds))}s",
            "scope": "read write", "jti": str(uuid.uuid4()),
        }

    def revoke_all(self) -> None:
        """Forget every token, as a restart does (clients must re-authenticate)."""
        with self._lock:
            self._expiry.clear()

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._expiry.get(token)
            return expiry is not None and self.clock() < expiry


def accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return True
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(kind in ACCEPTABLE for kind in kinds)


def token_route(router: Router, issuer: TokenIssuer) -> Handler:
    """The handler of `GET /auth/token`."""

    def handle(request: Request) -> Response:
        if not accepts_json(request):
            return router.error(406, "NOT_ACCEPTABLE", "only application/json can be produced")
        if request.headers.get("authorization", "").strip() != issuer.api_key:
            return router.error(401, "UNAUTHORIZED", "invalid API key")
        return Response(200, issuer.issue())

    return handle


def guarded(router: Router, issuer: TokenIssuer) -> Callable[[Handler], Handler]:
    """Wraps a data route: bearer token and Accept checks before the handler runs."""

    def wrap(handler: Handler) -> Handler:
        def handle(request: Request) -> Response:
            if not accepts_json(request):
                return router.error(406, "NOT_ACCEPTABLE", "only application/json can be produced")
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not issuer.valid(token.strip()):
                return router.error(401, "UNAUTHORIZED", "missing, invalid or expired token")
            return handler(request)

        return handle

    return wrap
