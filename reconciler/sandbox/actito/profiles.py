"""The Actito REST routes of profiles: one profile by key on v5 and the paged v5 listing.

- `GET /profiles/v5/entities/{e}/profile-tables/{profileTableId}/profiles/{profileKey}` is the
  documented replacement of the v4 "Get a profile" ([C] evidence §5); the `attr=value` key
  syntax, the answer's shape and 404 for no match are [I] (inferred.py).
- The listing above it is [I] (route) and [?] (parameters, shape): see inferred.py and the
  `listing_*` knobs of the config, which make it cap pages or leave out its totals.
- The v4 single-profile calls (get, upsert, update, delete) are retired ([C] evidence "new
  facts" 2): they answer `inferred.RETIRED_STATUS` naming the v5 route.
"""
from __future__ import annotations

from functools import partial

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.routing import ApiProblem, Routes, bad_request, not_found
from reconciler.sandbox.actito.store import Table
from reconciler.sandbox.http import Request, Response

PROFILE_V4 = "/v4/entity/{entity}/table/{table}/profile"
PROFILE_V5 = inferred.PROFILES_V5 + "/{key}"


def _locate(table: Table, key: str) -> int:
    """`{profileId}` or `{uniqueAttribute}={value}` ([I] evidence §5: the v4 syntax)."""
    name, sep, value = key.partition("=")
    if not sep:
        name, value = "profileId", key
    if name != "profileId" and name not in table.unique_names():
        raise bad_request(f"{name} is not a unique attribute of {table.name}")
    pid = table.find(name, value)
    if pid is None:
        raise not_found("profile")
    return pid


def _get_one(routes: Routes, request: Request) -> Response:
    table = routes.table(request)
    with routes.store.lock:  # an ETL may be writing the table meanwhile
        pid = _locate(table, request.params["key"])
        return Response(200, inferred.profile_body(pid, dict(table.profiles[pid])))


def _retired(request: Request) -> Response:
    raise ApiProblem(inferred.RETIRED_STATUS, "GONE",
                     "the v4 single-profile calls are retired; use GET /profiles/v5/entities/"
                     "{entity}/profile-tables/{profileTableId}/profiles/{profileKey}")


def _page(routes: Routes, request: Request) -> Response:
    """[?] v5 listing: `page`/`size` paging in profile id order, optional `attributes` filter.
    `listing_page_cap` serves fewer than asked; `listing_totals` False drops the `page` block."""
    table = routes.table(request)
    try:
        page = int(request.arg("page", "0") or 0)
        size = int(request.arg("size", "100") or 100)
    except ValueError:
        raise bad_request("page and size must be integers") from None
    if page < 0 or not 1 <= size <= inferred.PAGE_SIZE_MAX:
        raise bad_request(f"size must be 1-{inferred.PAGE_SIZE_MAX}, page >= 0")
    cap = routes.config.listing_page_cap
    size = min(size, cap) if cap else size
    wanted = [a for a in (request.arg("attributes") or "").split(",") if a]
    with routes.store.lock:
        ids = sorted(table.profiles)
        chosen = [(pid, table.profiles[pid]) for pid in ids[page * size:(page + 1) * size]]
    profiles = [
        inferred.profile_body(pid, {k: v for k, v in values.items() if not wanted or k in wanted})
        for pid, values in chosen
    ]
    if not routes.config.listing_totals:
        return Response(200, {"profiles": profiles})
    total_pages = (len(ids) + size - 1) // size
    return Response(200, {"profiles": profiles, "page": {
        "number": page, "size": size, "totalElements": len(ids), "totalPages": total_pages}})


def register_profiles(routes: Routes) -> None:
    """One profile by key (v5), the paged v5 listing, and the retired v4 calls."""
    routes.add("GET", "profiles", PROFILE_V5, partial(_get_one, routes))
    routes.add("GET", "profiles", inferred.PROFILES_V5, partial(_page, routes), documented=False)
    for method in ("GET", "PUT", "DELETE"):
        routes.add(method, "profiles", PROFILE_V4 + "/{key}", _retired, documented=False)
    routes.add("POST", "profiles", PROFILE_V4, _retired, documented=False)
