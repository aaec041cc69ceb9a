"""Profiles and the data model: v5 routes by table id, lookups, attributes, persistence."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from reconciler.destinations.actito import AttributeSpec, ValueType
from reconciler.destinations.errors import PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import existing_keys, make_adapter, profile, profile_count


class Api:
    """Raw HTTP with a token, for checking the sandbox's routes themselves."""

    def __init__(self, sandbox: ActitoSandbox) -> None:
        self.url = sandbox.url
        token = requests.get(f"{self.url}/auth/token", timeout=5,
                             headers={"Authorization": "sandbox-api-key"}).json()["accessToken"]
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers, timeout=5, **kwargs)


V5 = "/profiles/v5/entities/sandbox/profile-tables"
STRUCTURE = "/profile-table-structure/v5/entities/sandbox/profile-tables"


def test_v5_profile_routes_take_the_table_id_under_the_family_prefix(
        sandbox: ActitoSandbox) -> None:
    # Scenario: one profile read on the documented v5 route by key, e-mail and id; the table's
    # name in the id slot, the plain (unprefixed) forms and the retired v4 calls are refused.
    # (Replaces "both path styles serve the same data" and the v4 upsert test: plain forms are
    # gone since June 2025, v5 takes the table's id, and v4 single-profile calls are retired.)
    api = Api(sandbox)
    by_key = api("GET", f"{V5}/16/profiles/customerId=C000001").json()
    assert by_key["profileId"] == 1
    assert api("GET", f"{V5}/16/profiles/emailAddress=finn.maes1%40example.com").json() == by_key
    assert api("GET", f"{V5}/16/profiles/1").json() == by_key
    assert api("GET", f"{V5}/16/profiles/customerId=C000004").status_code == 404
    assert api("GET", f"{V5}/16/profiles/firstName=Finn").status_code == 400
    by_name = api("GET", f"{V5}/Profiles/profiles/customerId=C000001")
    assert by_name.status_code == 404 and "id, not its name" in by_name.json()["message"]
    assert api("GET", f"{STRUCTURE}/Profiles").status_code == 404
    assert api("GET", f"{V5}/Profiles/profiles?page=0&size=1").status_code == 404
    for plain in ("/v5/entities/sandbox/profile-tables/16",
                  "/v4/entity/sandbox/table/Profiles/profile/1", "/v5/entities"):
        assert api("GET", plain).status_code == 404, plain
    v4 = "/profiles/v4/entity/sandbox/table/Profiles/profile"
    retired = [api("GET", f"{v4}/customerId=C000001"), api("DELETE", f"{v4}/1"),
               api("POST", f"{v4}?allowUpdate=true", json={"attributes": []})]
    assert [r.status_code for r in retired] == [410] * 3
    assert "/profiles/v5/" in retired[0].json()["message"]
    structure = api("GET", f"{STRUCTURE}/16").json()
    listed = api("GET", STRUCTURE).json()["profileTables"]
    assert [(t["id"], t["name"]) for t in listed] == [("16", "Profiles")]
    names = {a["name"]: a for a in structure["attributes"]}
    assert names["customerId"]["unique"] and names["customerId"]["valueType"] == "STRING"
    email = names["emailAddress"]
    assert email["type"] == "EMAIL_ADDRESS" and "valueType" not in email
    assert names["gsmNumber"]["unique"]


def test_the_client_resolves_the_table_id_once_for_every_v5_path(sandbox: ActitoSandbox) -> None:
    # Scenario: structure, attribute creation, key lookups and paging through one adapter: the
    # table list is read once and every v5 path carries the id 16, never the name.
    adapter = make_adapter(sandbox)
    sandbox.log.clear()
    adapter.ensure_attributes([AttributeSpec("churnScore", ValueType.DECIMAL)])
    assert existing_keys(adapter, "customerId", ["C000001", "NOPE"]) == {"C000001"}
    assert sum(len(page) for page in adapter.iter_keys("customerId")) == profile_count(sandbox)
    paths = [e.path for e in sandbox.log.entries() if "/profile-tables" in e.path]
    assert paths.count(STRUCTURE) == 1
    in_table = [p for p in paths if p != STRUCTURE]
    assert len(in_table) >= 5 and all("/profile-tables/16" in p for p in in_table)
    assert not [p for p in paths if "Profiles" in p]
    with pytest.raises(PermanentApiError) as missing:
        make_adapter(sandbox, profile_table="Contacts").read_structure()
    message = str(missing.value)
    assert "'Contacts' not found in entity sandbox" in message and "Profiles" in message


def test_missing_attributes_are_created_once(sandbox: ActitoSandbox) -> None:
    # Scenario: an activation needs churnScore (new) and lifetimeValue (present, same type).
    adapter = make_adapter(sandbox)
    specs = [AttributeSpec("churnScore", ValueType.DECIMAL),
             AttributeSpec("lifetimeValue", ValueType.DECIMAL)]
    assert adapter.ensure_attributes(specs) == ["churnScore"]
    assert adapter.ensure_attributes(specs) == []
    created = adapter.read_structure().attribute("churnScore")
    assert created is not None and created.value_type == "DECIMAL" and not created.unique
    with pytest.raises(PermanentApiError, match="cannot change"):
        adapter.ensure_attributes([AttributeSpec("churnScore", ValueType.BOOLEAN)])


def test_existing_keys_agree_between_lookup_and_paging(sandbox: ActitoSandbox) -> None:
    # Scenario: a few keys are looked up one by one; many keys make the adapter page instead.
    adapter = make_adapter(sandbox)
    few = ["C000001", "C000004", "NOPE"]
    sandbox.log.clear()
    assert existing_keys(adapter, "customerId", few) == {"C000001"}
    assert sum("/profiles/customerId=" in e.path for e in sandbox.log.entries()) == 3
    many = [f"C{n:06d}" for n in range(1, 200)] + ["NOPE"]
    sandbox.log.clear()
    found = existing_keys(adapter, "customerId", many)
    assert not any("/profiles/customerId=" in e.path for e in sandbox.log.entries())
    assert found == {k for k in many if profile(sandbox, k) is not None}
    assert sum(len(page) for page in adapter.iter_keys("customerId")) == profile_count(sandbox)
    streamed = adapter.iter_existing_keys("customerId", iter(few), len(few))
    assert [key for page in streamed for key in page] == ["C000001"]


def test_data_survives_a_restart(start: Callable[..., ActitoSandbox]) -> None:
    # Scenario: attribute, profile update and list are still there after the sandbox restarts.
    first = start()
    adapter = make_adapter(first)
    adapter.ensure_attributes([AttributeSpec("churnScore", ValueType.DECIMAL)])
    adapter.update_profiles("customerId", ["churnScore"], [("C000001", 0.75)])
    first.stop()
    second = start()
    assert profile(second, "C000001")["churnScore"] == 0.75  # type: ignore[index]
    assert make_adapter(second).read_structure().attribute("churnScore") is not None
