"""The desired audience of an activation: `(member key, mapped fields…)` from a model.

Owns the audience query (a model, optionally filtered by a segment, projected onto the match
key and the mapped source columns, renamed to their destination names) and its two ways out:
a lazy Arrow stream, and column discovery so callers can check names before reading rows.
Materializing and checking the rows in DuckDB lives in `quality.py`. Query building is pure;
only `discover_columns` and `stream_audience` talk to a source.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from reconciler.manifests.conditions import AllOf, AnyOf, Not, Predicate
from reconciler.manifests.models import DuplicateKeys, FieldType, ModelSpec
from reconciler.sources.base import DEFAULT_BATCH_ROWS, Source
from reconciler.sources.columns import Column
from reconciler.sources.compiler import SqlFragment, check_columns, compile_condition
from reconciler.sources.dialects import Dialect
from reconciler.sources.errors import ColumnOwner, SourceError

KEY_COLUMN = "member_key"
"""The audience's key column, always text: keys are compared and stored as strings."""
HASH_COLUMN = "attributes_hash"
"""Added by materialization: a hash of the mapped field values (see `quality.py`)."""
RESERVED_COLUMNS = (KEY_COLUMN, HASH_COLUMN)


@dataclass(frozen=True)
class AudienceField:
    """One mapped field: a model column sent as a destination field of a declared type."""

    source: str
    destination: str
    type: FieldType | None = None
    """The destination field's type when known; values that do not fit it are rejected."""
    max_length: int | None = None
    """The destination text field's length when known: longer values are rejected at plan
    time (counted and sampled), not refused row by row at apply time."""


@dataclass(frozen=True)
class AudienceSpec:
    """Everything needed to read one activation's desired audience from its source."""

    activation: str
    model: ModelSpec
    match_key: str
    """The model column holding the member key (the activation's `matchKey.source`)."""
    fields: tuple[AudienceField, ...] = ()
    segment: str | None = None
    where: AllOf | AnyOf | Not | Predicate | None = None
    """The segment's condition; None syncs every row of the model."""
    duplicate_keys: DuplicateKeys = DuplicateKeys.KEEP
    """What a key on several rows does (see `duplicates.py`)."""

    def __post_init__(self) -> None:
        seen: set[str] = {name.casefold() for name in RESERVED_COLUMNS}
        for mapping in self.fields:
            name = mapping.destination.casefold()
            if name in seen:
                raise SourceError(
                    f"activation {self.activation!r}: destination field "
                    f"{mapping.destination!r} is mapped twice or clashes with a reserved "
                    f"column ({', '.join(RESERVED_COLUMNS)})"
                )
            seen.add(name)
        if (self.segment is None) != (self.where is None):
            raise ValueError("an audience's segment name and condition go together")


def model_relation(model: ModelSpec, dialect: Dialect) -> str:
    """The model as a FROM item: its quoted table, or its SQL as a subquery."""
    if model.table is not None:
        return dialect.quote_qualified(model.table)
    body = (model.sql or "").strip().rstrip(";").strip()
    return f"({dialect.embed_raw(body)})"


def model_query(model: ModelSpec, dialect: Dialect) -> SqlFragment:
    return SqlFragment(f"SELECT * FROM {model_relation(model, dialect)} AS m")


def discover_columns(source: Source, model: ModelSpec) -> list[Column]:
    """The model's columns and their types, read without fetching rows."""
    return source.columns(model_query(model, source.dialect))


def build_audience_query(
    spec: AudienceSpec,
    dialect: Dialect,
    *,
    now: dt.datetime,
    columns: Sequence[Column] | None = None,
) -> SqlFragment:
    """SELECT key (as text) and each mapped column (as its destination name) FROM the model.

    With `columns`, every column named by the activation and its segment is checked first
    (`UnknownColumnError` names the activation or segment and the column).
    """
    if columns is not None:
        check_columns(
            [spec.match_key, *(f.source for f in spec.fields)],
            columns,
            owner_kind=ColumnOwner.ACTIVATION,
            owner=spec.activation,
            dialect=dialect,
        )
    q = dialect.quote
    projection = [f"CAST(m.{q(spec.match_key)} AS {dialect.text_type}) AS {q(KEY_COLUMN)}"]
    projection += [f"m.{q(f.source)} AS {q(f.destination)}" for f in spec.fields]
    sql = f"SELECT {', '.join(projection)} FROM {model_relation(spec.model, dialect)} AS m"
    if spec.where is None or spec.segment is None:
        return SqlFragment(sql)
    condition = compile_condition(
        spec.where, segment=spec.segment, dialect=dialect, now=now, columns=columns
    )
    return SqlFragment(f"{sql} WHERE {condition.sql}", condition.params)


def stream_audience(
    source: Source,
    spec: AudienceSpec,
    *,
    now: dt.datetime,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> pa.RecordBatchReader:
    """The audience as raw Arrow batches (unchecked: see `materialize_audience` for checks)."""
    columns = discover_columns(source, spec.model)
    query = build_audience_query(spec, source.dialect, now=now, columns=columns)
    return source.stream(query, batch_rows=batch_rows)
