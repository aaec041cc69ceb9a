"""The project loader: every manifest under a path read, validated and checked at once.

`load_project` is the one entry point the CLI, the planner and the tests use; it sits above
`validation.py` (one document) and `checks.py` (across documents), which never import it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.manifests.checks import Unseen, check_project
from reconciler.manifests.diagnostics import Diagnostic, has_errors
from reconciler.manifests.envfile import load_env_file
from reconciler.manifests.loader import read_documents
from reconciler.manifests.models import Document
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.validation import validate_document


def load_project(path: Path) -> tuple[Project, list[Diagnostic]]:
    """Load, validate and check every manifest under `path`; diagnostics list every problem."""
    root = path if path.is_dir() else path.parent
    load_env_file(root)
    diagnostics: list[Diagnostic] = []
    manifests: list[Manifest[Document]] = []
    raws = read_documents(path, diagnostics)
    unreadable = has_errors(diagnostics)  # a file that is not YAML: what it defines is unknown
    invalid: set[tuple[str, str]] = set()
    for raw in raws:
        manifest = validate_document(raw, diagnostics)
        if manifest is not None:
            manifests.append(manifest)
        elif isinstance(raw.data, dict):
            invalid.add(_kind_and_name(raw.data))
    project = Project(root, tuple(manifests))
    diagnostics.extend(check_project(project, Unseen(unreadable, frozenset(invalid))))
    return project, _sorted_unique(diagnostics)




def _kind_and_name(data: dict[str, Any]) -> tuple[str, str]:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(data.get("kind")), str(name)


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.position, d.field, d.message, d.severity): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (str(d.position.file), d.position.line,
                                                  d.position.column, d.message))
