"""The Snowflake source: models read with snowflake-connector-python, as Arrow batches.

Owns the connection (password, key-pair, OAuth token or any `authenticator` the connector
knows; host/port/protocol for an emulator), binding values server-side (`qmark`: the
connector never splices them into the text) and mapping Snowflake's types to Arrow. The
connector is an optional extra (`snowflake`): importing this module never needs it, opening a
source does. Must not write to the warehouse (the README names the read-only grants); no
credential or key is ever printed.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from reconciler.connections import one_line
from reconciler.manifests.models import SnowflakeSource
from reconciler.manifests.values import resolve_env_ref, resolve_maybe_env
from reconciler.sources.base import DEFAULT_BATCH_ROWS
from reconciler.sources.columns import Column, ColumnKind
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import SNOWFLAKE
from reconciler.sources.errors import MissingExtraError, SourceConnectionError, SourceQueryError
from reconciler.sources.streamed import StreamedSource, conform

# The connector's type codes (snowflake.connector.constants.FIELD_TYPES), by name.
_TYPES: dict[str, tuple[ColumnKind, pa.DataType]] = {
    "REAL": (ColumnKind.DECIMAL, pa.float64()),
    "TEXT": (ColumnKind.STRING, pa.string()),
    "DATE": (ColumnKind.DATE, pa.date32()),
    "TIMESTAMP": (ColumnKind.TIMESTAMP, pa.timestamp("us")),
    "TIMESTAMP_NTZ": (ColumnKind.TIMESTAMP, pa.timestamp("us")),
    "TIMESTAMP_LTZ": (ColumnKind.TIMESTAMP, pa.timestamp("us", tz="UTC")),
    "TIMESTAMP_TZ": (ColumnKind.TIMESTAMP, pa.timestamp("us", tz="UTC")),
    "BOOLEAN": (ColumnKind.BOOLEAN, pa.bool_()),
}


def load_connector() -> Any:
    try:
        import snowflake.connector
    except ImportError as exc:
        raise MissingExtraError("snowflake", "snowflake-connector-python") from exc
    return snowflake.connector


class SnowflakeWarehouse(StreamedSource):
    """A `Source` over Snowflake; one query streams at a time."""

    dialect = SNOWFLAKE

    def __init__(self, name: str, **connect: Any) -> None:
        self.name = name
        connector = load_connector()
        self._errors = connector.errors.Error
        self._type_names: dict[int, str] = {
            code: t.name for code, t in enumerate(connector.constants.FIELD_TYPES)}
        try:
            self._conn = connector.connect(paramstyle="qmark", login_timeout=30, **connect)
        except self._errors as exc:
            raise SourceConnectionError(f"source {name!r}: cannot connect to Snowflake "
                                        f"account {connect.get('account')!r}: "
                                        f"{one_line(exc)}") from exc

    @classmethod
    def from_spec(cls, name: str, spec: SnowflakeSource,
                  manifest_dir: Path) -> SnowflakeWarehouse:
        return cls(name, **connect_arguments(name, spec, manifest_dir))

    def _execute(self, query: SqlFragment) -> Any:
        cursor = self._conn.cursor()
        try:
            cursor.execute(query.sql, list(query.params))
        except self._errors as exc:
            cursor.close()
            raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc
        return cursor

    def _fields(self, description: Any) -> list[tuple[Column, pa.Field]]:
        fields = []
        for d in description or ():
            type_name = self._type_names.get(d.type_code, "OTHER")
            if type_name == "FIXED":
                scale = d.scale or 0
                native = f"NUMBER({d.precision or 38},{scale})"
                kind, arrow = ((ColumnKind.INTEGER, pa.int64()) if scale == 0 else
                               (ColumnKind.DECIMAL, pa.decimal128(d.precision or 38, scale)))
            else:
                native = type_name
                kind, arrow = _TYPES.get(type_name, (ColumnKind.OTHER, pa.string()))
            fields.append((Column(d.name, kind, native), pa.field(d.name, arrow)))
        return fields

    def columns(self, query: SqlFragment) -> list[Column]:
        """Described, not run: Snowflake compiles the query without resuming a warehouse."""
        with self._conn.cursor() as cursor:
            try:
                description = cursor.describe(query.sql, list(query.params))
            except self._errors as exc:
                raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc
        return [column for column, _ in self._fields(description)]

    def stream(
        self, query: SqlFragment, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> pa.RecordBatchReader:
        cursor = self._execute(query)
        schema = pa.schema([field for _, field in self._fields(cursor.description)])
        return pa.RecordBatchReader.from_batches(schema,
                                                 self._batches(cursor, schema, batch_rows))

    def _batches(self, cursor: Any, schema: pa.Schema,
                 batch_rows: int) -> Iterator[pa.RecordBatch]:
        """The result chunks, cast to `schema`."""
        try:
            yield from conform(cursor.fetch_arrow_batches(), schema, batch_rows)
        except self._errors as exc:
            raise SourceQueryError(f"source {self.name!r}: {one_line(exc)}") from exc
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SourceQueryError(f"source {self.name!r}: a value does not fit its column's "
                                   f"type: {exc}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self._conn.close()


def connect_arguments(name: str, spec: SnowflakeSource, manifest_dir: Path) -> dict[str, Any]:
    """The connector's keyword arguments for `spec`, credentials resolved from the
    environment (never logged)."""
    where = f"source {name!r}"
    args: dict[str, Any] = {
        "account": resolve_maybe_env(spec.account, f"{where} account"),
        "user": resolve_maybe_env(spec.user, f"{where} user"),
        "session_parameters": {"QUERY_TAG": "audience-reconciler"},
    }
    for key, value in (("role", spec.role), ("warehouse", spec.warehouse),
                       ("database", spec.database), ("schema", spec.db_schema),
                       ("host", spec.host), ("port", spec.port),
                       ("authenticator", spec.authenticator)):
        if value is not None:
            args[key] = value
    if spec.protocol != "https":
        args["protocol"] = spec.protocol
    if spec.password is not None:
        args["password"] = resolve_env_ref(spec.password, f"{where} password")
    if spec.token is not None:
        args["token"] = resolve_env_ref(spec.token, f"{where} token")
    pem = None
    if spec.private_key is not None:
        pem = resolve_env_ref(spec.private_key, f"{where} privateKey").encode()
    elif spec.private_key_file is not None:
        path = manifest_dir / spec.private_key_file
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise SourceConnectionError(f"{where}: cannot read privateKeyFile {path}: "
                                        f"{exc.strerror}") from exc
    if pem is not None:
        passphrase = (resolve_env_ref(spec.private_key_passphrase,
                                      f"{where} privateKeyPassphrase")
                      if spec.private_key_passphrase is not None else None)
        args["private_key"] = private_key_der(pem, passphrase, where)
        args.setdefault("authenticator", "SNOWFLAKE_JWT")
    return args


def private_key_der(pem: bytes, passphrase: str | None, where: str) -> bytes:
    """The PEM key as the DER (PKCS#8) bytes the connector takes; its text never shown."""
    load_connector()  # cryptography comes with the connector
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(
            pem, password=passphrase.encode() if passphrase is not None else None)
    except (ValueError, TypeError) as exc:
        reason = "wrong or missing passphrase" if "password" in str(exc).lower() else \
            "not a PEM private key"
        raise SourceConnectionError(f"{where}: the private key cannot be read "
                                    f"({reason})") from None
    return key.private_bytes(encoding=serialization.Encoding.DER,
                             format=serialization.PrivateFormat.PKCS8,
                             encryption_algorithm=serialization.NoEncryption())
