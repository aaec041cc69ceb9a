"""How Actito routes are registered: family-prefixed paths only, auth guard, and lookups shared
by handlers.

Every data route is served under its API-family prefix only (`/profiles/v5/…`,
`/mass-imports/v5/…`): the plain forms (`/v4/entity/…`, `/v5/entities/…`) stopped working at
the end of June 2025 ([C] evidence "new facts" 1, API-reference-reorganization), so they answer
404 here as they would there. A v5 path addresses a profile table by its id ([C] evidence §2);
a name in that slot is a 404 saying so. Handlers raise `ApiProblem` instead of building error
responses.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
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


def _not_documented(request: Request) -> Response:
    raise ApiProblem(501, "NOT_IMPLEMENTED",
                     f"{request.method} {request.path}: no public Actito source documents this "
                     "route (the sandbox runs with --actito-documented-only)")


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
    # (method, path regex) of every route no public Actito source documents.
    undocumented: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)

    def add(self, method: str, family: str, path: str, handler: Handler, *,
            documented: bool = True) -> None:
        """Serve `handler` at `/{family}{path}` only, behind the token check. `documented`
        False: the route is our inference (evidence file: [I]/[?]); with the config's
        `documented_only` it answers 501 instead, so a client that needs it fails loudly."""
        pattern = f"/{family}{path}"
        if not documented:
            regex = re.sub(r"\{(\w+)\}", r"[^/]+", pattern.rstrip("/"))
            self.undocumented.append((method.upper(), re.compile(f"^{regex}/?$", re.I)))
            if self.config.documented_only:
                handler = _not_documented
        self.router.add(method, pattern, self.guard(self._answering(handler)))

    def is_documented(self, method: str, path: str) -> bool:
        """Whether a request reached a route the public sources document."""
        return not any(m == method.upper() and regex.match(path)
                       for m, regex in self.undocumented)

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
        """The table a v5 path's `{table}` slot names by id; a table's name there is refused."""
        entity, ref = self.entity(request), request.params["table"]
        table = entity.table_by_id(ref)
        if table is not None:
            return table
        named = entity.table(ref)
        if named is not None:
            raise ApiProblem(404, "NOT_FOUND", f"profile table {ref} not found: v5 paths take a "
                             "profile table's id, not its name (list the tables to find it)")
        raise not_found(f"profile table {ref}")

    def table_in_body(self, entity: Entity, ref: str) -> Table:
        """The table a request body names: whether bodies (ETL definition, target list) want
        the id or the name is [?] (evidence §6, §8), so either is accepted here."""
        table = entity.table_by_id(ref) or entity.table(ref)
        if table is None:
            raise not_found(f"profile table {ref}")
        return table

    def json_body(self, request: Request) -> dict:  # type: ignore[type-arg]
        try:
            body = request.json()
        except ValueError as exc:
            raise bad_request(f"invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise bad_request("the body must be a JSON object")
        return body
