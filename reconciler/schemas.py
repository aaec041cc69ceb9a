"""Every JSON Schema the project publishes in `schemas/`: the manifest kinds and the plan.

Generated from the pydantic models, never written by hand; `reconciler schema export` writes
them and a test fails when the committed files differ.
"""
from __future__ import annotations

from pathlib import Path

from reconciler.manifests.schemas import DRAFT, SCHEMA_ID_BASE, kind_schemas, render_schema
from reconciler.planning.plan import Plan

PLAN_SCHEMA_FILE = "plan.schema.json"


def plan_schema() -> str:
    schema = Plan.model_json_schema(mode="serialization")
    return render_schema({"$schema": DRAFT, "$id": SCHEMA_ID_BASE + PLAN_SCHEMA_FILE, **schema,
                          "title": "Plan (reconciler plan --format json)"})


def all_schemas() -> dict[str, str]:
    """File name → JSON text."""
    return {**kind_schemas(), PLAN_SCHEMA_FILE: plan_schema()}


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in all_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
