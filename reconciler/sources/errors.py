"""Errors raised by the sources layer, for users to read.

    SourceError                  anything that went wrong reading a warehouse (a ReconcilerError)
    ├── SourceConnectionError    the warehouse could not be opened or reached
    │   └── MissingExtraError    its driver is an optional extra that is not installed
    ├── SourceQueryError         the warehouse refused a model's query (bad SQL, missing table)
    ├── SqlTextError             a model's SQL cannot be translated to another dialect
    ├── ConditionError           a segment condition cannot be compiled (names segment, column)
    ├── UnknownColumnError       a segment, match key or field names a column the model lacks
    ├── NoValidRowsError         an audience had rows but none survived the bad-data checks
    └── DuplicateKeysError       a match key on several rows, with `duplicateKeys: fail`

Driver exceptions (duckdb, psycopg, the Snowflake and BigQuery clients) never leave `sources/`:
they are chained as the cause of one of these. Messages never carry raw row values, only
masked samples.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence

from reconciler.errors import ReconcilerError

ConditionPath = tuple[str | int, ...]
"""Where in a segment's `where` a problem is (see `manifests.conditions.ConditionPath`)."""


class SourceError(ReconcilerError):
    """A problem reading the desired audience from a warehouse."""


class SourceConnectionError(SourceError):
    """The warehouse (file or server) could not be opened."""

    hint = ("check the Source's connection settings (its `url` variable or `path`), that the "
            "warehouse is running and that this machine may reach it")


class MissingExtraError(SourceConnectionError):
    """A Source whose driver is an optional extra of the package, not installed here."""

    def __init__(self, extra: str, package: str) -> None:
        super().__init__(f"{package} is not installed: install the `{extra}` extra "
                         f"(pip install 'audience-reconciler[{extra}]')")
        self.extra = extra
        self.hint = f"pip install 'audience-reconciler[{extra}]'"


class SourceQueryError(SourceError):
    """The warehouse refused a query built from a model."""


class ConditionError(SourceError):
    """A segment condition that cannot be turned into SQL; names the segment and column."""

    def __init__(self, message: str, *, segment: str, column: str,
                 path: ConditionPath | None = None) -> None:
        super().__init__(f"segment {segment!r}, column {column!r}: {message}")
        self.segment = segment
        self.column = column
        self.path = path
        """Where in the segment's `where`, when known (for a file:line:col)."""


class ColumnOwner(enum.StrEnum):
    """The kind of manifest that named a column."""

    SEGMENT = "segment"
    ACTIVATION = "activation"


class UnknownColumnError(SourceError):
    """A column named by a manifest (segment or activation) that the model does not have."""

    def __init__(
        self, *, owner_kind: ColumnOwner, owner: str, column: str, known: Sequence[str],
        path: ConditionPath | None = None,
    ) -> None:
        listed = ", ".join(known) if known else "none"
        super().__init__(
            f"{owner_kind} {owner!r}: the model has no column {column!r} (its columns: {listed})"
        )
        self.owner_kind = owner_kind
        self.owner = owner
        self.column = column
        self.known = tuple(known)
        self.path = path
        """A segment's: where in its `where`, when known (for a file:line:col)."""

    @property
    def segment(self) -> str | None:
        return self.owner if self.owner_kind == ColumnOwner.SEGMENT else None


class NoValidRowsError(SourceError):
    """Every row of an audience was rejected as bad data; nothing can be synced."""


class DuplicateKeysError(SourceError):
    """Match keys on several rows of an audience whose activation says `duplicateKeys: fail`."""
