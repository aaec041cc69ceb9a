"""Profiles and the data model: both path styles, lookups, upsert, attributes, persistence."""
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


def test_both_path_styles_serve_the_same_data(sandbox: ActitoSandbox) -> None:
    # Scenario: a profile and the table read through the plain and the family-prefixed paths.
    api = Api(sandbox)
    plain = api("GET", "/v4/entity/sandbox/table/Profiles/profile/customerId=C000001").json()
    family = api("GET", "/profiles/v4/entity/sandbox/table/Profiles/profile/1").json()
    assert plain == family and plain["profileId"] == 1
    by_email = api("GET", "/v4/entity/sandbox/table/Profiles/profile/"
                          "emailAddress=finn.maes1%40example.com").json()
    assert by_email["profileId"] == 1
    structure = api("GET", "/profile-table-structure/v5/entities/sandbox/profile-tables/16").json()
    assert structure == api("GET", "/v5/entities/sandbox/profile-tables/Profiles").json()
    names = {a["name"]: a for a in structure["attributes"]}
    assert names["customerId"]["unique"] and names["customerId"]["valueType"] == "STRING"
    email = names["emailAddress"]
    assert email["type"] == "EMAIL_ADDRESS" and "valueType" not in email
    assert names["gsmNumber"]["unique"]
    one = "/v4/entity/sandbox/table/Profiles/profile/"
    assert api("GET", one + "customerId=C000004").status_code == 404
    assert api("GET", one + "firstName=Finn").status_code == 400


def test_upsert_needs_allow_update_to_update(sandbox: ActitoSandbox) -> None:
    # Scenario: POST of an existing key without and with allowUpdate, then of a new profile.
    api = Api(sandbox)
    path = "/profiles/v4/entity/sandbox/table/Profiles/profile"
    body = {"attributes": [{"name": "customerId", "value": "C000001"},
                           {"name": "firstName", "value": "Updated"}]}
    assert api("POST", path, json=body).status_code == 409
    assert api("POST", path + "?allowUpdate=true", json=body).json() == {"profileId": 1}
    assert profile(sandbox, "C000001")["firstName"] == "Updated"  # type: ignore[index]
    bad = {"attributes": [{"name": "emailAddress", "value": "not-an-email"}]}
    assert api("POST", path, json=bad).status_code == 400
    new = {"attributes": [{"name": "customerId", "value": "NEW-1"}]}
    before = profile_count(sandbox)
    assert api("POST", path, json=new).status_code == 200 and profile_count(sandbox) == before + 1


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
    assert sum("profile/customerId=" in e.path for e in sandbox.log.entries()) == 3
    many = [f"C{n:06d}" for n in range(1, 200)] + ["NOPE"]
    sandbox.log.clear()
    found = existing_keys(adapter, "customerId", many)
    assert not any("profile/customerId=" in e.path for e in sandbox.log.entries())
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
