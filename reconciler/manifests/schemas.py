"""JSON Schemas of the manifest kinds, generated from the pydantic models (never by hand).

`reconciler.schemas` collects them with the plan's schema for `reconciler schema export`.
"""
from __future__ import annotations

import json
from typing import Any

from reconciler.manifests.models import DOCUMENT_CLASSES, Kind

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://audience-reconciler.dev/schemas/"


def schema_file_name(kind: Kind) -> str:
    return f"{kind.lower()}.schema.json"


def kind_schema(kind: Kind) -> dict[str, Any]:
    schema = DOCUMENT_CLASSES[kind].model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID_BASE + schema_file_name(kind),
        **schema,
        "title": f"{kind} (reconciler/v1)",
    }


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def kind_schemas() -> dict[str, str]:
    """File name → JSON text, for every manifest kind."""
    return {schema_file_name(kind): render_schema(kind_schema(kind)) for kind in DOCUMENT_CLASSES}
