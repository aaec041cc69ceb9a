"""Errors of the state store, for users to read.

    StateError                 anything that went wrong with the state store
    ├── StateConnectionError   the store (file or server) could not be opened
    ├── StateSchemaError       the store's schema is newer than this code, or too old to read
    └── StaleStateError        a write expected another state serial (someone wrote first)

Driver exceptions (duckdb, psycopg) never leave `state/`: they are chained as the cause.
"""
from __future__ import annotations


class StateError(Exception):
    """A problem reading or writing the state store."""


class StateConnectionError(StateError):
    """The state store could not be opened."""


class StateSchemaError(StateError):
    """The store's schema version is not one this code can use as it is."""


class StaleStateError(StateError):
    """The activation's state changed since the caller read it."""

    def __init__(self, activation: str, expected: int, found: int) -> None:
        super().__init__(
            f"activation {activation!r}: state serial is {found}, expected {expected}; "
            "someone else wrote its state since it was read (plan again)"
        )
        self.activation = activation
        self.expected = expected
        self.found = found
