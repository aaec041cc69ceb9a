"""The sandbox's predefined ETLs: loaded as from the portal, listed, kept across a restart."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox.actito import ActitoSandbox
from reconciler.sandbox.actito.etldefs import EtlDefinitionError, load_etl_definitions
from tests.destinations.actito.conftest import make_client


def test_definitions_are_listed_and_survive_a_restart(
        start: Callable[..., ActitoSandbox], tmp_path: Path) -> None:
    # Scenario: two ETLs set up in the portal (one by table id, one given no id): the list
    # route shows both, normalised; a restart of the sandbox keeps them.
    sandbox = start(data_dir=tmp_path / "d")
    stored = load_etl_definitions(sandbox.store, [
        {"id": "7", "name": "scores", "table": "16", "keyAttribute": "customerId",
         "columns": ["customerId", "lifetimeValue"]},
        {"table": "Profiles", "keyAttribute": "emailAddress", "columns": ["firstName"]}])
    assert stored[0] == {"id": "7", "name": "scores", "entity": "sandbox", "table": "16",
                         "mode": "UPDATE_ONLY", "keyAttribute": "customerId",
                         "columns": ["lifetimeValue"]}
    client = make_client(sandbox)
    listed = client.call("GET", "/mass-imports/v5/entities/sandbox/etls", call="GET etls",
                         subject="test")["etls"]
    assert [(d["id"], d["keyAttribute"]) for d in listed] == [
        ("7", "customerId"), (stored[1]["id"], "emailAddress")]
    sandbox.stop()
    again = start(data_dir=tmp_path / "d")
    assert again.store.etls == {d["id"]: d for d in stored}


@pytest.mark.parametrize(("entry", "says"), [
    ({"table": "Nope", "keyAttribute": "customerId", "columns": []}, "no profile table 'Nope'"),
    ({"table": "Profiles", "keyAttribute": "firstName", "columns": []},
     "keyAttribute 'firstName' is not a unique attribute"),
    ({"table": "Profiles", "keyAttribute": "customerId", "columns": ["shoeSize"]},
     "table Profiles has no attribute shoeSize"),
    ({"table": "Profiles", "keyAttribute": "customerId", "columns": ["x"], "mode": "MERGE"},
     "mode must be one of"),
    ({"table": "Profiles", "keyAttribute": "customerId", "columns": "firstName"},
     "columns must be a list"),
    ({"entity": "other", "table": "Profiles", "keyAttribute": "customerId", "columns": []},
     "no entity 'other'"),
])
def test_a_definition_the_table_cannot_take_is_refused(sandbox: ActitoSandbox,
                                                       entry: dict[str, object],
                                                       says: str) -> None:
    # Scenario: a setup file names a table, key, column, mode or entity that does not exist.
    with pytest.raises(EtlDefinitionError, match=f"ETL definition 2: {says}"):
        load_etl_definitions(sandbox.store, [
            {"table": "Profiles", "keyAttribute": "customerId", "columns": []}, entry])
    assert sandbox.store.etls == {}
