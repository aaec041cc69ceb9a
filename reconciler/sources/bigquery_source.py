"""The BigQuery source: models read with google-cloud-bigquery, rows by the Storage Read API.

Owns the client (a service-account JSON key file, or Application Default Credentials), the
query jobs (values as positional query parameters, never spliced; the Source's dataset as the
jobs' default dataset), column discovery by a dry run (no bytes billed) and the types BigQuery
reports, mapped to Arrow. The client is an optional extra (`bigquery`): importing this
module never needs it, opening a source does. Must not write to the warehouse; the key file's
content is never printed.

Checked at the SQL level only (README): no BigQuery emulator installs from the package
registries these machines reach.
"""
from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from reconciler.connections import one_line
from reconciler.manifests.models import BigQuerySource
from reconciler.manifests.values import resolve_maybe_env
from reconciler.sources.base import DEFAULT_BATCH_ROWS
from reconciler.sources.columns import Column, kind_of
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import BIGQUERY
from reconciler.sources.errors import MissingExtraError, SourceConnectionError, SourceQueryError
from reconciler.sources.streamed import StreamedSource, conform

_ARROW: dict[str, pa.DataType] = {
    "STRING": pa.string(), "INTEGER": pa.int64(), "INT64": pa.int64(),
    "FLOAT": pa.float64(), "FLOAT64": pa.float64(), "NUMERIC": pa.decimal128(38, 9),
    "BOOLEAN": pa.bool_(), "BOOL": pa.bool_(), "DATE": pa.date32(),
    "DATETIME": pa.timestamp("us"), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}
ZONED_TIMESTAMP = "TIMESTAMP (UTC)"
"""BigQuery's TIMESTAMP is an instant, unlike DuckDB's and PostgreSQL's `timestamp`."""


def parameter_type(value: Any) -> str:
    """The BigQuery type of a bound value (positional query parameters are typed)."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "BIGNUMERIC"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


def job_config(query: SqlFragment, *, dataset: str | None, dry_run: bool = False) -> Any:
    """The job's configuration: each value a typed positional parameter (`?` in the text)."""
    from google.cloud import bigquery

    return bigquery.QueryJobConfig(
        dry_run=dry_run, use_query_cache=not dry_run, default_dataset=dataset,
        query_parameters=[bigquery.ScalarQueryParameter(None, parameter_type(v), v)
                          for v in query.params])


class BigQueryWarehouse(StreamedSource):
    """A `Source` over BigQuery; each query is one job."""

    dialect = BIGQUERY

    def __init__(self, name: str, *, project: str, dataset: str | None = None,
                 location: str | None = None, credentials_file: Path | None = None) -> None:
        self.name = name
        try:
            from google.api_core import exceptions
            from google.cloud import bigquery
        except ImportError as exc:
            raise MissingExtraError("bigquery", "google-cloud-bigquery") from exc
        self._errors = (exceptions.GoogleAPIError, ValueError)
        self._dataset = f"{project}.{dataset}" if dataset else None
        try:
            credentials = None
            if credentials_file is not None:
                from google.oauth2 import service_account

                credentials = service_account.Credentials.from_service_account_file(
                    str(credentials_file))
            self._client = bigquery.Client(project=project, credentials=credentials,
                                           location=location)
        except (OSError, *self._errors) as exc:
            raise SourceConnectionError(f"source {name!r}: cannot open BigQuery project "
                                        f"{project!r}: {one_line(exc)}") from exc

    @classmethod
    def from_spec(cls, name: str, spec: BigQuerySource,
                  manifest_dir: Path) -> BigQueryWarehouse:
        key = None
        if spec.credentials_file is not None:
            key = manifest_dir / resolve_maybe_env(spec.credentials_file,
                                                   f"source {name!r} credentialsFile")
        return cls(name, project=spec.project, dataset=spec.dataset, location=spec.location,
                   credentials_file=key)

    def _job(self, query: SqlFragment, *, dry_run: bool = False) -> Any:
        config = job_config(query, dataset=self._dataset, dry_run=dry_run)
        try:
            return self._client.query(query.sql, job_config=config)
        except self._errors as exc:
            raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc

    def columns(self, query: SqlFragment) -> list[Column]:
        """Read from a dry run: BigQuery plans the query and bills nothing."""
        return [column_of(field) for field in self._job(query, dry_run=True).schema or ()]

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        job = self._job(query)
        try:
            rows = job.result(page_size=batch_rows)
        except self._errors as exc:
            raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc
        schema = pa.schema([pa.field(f.name, _ARROW.get(f.field_type, pa.string()))
                            for f in rows.schema])
        return pa.RecordBatchReader.from_batches(schema, self._batches(rows, schema,
                                                                       batch_rows))

    def _batches(self, rows: Any, schema: pa.Schema,
                 batch_rows: int) -> Iterator[pa.RecordBatch]:
        try:  # the Storage Read API: Arrow streams, in parallel, without paging JSON
            yield from conform(rows.to_arrow_iterable(), schema, batch_rows)
        except self._errors as exc:
            raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc

    def close(self) -> None:
        self._client.close()


def column_of(field: Any) -> Column:
    """A BigQuery schema field as a model column."""
    native = ZONED_TIMESTAMP if field.field_type == "TIMESTAMP" else field.field_type
    return Column(field.name, kind_of(native), native)
