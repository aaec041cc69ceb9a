"""The state store's schema and its ordered migrations.

Owns the tables (the same portable SQL on DuckDB and PostgreSQL) and how a store moves from
one version to the next: `schema_version` records each applied migration; migrations run in
order inside one transaction, under the backend's schema lock; a store newer than this code
is refused rather than guessed at. Add a migration by appending to `MIGRATIONS`, never by
editing an applied one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.state.backend import Backend, BackendKind
from reconciler.state.errors import StateSchemaError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]
    postgres_only: tuple[str, ...] = ()
    """Statements only PostgreSQL needs (indexes DuckDB's zone maps make unnecessary)."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "activations, remote ids and membership snapshots",
        (
            "CREATE TABLE schema_version (version INTEGER NOT NULL, "
            "description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)",
            "CREATE TABLE activations (activation VARCHAR PRIMARY KEY, "
            "serial BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)",
            "CREATE TABLE remote_ids (activation VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
            "name VARCHAR NOT NULL, remote_id VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL, "
            "PRIMARY KEY (activation, kind, name))",
            "CREATE TABLE snapshots (activation VARCHAR NOT NULL, "
            "member_key VARCHAR NOT NULL, attributes_hash VARCHAR)",
            "CREATE TABLE snapshot_info (activation VARCHAR PRIMARY KEY, "
            "members BIGINT NOT NULL, taken_at TIMESTAMP NOT NULL, serial BIGINT NOT NULL)",
        ),
        postgres_only=("CREATE INDEX snapshots_activation ON snapshots (activation)",),
    ),
    Migration(
        2,
        "run history",
        (
            "CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, activation VARCHAR NOT NULL, "
            "started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL, "
            "counts VARCHAR NOT NULL, error VARCHAR)",
            "CREATE INDEX runs_activation ON runs (activation, started_at)",
        ),
    ),
    Migration(
        3,
        "apply locks and the apply journal",
        (
            "CREATE TABLE locks (activation VARCHAR PRIMARY KEY, owner VARCHAR NOT NULL, "
            "token VARCHAR NOT NULL, acquired_at TIMESTAMP NOT NULL, "
            "renewed_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL)",
            "CREATE TABLE journal (entry_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, "
            "activation VARCHAR NOT NULL, step VARCHAR NOT NULL, batch_no INTEGER NOT NULL, "
            "attempt INTEGER NOT NULL, seq BIGINT NOT NULL, row_count BIGINT NOT NULL, "
            "fingerprint VARCHAR NOT NULL, status VARCHAR NOT NULL, confirmed_rows BIGINT, "
            "error VARCHAR, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP)",
        ),
        postgres_only=("CREATE INDEX journal_run ON journal (run_id, seq)",),
    ),
    Migration(
        4,
        "what each activation was last applied to (to act on it once removed from git)",
        (
            "CREATE TABLE applied_activations (activation VARCHAR PRIMARY KEY, "
            "destination VARCHAR NOT NULL, destination_type VARCHAR NOT NULL, "
            "target VARCHAR NOT NULL, remote_name VARCHAR NOT NULL, "
            "deletion_policy VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)",
        ),
    ),
    Migration(
        5,
        "bulk imports per profile table and day, and attribute updates deferred to a later day",
        (
            "CREATE TABLE import_executions (account VARCHAR NOT NULL, "
            "profile_table VARCHAR NOT NULL, day DATE NOT NULL, started_at TIMESTAMP NOT NULL, "
            "execution_id VARCHAR NOT NULL, activations VARCHAR NOT NULL, "
            "row_count BIGINT NOT NULL, refused BOOLEAN NOT NULL)",
            "CREATE TABLE deferred_updates (run_id VARCHAR PRIMARY KEY, "
            "activation VARCHAR NOT NULL, account VARCHAR NOT NULL, "
            "profile_table VARCHAR NOT NULL, row_count BIGINT NOT NULL, used INTEGER NOT NULL, "
            "budget INTEGER NOT NULL, until_at TIMESTAMP NOT NULL, "
            "recorded_at TIMESTAMP NOT NULL)",
        ),
        postgres_only=("CREATE INDEX import_executions_day "
                       "ON import_executions (account, profile_table, day)",),
    ),
    Migration(
        6,
        "the attribute hash format of each snapshot (NULL: the md5 text of earlier versions)",
        ("ALTER TABLE snapshot_info ADD COLUMN hash_format VARCHAR",),
    ),
    Migration(
        7,
        "request budgets shared by processes (a key's next free call slot, on the store's "
        "clock) and notices sent once (e.g. a key about to expire)",
        (
            "CREATE TABLE request_budgets (budget VARCHAR PRIMARY KEY, "
            "next_at DOUBLE PRECISION NOT NULL)",
            "CREATE TABLE notices (notice VARCHAR PRIMARY KEY, sent_at TIMESTAMP NOT NULL)",
        ),
    ),
    Migration(
        8,
        "the remote list each snapshot describes (destination, target, name, id), taken for "
        "existing snapshots from what their activation was last applied to; and whether an "
        "imported snapshot's members are known",
        (
            "ALTER TABLE snapshot_info ADD COLUMN remote_destination VARCHAR",
            "ALTER TABLE snapshot_info ADD COLUMN remote_target VARCHAR",
            "ALTER TABLE snapshot_info ADD COLUMN remote_name VARCHAR",
            "ALTER TABLE snapshot_info ADD COLUMN remote_id VARCHAR",
            "ALTER TABLE snapshot_info ADD COLUMN members_known BOOLEAN",
            "UPDATE snapshot_info SET remote_destination = a.destination, "
            "remote_target = a.target, remote_name = a.remote_name "
            "FROM applied_activations AS a WHERE a.activation = snapshot_info.activation",
        ),
    ),
    Migration(
        9,
        "fencing: the token of the apply lock each journal entry, snapshot and run was written "
        "under (NULL: written without a lock, or before this version)",
        (
            "ALTER TABLE journal ADD COLUMN lock_token VARCHAR",
            "ALTER TABLE snapshot_info ADD COLUMN lock_token VARCHAR",
            "ALTER TABLE runs ADD COLUMN lock_token VARCHAR",
        ),
    ),
    Migration(
        10,
        "encryption at rest: whether the store is encrypted and with which key (its id, never "
        "the key), and each snapshot member's sealed key (its member_key then a keyed hash)",
        (
            "CREATE TABLE encryption (singleton INTEGER PRIMARY KEY, key_id VARCHAR NOT NULL, "
            "algorithm VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)",
            "ALTER TABLE snapshots ADD COLUMN member_key_sealed VARCHAR",
        ),
    ),
    Migration(
        11,
        "the contact index of each destination list or table and key (its keys are kept as "
        "snapshot rows under the index's id; see contactindex.py)",
        (
            "CREATE TABLE contact_index (index_id VARCHAR PRIMARY KEY, keys BIGINT NOT NULL, "
            "absent BIGINT NOT NULL, read_at TIMESTAMP NOT NULL, read_how VARCHAR NOT NULL, "
            "remote_count BIGINT, updated_at TIMESTAMP NOT NULL)",
        ),
    ),
)
ENCRYPTION_VERSION = 10
INDEX_VERSION = 11  # the contact_index table
LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(backend: Backend) -> int:
    """The store's applied version; 0 for a store nothing was ever written to."""
    if not backend.has_table("schema_version"):
        return 0
    rows = backend.query("SELECT max(version) FROM schema_version")
    return int(rows[0][0] or 0)


def check_version(version: int, location: str) -> None:
    if version > LATEST_VERSION:
        raise StateSchemaError(
            f"the state store {location} has schema version {version}, newer than this "
            f"reconciler knows ({LATEST_VERSION}): upgrade reconciler before using it"
        )


def migrate(backend: Backend, *, target: int = LATEST_VERSION) -> int:
    """Apply every migration above the store's version up to `target`; the new version."""
    with backend.transaction():
        backend.lock_schema()
        version = schema_version(backend)
        check_version(version, backend.location)
        for migration in MIGRATIONS:
            if not version < migration.version <= target:
                continue
            statements = migration.statements
            if backend.kind == BackendKind.POSTGRES:
                statements += migration.postgres_only
            for statement in statements:
                backend.execute(statement)
            backend.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.description, utc_naive(dt.datetime.now(dt.UTC))],
            )
            version = migration.version
    return version


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """Timestamps are stored as naive UTC, identical on both engines."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def utc_aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
