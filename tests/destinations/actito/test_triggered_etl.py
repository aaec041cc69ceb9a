"""Predefined ETLs (an activation's etlId): only the data file goes to trigger-execution."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from reconciler.destinations.actito.writer import ActitoWriter
from reconciler.destinations.errors import PermanentApiError, QuotaExceededError
from reconciler.sandbox.actito import ActitoSandbox
from reconciler.sandbox.actito.etl import split_multipart
from reconciler.sandbox.actito.etldefs import load_etl_definitions
from reconciler.sandbox.http import Request
from tests.destinations.actito.conftest import make_adapter, make_client, profile
from tests.destinations.actito.test_shared_import import activation, send, share

NAMES = {"id": "etl-names", "name": "Names from the warehouse", "table": "Profiles",
         "mode": "UPDATE_ONLY", "keyAttribute": "customerId", "columns": ["firstName"]}


def test_a_triggered_etl_sends_only_the_data_file_and_the_update_lands(
        sandbox: ActitoSandbox, tmp_path: Path) -> None:
    # Scenario: etlId names a definition made in the portal; the import pushes the data file
    # alone to its trigger route (no definition, no one-shot execution), counted in the quota.
    load_etl_definitions(sandbox.store, [NAMES])
    posted: list[tuple[str, dict[str, bytes]]] = []

    def keep(request: Request) -> None:
        if request.method == "POST" and "/mass-imports/" in request.path:
            posted.append((request.path, split_multipart(request)))

    sandbox.faults.before_answer = keep
    conn = duckdb.connect()
    settings = activation("names", "firstName", etl_id="etl-names")
    result, started = send(ActitoWriter(make_adapter(sandbox)), conn,
                           [share(conn, settings, [("C000001", "Triggered")])], tmp_path)
    assert (result.sent, result.applied, started) == (1, 1, 1)
    assert [(path, sorted(parts)) for path, parts in posted] == [
        ("/mass-imports/v5/entities/sandbox/etls/etl-names/trigger-execution", ["inputFile"])]
    with zipfile.ZipFile(io.BytesIO(posted[0][1]["inputFile"])) as archive:
        assert archive.read("data.csv").decode() == "customerId,firstName\r\nC000001,Triggered\r\n"
    assert profile(sandbox, "C000001")["firstName"] == "Triggered"  # type: ignore[index]
    assert sum(sandbox.store.bulk_counts.values()) == 1


def test_a_definition_of_other_columns_fails_naming_activation_etl_and_columns(
        sandbox: ActitoSandbox, tmp_path: Path) -> None:
    # Scenario: the portal's ETL maps firstName; the activation maps lastName: refused (400)
    # before it counts, and the error says what the definition must map.
    load_etl_definitions(sandbox.store, [NAMES])
    conn = duckdb.connect()
    settings = activation("surnames", "lastName", etl_id="etl-names")
    with pytest.raises(PermanentApiError) as refused:
        send(ActitoWriter(make_adapter(sandbox)), conn,
             [share(conn, settings, [("C000001", "Wrong")])], tmp_path)
    message = str(refused.value)
    assert "activation surnames" in message and "'etl-names'" in message
    assert "columns customerId, lastName" in message and "keyed by customerId" in message
    assert "do not match" in message and refused.value.status == 400
    assert sandbox.store.bulk_counts == {}


def test_an_unknown_etl_id_says_to_create_it(sandbox: ActitoSandbox, tmp_path: Path) -> None:
    # Scenario: etlId names no definition of the entity: 404, and the error says what to do.
    conn = duckdb.connect()
    settings = activation("names", "firstName", etl_id="etl-missing")
    with pytest.raises(PermanentApiError, match="no ETL 'etl-missing' in entity sandbox: "
                       "create it in the Actito portal"):
        send(ActitoWriter(make_adapter(sandbox)), conn,
             [share(conn, settings, [("C000001", "Nobody")])], tmp_path)


def test_a_quota_429_on_a_trigger_is_the_quota(start: Callable[..., ActitoSandbox],
                                                tmp_path: Path) -> None:
    # Scenario: the table's daily imports are used up: the trigger's 429 is retried briefly,
    # then taken for the quota, as for one-shot executions.
    sandbox = start(bulk_imports_per_day=0)
    load_etl_definitions(sandbox.store, [NAMES])
    data = tmp_path / "names.csv"
    data.write_text("customerId,firstName\nC000001,Late\n", encoding="utf-8")
    with pytest.raises(QuotaExceededError, match="429 \\(3 tries\\)"):
        make_client(sandbox).trigger_etl("etl-names", data)
    posts = [e for e in sandbox.log.entries() if e.path.endswith("/trigger-execution")]
    assert [e.status for e in posts] == [429, 429, 429]
