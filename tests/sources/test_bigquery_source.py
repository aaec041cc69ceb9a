"""The BigQuery source without a BigQuery: its jobs' typed positional parameters, its types,
its credentials file, the missing extra.

BigQuery is checked at the SQL level (tests/sources/test_dialects.py): no emulator installs
from the package registries these machines reach.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from reconciler.manifests.conditions import Condition
from reconciler.manifests.models import BigQuerySource, ModelSpec
from reconciler.sources import AudienceSpec, SourceConnectionError, open_source
from reconciler.sources.audience import build_audience_query
from reconciler.sources.bigquery_source import column_of, job_config, parameter_type
from reconciler.sources.columns import is_zoned
from reconciler.sources.dialects import BIGQUERY
from reconciler.sources.errors import MissingExtraError

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
_CONDITION: TypeAdapter[Any] = TypeAdapter(Condition)


@pytest.mark.parametrize(("value", "expected"), [
    (True, "BOOL"), (3, "INT64"), (2.5, "FLOAT64"), (decimal.Decimal("1.10"), "BIGNUMERIC"),
    (dt.date(2026, 1, 1), "DATE"), (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "TIMESTAMP"),
    (dt.datetime(2026, 1, 1), "DATETIME"), ("x'; --", "STRING"),
])
def test_each_bound_value_gets_its_bigquery_type(value: object, expected: str):
    # Scenario: positional query parameters are typed; a bool is not an INT64.
    assert parameter_type(value) == expected


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch):
    # Scenario: google-cloud-bigquery is not installed: the error names the extra to install.
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)
    spec = BigQuerySource.model_validate({"type": "bigquery", "project": "acme"})
    with pytest.raises(MissingExtraError, match=r"audience-reconciler\[bigquery\]"):
        open_source("bq", spec, Path("."))


@pytest.fixture
def bigquery() -> object:
    try:
        from google.cloud import bigquery
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the bigquery extra (in dev): {exc}")
        pytest.skip(f"google-cloud-bigquery is not installed: {exc}")
    return bigquery


def test_a_job_binds_every_value_as_a_positional_parameter(bigquery: object):
    # Scenario: the job the audience query runs as: POSITIONAL mode, one typed parameter per
    # `?`, the hostile text a parameter value, the Source's dataset as the default dataset.
    spec = AudienceSpec("a", ModelSpec(source="bq", table="customers"), "customer_id",
                        segment="s", where=_CONDITION.validate_python(
                            {"all": [{"column": "name", "eq": "x'); DROP TABLE t; --"},
                                     {"column": "vip", "eq": True}]}))
    query = build_audience_query(spec, BIGQUERY, now=NOW)
    sent = job_config(query, dataset="acme.audiences").to_api_repr()["query"]
    assert sent["parameterMode"] == "POSITIONAL"
    assert [(p["parameterType"]["type"], p["parameterValue"]["value"])
            for p in sent["queryParameters"]] == [("STRING", "x'); DROP TABLE t; --"),
                                                  ("BOOL", "true")]
    assert query.sql.count("?") == 2 and "DROP" not in query.sql
    assert sent["defaultDataset"] == {"projectId": "acme", "datasetId": "audiences"}
    assert job_config(query, dataset=None, dry_run=True).dry_run


def test_bigquery_types_become_column_kinds(bigquery: Any):
    # Scenario: BigQuery's schema types map to the kinds segments check; TIMESTAMP is an
    # instant (read in UTC), DATETIME is not.
    fields = [bigquery.SchemaField(name, kind) for name, kind in (
        ("a", "STRING"), ("b", "INT64"), ("c", "FLOAT64"), ("d", "NUMERIC"), ("e", "BOOL"),
        ("f", "DATE"), ("g", "DATETIME"), ("h", "TIMESTAMP"), ("i", "JSON"))]
    columns = [column_of(f) for f in fields]
    assert [c.kind.value for c in columns] == ["string", "integer", "decimal", "decimal",
                                               "boolean", "date", "timestamp", "timestamp",
                                               "other"]
    assert [is_zoned(c.native_type) for c in columns][6:8] == [False, True]


def test_a_service_account_file_opens_a_client_without_a_network_call(
        bigquery: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Scenario: credentialsFile (relative to the manifest, or ${env:…} naming it) is read
    # when the source opens; a missing file is a connection error naming the source.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    (tmp_path / "sa.json").write_text(json.dumps({
        "type": "service_account", "project_id": "acme", "private_key_id": "k1",
        "private_key": pem, "client_email": "reconciler@acme.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}))
    monkeypatch.setenv("BQ_KEY_FILE", "sa.json")
    spec = BigQuerySource.model_validate({"type": "bigquery", "project": "acme",
                                          "dataset": "audiences",
                                          "credentialsFile": "${env:BQ_KEY_FILE}"})
    with open_source("bq", spec, tmp_path) as source:
        assert source.dialect is BIGQUERY
    missing = spec.model_copy(update={"credentials_file": "nope.json"})
    with pytest.raises(SourceConnectionError, match="source 'bq': cannot open BigQuery"):
        open_source("bq", missing, tmp_path)
