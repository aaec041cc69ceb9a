"""Values converted to a declared type in DuckDB, and the attribute hash of converted values.

Owns the one meaning of "this value fits that type" (a mapped field's destination type, or a
file column's type declared in its Source) as DuckDB SQL, the conversion itself, and the
64-bit attribute hash the diff compares. Pure: it builds SQL text and runs none, except
`hash_format`, which asks the caller's connection how it hashes.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

import duckdb

from reconciler.manifests.models import FieldType
from reconciler.sources.audience import HASH_COLUMN, KEY_COLUMN, AudienceField, AudienceSpec
from reconciler.sources.dialects import DUCKDB

HASH_FORMAT_VERSION = "duckdb-hash/1"
"""The attribute hash: DuckDB's 64-bit `hash()` of the converted values (see
`attributes_hash`). Snapshots record `hash_format(conn)`, this name plus a canary, so a plan
compares hashes only with hashes made the same way."""

_CANARY = ("hash('reconciler', 42::BIGINT, 1.5::DOUBLE, TRUE, DATE '2020-01-02', "
           "TIMESTAMP '2020-01-02 03:04:05', NULL::VARCHAR, 'é')")

DUCKDB_TYPES = {
    FieldType.STRING: "VARCHAR",
    FieldType.INTEGER: "BIGINT",
    FieldType.DECIMAL: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.TIMESTAMP: "TIMESTAMP",
}


def converted_to(kind: FieldType | None, column: str) -> str:
    """The DuckDB expression of a raw value converted to `kind` (NULL if it does not fit)."""
    return f"TRY_CAST({column} AS {DUCKDB_TYPES[kind or FieldType.STRING]})"


def fits_type(kind: FieldType | None, column: str, max_length: int | None = None) -> str:
    """A DuckDB condition: the raw value is NULL or converts to `kind` exactly."""
    check = f"{converted_to(kind, column)} IS NOT NULL"
    if kind == FieldType.INTEGER:  # TRY_CAST rounds 1.5 to 2: refuse fractions
        check += f" AND TRY_CAST({column} AS DECIMAL(38,10)) = TRY_CAST({column} AS BIGINT)"
    elif kind == FieldType.DECIMAL:
        check += f" AND isfinite(TRY_CAST({column} AS DOUBLE))"
    if max_length is not None and kind in (None, FieldType.STRING):
        check += f" AND length(CAST({column} AS VARCHAR)) <= {int(max_length)}"
    return f"({column} IS NULL OR ({check}))"


def converted(field: AudienceField, column: str) -> str:
    """A mapped field's raw value converted to its destination type."""
    return converted_to(field.type, column)


def fits(field: AudienceField, column: str) -> str:
    """A DuckDB condition: a mapped field's raw value fits its destination field."""
    return fits_type(field.type, column, field.max_length)


def raw_value(field: AudienceField, zoned: AbstractSet[str] = frozenset()) -> str:
    """A staged field's raw value; instants are read in UTC so no result (nor hash) depends
    on the TimeZone setting of the machine that plans."""
    column = DUCKDB.quote(field.destination)
    return f"timezone('UTC', {column})" if field.destination in zoned else column


def attributes_hash(fields: Sequence[AudienceField], zoned: AbstractSet[str] = frozenset()) -> str:
    """The DuckDB expression hashing a row's converted field values into a UBIGINT.

    DuckDB's `hash()` of a digest of the destination names (so remapping a field changes
    every hash too) and of each converted value, typed, NULL included: 64 bits, plenty to tell
    one row's old values from its new ones, and ten times cheaper than md5 over text. It is
    not promised stable across DuckDB releases, hence `hash_format`. Without fields there is
    nothing to compare: the hash is NULL.
    """
    if not fields:
        return "CAST(NULL AS UBIGINT)"
    mapping = json.dumps([f.destination for f in fields]).encode()
    names = hashlib.md5(mapping, usedforsecurity=False).hexdigest()[:8]
    values = "".join(f", {converted(f, raw_value(f, zoned))}" for f in fields)
    return f"hash('{names}'{values})"


def hash_format(conn: duckdb.DuckDBPyConnection) -> str:
    """How this DuckDB makes attribute hashes: the format's name and the hash of a canary row
    of every field type. A snapshot made under another format is not compared by hash."""
    rows = conn.execute(f"SELECT {_CANARY}").fetchall()
    return f"{HASH_FORMAT_VERSION}:{int(rows[0][0]):016x}"


def invalid_column(index: int) -> str:
    return f"__invalid_{index}"


def typed_fields(spec: AudienceSpec) -> list[tuple[int, AudienceField]]:
    """The fields whose values may not fit their type (strings do, unless they have a
    length), with indexes."""
    return [(i, f) for i, f in enumerate(spec.fields)
            if f.type not in (None, FieldType.STRING) or f.max_length is not None]


def staging_select(spec: AudienceSpec, zoned: AbstractSet[str]) -> str:
    """Key, hash, and per typed field whether its value is unfit: one staged row."""
    q = DUCKDB.quote
    parts = [q(KEY_COLUMN), f"{attributes_hash(spec.fields, zoned)} AS {q(HASH_COLUMN)}"]
    parts += [f"NOT {fits(f, raw_value(f, zoned))} AS {q(invalid_column(i))}"
              for i, f in typed_fields(spec)]
    return ", ".join(parts)


def rows_select(spec: AudienceSpec, zoned: AbstractSet[str]) -> str:
    """Key, converted fields and hash: what is sent for a member."""
    q = DUCKDB.quote
    parts = [q(KEY_COLUMN)]
    parts += [f"{converted(f, raw_value(f, zoned))} AS {q(f.destination)}" for f in spec.fields]
    parts.append(f"{attributes_hash(spec.fields, zoned)} AS {q(HASH_COLUMN)}")
    return ", ".join(parts)
