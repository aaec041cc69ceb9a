"""The demo's warehouse: the example project's data moved into PostgreSQL or Snowflake.

Owns, for `reconciler demo --source postgres|snowflake`: reading the example's tables as its
DuckDB Source types them, (re)creating them in the warehouse (a PostgreSQL schema, or a
database of the in-process Snowflake emulator), and aiming a copy of the project at it: its
`sources.yaml` replaced, each model's SQL translated from DuckDB's dialect by sqlglot. The
example project itself is never modified; credentials travel in environment variables the
manifests name, never in the files.
"""
from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from reconciler.manifests.loading import load_project
from reconciler.manifests.models import DuckDBSource
from reconciler.sandbox.snowflake import (
    EMULATOR_PASSWORD_ENV,
    SnowflakeEmulator,
    start_snowflake_emulator,
)
from reconciler.sources.compiler import SqlFragment
from reconciler.sources.dialects import DUCKDB, DialectName, transpile
from reconciler.sources.duckdb_source import DuckDBWarehouse

POSTGRES_URL_ENV = "RECONCILER_DEMO_POSTGRES_URL"
SOURCE_NAME = "warehouse"
_TYPES = {  # DuckDB's type -> (PostgreSQL's, Snowflake's)
    "VARCHAR": ("text", "VARCHAR"), "DOUBLE": ("double precision", "FLOAT"),
    "BIGINT": ("bigint", "NUMBER(38,0)"), "DATE": ("date", "DATE"),
    "BOOLEAN": ("boolean", "BOOLEAN"), "TIMESTAMP": ("timestamp", "TIMESTAMP_NTZ"),
}


class DemoWarehouse(enum.StrEnum):
    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SNOWFLAKE = "snowflake"


@contextlib.contextmanager
def demo_warehouse(kind: DemoWarehouse, project: Path, *, postgres_url: str,
                   schema: str) -> Iterator[str]:
    """Fill the warehouse with `project`'s tables and aim `project` (a copy) at it; yields
    a line saying where the data is. Nothing to do for DuckDB."""
    if kind is DemoWarehouse.DUCKDB:
        yield "DuckDB, reading the CSV files of the project"
        return
    tables = example_tables(project)
    if kind is DemoWarehouse.POSTGRES:
        seed_postgres(postgres_url, schema, tables)
        os.environ[POSTGRES_URL_ENV] = postgres_url
        aim_project(project, DialectName.POSTGRES, {
            "type": "postgres", "url": f"${{env:{POSTGRES_URL_ENV}}}", "searchPath": schema})
        yield f"PostgreSQL, schema {schema}"
        return
    emulator = start_snowflake_emulator()
    try:
        database = schema.upper()
        seed_snowflake(emulator, database, tables)
        os.environ[EMULATOR_PASSWORD_ENV] = "emulator"
        aim_project(project, DialectName.SNOWFLAKE, emulator_source(emulator, database))
        yield f"Snowflake emulator (fakesnow) at http://{emulator.host}:{emulator.port}, " \
              f"database {database}"
    finally:
        emulator.stop()


def seed_snowflake(emulator: SnowflakeEmulator, database: str,
                   tables: dict[str, ExampleTable]) -> None:
    """(Re)create `tables` in `database`.PUBLIC of the emulator."""
    emulator.seed(database, "PUBLIC", [
        f"CREATE OR REPLACE TABLE {name} ("
        + ", ".join(f"{column} {native}" for column, native in table.columns(1)) + ")"
        for name, table in tables.items()])
    for name, table in tables.items():
        emulator.load(database, "PUBLIC", name, table.rows)


def emulator_source(emulator: SnowflakeEmulator, database: str) -> dict[str, Any]:
    """A Snowflake Source manifest's spec reading `database`.PUBLIC of the emulator (its
    password by the variable the demo sets)."""
    return {"type": "snowflake", "account": "emulator", "user": "fake",
            "password": f"${{env:{EMULATOR_PASSWORD_ENV}}}", "database": database,
            "schema": "PUBLIC", "host": emulator.host, "port": emulator.port,
            "protocol": "http"}


@dataclass(frozen=True)
class ExampleTable:
    rows: pa.Table
    types: tuple[str, ...]
    """DuckDB's type of each column."""

    def columns(self, warehouse: int) -> list[tuple[str, str]]:
        """(column, type) in PostgreSQL's (0) or Snowflake's (1) words."""
        return [(name, _TYPES[native][warehouse])
                for name, native in zip(self.rows.column_names, self.types, strict=True)]


def example_tables(project: Path) -> dict[str, ExampleTable]:
    """The tables of the project's DuckDB source, typed as its manifest declares."""
    loaded, _ = load_project(project)
    spec = loaded.sources()[SOURCE_NAME].spec
    if not isinstance(spec, DuckDBSource):
        raise ValueError(f"the demo reads the example's DuckDB source, not {spec.type}")
    tables: dict[str, ExampleTable] = {}
    with DuckDBWarehouse.from_spec(SOURCE_NAME, spec, project) as source:
        for name in spec.file_tables():
            query = SqlFragment(f"SELECT * FROM {DUCKDB.quote(name)}")
            tables[name] = ExampleTable(source.stream(query).read_all(),
                                        tuple(c.native_type for c in source.columns(query)))
    return tables


def seed_postgres(url: str, schema: str, tables: dict[str, ExampleTable]) -> None:
    """(Re)create `schema` holding `tables`, loaded with COPY."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for name, table in tables.items():
            target = sql.Identifier(schema, name)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(native))
                for column, native in table.columns(0))
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
                for row in table.rows.to_pylist():
                    copy.write_row(list(row.values()))


def aim_project(project: Path, dialect: DialectName, source: dict[str, Any]) -> None:
    """Point the copy's Source at the warehouse and translate its models' SQL."""
    yaml = YAML()
    sources = project / "sources.yaml"
    document = yaml.load(sources.read_text("utf-8"))
    document["spec"] = source
    with sources.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)
    models_file = project / "models.yaml"
    models = list(yaml.load_all(models_file.read_text("utf-8")))
    for model in models:
        if model["spec"].get("sql"):
            model["spec"]["sql"] = LiteralScalarString(
                transpile(model["spec"]["sql"], read=DialectName.DUCKDB, write=dialect) + "\n")
    with models_file.open("w", encoding="utf-8") as out:
        yaml.dump_all(models, out)
