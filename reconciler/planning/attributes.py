"""Attribute drift: the members' current values at the destination, hashed as the audience's.

Owns turning the raw values a destination returned (`load_member_values`: text, as the API
gave them) into `attributes_hash`es made exactly as the audience's (sources/conversion.py), so
the diff can tell a member whose values were changed at the destination since they were sent.
Each value is first read as its field's type (a date as a date whatever its time part, an
instant with an offset in UTC, as the audience's instants are), then hashed by the same
expression. A value the destination stores otherwise than it was sent (e.g. an empty text
kept as no value) shows as changed at every refresh: the plan says it sends it again.
"""
from __future__ import annotations

from collections.abc import Sequence

import duckdb

from reconciler.manifests.models import FieldType
from reconciler.sources import AudienceField
from reconciler.sources.conversion import attributes_hash
from reconciler.sources.dialects import DUCKDB

# An instant written with an offset (or Z) is read in UTC; one without, as it is.
_OFFSET = r"([+-][0-9]{2}(:?[0-9]{2})?|Z)$"


def _typed(kind: FieldType | None, column: str) -> str:
    """A raw remote text as the field's type (NULL when it is none)."""
    if kind is FieldType.TIMESTAMP:
        return (f"CASE WHEN regexp_matches({column}, '{_OFFSET}') "
                f"THEN timezone('UTC', TRY_CAST({column} AS TIMESTAMPTZ)) "
                f"ELSE TRY_CAST({column} AS TIMESTAMP) END")
    if kind is FieldType.INTEGER:  # a number sent as 3 may come back as 3.0
        return f"TRY_CAST(TRY_CAST({column} AS DOUBLE) AS BIGINT)"
    if kind in (FieldType.DECIMAL, FieldType.BOOLEAN, FieldType.DATE):
        return f"TRY_CAST({column} AS {_TYPES[kind]})"
    return column


_TYPES = {FieldType.DECIMAL: "DOUBLE", FieldType.BOOLEAN: "BOOLEAN", FieldType.DATE: "DATE"}


def stage_remote_hashes(conn: duckdb.DuckDBPyConnection, values: str, into: str,
                        fields: Sequence[AudienceField]) -> None:
    """Create temp table `into(member_key, attributes_hash)` from `values` (member_key and a
    text column per field, named by its destination name): one row per row read."""
    q = DUCKDB.quote
    typed = ", ".join(f"{_typed(f.type, q(f.destination))} AS {q(f.destination)}"
                      for f in fields)
    conn.execute(f'''
        CREATE OR REPLACE TEMP TABLE {q(into)} AS
        SELECT member_key, {attributes_hash(fields)} AS attributes_hash
        FROM (SELECT member_key, {typed} FROM {q(values)})''')
