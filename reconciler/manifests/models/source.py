"""The Source kind: where models read rows (DuckDB, PostgreSQL, Snowflake or BigQuery)."""
from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reconciler.manifests.models.activation import FieldType
from reconciler.manifests.models.common import StrictModel
from reconciler.manifests.values import Credential


class FileTable(StrictModel):
    """A table read from CSV or Parquet files, with the types of some of its columns."""

    path: str = Field(min_length=1, description="The file(s), relative to this manifest "
                      "(glob allowed).")
    columns: dict[str, FieldType] = Field(
        default_factory=dict,
        description="Column types: {column: string | integer | decimal | boolean | date | "
        "timestamp}. A value that does not fit its column's type makes its row a bad row "
        "(counted, sampled masked in the plan, left out), never a change of the column's "
        "type. Columns not named here are typed from every row of the file.")


class DuckDBSource(StrictModel):
    """The embedded default warehouse: a DuckDB file, or CSV/Parquet files read through it."""

    type: Literal["duckdb"]
    path: str | None = Field(
        default=None,
        description="The database file, relative to this manifest; in memory when absent.",
    )
    files: dict[str, str | FileTable] = Field(
        default_factory=dict,
        description="Tables read from CSV or Parquet files (glob allowed), relative to this "
        "manifest: {table name: path}, or {table name: {path, columns}} to declare the types "
        "of some columns.",
    )

    def file_tables(self) -> dict[str, FileTable]:
        """Every `files` entry as a FileTable (a bare path declares no column type)."""
        return {table: entry if isinstance(entry, FileTable) else FileTable(path=entry)
                for table, entry in self.files.items()}


class PlanIn(enum.StrEnum):
    """Where a plan works out which audience rows changed since the last apply."""

    LOCAL = "local"  # every row is read into the local DuckDB
    WAREHOUSE = "warehouse"  # the warehouse compares; only the changed rows come back


class WarehousePlanning(StrictModel):
    """Where a server warehouse's plans compare rows (PostgreSQL and Snowflake)."""

    plan_in: PlanIn = Field(
        default=PlanIn.LOCAL,
        description="local: a plan reads every audience row; warehouse: apply keeps each "
        "member's row hash in a table of `stateSchema`, and a plan reads back only the rows "
        "that changed since (falling back to a full read, said in the plan, when that table "
        "does not match the last apply).")
    state_schema: str = Field(
        default="reconciler_state", min_length=1, max_length=63,
        description="planIn warehouse: the schema holding the row-hash tables (one per "
        "activation), quoted as written (in Snowflake, `reconciler_state` is a lower-case "
        "schema of the source's database); the source's role needs to create tables in it "
        "(and the schema itself when it is missing).")


class PostgresSource(WarehousePlanning):
    type: Literal["postgres"]
    url: Credential = Field(description="A libpq URL, postgresql://user:password@host/db.")
    search_path: str | None = Field(default=None, description="The schema(s) models read.")


class SnowflakeSource(WarehousePlanning):
    """A Snowflake account, read with snowflake-connector-python (the `snowflake` extra)."""

    type: Literal["snowflake"]
    account: str = Field(min_length=1, description="The account identifier (orgname-account "
                         "or its locator), or ${env:NAME}.")
    user: str = Field(min_length=1, description="The login name, or ${env:NAME}.")
    password: Credential | None = Field(default=None, description="Password authentication.")
    private_key: Credential | None = Field(
        default=None, description="Key-pair authentication: the PEM private key's text.")
    private_key_file: str | None = Field(
        default=None, description="Key-pair authentication: the PEM private key's file, "
        "relative to this manifest.")
    private_key_passphrase: Credential | None = Field(
        default=None, description="The passphrase of an encrypted private key.")
    authenticator: str | None = Field(
        default=None, description="The connector's `authenticator` as users set it: "
        "externalbrowser, oauth (with `token`), username_password_mfa, snowflake_jwt, or an "
        "Okta URL. Default: password, or key pair when a private key is given.")
    token: Credential | None = Field(default=None, description="An OAuth access token "
                                     "(`authenticator: oauth`).")
    role: str | None = Field(default=None, description="The role to read as.")
    warehouse: str | None = Field(default=None, description="The virtual warehouse to run on.")
    database: str | None = Field(default=None, description="The database models read.")
    db_schema: str | None = Field(default=None, alias="schema",
                                  description="The schema models read.")
    host: str | None = Field(default=None, description="The host, for an emulator or a "
                             "private link (default: the account's own host).")
    port: int | None = Field(default=None, ge=1, le=65535, description="The port, with `host`.")
    protocol: Literal["https", "http"] = Field(
        default="https", description="http only for a local emulator (fakesnow).")

    @model_validator(mode="after")
    def _one_key(self) -> SnowflakeSource:
        if self.private_key is not None and self.private_key_file is not None:
            raise ValueError("give privateKey or privateKeyFile, not both")
        return self


class BigQuerySource(StrictModel):
    """A Google BigQuery project, read with google-cloud-bigquery (the `bigquery` extra)."""

    type: Literal["bigquery"]
    project: str = Field(min_length=1, description="The project queries run (and bill) in.")
    dataset: str | None = Field(default=None, description="The default dataset: unqualified "
                                "table names of models are read from it.")
    location: str | None = Field(default=None, description="The location jobs run in "
                                 "(EU, US, europe-west1, …).")
    credentials_file: str | None = Field(
        default=None, description="A service-account JSON key file, relative to this "
        "manifest, or ${env:NAME} naming one; without it, Application Default Credentials.")


SourceSpec = Annotated[DuckDBSource | PostgresSource | SnowflakeSource | BigQuerySource,
                       Field(discriminator="type")]
