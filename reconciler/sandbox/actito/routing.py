"""How Actito routes are registered: both path styles, auth guard, and lookups shared by handlers.

Every data route is served under its plain form (`/v4/entity/…`, `/v5/entities/…`) and under its
API-family prefix (`/profiles/v4/…`, `/mass-imports/v5/…`): §1.3 says both appear ([I] aliases).
Handlers raise `ApiProblem` instead of building error responses.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from reconciler.clock import Clock
from reconciler.sandbox.actito.config import ActitoSandboxConfig
from reconciler.sandbox.actito.store import Entity, Store, Table
from reconciler.sandbox.http import Handler, Request, Response, Router


class ApiProblem(Exception):
    """An error answer in Actito's envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, "NOT_FOUND", f"{what} not found")


def bad_request(message: str) -> ApiProblem:
    return ApiProblem(400, "BAD_REQUEST", message)


def now_text(clock: Clock) -> str:
    return clock.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Routes:
    router: Router
    guard: Callable[[Handler], Handler]
    store: Store
    config: ActitoSandboxConfig

    def add(self, method: str, family: str, path: str, handler: Handler) -> None:
        """Serve `handler` at `path` and at `/{family}{path}`, behind the token check."""
        wrapped = self.guard(self._answering(handler))
        self.router.add(method, path, wrapped)
        self.router.add(method, f"/{family}{path}", wrapped)

    def _answering(self, handler: Handler) -> Handler:
        def handle(request: Request) -> Response:
            try:
                return handler(request)
            except ApiProblem as problem:
                return self.router.error(problem.status, problem.code, problem.message)

        return handle

    def entity(self, request: Request) -> Entity:
        entity = self.store.entity(request.params["entity"])
        if entity is None:
            raise not_found(f"entity {request.params['entity']}")
        return entity

    def table(self, request: Request) -> Table:
        table = self.entity(request).table(request.params["table"])
        if table is None:
            raise not_found(f"profile table {request.params['table']}")
        return table

    def json_body(self, request: Request) -> dict:  # type: ignore[type-arg]
        try:
            body = request.json()
        except ValueError as exc:
            raise bad_request(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object")
        return body
