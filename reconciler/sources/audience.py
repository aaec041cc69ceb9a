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
from sqlglot import exp

from reconciler.manifests.conditions import AllOf, AnyOf, Not, Predicate
from reconciler.manifests.models import DuplicateKeys, FieldType, ModelSpec
from reconciler.sources.base import DEFAULT_BATCH_ROWS, Source
from reconciler.sources.columns import Column
from reconciler.sources.compiler import SqlFragment, check_columns, condition_tree
from reconciler.sources.dialects import Dialect, Parameters
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


def model_query(model: ModelSpec, dialect: Dialect) -> SqlFragment:
    """Every column of the model: `SELECT * FROM <model> AS m`."""
    params = Parameters()
    tree = exp.select(exp.Star()).from_(_model_relation(model, dialect, params))
    return SqlFragment(*dialect.render(tree, {}, _model_sql(model, params)))


def _model_relation(model: ModelSpec, dialect: Dialect, params: Parameters) -> exp.Table:
    """The model as a FROM item aliased `m`: its table, or a stand-in for its SQL."""
    table = (dialect.table(model.table) if model.table is not None
             else exp.Table(this=exp.to_identifier(params.stand_in(), quoted=True)))
    return table.as_("m")  # type: ignore[return-value]


def _model_sql(model: ModelSpec, params: Parameters) -> dict[str, str]:
    """The model's own SQL, kept as its author wrote it, in place of its stand-in."""
    if model.table is not None:
        return {}
    return {params.stand_in(): (model.sql or "").strip().rstrip(";").strip()}


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
    (`UnknownColumnError` names the activation or segment and the column), and each is
    spelled as the model does (Snowflake's `CUSTOMER_ID` for a manifest's `customer_id`).
    """
    if columns is not None:
        check_columns(
            [spec.match_key, *(f.source for f in spec.fields)],
            columns,
            owner_kind=ColumnOwner.ACTIVATION,
            owner=spec.activation,
            dialect=dialect,
        )

    def column(name: str) -> exp.Column:
        spelled = next((c.name for c in columns or () if dialect.same_column(name, c.name)),
                       name)
        return exp.column(dialect.identifier(spelled), table="m")

    key = exp.Cast(this=column(spec.match_key), to=exp.DataType.build("text"))
    projection = [exp.alias_(key, dialect.identifier(KEY_COLUMN))]
    projection += [exp.alias_(column(f.source), dialect.identifier(f.destination))
                   for f in spec.fields]
    params = Parameters()
    tree = exp.select(*projection).from_(_model_relation(spec.model, dialect, params))
    if spec.where is not None and spec.segment is not None:
        tree = tree.where(condition_tree(spec.where, segment=spec.segment, dialect=dialect,
                                         now=now, columns=columns, params=params))
    return SqlFragment(*dialect.render(tree, params.values, _model_sql(spec.model, params)))


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
