"""REST routes of file transfer locations, file synchronizations and external target lists.

All [I] (§2.8 found no public routes or bodies): paths are in inferred.py, bodies here.
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found
from reconciler.sandbox.actito.targetlists import (
    TargetListSync,
    list_view,
    pattern_regex,
    validity_seconds,
)
from reconciler.sandbox.http import Request, Response

PROTOCOLS = ("FTPS", "SFTP", "FTP")


def _required(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if body.get(n) in (None, "")]
    if missing:
        raise bad_request(f"missing fields: {', '.join(missing)}")


def _create(routes: Routes, collection: dict[str, dict[str, Any]],
            record: dict[str, Any], request: Request) -> Response:
    if any(r["name"] == record["name"] and r.get("entity") == record.get("entity")
           for r in collection.values()):
        raise ApiProblem(409, "CONFLICT", f"{record['name']!r} already exists")
    record["id"] = routes.store.new_id()
    collection[record["id"]] = record
    routes.store.save()
    return Response(201, {"id": record["id"]}, {"Location": f"{request.path}/{record['id']}"})


class _TransferRoutes:
    """The handlers; one instance per sandbox."""

    def __init__(self, routes: Routes, syncer: TargetListSync) -> None:
        self.routes, self.store, self.syncer = routes, routes.store, syncer

    def locations(self, request: Request) -> Response:
        self.routes.entity(request)
        with self.store.lock:
            return Response(200, {"fileTransferLocations": list(self.store.locations.values())})

    def create_location(self, request: Request) -> Response:
        self.routes.entity(request)
        body = self.routes.json_body(request)
        _required(body, "name", "protocol", "host", "port", "username")
        if body["protocol"] not in PROTOCOLS:
            raise bad_request(f"protocol must be one of {', '.join(PROTOCOLS)}")
        fields = ("name", "protocol", "host", "port", "username", "directory")
        record = {k: body.get(k) for k in fields}
        with self.store.lock:
            return _create(self.routes, self.store.locations, record, request)

    def synchronizations(self, request: Request) -> Response:
        self.routes.entity(request)
        with self.store.lock:
            found = list(self.store.synchronizations.values())
        return Response(200, {"fileSynchronizations": found})

    def synchronization(self, request: Request) -> Response:
        self.routes.entity(request)
        record = self.store.synchronizations.get(request.params["sync"])
        if record is None:
            raise not_found(f"file synchronization {request.params['sync']}")
        return Response(200, record)

    def create_synchronization(self, request: Request) -> Response:
        entity = self.routes.entity(request)
        body = self.routes.json_body(request)
        _required(body, "name", "locationId", "fileNamePattern")
        if str(body["locationId"]) not in self.store.locations:
            raise not_found(f"file transfer location {body['locationId']}")
        pattern_regex(str(body["fileNamePattern"]))
        record = {"entity": entity.name, "name": body["name"],
                  "locationId": str(body["locationId"]),
                  "fileNamePattern": body["fileNamePattern"],
                  "encoding": body.get("encoding", "UTF-8")}
        with self.store.lock:
            return _create(self.routes, self.store.synchronizations, record, request)

    def lists(self, request: Request) -> Response:
        entity = self.routes.entity(request)
        self.syncer.scan()
        with self.store.lock:
            found = [list_view(r, self.syncer.clock) for r in self.store.target_lists.values()
                     if r["entity"] == entity.name]
        return Response(200, {"externalTargetLists": found})

    def create_list(self, request: Request) -> Response:
        entity = self.routes.entity(request)
        body = self.routes.json_body(request)
        _required(body, "name", "profileTable", "fileSynchronizationId", "keyAttribute",
                  "validityPeriod")
        table = self.routes.table_in_body(entity, str(body["profileTable"]))
        if body["keyAttribute"] not in table.unique_names():
            raise bad_request(f"{body['keyAttribute']} is not a unique attribute")
        if str(body["fileSynchronizationId"]) not in self.store.synchronizations:
            raise not_found(f"file synchronization {body['fileSynchronizationId']}")
        record = {"entity": entity.name, "name": body["name"], "profileTable": table.name,
                  "fileSynchronizationId": str(body["fileSynchronizationId"]),
                  "keyAttribute": body["keyAttribute"], "validityPeriod": body["validityPeriod"],
                  "validitySeconds": validity_seconds(body["validityPeriod"]),
                  "lastFileName": None, "lastRetrievedAt": None, "lastRetrievedEpoch": None,
                  "lastReport": None, "memberIds": []}
        with self.store.lock:
            answer = _create(self.routes, self.store.target_lists, record, request)
        self.syncer.scan()
        return answer

    def _record(self, request: Request) -> dict[str, Any]:
        """The list named by the path, after applying any file that has just arrived."""
        self.routes.entity(request)
        self.syncer.scan()
        record = self.store.target_lists.get(request.params["list"])
        if record is None:
            raise not_found(f"external target list {request.params['list']}")
        return record

    def one_list(self, request: Request) -> Response:
        with self.store.lock:
            return Response(200, list_view(self._record(request), self.syncer.clock))

    def delete_list(self, request: Request) -> Response:
        with self.store.lock:
            del self.store.target_lists[self._record(request)["id"]]
            self.store.save()
        return Response(204)

    def members(self, request: Request) -> Response:
        with self.store.lock:
            record = self._record(request)
            active = list_view(record, self.syncer.clock)["status"] == "ACTIVE"
            ids = list(record["memberIds"]) if active else []
        page, size = int(request.arg("page", "0") or 0), int(request.arg("size", "1000") or 1000)
        return Response(200, {"profileIds": ids[page * size:(page + 1) * size],
                              "page": {"number": page, "size": size, "totalElements": len(ids)}})


def register_transfer_routes(routes: Routes, syncer: TargetListSync) -> None:
    handlers = _TransferRoutes(routes, syncer)
    files, targeting = inferred.FILE_TRANSFER_FAMILY, inferred.TARGETING_FAMILY
    one_list = inferred.TARGET_LISTS + "/{list}"
    for method, family, path, handler in (
        ("GET", files, inferred.LOCATIONS, handlers.locations),
        ("POST", files, inferred.LOCATIONS, handlers.create_location),
        ("GET", files, inferred.SYNCHRONIZATIONS, handlers.synchronizations),
        ("POST", files, inferred.SYNCHRONIZATIONS, handlers.create_synchronization),
        ("GET", files, inferred.SYNCHRONIZATIONS + "/{sync}", handlers.synchronization),
        ("GET", targeting, inferred.TARGET_LISTS, handlers.lists),
        ("POST", targeting, inferred.TARGET_LISTS, handlers.create_list),
        ("GET", targeting, one_list, handlers.one_list),
        ("DELETE", targeting, one_list, handlers.delete_list),
        ("GET", targeting, inferred.TARGET_LIST_MEMBERS, handlers.members),
    ):
        routes.add(method, family, path, handler, documented=False)  # every one [?] §8
