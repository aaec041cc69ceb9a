"""Sources: the warehouses desired audiences are read from (DuckDB, PostgreSQL, Snowflake,
BigQuery).

Owns every read from a warehouse and the SQL it runs: segment conditions compiled to SQL
(`compiler`, pure; written per warehouse by sqlglot in `dialects`), the `Source` protocol and
its implementations, the audience query, and the bad-data checks that run as the audience is
materialized into DuckDB. Must not write to a warehouse, talk to a destination, or hand raw
personal data to callers (samples are masked).
"""
from reconciler.sources.audience import (
    HASH_COLUMN,
    KEY_COLUMN,
    AudienceField,
    AudienceSpec,
    build_audience_query,
    discover_columns,
    stream_audience,
)
from reconciler.sources.base import Source
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.compiler import SqlFragment, compile_condition
from reconciler.sources.conversion import hash_format
from reconciler.sources.dialects import (
    BIGQUERY,
    DUCKDB,
    POSTGRES,
    SNOWFLAKE,
    Dialect,
    DialectName,
)
from reconciler.sources.errors import (
    ColumnOwner,
    ConditionError,
    DuplicateKeysError,
    NoValidRowsError,
    SourceConnectionError,
    SourceError,
    SourceQueryError,
    UnknownColumnError,
)
from reconciler.sources.factory import open_source
from reconciler.sources.problems import AudienceReport, DataProblem, ProblemKind
from reconciler.sources.quality import materialize_audience, materialize_rows

__all__ = [
    "BIGQUERY",
    "DUCKDB",
    "HASH_COLUMN",
    "KEY_COLUMN",
    "POSTGRES",
    "SNOWFLAKE",
    "AudienceField",
    "AudienceReport",
    "AudienceSpec",
    "Column",
    "ColumnKind",
    "ColumnOwner",
    "ConditionError",
    "DataProblem",
    "Dialect",
    "DialectName",
    "DuplicateKeysError",
    "NoValidRowsError",
    "ProblemKind",
    "Source",
    "SourceConnectionError",
    "SourceError",
    "SourceQueryError",
    "SqlFragment",
    "UnknownColumnError",
    "build_audience_query",
    "compile_condition",
    "discover_columns",
    "hash_format",
    "materialize_audience",
    "materialize_rows",
    "open_source",
    "stream_audience",
]
