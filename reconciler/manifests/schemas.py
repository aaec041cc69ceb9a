"""JSON Schemas of the manifest kinds, generated from the pydantic models (never by hand).

`reconciler schema export` writes them to `schemas/`; a test fails when the committed files
differ from what the models generate, so editors and CI always check the real language.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.manifests.models import DOCUMENT_CLASSES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://audience-reconciler.dev/schemas/"


def schema_file_name(kind: str) -> str:
    return f"{kind.lower()}.schema.json"


def kind_schema(kind: str) -> dict[str, Any]:
    schema = DOCUMENT_CLASSES[kind].model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID_BASE + schema_file_name(kind),
        **schema,
        "title": f"{kind} (reconciler/v1)",
    }


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def all_schemas() -> dict[str, str]:
    """File name → JSON text, for every kind."""
    return {schema_file_name(kind): render_schema(kind_schema(kind)) for kind in DOCUMENT_CLASSES}


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in all_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
