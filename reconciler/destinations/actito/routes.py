"""Every Actito route and request body this tool sends, in one table, each tagged with its
evidence (`../shared/api/actito-evidence.md`, "evidence §n"):

- DOCUMENTED: the method and path are stated in Actito's own documentation ([C]);
- INFERRED: no public source states them ([I] or [?]); they are our best reading and must be
  confirmed with Actito's API reference or support before production.

A destination may replace any entry from its manifest (`api.routes.<operation>`: method, path,
body, query, listKey), so a user who has the API reference corrects a route without waiting
for a release; an overridden entry counts as the user's own, not as inferred. With
`api.documentedOnly: true` the client refuses, before sending anything, every operation whose
route (or body) is still inferred.

Templates: a path takes `{entity}`, `{table}` (the profile table's id) and the operation's own
placeholders; in a body or query template a string that is exactly `{name}` becomes the value
itself (a number stays a number), and `{name}` inside a longer string is replaced by its text.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from reconciler.destinations.errors import PermanentApiError
from reconciler.manifests.models import ActitoDestination


class Evidence(StrEnum):
    DOCUMENTED = "documented"
    INFERRED = "inferred"
    USER = "manifest"  # replaced by the destination's `api.routes`


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    path: str
    evidence: Evidence  # of the method and path
    source: str  # where the evidence file discusses it
    body: Any = None  # a JSON body template (None: no JSON body, or a file only)
    body_evidence: Evidence | None = None
    query: Mapping[str, Any] | None = None
    list_key: str | None = None  # a listing's envelope key ([?] everywhere)
    placeholders: tuple[str, ...] = ()  # what the operation fills in, besides entity/table

    @property
    def inferred(self) -> bool:
        return Evidence.INFERRED in (self.evidence, self.body_evidence)

    def describe(self) -> str:
        return f"{self.operation} ({self.method} {self.path})"


DOC, INF = Evidence.DOCUMENTED, Evidence.INFERRED
ENTITY = "/v5/entities/{entity}"
TABLES = "/profile-table-structure" + ENTITY + "/profile-tables"
PROFILES = "/profiles" + ENTITY + "/profile-tables/{table}/profiles"
ETLS = "/mass-imports" + ENTITY
FILES = "/file-transfers" + ENTITY
LISTS = "/targetings" + ENTITY + "/external-target-lists"

ROUTES: dict[str, Route] = {r.operation: r for r in (
    Route("listProfileTables", "GET", TABLES, DOC, "§2", list_key="profileTables"),
    Route("getProfileTable", "GET", TABLES + "/{table}", DOC, "§2"),
    Route("createAttribute", "POST", TABLES + "/{table}/attributes", INF, "§3",
          body={"name": "{name}", "type": "CUSTOM", "valueType": "{valueType}", "unique": False,
                "mandatory": False, "multiValued": False}, body_evidence=INF,
          placeholders=("name", "valueType")),
    # [C] route; [I] the key as `attr=value` with a literal `=` (as the v4 clients send it).
    Route("getProfile", "GET", PROFILES + "/{key}", DOC, "§5", placeholders=("key",)),
    # [I] route (the collection above §5's), [?] parameters and answer.
    Route("listProfiles", "GET", PROFILES, INF, "§4",
          query={"page": "{page}", "size": "{size}", "attributes": "{attributes}"},
          list_key="profiles", placeholders=("page", "size", "attributes")),
    # [C] route; [I] the multipart part names and the whole definition.
    Route("startEtlExecution", "POST", ETLS + "/etl-executions", DOC, "§6",
          body={"table": "{tableName}", "mode": "UPDATE_ONLY", "keyAttribute": "{keyAttribute}",
                "file": {"encoding": "UTF-8", "separator": ","}}, body_evidence=INF,
          placeholders=("tableName", "tableId", "keyAttribute", "columns")),
    # [C] route (Actito's recommendation for recurring imports); [I] the file part's name.
    Route("triggerEtl", "POST", ETLS + "/etls/{etl}/trigger-execution", DOC, "§6",
          placeholders=("etl",)),
    Route("getEtlExecution", "GET", ETLS + "/etl-executions/{execution}", DOC, "§7",
          placeholders=("execution",)),
    # §8: the steps are [C], every route and body is [?].
    Route("listLocations", "GET", FILES + "/file-transfer-locations", INF, "§8",
          list_key="fileTransferLocations"),
    Route("createLocation", "POST", FILES + "/file-transfer-locations", INF, "§8",
          body={"name": "{name}", "protocol": "{protocol}", "host": "{host}", "port": "{port}",
                "username": "{username}", "directory": "{directory}"}, body_evidence=INF,
          placeholders=("name", "protocol", "host", "port", "username", "directory")),
    Route("listSynchronizations", "GET", FILES + "/file-synchronizations", INF, "§8",
          list_key="fileSynchronizations"),
    Route("createSynchronization", "POST", FILES + "/file-synchronizations", INF, "§8",
          body={"name": "{name}", "locationId": "{locationId}", "encoding": "UTF-8",
                "fileNamePattern": "{fileNamePattern}"}, body_evidence=INF,
          placeholders=("name", "locationId", "fileNamePattern")),
    Route("listTargetLists", "GET", LISTS, INF, "§8", list_key="externalTargetLists"),
    Route("createTargetList", "POST", LISTS, INF, "§8",
          body={"name": "{name}", "description": "{description}", "profileTable": "{tableName}",
                "fileSynchronizationId": "{synchronizationId}", "keyAttribute": "{keyAttribute}",
                "validityPeriod": {"value": "{validityValue}", "unit": "{validityUnit}"}},
          body_evidence=INF,
          placeholders=("name", "description", "tableName", "synchronizationId",
                        "keyAttribute", "validityValue", "validityUnit")),
    Route("getTargetList", "GET", LISTS + "/{id}", INF, "§8", placeholders=("id",)),
    Route("deleteTargetList", "DELETE", LISTS + "/{id}", INF, "§8", placeholders=("id",)),
)}
OPERATIONS = tuple(ROUTES)
PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")
EXACT = re.compile(r"^\{([A-Za-z]+)\}$")
PATH_VALUES = ("entity", "table")
PRE_ENCODED = ("key",)  # `attr=value`, each side percent-encoded by the caller


def placeholders_in(template: Any) -> set[str]:
    """Every `{name}` a template (a string, or JSON of strings) uses."""
    if isinstance(template, str):
        return set(PLACEHOLDER.findall(template))
    if isinstance(template, Mapping):
        return set().union(*(placeholders_in(v) for v in template.values()), set())
    if isinstance(template, list | tuple):
        return set().union(*(placeholders_in(v) for v in template), set())
    return set()


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` with its placeholders replaced (see the module's doc string)."""
    if isinstance(template, str):
        exact = EXACT.match(template)
        if exact:
            return values[exact.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)
    if isinstance(template, Mapping):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return [fill(v, values) for v in template]
    return template


@dataclass(frozen=True)
class Request:
    """One operation ready to send: its route and the filled path, body and query."""

    route: Route
    path: str
    body: Any = None
    query: dict[str, Any] | None = None


@dataclass(frozen=True)
class RouteBook:
    """The routes one destination uses: the table, with the manifest's replacements."""

    routes: Mapping[str, Route] = field(default_factory=lambda: dict(ROUTES))
    documented_only: bool = False

    @classmethod
    def from_manifest(cls, overrides: Mapping[str, Mapping[str, Any]] | None,
                      documented_only: bool = False, where: str = "the destination") -> RouteBook:
        routes = dict(ROUTES)
        for operation, given in (overrides or {}).items():
            routes[operation] = override(operation, given, where)
        return cls(routes, documented_only)

    @classmethod
    def for_destination(cls, spec: ActitoDestination,
                        where: str = "the destination") -> RouteBook:
        """The table with `spec.api`'s replacements and its documentedOnly."""
        return cls.from_manifest(
            {op: route.model_dump(by_alias=True, exclude_unset=True)
             for op, route in spec.api.routes.items()}, spec.api.documented_only, where)

    def route(self, operation: str) -> Route:
        return self.routes[operation]

    def inferred(self, operations: list[str]) -> list[Route]:
        """Which of `operations` still rest on an inferred route or body."""
        return [self.routes[o] for o in operations if self.routes[o].inferred]

    def request(self, operation: str, values: Mapping[str, Any]) -> Request:
        """The filled request of `operation`; PermanentApiError, before anything is sent,
        when the destination allows documented operations only and this one is not."""
        route = self.routes[operation]
        if self.documented_only and route.inferred:
            raise PermanentApiError(
                f"operation {route.describe()} rests on an undocumented Actito route or body "
                f"(evidence {route.source}) and this destination sets api.documentedOnly: "
                "true. Use the documented path (README, 'Actito on documented ground'), or "
                f"give the route from Actito's API reference as api.routes.{operation}",
                destination="actito", call=f"{route.method} {route.path}")
        escaped = {k: str(v) if k in PRE_ENCODED else quote(str(v), safe="")
                   for k, v in values.items()}
        path = PLACEHOLDER.sub(lambda m: escaped[m.group(1)], route.path)
        body = fill(route.body, values) if route.body is not None else None
        query = fill(dict(route.query), values) if route.query is not None else None
        return Request(route, path, body, query)


def override(operation: str, given: Mapping[str, Any], where: str) -> Route:
    """The table's `operation` with a manifest's replacement; PermanentApiError naming the
    field when the operation is unknown or a template uses a placeholder it cannot fill."""
    field_name = f"{where} spec.api.routes.{operation}"
    if operation not in ROUTES:
        known = ", ".join(OPERATIONS)
        raise PermanentApiError(f"{field_name}: unknown operation; the operations are {known}",
                                destination="actito")
    base = ROUTES[operation]
    changed = replace(
        base, method=str(given.get("method") or base.method).upper(),
        path=str(given.get("path") or base.path), evidence=Evidence.USER,
        body=given.get("body", base.body),
        body_evidence=Evidence.USER if "body" in given else base.body_evidence,
        query=given.get("query", base.query),
        list_key=given.get("listKey", base.list_key))
    allowed = {*PATH_VALUES, *base.placeholders}
    for part, template in (("path", changed.path), ("body", changed.body),
                           ("query", changed.query)):
        unknown = placeholders_in(template) - allowed
        if unknown:
            raise PermanentApiError(
                f"{field_name}.{part} uses {', '.join(sorted('{' + u + '}' for u in unknown))}; "
                f"this operation fills {', '.join('{' + a + '}' for a in sorted(allowed))}",
                destination="actito")
    if changed.evidence is Evidence.USER and base.body_evidence is Evidence.INFERRED \
            and "body" not in given:
        # A new path with the inferred body is still a guess at the body.
        changed = replace(changed, body_evidence=Evidence.INFERRED)
    return changed
