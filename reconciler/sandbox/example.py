"""The example project shipped with the package: what `reconciler demo` runs and what the
sandboxes are seeded from when no other project or seed file is given.

A wheel holds it as the package data `reconciler/example/` (setup.py maps the repository's
`manifests/` there). A source checkout, installed editable or not, has no such folder: the
example is the checkout's `manifests/` itself (setuptools' editable finder cannot import a
mapped folder without `__init__.py`, so `importlib.resources` alone would not find it).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import reconciler
from reconciler.errors import ReconcilerError

EXAMPLE_FOLDER = "example"  # inside the `reconciler` package, in a wheel
SOURCE_FOLDER = "manifests"  # beside the `reconciler` package, in a source checkout
SEED_FILE = ("data", "customers.csv")  # the seed file, inside the example project
# What the example project's user set up once in the Actito portal (the Actito sandbox's).
PORTAL_FILE = ("data", "actito-portal.json")


class ExampleNotFoundError(ReconcilerError):
    """This installation of the package has no example project."""

    hint = ("reinstall the package (`pip install --force-reinstall audience-reconciler`), or "
            "point at a project with --path / a CSV with --seed-file")


def example_resource() -> Traversable:
    """The example project folder: the packaged copy, else a source checkout's manifests/."""
    packaged = resources.files(reconciler) / EXAMPLE_FOLDER
    if packaged.is_dir():
        return packaged
    package = Path(reconciler.__file__).resolve().parent
    checkout = package.parent
    # pyproject.toml beside it: a checkout, not some other `manifests/` in site-packages.
    if (checkout / SOURCE_FOLDER).is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / SOURCE_FOLDER
    raise ExampleNotFoundError(f"the example project is missing from this installation "
                               f"(neither {packaged} nor {checkout / SOURCE_FOLDER} exists)")


@contextlib.contextmanager
def example_project() -> Iterator[Path]:
    """The example project as a folder on disk, for the duration of the `with` block.

    Read it, never write into it: it may be the installed package (site-packages) or the
    repository's own example. Copy it first (`copy_project_for`) to change anything."""
    with resources.as_file(example_resource()) as path:
        yield path


def is_installed_copy(path: Path) -> bool:
    """True for the example inside an installed package (no checkout's `manifests/`): a
    folder nobody should plan in place, as plan writes its state beside the manifests."""
    packaged = resources.files(reconciler) / EXAMPLE_FOLDER
    return isinstance(packaged, Path) and packaged.is_dir() and path.resolve() == packaged.resolve()


def example_seed_file() -> Path:
    """The example's customers CSV, the sandboxes' default seed file."""
    resource = example_resource().joinpath(*SEED_FILE)
    if not isinstance(resource, Path):  # an installation inside a zip file
        raise ExampleNotFoundError(f"the example's seed file {resource} is not a file on "
                                   "disk")
    return resource


def example_portal_file() -> Path:
    """The example's Actito portal set-up (lists, ETL definitions), the Actito sandbox's
    default."""
    resource = example_resource().joinpath(*PORTAL_FILE)
    if not isinstance(resource, Path):
        raise ExampleNotFoundError(f"the example's portal file {resource} is not a file on "
                                   "disk")
    return resource
