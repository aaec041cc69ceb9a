"""Selligent Text fields: created with an explicit length, and every mapped text field's length
known to the plan (longer values are then rejected at plan time, not at apply time)."""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.changes.resources import ResourceType
from reconciler.destinations.selligent import SelligentAdapter
from reconciler.destinations.selligent.observer import SelligentObserver
from reconciler.destinations.selligent.writer import SelligentWriter
from reconciler.manifests.loading import load_project
from reconciler.manifests.models import FieldMapping, FieldType
from reconciler.manifests.settings import effective_activations
from tests.destinations.selligent.harness import FAST, LIST, ORG, contacts, start

EXAMPLE = Path(__file__).resolve().parents[3] / "manifests"


class _Journal:
    @contextlib.contextmanager
    def batch(self, *args: Any) -> Iterator[None]:
        yield


def test_created_text_fields_get_their_length_and_the_plan_knows_every_length() -> None:
    project, _ = load_project(EXAMPLE)
    vip = effective_activations(project)["vip-selligent"]
    wanted = dataclasses.replace(vip, fields=(
        *vip.fields,
        FieldMapping(source="first_name", destination="NICKNAME", create=True,
                     type=FieldType.STRING, length=40),
        FieldMapping(source="country", destination="REGION", create=True,
                     type=FieldType.STRING)))
    with start() as sandbox:
        adapter = SelligentAdapter(base_url=sandbox.url, organization=ORG, list_api_name=LIST,
                                   api_key="sandbox-key", api_secret="sandbox-secret",
                                   limits=FAST)
        structure = SelligentObserver(adapter).plan_structure(wanted)
        created = {r.name: r.detail for r in structure.resources
                   if r.type is ResourceType.SELLIGENT_FIELD}
        assert created == {"LTV": "Float", "NICKNAME": "Text(40)", "REGION": "Text(255)"}
        assert structure.field_lengths == {"FIRSTNAME": 60, "NICKNAME": 40, "REGION": 255}
        writer = SelligentWriter(adapter, 1000)
        writer.create_resources(wanted, structure.resources, _Journal())  # type: ignore[arg-type]
        lengths = {f.name: f.length for f in contacts(sandbox).fields}
    assert (lengths["NICKNAME"], lengths["REGION"]) == (40, 255)


def test_a_length_only_applies_to_a_created_string_field() -> None:
    with pytest.raises(ValidationError, match="`length` applies to a string field"):
        FieldMapping(source="x", destination="X", length=10)
    with pytest.raises(ValidationError, match="`length` applies to a string field"):
        FieldMapping(source="x", destination="X", create=True, type=FieldType.INTEGER,
                     length=10)
