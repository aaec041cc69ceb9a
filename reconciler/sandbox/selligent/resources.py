"""Route handlers for the sandbox's resources: status, organization, lists, fields, segments.

Each handler takes the store and the request (the caller holds the store's lock) and returns
the documented JSON answer, or raises `ApiProblem` for the error envelope.
"""
from __future__ import annotations

from typing import Any, Protocol, TypeVar

from reconciler.sandbox.http import Request, Response
from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.problem import ApiProblem, SegmentNotFound
from reconciler.sandbox.selligent.search import paginate
from reconciler.sandbox.selligent.store import (
    FIELD_TYPES,
    Field,
    ListTable,
    Organization,
    Segment,
    Store,
)

LIST_TYPES = ("Userlist", "Datalist", "DataSelectionList", "Optionlist", "Devicelist")
DEFAULT_TEXT_LENGTH = 50  # [I] a Text field created without a length


def succeeded(message: str, status: int = 200) -> Response:
    return Response(status, {"result_code": "Succeeded", "message": message})


def find_org(store: Store, req: Request) -> Organization:
    org = store.organization(req.params["organization"])
    if org is None:
        raise ApiProblem.not_found(f"Organization {req.params['organization']} not found.")
    return org


def find_list(store: Store, req: Request) -> ListTable:
    table = find_org(store, req).list(req.params["api_name"])
    if table is None:
        raise ApiProblem.not_found(f"List {req.params['api_name']} not found.")
    return table


def find_segment(store: Store, req: Request) -> tuple[ListTable, Segment]:
    table = find_list(store, req)
    segment = table.segment(req.params["segment_api_name"])
    if segment is None:  # 404 or 400: SelligentApp answers as the tenant is configured
        raise SegmentNotFound(req.params["segment_api_name"])
    return table, segment


def body_object(req: Request) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError as exc:
        raise ApiProblem.invalid("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiProblem.invalid("The body must be a JSON object.")
    return body


class _Named(Protocol):
    type: str
    name: str
    api_name: str
    description: str
    tags: list[str]


Listed = TypeVar("Listed", bound=_Named)


def _select(
    items: list[Listed], req: Request, max_take: int | None
) -> tuple[list[Listed], list[Listed]]:
    """Items whose type is `filter` and whose texts contain `search`; then the skip/take page
    (at most `max_take` items, on a tenant capping pages)."""
    kind, text = req.arg("filter"), (req.arg("search") or "").casefold()
    found = []
    for item in items:
        texts = [item.name, item.api_name, item.description, *item.tags]
        if (not kind or item.type.casefold() == kind.casefold()) and any(
            text in t.casefold() for t in texts
        ):
            found.append(item)
    return found, paginate(found, req.arg("skip"), req.arg("take"), max_take)


def _valid_api_name(name: Any, what: str, error_code: str) -> str:
    if not isinstance(name, str) or not inferred.API_NAME.match(name):
        message = f"Invalid {what} api_name: letters, digits and _ only."
        raise ApiProblem.invalid(message, error_code)
    return name


def get_status(store: Store, req: Request) -> Response:
    return Response(200, {})


def get_organization(store: Store, req: Request) -> Response:
    org = find_org(store, req)
    return Response(200, {
        "name": org.name,
        "languages": [{"name": "English", "code": "EN", "locale": "en-GB"}],
        "audiences": [{"api_name": t.api_name} for t in org.lists if t.type == "Userlist"],
        "campaign_data_sources": [], "default_languages": ["EN"],
        "default_maildomain": "sandbox.invalid", "trackers": [], "connector_instances": [],
        "mediums": [], "taglists": [],
    })


def get_lists(store: Store, req: Request, max_take: int | None = None) -> Response:
    _, page = _select(find_org(store, req).lists, req, max_take)
    lists = [{"id": t.id, "type": t.type, "api_name": t.api_name, "name": t.name} for t in page]
    return Response(200, {"lists": lists})


def create_list(store: Store, req: Request) -> Response:
    org, body = find_org(store, req), body_object(req)
    code = "ERR_LIST_VALIDATION"
    if not body.get("name") or body.get("type") not in LIST_TYPES:
        raise ApiProblem.invalid(f"name is required and type must be one of {LIST_TYPES}.", code)
    api_name = _valid_api_name(body.get("api_name"), "list", code)
    if org.list(api_name) is not None:
        raise ApiProblem.invalid(f"A list with api_name {api_name} already exists.", code)
    store.add_list(
        org, api_name=api_name, name=str(body["name"]), type=body["type"],
        description=str(body.get("description") or ""), tags=list(body.get("tags") or []),
    )
    return succeeded("List created successfully.")


def get_list(store: Store, req: Request) -> Response:
    org, table = find_org(store, req), find_list(store, req)
    return Response(200, {
        "api_name": table.api_name, "name": table.name, "type": table.type,
        "description": table.description, "tags": table.tags,
        "enforce_segment_selection": False, "organizations": [org.name],
        "not_accessible_organizations_count": 0,
    })


def delete_list(store: Store, req: Request) -> Response:
    org, table = find_org(store, req), find_list(store, req)
    org.lists.remove(table)
    return succeeded("The list has been deleted successfully")


def get_records_count(store: Store, req: Request) -> Response:
    """List_GetListRecordsCount [C: Swagger, §8]: `{"count": n}` (list_records_count_success_
    response, int32), the number of records in the list."""
    return Response(200, {"count": len(find_list(store, req).records)})


def get_fields(store: Store, req: Request) -> Response:
    fields = [
        {"name": f.name, "length": f.length, "data_type": f.data_type,
         "description": f.description, "allow_null": f.allow_null, "content": "Free"}
        for f in find_list(store, req).fields
    ]
    return Response(200, {"fields": fields})


def create_fields(store: Store, req: Request) -> Response:
    table, body = find_list(store, req), body_object(req)
    items, code = body.get("fields"), "ERR_LIST_VALIDATION"
    if not isinstance(items, list) or not items:
        raise ApiProblem.invalid("The body needs a non-empty 'fields' array.", code)
    new: list[Field] = []
    for item in items:
        name = _valid_api_name(item.get("name") if isinstance(item, dict) else None, "field", code)
        kind = item.get("data_type")
        if kind not in FIELD_TYPES:
            raise ApiProblem.invalid(f"Field {name}: data_type must be one of {FIELD_TYPES}.", code)
        if table.field(name) is not None or any(n.name.casefold() == name.casefold() for n in new):
            raise ApiProblem.invalid(f"Field {name} already exists.", code)
        length = int(item.get("length") or (DEFAULT_TEXT_LENGTH if kind == "Text" else 0))
        new.append(Field(name, kind, length, str(item.get("description") or ""),
                         bool(item.get("allow_null", True))))
    table.fields.extend(new)
    for record_id in list(table.records):
        table.update(record_id, {f.name: None for f in new})
    return succeeded("Fields created successfully.", 201)


def get_segments(store: Store, req: Request, max_take: int | None = None) -> Response:
    found, page = _select(find_list(store, req).segments, req, max_take)
    items = [{"segment_type": s.type, "api_name": s.api_name} for s in page]
    return Response(200, {"segments": items, "segment_count": len(found)})


def get_segment(store: Store, req: Request) -> Response:
    _, segment = find_segment(store, req)
    return Response(200, {"type": segment.type, "api_name": segment.api_name,
                          "name": segment.name, "description": segment.description})


def create_static_segment(store: Store, req: Request) -> Response:
    table, body = find_list(store, req), body_object(req)
    code = "ERR_LIST_VALIDATION"
    api_name = _valid_api_name(body.get("api_name"), "segment", code)
    if not body.get("name"):
        raise ApiProblem.invalid("name is required.", code)
    if table.segment(api_name) is not None:
        raise ApiProblem.invalid(f"A segment with api_name {api_name} already exists.", code)
    table.segments.append(Segment(api_name, str(body["name"]), "Static",
                                  str(body.get("description") or ""), list(body.get("tags") or [])))
    return succeeded("The static segment has been created successfully.")


def delete_segment(store: Store, req: Request) -> Response:
    table, segment = find_segment(store, req)
    table.segments.remove(segment)
    return succeeded("The segment has been deleted successfully")
