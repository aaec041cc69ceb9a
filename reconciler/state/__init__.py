"""The state store: what was last applied, per activation, on DuckDB or PostgreSQL.

Owns the remote ids an activation created, its last applied membership snapshot with
attribute hashes, its state serial and its run history, behind a read-only `StateReader`
(the planner's) and a `StateWriter` (the executor's). Must not talk to destinations or
warehouses. It also holds the apply locks (one apply per activation, with a lease) and the
apply journal (every batch before and after it is sent), for the executor to resume from,
and the bulk-import ledger (imports started per profile table and day, deferred updates),
and the notices sent once (a key about to expire is told its channels once).
"""
from reconciler.state.backend import SnapshotHashes
from reconciler.state.budgets import PostgresBudgetLedger, open_budget_ledger
from reconciler.state.contactindex import ABSENT, IndexInfo, index_id
from reconciler.state.errors import (
    LockedError,
    LockError,
    LockLostError,
    StaleStateError,
    StateConnectionError,
    StateError,
    StateSchemaError,
    StoreInUseError,
)
from reconciler.state.keeper import LockKeeper
from reconciler.state.locks import default_owner
from reconciler.state.records import (
    SNAPSHOT_HASH,
    SNAPSHOT_KEY,
    ActivationRecord,
    DeferredUpdates,
    ImportExecution,
    JournalEntry,
    JournalStatus,
    JournalStep,
    Lock,
    LockInfo,
    RemoteId,
    RemoteKind,
    RemoteList,
    RunRecord,
    RunStatus,
    SnapshotInfo,
)
from reconciler.state.schema import LATEST_VERSION
from reconciler.state.store import (
    DEFAULT_STATE_PATH,
    StateReader,
    StateWriter,
    exposed_state_files,
    open_state_reader,
    open_state_store,
)

__all__ = [
    "ABSENT",
    "DEFAULT_STATE_PATH",
    "LATEST_VERSION",
    "SNAPSHOT_HASH",
    "SNAPSHOT_KEY",
    "ActivationRecord",
    "DeferredUpdates",
    "ImportExecution",
    "IndexInfo",
    "JournalEntry",
    "JournalStatus",
    "JournalStep",
    "Lock",
    "LockError",
    "LockInfo",
    "LockKeeper",
    "LockLostError",
    "LockedError",
    "PostgresBudgetLedger",
    "RemoteId",
    "RemoteKind",
    "RemoteList",
    "RunRecord",
    "RunStatus",
    "SnapshotHashes",
    "SnapshotInfo",
    "StaleStateError",
    "StateConnectionError",
    "StateError",
    "StateReader",
    "StateSchemaError",
    "StateWriter",
    "StoreInUseError",
    "default_owner",
    "exposed_state_files",
    "index_id",
    "open_budget_ledger",
    "open_state_reader",
    "open_state_store",
]
