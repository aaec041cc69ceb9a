"""Package layout that pyproject.toml cannot express: the example project and the GitHub
workflows ship inside the wheel.

The repository keeps the example project at `manifests/` (where `make demo`, the tests and the
README point); installed, it is the package data `reconciler/example/`, so `reconciler demo` and
`reconciler sandbox` work from any directory. The workflows in `.github/workflows/` become
`reconciler/workflows/`, which `reconciler init` copies into new projects; its other templates
live in the package itself (`reconciler/templates/`). Metadata and dependencies stay in
pyproject.toml.
"""
from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup

EXAMPLE_SOURCE = "manifests"
EXAMPLE_PACKAGE = "reconciler.example"
WORKFLOWS_SOURCE = ".github/workflows"
WORKFLOWS_PACKAGE = "reconciler.workflows"


def example_packages() -> dict[str, str]:
    """Every folder of the example project, as the package it becomes in the wheel."""
    root = Path(__file__).parent / EXAMPLE_SOURCE
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir()
                             and "__pycache__" not in p.parts)]
    return {".".join([EXAMPLE_PACKAGE, *f.relative_to(root).parts]): f.relative_to(root.parent)
            .as_posix() for f in folders}


EXAMPLE = example_packages()
# `reconciler init`'s templates: data folders, listed as packages so that setuptools takes
# their files without warning. No dot files there (init adds the dots when writing).
TEMPLATES = find_namespace_packages(include=["reconciler.templates", "reconciler.templates.*"])

setup(
    packages=(find_packages(include=["reconciler", "reconciler.*"]) + sorted(EXAMPLE)
              + TEMPLATES + [WORKFLOWS_PACKAGE]),
    # Only the example's root needs mapping: its sub-folders follow from it.
    package_dir={EXAMPLE_PACKAGE: EXAMPLE_SOURCE, WORKFLOWS_PACKAGE: WORKFLOWS_SOURCE},
    # "*" skips dot files: the example's .env holds the sandboxes' (non-secret) credentials.
    package_data={"reconciler": ["py.typed"], **{name: ["*", ".env"] for name in EXAMPLE},
                  **{name: ["*"] for name in TEMPLATES}, WORKFLOWS_PACKAGE: ["*.yml"]},
    exclude_package_data={name: ["*.pyc"] for name in [*EXAMPLE, *TEMPLATES]},
)
