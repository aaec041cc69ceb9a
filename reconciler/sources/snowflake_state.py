"""The row-hash tables of `planIn: warehouse` in Snowflake (see `warehouse_state.py`).

Owns writing them with snowflake-connector-python, on a connection of its own (the Source's
is for reading): the schema is created only when the role does not see it, the two tables
with `CREATE TABLE IF NOT EXISTS` (DDL commits on its own in Snowflake, so it runs before the
transaction), then one explicit transaction deletes the stale rows (or all of them, after a
full read: a DELETE, not a DROP, so the change stays in the transaction), inserts the fresh
ones and replaces the activation's row in `activations`. Keys and hashes travel as JSON arrays
bound as one value each and flattened by Snowflake (`FLATTEN(input => PARSE_JSON(?))`), at
most `_JSON_BYTES` per statement: bulk binding by `executemany` would need a stage. Names are
quoted as the manifest writes them (`"reconciler_state"` is a lower-case schema).
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reconciler.manifests.models import SnowflakeSource
from reconciler.sources.audience import KEY_COLUMN
from reconciler.sources.dialects import SNOWFLAKE
from reconciler.sources.incremental import (
    JSON_VALUES,
    META_TABLE,
    ROW_HASH,
    Changes,
    members_table,
    qualified,
    record_failure,
)
from reconciler.sources.snowflake_source import connect_arguments, load_connector

_JSON_BYTES = 4_000_000  # well under Snowflake's 16 MB for one bound value


def write_snowflake(source: str, spec: SnowflakeSource, manifest_dir: Path, activation: str,
                    fingerprint: str, changes: Changes, serial: int) -> None:
    """Write `changes` to `activation`'s row-hash table and mark it for `serial` (with the
    audience's `fingerprint`); one transaction, rolled back on failure."""
    connector = load_connector()
    arguments = connect_arguments(source, spec, manifest_dir)
    try:
        with connector.connect(paramstyle="qmark", login_timeout=30, **arguments) as conn:
            cursor = conn.cursor()
            table = _ensure_tables(cursor, spec.state_schema, activation)
            cursor.execute("BEGIN")
            try:
                _write(cursor, table, changes)
                _mark(cursor, spec.state_schema, table, activation, fingerprint, serial)
            except BaseException:
                with contextlib.suppress(connector.errors.Error):
                    cursor.execute("ROLLBACK")  # explicit: the session may autocommit
                raise
            cursor.execute("COMMIT")
    except connector.errors.Error as exc:
        where = f"Snowflake account {arguments.get('account')!r}"
        raise record_failure(source, activation, spec.state_schema, where, exc) from exc


def _ensure_tables(cursor: Any, schema: str, activation: str) -> str:
    """The schema (created only when missing: the role may own the schema and lack CREATE
    SCHEMA on the database), `activations`, and the activation's table; its quoted name."""
    q = SNOWFLAKE.quote
    cursor.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
                   [schema])
    if not cursor.fetchall()[0][0]:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}")
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {qualified(schema, META_TABLE, SNOWFLAKE)} (activation "
        "VARCHAR NOT NULL, table_name VARCHAR NOT NULL, serial NUMBER(38,0) NOT NULL, "
        "fingerprint VARCHAR NOT NULL, members NUMBER(38,0) NOT NULL)")
    table = qualified(schema, members_table(activation), SNOWFLAKE)
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} ({q(KEY_COLUMN)} VARCHAR NOT NULL, "
                   f"{q(ROW_HASH)} VARCHAR NOT NULL)")
    return table


def _write(cursor: Any, table: str, changes: Changes) -> None:
    q = SNOWFLAKE.quote
    key, hash_ = q(KEY_COLUMN), q(ROW_HASH)
    if changes.full:
        cursor.execute(f"DELETE FROM {table}")
    else:
        for chunk in _json_chunks([key] for key in changes.stale):
            cursor.execute(f"DELETE FROM {table} WHERE {key} IN ({JSON_VALUES})", [chunk])
    pairs = ([str(k), str(h)] for rows in changes.batches() for k, h in rows)
    for chunk in _json_chunks(pairs):
        cursor.execute(f"INSERT INTO {table} ({key}, {hash_}) SELECT f.value[0]::VARCHAR, "
                       "f.value[1]::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(?))) AS f",
                       [chunk])


def _mark(cursor: Any, schema: str, table: str, activation: str, fingerprint: str,
          serial: int) -> None:
    meta = qualified(schema, META_TABLE, SNOWFLAKE)
    cursor.execute(f"DELETE FROM {meta} WHERE activation = ?", [activation])
    cursor.execute(f"INSERT INTO {meta} (activation, table_name, serial, fingerprint, members) "
                   f"SELECT ?, ?, ?, ?, count(*) FROM {table}",
                   [activation, members_table(activation), serial, fingerprint])


def _json_chunks(items: Iterable[list[str]]) -> Iterator[str]:
    """JSON arrays of `items` (one value, or a [key, hash] pair, each) of at most about
    `_JSON_BYTES`; a single key is unwrapped."""
    chunk: list[Any] = []
    size = 2
    for item in items:
        value: Any = item[0] if len(item) == 1 else item
        encoded = len(json.dumps(value)) + 1
        if chunk and size + encoded > _JSON_BYTES:
            yield json.dumps(chunk)
            chunk, size = [], 2
        chunk.append(value)
        size += encoded
    if chunk:
        yield json.dumps(chunk)
