"""Generated hostile manifests through `reconciler validate`'s path: located errors, never a
traceback or a hang.

Each case is the example project mutated (tests/fuzz/mutations.py) and written to a file;
`load_project` must return, within the case's time box, either a valid project or
diagnostics that name the file and a 1-based line and column. A `ReconcilerError` is a user
error too; any other exception is a bug.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import ReconcilerError
from reconciler.manifests.diagnostics import Severity
from reconciler.manifests.loading import load_project
from tests.fuzz.limits import fuzz_settings, time_box
from tests.fuzz.mutations import DATA, damaged_text, dump, mutated_documents

FUZZ = fuzz_settings(max_examples=1000)


@st.composite
def manifest_files(draw: st.DrawFn) -> bytes:
    documents = draw(mutated_documents())
    return draw(damaged_text(dump(documents)))


@pytest.fixture(scope="module")
def project_dir() -> Iterator[Path]:
    """One folder for every case of a test (a case overwrites the last one's file)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-manifests-") as folder:
        root = Path(folder)
        (root / "data").symlink_to(DATA, target_is_directory=True)
        yield root


def check_located(root: Path, content: bytes) -> None:
    """Load `content` as the project's one manifest file: a project or located diagnostics."""
    file = root / "project.yaml"
    file.write_bytes(content)
    with time_box():
        try:
            project, diagnostics = load_project(root)
        except ReconcilerError as exc:
            assert str(exc)
            return
    for diagnostic in diagnostics:
        assert diagnostic.position.file in (root, file), diagnostic
        assert diagnostic.position.line >= 1 and diagnostic.position.column >= 1, diagnostic
        assert diagnostic.message.strip(), diagnostic
        json.dumps(diagnostic.to_json())
        str(diagnostic)
    if not any(d.severity is Severity.ERROR for d in diagnostics):
        assert all(m.raw.file == file for m in project.manifests)


@FUZZ
@given(content=manifest_files())
def test_mutated_manifests_load_or_fail_with_a_location(project_dir: Path,
                                                        content: bytes) -> None:
    # Scenario: 1,000 mutations of the example project (values, kinds, keys, documents, tabs,
    # alias bombs, deep nesting, huge strings, broken bytes) are each valid or located errors.
    check_located(project_dir, content)


@settings(FUZZ, max_examples=40)
@given(content=manifest_files())
def test_validate_command_exits_0_or_1_on_mutated_manifests(project_dir: Path,
                                                            content: bytes) -> None:
    # Scenario: `reconciler validate --format json` on mutated manifests prints JSON and exits
    # 0 or 1, never a traceback.
    (project_dir / "project.yaml").write_bytes(content)
    with time_box():
        result = CliRunner().invoke(app, ["validate", str(project_dir), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = json.loads(result.stdout)
    assert report["valid"] is (result.exit_code == 0)
