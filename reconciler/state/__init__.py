"""The state store: what was last applied, per activation, on DuckDB or PostgreSQL.

Owns the remote ids an activation created, its last applied membership snapshot with
attribute hashes, its state serial and its run history, behind a read-only `StateReader`
(the planner's) and a `StateWriter` (the executor's). Must not talk to destinations or
warehouses. The journal and locks of issue 6 belong here too, as later migrations.
"""
from reconciler.state.errors import (
    StaleStateError,
    StateConnectionError,
    StateError,
    StateSchemaError,
)
from reconciler.state.records import (
    SNAPSHOT_HASH,
    SNAPSHOT_KEY,
    RemoteId,
    RemoteKind,
    RunRecord,
    RunStatus,
    SnapshotInfo,
)
from reconciler.state.schema import LATEST_VERSION
from reconciler.state.store import (
    DEFAULT_STATE_PATH,
    StateReader,
    StateWriter,
    open_state_reader,
    open_state_store,
)

__all__ = [
    "DEFAULT_STATE_PATH",
    "LATEST_VERSION",
    "SNAPSHOT_HASH",
    "SNAPSHOT_KEY",
    "RemoteId",
    "RemoteKind",
    "RunRecord",
    "RunStatus",
    "SnapshotInfo",
    "StaleStateError",
    "StateConnectionError",
    "StateError",
    "StateReader",
    "StateSchemaError",
    "StateWriter",
    "open_state_reader",
    "open_state_store",
]
