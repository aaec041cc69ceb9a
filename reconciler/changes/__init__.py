"""The change vocabulary every layer speaks, and nothing else (terraform's `plans` package).

- `resources`: `Action` (the `+ ~ -` users see), `ResourceType`, `ResourceChange`;
- `tables`: the names of one activation's change-set tables (`DiffTables`) in DuckDB;
- `journal`: the apply steps (`JournalStep`) and the per-batch journal protocol writers use;
- `guards`: a guard's verdict as data (kind, measured value, limit, activation).

Destinations, the planner and the executor depend on this package, never on each other's
internals; it imports nothing from the rest of `reconciler`.
"""
