"""The BigQuery source without a BigQuery: typed positional parameters, the missing extra.

BigQuery is checked at the SQL level (tests/sources/test_dialects.py): no emulator installs
from the package registries these machines reach.
"""
from __future__ import annotations

import datetime as dt
import decimal
import sys
from pathlib import Path

import pytest

from reconciler.manifests.models import BigQuerySource
from reconciler.sources import open_source
from reconciler.sources.bigquery_source import parameter_type
from reconciler.sources.errors import MissingExtraError


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
