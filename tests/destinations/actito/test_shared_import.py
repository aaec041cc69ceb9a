"""One ETL execution for several activations: one CSV per activation, no field blanked."""
from __future__ import annotations

from pathlib import Path

import duckdb

from reconciler.changes.tables import DiffTables
from reconciler.destinations.actito.writer import ActitoWriter
from reconciler.destinations.base import UpdateShare
from reconciler.manifests.models import DeletionPolicy, FieldMapping, MatchKey, Warnings
from reconciler.manifests.settings import EffectiveActivation
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import make_adapter, profile

KEY = MatchKey(source="customer_id", destination="customerId")


def _activation(name: str, field: str) -> EffectiveActivation:
    return EffectiveActivation(
        name=name, destination="actito", destination_type="actito", segment=name, model=None,
        audience_name=name, description=None, match_key=KEY,
        fields=(FieldMapping(source=field, destination=field),), schedule="manual",
        warnings=Warnings(), deletion_policy=DeletionPolicy.KEEP, validity_period=None)


def _share(conn: duckdb.DuckDBPyConnection, prefix: str, field: str,
           rows: list[tuple[str, str]]) -> UpdateShare:
    tables = DiffTables(prefix)
    conn.execute(f'CREATE TABLE "{tables.updates}" (member_key VARCHAR, "{field}" VARCHAR)')
    conn.executemany(f'INSERT INTO "{tables.updates}" VALUES (?, ?)', rows)
    return UpdateShare(_activation(prefix, field), tables, len(rows))


def test_two_activations_share_one_execution_without_blanking(sandbox: ActitoSandbox,
                                                              tmp_path: Path) -> None:
    # Scenario: one sets firstName, the other lastName; C000001 is in both, each keeps its own.
    conn = duckdb.connect()
    shares = [_share(conn, "first", "firstName", [("C000001", "Ann"), ("C000002", "Bo")]),
              _share(conn, "last", "lastName", [("C000001", "Zed"), ("C000003", "Yu")])]
    before = profile(sandbox, "C000002")
    assert before is not None
    writer = ActitoWriter(make_adapter(sandbox))
    parts = writer.prepare_import("customerId", shares, conn, tmp_path)
    started: list[str] = []
    result = writer.run_import_file(parts[0], "customerId", started.append)
    assert len(parts) == 1 and len(started) == 1
    assert (result.sent, result.applied, result.rejected) == (4, 4, 0)
    both = profile(sandbox, "C000001")
    assert both is not None and (both["firstName"], both["lastName"]) == ("Ann", "Zed")
    only_first = profile(sandbox, "C000002")
    assert only_first is not None and only_first["lastName"] == before["lastName"]
    posts = [e for e in sandbox.log.entries()
             if e.method == "POST" and e.path.endswith("/etl-executions")]
    assert len(posts) == 1
