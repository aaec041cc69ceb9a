"""An encrypted state store: which key it takes, its sealed snapshots, and re-keying it.

Owns the `encryption` row (the key id, never the key: a store without it is plain), the check
every opening makes (an encrypted store without its key, with another key, or a plain store
given a key is a clear error saying what to do), the snapshot rows of an encrypted store
(`member_key` holds the keyed hash, HMAC-SHA256, that diffs join on; `member_key_sealed` the
key sealed with AES-GCM, bound to that hash, opened only for members to remove), and
`rekey`: every snapshot sealed again with a new key (or none) in one transaction.

The keyed hashes are computed by DuckDB (`StateKey.keyed_hash_sql`), never by a Python call
per member; sealing and opening are one AES-GCM call per member (see the README's cost).
Run records, the journal, imports and notices hold no member key or value: nothing to seal.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.arrow_streams import arrow_reader, load_reader_into, quote_duckdb
from reconciler.state.backend import (
    SEALED_SCHEMA,
    SNAPSHOT_SCHEMA,
    SNAPSHOT_SEALED,
    Backend,
    SnapshotHashes,
    snapshot_has_hash,
)
from reconciler.state.contactindex import INDEX_PREFIX
from reconciler.state.encryption import ALGORITHM, EncryptionError, StateKey
from reconciler.state.errors import StateError
from reconciler.state.records import SNAPSHOT_HASH, SNAPSHOT_KEY
from reconciler.state.schema import ENCRYPTION_VERSION, INDEX_VERSION

BATCH_ROWS = 100_000
CACHE = '"__reconciler_sealed_members"'
"""The planning workspace's table of keyed hashes and sealed keys, for apply to reuse."""
SETTING = "`state: {encryption: {key: ${env:NAME}}}` in the project file"


def recorded_key_id(backend: Backend, version: int) -> str | None:
    """The id of the key the store is encrypted with; None: a plain store."""
    if version < ENCRYPTION_VERSION:
        return None
    rows = backend.query("SELECT key_id FROM encryption")
    return str(rows[0][0]) if rows else None


def check_key(backend: Backend, key: StateKey | None, version: int) -> StateKey | None:
    """The key the store's snapshots are sealed with (None: a plain store), after checking
    it is the one given. A plain store without snapshot rows given a key is encrypted from
    now on (a writer records it; a reader has nothing to open yet)."""
    recorded = recorded_key_id(backend, version)
    where = backend.location
    if recorded is None:
        if key is None:
            return None
        if _holds_snapshots(backend, version):
            raise EncryptionError(
                f"the state store {where} is not encrypted, but the project file gives it a "
                f"key (${key.env})",
                hint=f"encrypt it once with `reconciler state rekey --new-key-env {key.env}`, "
                     "or remove `encryption` from the project file's `state`")
        if version >= ENCRYPTION_VERSION and not backend.read_only:
            # Jobs of a matrix may meet on a new store: the first one's key is the store's.
            backend.execute(
                "INSERT INTO encryption (singleton, key_id, algorithm, updated_at) "
                "VALUES (1, ?, ?, ?) ON CONFLICT (singleton) DO NOTHING",
                [key.key_id, ALGORITHM, _now()])
            recorded = recorded_key_id(backend, version)
            if recorded is not None and recorded != key.key_id:
                raise _wrong_key(where, recorded, key)
        return key
    if key is None:
        raise EncryptionError(
            f"the state store {where} is encrypted (key id {recorded}) and no key was given",
            hint=f"name the variable holding its key with {SETTING} and set it; or decrypt it "
                 "with `reconciler state rekey --old-key-env NAME`")
    if key.key_id != recorded:
        raise _wrong_key(where, recorded, key)
    return key


def _wrong_key(where: str, recorded: str, key: StateKey) -> EncryptionError:
    return EncryptionError(
        f"the state store {where} is encrypted with key id {recorded}, but ${key.env} holds "
        f"key id {key.key_id}",
        hint=f"set ${key.env} to the store's key (after `reconciler state rekey`, the new one)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_key(backend: Backend, key: StateKey | None) -> None:
    """Inside a transaction: the store is encrypted with `key` from now on (None: plain)."""
    backend.execute("DELETE FROM encryption")
    if key is not None:
        backend.execute(
            "INSERT INTO encryption (singleton, key_id, algorithm, updated_at) "
            "VALUES (1, ?, ?, ?)",
            [key.key_id, ALGORITHM, _now()])


def _holds_snapshots(backend: Backend, version: int) -> bool:
    if version == 0:
        return False
    return bool(backend.query("SELECT count(*) FROM (SELECT 1 FROM snapshots LIMIT 1) AS s")
                [0][0])


def seal_batches(key: StateKey, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """(member_key, attributes_hash) rows as an encrypted store keeps them: the keyed hash
    of the key, the hash, the key sealed."""
    has_hash = snapshot_has_hash(reader.schema)

    def batches() -> Iterator[pa.RecordBatch]:
        conn = duckdb.connect(":memory:")
        try:
            expression, params = key.keyed_hash_sql("member_key")
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                keys = pa.table({"member_key": batch.column(SNAPSHOT_KEY).cast(pa.string())})
                conn.register("plain_keys", keys)
                macs = conn.sql(f"SELECT {expression} AS mac FROM plain_keys",
                                params=params).to_arrow_table().column("mac").combine_chunks()
                conn.unregister("plain_keys")
                hashes = (batch.column(SNAPSHOT_HASH).cast(pa.string()) if has_hash
                          else pa.nulls(batch.num_rows, pa.string()))
                sealed = key.seal_texts(keys.column("member_key").combine_chunks(), macs)
                yield pa.RecordBatch.from_arrays([macs, hashes, sealed], schema=SEALED_SCHEMA)
        finally:
            conn.close()

    return pa.RecordBatchReader.from_batches(SEALED_SCHEMA, batches())


def open_batches(key: StateKey, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """Sealed snapshot rows back as (member_key, attributes_hash)."""
    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            keys = key.open_texts(batch.column(SNAPSHOT_SEALED), batch.column(SNAPSHOT_KEY))
            yield pa.RecordBatch.from_arrays([keys, batch.column(SNAPSHOT_HASH)],
                                             schema=SNAPSHOT_SCHEMA)

    return pa.RecordBatchReader.from_batches(SNAPSHOT_SCHEMA, batches())


def copy_opened_into(backend: Backend, key: StateKey, activation: str,
                     into: duckdb.DuckDBPyConnection, table: str, hashes: SnapshotHashes,
                     keys_from: str | None) -> None:
    """Temp table `table` (member_key, attributes_hash) of an encrypted store's snapshot in
    `into`, as a plain store's: members whose keyed hash matches one of the keys of table
    `keys_from` (the desired audience) take that key; only the others (members to remove)
    have their sealed key opened."""
    staged, plain, macs, opened = (f"{table}__{part}"
                                   for part in ("sealed", "plain", "macs", "opened"))
    backend.copy_snapshot_into(activation, into, staged, hashes, sealed=True)
    q_staged, q_plain, q_macs = (quote_duckdb(name) for name in (staged, plain, macs))
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q_macs} (member_key VARCHAR, mac VARCHAR)")
    if keys_from is not None:
        expression, params = key.keyed_hash_sql("member_key")
        into.execute(f"INSERT INTO {q_macs} SELECT member_key, {expression} FROM "
                     f"(SELECT DISTINCT CAST(member_key AS VARCHAR) AS member_key "
                     f"FROM {quote_duckdb(keys_from)})", params)
    _remember(into, activation, q_staged, q_macs)
    into.execute(f"CREATE OR REPLACE TEMP TABLE {q_plain} AS SELECT m.member_key, "
                 f"s.{SNAPSHOT_HASH} FROM {q_staged} AS s JOIN {q_macs} AS m "
                 f"ON s.{SNAPSHOT_KEY} = m.mac")
    rest = into.sql(f"SELECT s.* FROM {q_staged} AS s ANTI JOIN {q_macs} AS m "
                    f"ON s.{SNAPSHOT_KEY} = m.mac").to_arrow_table()
    load_reader_into(open_batches(key, pa.RecordBatchReader.from_batches(
        SEALED_SCHEMA, rest.cast(SEALED_SCHEMA).to_batches(BATCH_ROWS))), into, opened)
    into.execute(f"INSERT INTO {q_plain} SELECT * FROM {quote_duckdb(opened)}")
    into.execute(f"CREATE OR REPLACE TEMP TABLE {quote_duckdb(table)} AS "
                 f"SELECT {hashes.projection()} FROM {q_plain}")
    for scratch in (staged, plain, macs, opened):
        into.execute(f"DROP TABLE IF EXISTS {quote_duckdb(scratch)}")


def _remember(into: duckdb.DuckDBPyConnection, activation: str, staged: str,
              macs: str) -> None:
    """Keep, in the planning workspace, each desired key's keyed hash and (for the members
    already in the snapshot) its sealed key, so that apply's snapshot write reuses them and
    seals only the members added (see `sealed_members`)."""
    into.execute(f"CREATE TEMP TABLE IF NOT EXISTS {CACHE} (activation VARCHAR, "
                 "member_key VARCHAR, mac VARCHAR, sealed VARCHAR)")
    into.execute(f"DELETE FROM {CACHE} WHERE activation = ?", [activation])
    into.execute(f"INSERT INTO {CACHE} SELECT ?, m.member_key, m.mac, s.{SNAPSHOT_SEALED} "
                 f"FROM {macs} AS m LEFT JOIN {staged} AS s ON s.{SNAPSHOT_KEY} = m.mac",
                 [activation])


def sealed_members(key: StateKey, conn: duckdb.DuckDBPyConnection, table: str,
                   activation: str) -> pa.RecordBatchReader:
    """The (member_key, attributes_hash) rows of DuckDB table `table` as an encrypted store
    keeps them, reusing the keyed hashes and sealed keys the plan's `copy_opened_into` left
    in `conn` for `activation`: only keys not seen there are hashed, only new members
    sealed."""
    expression, pads = key.keyed_hash_sql("m.member_key")
    params: dict[str, object] = dict(pads)
    cached = bool(conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                               "AND temporary", [CACHE.strip('"')]).fetchall()[0][0])
    join, mac, seal = "", expression, "CAST(NULL AS VARCHAR)"
    if cached:
        join = (f"LEFT JOIN {CACHE} AS c ON c.activation = $activation "
                "AND c.member_key = m.member_key")
        mac, seal = f"coalesce(c.mac, {expression})", "c.sealed"
        params["activation"] = activation
    relation = conn.sql(
        f"SELECT CAST(m.{SNAPSHOT_KEY} AS VARCHAR) AS plain, {mac} AS mac, "
        f"CAST(m.{SNAPSHOT_HASH} AS VARCHAR) AS hash, {seal} AS sealed "
        f"FROM {quote_duckdb(table)} AS m {join}", params=params)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in arrow_reader(relation, BATCH_ROWS):
            plain, macs = batch.column("plain"), batch.column("mac")
            seals, missing = batch.column("sealed"), pc.is_null(batch.column("sealed"))
            if pc.any(missing).as_py():
                fresh = key.seal_texts(plain.filter(missing), macs.filter(missing))
                seals = pc.replace_with_mask(seals, missing, fresh)
            yield pa.RecordBatch.from_arrays([macs, batch.column("hash"), seals],
                                             schema=SEALED_SCHEMA)

    return pa.RecordBatchReader.from_batches(SEALED_SCHEMA, batches())


def rekey(backend: Backend, version: int, old: StateKey | None, new: StateKey | None) -> int:
    """Seal every snapshot again with `new` (None: store them plain), in one transaction;
    `old` must be the store's key (None: a plain store). The number of members re-sealed."""
    members = 0
    with backend.exclusive("rekey"):
        _check_old_key(backend, version, old)
        now = backend.now()
        busy = backend.query("SELECT activation FROM locks WHERE expires_at > ?", [now])
        if busy:
            raise StateError(f"activation {busy[0][0]!r} is being applied: rekey the state "
                             "store once no apply runs")
        # Contact indexes are dropped, not sealed: an encrypted store keeps none (the next
        # plan reads the destinations in full; see StateReader.contact_index).
        backend.execute("DELETE FROM snapshots WHERE activation LIKE ?", [INDEX_PREFIX + "%"])
        if version >= INDEX_VERSION:
            backend.execute("DELETE FROM contact_index")
        names = [str(row[0]) for row in backend.query(
            "SELECT DISTINCT activation FROM snapshots ORDER BY activation")]
        for activation in names:
            rows = backend.stream_snapshot(activation, BATCH_ROWS, sealed=True).read_all()
            reader = pa.RecordBatchReader.from_batches(SEALED_SCHEMA,
                                                       rows.to_batches(BATCH_ROWS))
            plain = (open_batches(old, reader) if old is not None
                     else pa.RecordBatchReader.from_batches(
                         SNAPSHOT_SCHEMA, rows.select([0, 1]).to_batches(BATCH_ROWS)))
            backend.execute("DELETE FROM snapshots WHERE activation = ?", [activation])
            members += backend.insert_snapshot(
                activation, seal_batches(new, plain) if new is not None else plain)
        record_key(backend, new)
    return members


def _check_old_key(backend: Backend, version: int, old: StateKey | None) -> None:
    recorded = recorded_key_id(backend, version)
    if recorded is None and old is not None:
        raise EncryptionError(f"the state store {backend.location} is not encrypted",
                              hint="leave out --old-key-env to encrypt it")
    if recorded is not None and old is None:
        raise EncryptionError(f"the state store {backend.location} is encrypted (key id "
                              f"{recorded})", hint="name its key's variable with --old-key-env")
    if old is not None and old.key_id != recorded:
        raise EncryptionError(f"the state store {backend.location} is encrypted with key id "
                              f"{recorded}, but ${old.env} holds key id {old.key_id}",
                              hint=f"set ${old.env} to the store's current key")
