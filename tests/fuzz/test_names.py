"""Generated names that look like SQL or a path: refused where they are written, or turned
into the safe names the destinations see.

Into the example's Actito and Selligent activations go hostile `metadata.name`s, audience
names, key file name patterns and segment literals. `validate` must refuse a bad one with a
diagnostic at its field, and what it accepts must give a Selligent api name of
[A-Za-z0-9_] only and an Actito key file name that is a name, not a path.
"""
from __future__ import annotations

import copy
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from reconciler.destinations.actito.targeting import file_name, list_target
from reconciler.manifests.diagnostics import Severity
from reconciler.manifests.loading import load_project
from reconciler.manifests.naming import SELLIGENT_API_NAME
from reconciler.manifests.settings import effective_activations
from tests.fuzz.limits import fuzz_settings, time_box
from tests.fuzz.mutations import CHAINS, DATA, dump

NOW = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
HOSTILE = [
    "'; DROP TABLE x; --", "../../etc/passwd", "..", ".", "/", "a/b", "..\\..\\boot.ini",
    "%s", "{}", "{0}", "$(rm -rf ~)", "`id`", "a\x00b", "a\nb", "a\rRNFR x", " ", "😀", "Été",
    "2024 VIP", "_", "x" * 200, "churn_$yyyyMMddHHmmss.zip", "../$yyyy.zip", "CON", "nul",
]
NAMES = st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=12)
FIELDS = st.sampled_from([
    ("metadata", "name"), ("spec", "audienceName"), ("spec", "targetList", "fileNamePattern"),
    ("spec", "segment")])
FUZZ = fuzz_settings(max_examples=150)


@pytest.fixture(scope="module")
def project_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-names-") as folder:
        root = Path(folder)
        (root / "data").symlink_to(DATA, target_is_directory=True)
        yield root


def _set(document: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for part in path[:-1]:
        document = document.setdefault(part, {})
    document[path[-1]] = value


@FUZZ
@given(chain=st.sampled_from(CHAINS), where=FIELDS, name=NAMES,
       literal=st.sampled_from(HOSTILE))
def test_hostile_names_are_refused_or_made_safe(project_dir: Path, chain: list[dict[str, Any]],
                                                where: tuple[str, ...], name: str,
                                                literal: str) -> None:
    # Scenario: an activation named, listed or filed as '../../etc/passwd', "'; DROP …",
    # '%s' or '{}', its segment comparing with such a literal: a located refusal, or names
    # the destinations can take as they are.
    activation, segment, *others = copy.deepcopy(chain)
    _set(activation, where, name)
    segment["spec"]["where"] = {"any": [segment["spec"]["where"],
                                        {"column": "email", "eq": literal}]}
    file = project_dir / "project.yaml"
    file.write_text(dump([activation, segment, *others]), "utf-8")
    with time_box():
        project, diagnostics = load_project(project_dir)
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    for error in errors:
        assert error.position.file == file and error.position.line >= 1, error
    if errors:
        event("refused")
        return
    event(f"accepted: {'.'.join(where)}")
    [settings_] = effective_activations(project).values()
    if settings_.destination_type == "selligent":
        assert SELLIGENT_API_NAME.fullmatch(settings_.selligent_api_name)
    else:
        remote = file_name(list_target(settings_).file_pattern, NOW)
        assert remote not in (".", "..") and not any(c in remote for c in "/\\\x00\n\r")
