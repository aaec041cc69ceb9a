"""The committed JSON Schemas equal what the models generate, and accept the example."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.manifests.loader import discover_files
from reconciler.manifests.models import DOCUMENT_CLASSES
from reconciler.manifests.schemas import schema_file_name
from reconciler.schemas import all_schemas
from tests.manifests.conftest import EXAMPLE, REPO

SCHEMAS = REPO / "schemas"


def _schema(kind: str) -> dict:
    return json.loads((SCHEMAS / schema_file_name(kind)).read_text("utf-8"))


def test_committed_schemas_match_the_models() -> None:
    # Scenario: someone changed a model without running `reconciler schema export`.
    for name, text in all_schemas().items():
        committed = (SCHEMAS / name).read_text("utf-8")
        assert committed == text, f"schemas/{name} is stale: run `reconciler schema export`"


@pytest.mark.parametrize("kind", sorted(DOCUMENT_CLASSES))
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    # Scenario: each schema is itself a valid Draft 2020-12 schema.
    schema = _schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _example_documents() -> list[tuple[Path, dict]]:
    yaml = YAML(typ="safe")
    documents = []
    for file in discover_files(EXAMPLE):
        documents.extend((file, doc) for doc in yaml.load_all(file.read_text("utf-8")) if doc)
    return documents


def test_example_manifests_validate_against_their_schema() -> None:
    # Scenario: an editor checking the example files with the schemas finds no problem.
    documents = _example_documents()
    assert len(documents) == 13
    for file, document in documents:
        schema = _schema(document["kind"])
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(
            json.loads(json.dumps(document, default=str))))
        assert errors == [], f"{file}: {errors[0].message if errors else ''}"


def test_example_files_declare_their_schema_for_editors() -> None:
    # Scenario: every example file has a yaml-language-server line pointing at a real schema.
    for file in discover_files(EXAMPLE):
        first = file.read_text("utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), file
        target = (file.parent / first.split("=", 1)[1]).resolve()
        assert target.is_file() and target.parent == SCHEMAS.resolve(), file


def test_schema_rejects_unknown_fields_and_bad_predicates() -> None:
    # Scenario: the schema is as strict as the models for the common mistakes.
    validator = jsonschema.Draft202012Validator(_schema("Segment"))
    base = {"apiVersion": "reconciler/v1", "kind": "Segment", "metadata": {"name": "s"},
            "spec": {"model": "m", "where": {"column": "a", "eq": 1}}}
    assert validator.is_valid(base)
    two_ops = {**base, "spec": {"model": "m", "where": {"column": "a", "eq": 1, "ne": 2}}}
    extra = {**base, "extra": True}
    assert not validator.is_valid(two_ops) and not validator.is_valid(extra)
