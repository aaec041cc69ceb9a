"""A local Snowflake emulator: fakesnow's server, in process, for the demo and the tests.

Owns starting fakesnow's HTTP server (the real `snowflake-connector-python` reaches it over
`protocol: http`) on a free loopback port, seeding it with tables, and stopping it. The
socket is bound and listening before the server's thread starts, so the first connection
queues instead of racing the start-up. fakesnow keeps every database in one in-memory DuckDB
per process: give each user its own database. Needs the `snowflake-emulator` extra.
"""
from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from reconciler.errors import ReconcilerError
from reconciler.sources.dialects import DUCKDB

EMULATOR_USER = "fake"
EMULATOR_PASSWORD_ENV = "RECONCILER_SNOWFLAKE_EMULATOR_PASSWORD"
"""The variable a Source manifest aimed at the emulator names for its password (the
emulator accepts any: the demo sets it)."""


class EmulatorUnavailable(ReconcilerError):
    hint = "pip install 'audience-reconciler[snowflake-emulator]'"


@dataclass
class SnowflakeEmulator:
    host: str
    port: int
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def connect_arguments(self, database: str | None = None,
                          schema: str | None = None) -> dict[str, Any]:
        """The connector's keyword arguments for this emulator."""
        args: dict[str, Any] = {
            "user": EMULATOR_USER, "password": "emulator", "account": "emulator",
            "host": self.host, "port": self.port, "protocol": "http",
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        }
        return args | ({"database": database} if database else {}) | (
            {"schema": schema} if schema else {})

    def seed(self, database: str, schema: str, statements: Sequence[str]) -> None:
        """Create `database.schema` and run `statements` (Snowflake SQL) in it."""
        import snowflake.connector

        with snowflake.connector.connect(**self.connect_arguments()) as conn:
            cursor = conn.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {database}.{schema}")
            cursor.execute(f"USE SCHEMA {database}.{schema}")
            for statement in statements:
                cursor.execute(statement)

    def load(self, database: str, schema: str, table: str, rows: pa.Table) -> None:
        """Append `rows` to an existing table, straight into the emulator's DuckDB (inserting
        through the connector runs one statement per row)."""
        from fakesnow.server import shared_fs

        target = DUCKDB.quote_qualified(f"{database}.{schema}.{table}".upper())
        shared_fs.duck_conn.register("reconciler_rows", rows)
        try:
            shared_fs.duck_conn.execute(f"INSERT INTO {target} SELECT * FROM reconciler_rows")
        finally:
            shared_fs.duck_conn.unregister("reconciler_rows")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join()


def start_snowflake_emulator(host: str = "127.0.0.1") -> SnowflakeEmulator:
    """fakesnow's server on a free port of `host`, serving until `stop()`."""
    try:
        import uvicorn
        from fakesnow.server import app
    except ImportError as exc:
        raise EmulatorUnavailable("the Snowflake emulator (fakesnow) is not installed") from exc
    logging.getLogger("fakesnow.server").setLevel(logging.WARNING)  # a line per login
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name="snowflake emulator", daemon=True)
    thread.start()
    return SnowflakeEmulator(host, port, server, thread)
