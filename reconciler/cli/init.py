"""`reconciler init [DIR]`: a new project that validates as written and plans against the
local sandboxes.

Writes the templates packaged under `reconciler/templates/project/` (a DuckDB source over a
sample CSV, a model, a segment, a Selligent and an Actito destination whose credentials are
`${env:…}` references, one activation), `manifests/.env.example` naming every variable those
manifests reference (never a value), the JSON Schemas the manifests' editor comments point at,
and the GitHub workflows this project ships, made to install the released package. Never
overwrites a folder holding anything unless `--force`, and then only the files it writes.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import typer

import reconciler
from reconciler.cli.app import app, user_errors
from reconciler.errors import ReconcilerError
from reconciler.manifests.environment import environment_problems
from reconciler.manifests.loading import load_project
from reconciler.schemas import export_schemas

TEMPLATE = ("templates", "project")
# Dot files are stored without their dot: setuptools' package data skips dot files.
RENAMED = {"gitignore": ".gitignore"}
WORKFLOWS = ("pull-request.yml", "apply.yml", "scheduled-sync.yml")
WORKFLOWS_FOLDER = "workflows"  # in a wheel (setup.py maps .github/workflows there)
STATE_VARIABLE = "RECONCILER_STATE_URL"  # the workflows' shared state, not a manifest's
# This repository's workflows install the checkout they run in; a project installs a release.
_INSTALL_NOTE = re.compile(r"^ *# Here the tool and the manifests share a repository.*\n"
                           r"^ *# install the released version.*\n", re.MULTILINE)
_INSTALL_STEP = "run: pip install .\n"
_SECRET_LINE = re.compile(r"^ +([A-Z][A-Z0-9_]*): \$\{\{ secrets\.\1 \}\}\n", re.MULTILINE)


class ScaffoldError(ReconcilerError):
    """`reconciler init` cannot write the project where it was asked to."""


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to create the project (created "
                                     "if missing; default: the current directory)."),
    force: bool = typer.Option(False, "--force", help="Write into a folder that holds files "
                               "already, overwriting the files init writes (others stay)."),
) -> None:
    """Create a project: manifests that validate, .env.example, .gitignore, the JSON Schemas
    and GitHub workflows."""
    with user_errors():
        written = scaffold(directory, force=force)
    typer.echo(f"Created {len(written)} files in {directory}/:")
    for path in written:
        typer.echo(f"  {path.relative_to(directory).as_posix()}")
    typer.echo(f"""
Next, in {directory}/ (the commands find the manifests and the state from reconciler.yaml):
  reconciler validate
  cp manifests/.env.example manifests/.env    # and fill it in (the sandboxes' credentials:
                                              # the README's "Your first project")
  reconciler sandbox                          # in another terminal: Selligent and Actito
  reconciler plan""")


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the project into `directory`; the files written, in order."""
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} exists and is not a folder")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise ScaffoldError(f"{directory} is not empty; nothing was written",
                            hint="choose a new folder, or add --force to write the project's "
                            "files into it (files of the same names are overwritten)")
    template = resources.files(reconciler).joinpath(*TEMPLATE)
    written = [_write(directory / relative, item.read_bytes())
               for relative, item in _walk(template, Path())]
    manifests = directory / "manifests"
    variables = referenced_variables(manifests)
    written.append(_write(manifests / ".env.example", env_example(variables).encode()))
    written += export_schemas(directory / "schemas")
    workflows = workflow_templates()
    for name in WORKFLOWS:
        text = project_workflow(workflows.joinpath(name).read_text("utf-8"), variables)
        written.append(_write(directory / ".github" / "workflows" / name, text.encode()))
    return written


def _walk(folder: Traversable, relative: Path) -> Iterator[tuple[Path, Traversable]]:
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.is_dir():
            if item.name != "__pycache__":
                yield from _walk(item, relative / item.name)
        else:
            yield relative / RENAMED.get(item.name, item.name), item


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def referenced_variables(manifests: Path) -> list[str]:
    """Every `${env:NAME}` the manifests under `manifests` name, in file order (each one
    counts as unset in an empty environment)."""
    project, _ = load_project(manifests)
    problems = environment_problems(project.manifests, environ={})
    return list(dict.fromkeys(problem.variable for problem in problems))


def env_example(variables: list[str]) -> str:
    lines = ["# The variables the manifests reference as ${env:NAME}. Copy this file to .env in",
             "# this folder (never committed: see .gitignore) and fill it in, or export them;",
             "# in CI, define a secret of each name. An empty value counts as missing.",
             *(f"{name}=" for name in variables)]
    return "\n".join(lines) + "\n"


def workflow_templates() -> Traversable:
    """The GitHub workflows: packaged in a wheel, else a source checkout's .github/."""
    packaged = resources.files(reconciler) / WORKFLOWS_FOLDER
    if packaged.is_dir():
        return packaged
    checkout = Path(reconciler.__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / ".github" / "workflows").is_dir():
        return checkout / ".github" / "workflows"
    raise ScaffoldError(f"the workflow templates are missing from this installation ({packaged})",
                        hint="reinstall the package (`pip install --force-reinstall "
                        "audience-reconciler`)")


def project_workflow(text: str, variables: list[str]) -> str:
    """One of this repository's workflows as a project uses it: installing the released
    version, with a secret for each of the project's variables only."""
    if _INSTALL_STEP not in text:
        raise ScaffoldError(f"a workflow template no longer installs with `{_INSTALL_STEP}`; "
                            "update reconciler/cli/init.py")
    text = _INSTALL_NOTE.sub("", text).replace(
        _INSTALL_STEP, f'run: pip install "audience-reconciler=={reconciler.__version__}"\n')
    kept = {*variables, STATE_VARIABLE}
    return _SECRET_LINE.sub(lambda m: m.group(0) if m.group(1) in kept else "", text)
