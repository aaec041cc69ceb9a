"""The Snowflake source against the emulator (fakesnow's server, reached over HTTP by the real
connector): types, Snowflake's upper-case names, key-pair login, a whole audience."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from reconciler.manifests.models import FieldType, ModelSpec, SnowflakeSource
from reconciler.sandbox.snowflake import SnowflakeEmulator
from reconciler.sources import (
    AudienceField,
    AudienceSpec,
    ColumnKind,
    SourceConnectionError,
    SourceQueryError,
    discover_columns,
    materialize_audience,
    open_source,
    stream_audience,
)
from reconciler.sources.errors import MissingExtraError
from reconciler.sources.snowflake_source import SnowflakeWarehouse, connect_arguments

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
TABLE = ("CREATE TABLE customers (customer_id VARCHAR, email VARCHAR, ltv NUMBER(10,2), "
         "orders NUMBER(38,0), last_order DATE, seen TIMESTAMP_NTZ, consent BOOLEAN)")
ROWS = [
    "INSERT INTO customers VALUES ('C1', 'a@x.be', 1200.50, 3, '2026-01-02', "
    "'2026-11-01 10:00:00', TRUE)",
    "INSERT INTO customers VALUES ('C2', 'b@x.be', 80.00, 1, '2025-03-04', NULL, FALSE)",
    "INSERT INTO customers VALUES ('C3', NULL, 5000.00, 7, NULL, '2026-11-20 08:30:00', TRUE)",
]


@pytest.fixture
def warehouse(snowflake_emulator: SnowflakeEmulator,
              snowflake_database: str) -> SnowflakeWarehouse:
    snowflake_emulator.seed(snowflake_database, "PUBLIC", [TABLE, *ROWS])
    source = SnowflakeWarehouse("snow", **snowflake_emulator.connect_arguments(
        snowflake_database, "PUBLIC"))
    yield source  # type: ignore[misc]
    source.close()


def _spec(**kwargs: object) -> AudienceSpec:
    return AudienceSpec("vip", ModelSpec(source="snow", table="customers"), "customer_id",
                        **kwargs)  # type: ignore[arg-type]


def test_columns_are_typed_and_named_as_snowflake_folds_them(warehouse: SnowflakeWarehouse):
    # Scenario: unquoted names are upper case in Snowflake; each type maps to its kind.
    columns = {c.name: c for c in discover_columns(warehouse, ModelSpec(source="snow",
                                                                         table="customers"))}
    assert {name: c.kind for name, c in columns.items()} == {
        "CUSTOMER_ID": ColumnKind.STRING, "EMAIL": ColumnKind.STRING,
        "LTV": ColumnKind.DECIMAL, "ORDERS": ColumnKind.INTEGER,
        "LAST_ORDER": ColumnKind.DATE, "SEEN": ColumnKind.TIMESTAMP,
        "CONSENT": ColumnKind.BOOLEAN}


def test_a_segment_in_manifest_case_reads_the_right_rows(warehouse: SnowflakeWarehouse):
    # Scenario: a manifest's lower-case `ltv`, `consent` and `last_order` find Snowflake's
    # LTV, CONSENT and LAST_ORDER; values are bound (qmark) and typed in the Arrow batches.
    from reconciler.manifests.conditions import AllOf, Predicate

    where = AllOf(all=[Predicate(column="ltv", gte=1000),  # type: ignore[call-arg]
                       Predicate(column="consent", eq=True),  # type: ignore[call-arg]
                       Predicate(column="seen", withinLast="30d")])  # type: ignore[call-arg]
    spec = _spec(fields=(AudienceField("email", "MAIL"), AudienceField("orders", "ORDERS")),
                 segment="vip", where=where)
    table = stream_audience(warehouse, spec, now=NOW).read_all()
    assert table.column_names == ["member_key", "MAIL", "ORDERS"]
    assert table.to_pylist() == [{"member_key": "C1", "MAIL": "a@x.be", "ORDERS": 3},
                                 {"member_key": "C3", "MAIL": None, "ORDERS": 7}]


def test_materialized_audience_checks_types_like_any_source(warehouse: SnowflakeWarehouse):
    # Scenario: the audience lands in the planner's DuckDB with its hash; typed fields pass.
    import duckdb

    into = duckdb.connect()
    spec = _spec(fields=(AudienceField("ltv", "LTV", FieldType.DECIMAL),
                         AudienceField("last_order", "LAST", FieldType.DATE)))
    report = materialize_audience(warehouse, spec, into, "desired", now=NOW)
    assert report.rejected_rows == 0
    assert into.execute("SELECT count(*) FROM desired").fetchone() == (3,)


def test_bad_sql_names_the_source(warehouse: SnowflakeWarehouse):
    # Scenario: a model's SQL the warehouse refuses is a SourceQueryError naming the source.
    with pytest.raises(SourceQueryError, match="source 'snow'"):
        discover_columns(warehouse, ModelSpec(source="snow", sql="SELECT * FROM missing_t"))


def _pem(passphrase: bytes | None = None) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def test_key_pair_login_from_a_file_and_from_the_environment(
        snowflake_emulator: SnowflakeEmulator, snowflake_database: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    # Scenario: key-pair authentication (an encrypted key file, then a key in ${env:…})
    # logs in to the emulator through the real connector's JWT path.
    snowflake_emulator.seed(snowflake_database, "PUBLIC", [TABLE, *ROWS])
    (tmp_path / "key.p8").write_bytes(_pem(b"s3cret"))
    monkeypatch.setenv("SF_PASSPHRASE", "s3cret")
    monkeypatch.setenv("SF_KEY", _pem().decode())
    base = {"type": "snowflake", "account": "emulator", "user": "fake",
            "database": snowflake_database, "schema": "PUBLIC",
            "host": snowflake_emulator.host, "port": snowflake_emulator.port, "protocol": "http"}
    for auth in ({"privateKeyFile": "key.p8", "privateKeyPassphrase": "${env:SF_PASSPHRASE}"},
                 {"privateKey": "${env:SF_KEY}"}):
        spec = SnowflakeSource.model_validate(base | auth)
        assert connect_arguments("snow", spec, tmp_path)["authenticator"] == "SNOWFLAKE_JWT"
        with open_source("snow", spec, tmp_path) as source:
            assert len(discover_columns(source, ModelSpec(source="snow",
                                                          table="customers"))) == 7


def test_a_wrong_passphrase_is_a_clear_error_without_the_key(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    # Scenario: an unreadable key stops before connecting; the message shows no key material.
    (tmp_path / "key.p8").write_bytes(_pem(b"right"))
    monkeypatch.setenv("SF_PASSPHRASE", "Zq7-bad")
    spec = SnowflakeSource.model_validate({
        "type": "snowflake", "account": "a", "user": "u", "privateKeyFile": "key.p8",
        "privateKeyPassphrase": "${env:SF_PASSPHRASE}"})
    with pytest.raises(SourceConnectionError, match="private key cannot be read") as caught:
        connect_arguments("snow", spec, tmp_path)
    assert "Zq7-bad" not in str(caught.value) and "BEGIN" not in str(caught.value)


def test_credentials_must_be_environment_references():
    # Scenario: a literal password in a manifest is refused (never echoed).
    with pytest.raises(ValueError, match="environment reference"):
        SnowflakeSource.model_validate({"type": "snowflake", "account": "a", "user": "u",
                                        "password": "hunter2"})


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch):
    # Scenario: the connector is not installed: opening a Snowflake source says which extra.
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)
    spec = SnowflakeSource.model_validate({"type": "snowflake", "account": "a", "user": "u"})
    with pytest.raises(MissingExtraError, match=r"audience-reconciler\[snowflake\]"):
        open_source("snow", spec, Path("."))


def test_an_empty_audience_still_has_its_columns(warehouse: SnowflakeWarehouse):
    # Scenario: a segment no row matches: no Arrow chunk comes back, the stream still has the
    # typed schema (from the cursor's description), and no rows.
    from reconciler.manifests.conditions import Predicate

    spec = _spec(fields=(AudienceField("ltv", "LTV"),), segment="none",
                 where=Predicate(column="ltv", gt=10**6))  # type: ignore[call-arg]
    reader = stream_audience(warehouse, spec, now=NOW)
    assert [(f.name, str(f.type)) for f in reader.schema] == [
        ("member_key", "string"), ("LTV", "decimal128(10, 2)")]
    assert reader.read_all().num_rows == 0
