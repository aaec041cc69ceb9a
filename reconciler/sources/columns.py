"""Columns of a model as discovered from a warehouse, with engine types normalized.

Owns the mapping from engine type names (`BIGINT`, `timestamp with time zone`, `numeric`)
to the handful of kinds the rest of the tool reasons about. Pure: discovery itself (the
query) lives in each source.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class ColumnKind(enum.StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    OTHER = "other"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    native_type: str
    """The engine's own type name, e.g. `DECIMAL(10,2)` or `timestamp with time zone`."""


def _names(kind: ColumnKind, *names: str) -> dict[str, ColumnKind]:
    return {name: kind for name in names}


_KINDS: dict[str, ColumnKind] = {
    **_names(ColumnKind.STRING, "varchar", "text", "string", "char", "character", "bpchar",
             "character varying", "name", "uuid", "citext"),
    **_names(ColumnKind.INTEGER, "tinyint", "smallint", "integer", "int", "bigint", "hugeint",
             "int2", "int4", "int8", "int64", "utinyint", "usmallint", "uinteger", "ubigint",
             "uhugeint"),
    **_names(ColumnKind.DECIMAL, "decimal", "numeric", "double", "double precision", "float",
             "float4", "float8", "real", "number", "bignumeric", "float64"),
    **_names(ColumnKind.BOOLEAN, "boolean", "bool"),  # BigQuery: BOOL, INT64, FLOAT64
    **_names(ColumnKind.DATE, "date"),
    **_names(ColumnKind.TIMESTAMP, "timestamp", "timestamptz", "timestamp with time zone",
             "timestamp without time zone", "timestamp_s", "timestamp_ms", "timestamp_ns",
             "datetime", "timestamp_ntz", "timestamp_ltz", "timestamp_tz"),
}


def kind_of(native_type: str) -> ColumnKind:
    """Normalize an engine type name; types we do not sync (lists, json, blobs) are OTHER."""
    base = native_type.strip().lower().split("(")[0].strip()
    return _KINDS.get(base, ColumnKind.OTHER)


def is_zoned(native_type: str) -> bool:
    """Whether values of this type are instants (timestamp with time zone)."""
    return native_type.strip().lower() in ("timestamptz", "timestamp with time zone",
                                           "timestamp_ltz", "timestamp_tz", "timestamp (utc)")
