"""The built wheel works on its own, without the dev extras: installed into a fresh virtual
environment, `reconciler demo` run from an empty directory ends with "No changes",
`reconciler sandbox` seeds the example customers, and `--version`, `validate`, `init` and
`schema export` answer as in a checkout.

No network: the wheel is built once per module without build isolation (setuptools and wheel
come with the dev extra) and installed without dependencies; the new environment sees the dev
environment's installed packages through a .pth file, but not its editable `reconciler` (a .pth
file inside a folder added that way is not run), so `reconciler` can only come from the wheel.
Every module of a distribution the runtime dependencies do not need (pytest, ruff, mypy,
setuptools, …) is made unimportable there, so the wheel cannot lean on a dev extra.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.metadata as metadata
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from reconciler import __version__
from reconciler.sandbox.seed import is_left_out
from reconciler.schemas import all_schemas

REPO = Path(__file__).resolve().parents[1]
# Not copied to the build folder: a stale build/ or egg-info would leak into the wheel.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                     "__pycache__", ".reconciler", "tests", "bench", ".*_cache")


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    out = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "-w", str(out),
                    str(source)], check=True, cwd=tmp_path, timeout=120)
    (wheel,) = out.glob("audience_reconciler-*.whl")
    return wheel


def _install(wheel: Path, venv: Path) -> Path:
    """A new virtual environment holding the wheel; returns its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", "--no-index", "--disable-pip-version-check",
                    str(wheel)], check=True, timeout=120)
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=30).stdout.strip())
    # The dependencies: the dev environment's, after the wheel's own files on sys.path, but
    # none of the dev extras' (the blocker's .pth runs first: .pth files go by name).
    (site / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "dev_extras_blocked.py").write_text(
        BLOCKER.replace("NAMES", repr(sorted(dev_only_modules()))))
    (site / "a-dev-extras-blocked.pth").write_text("import dev_extras_blocked\n")
    return site


BLOCKER = '''"""Modules of the dev environment that the runtime dependencies do not need."""
import sys

BLOCKED = frozenset(NAMES)


class DevExtrasBlocked:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{name} comes with a dev extra only", name=name)
        return None


sys.meta_path.insert(0, DevExtrasBlocked())
'''


def _runtime_distributions() -> set[str]:
    """The distributions `audience-reconciler` needs installed, with their own dependencies
    (normalized names; markers evaluated here, extras only where a requirement asks)."""
    needed: set[tuple[str, str]] = set()
    todo = [(Requirement(text), "") for text in metadata.requires("audience-reconciler") or []]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = _normalized(requirement.name)
        for wanted in requirement.extras or {""}:
            if (name, wanted) not in needed:
                needed.add((name, wanted))
                todo += [(Requirement(text), wanted) for text in metadata.requires(name) or []]
    return {name for name, _ in needed}


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def dev_only_modules() -> set[str]:
    """Top-level modules installed here whose distributions the runtime does not need."""
    runtime = _runtime_distributions() | {"audience-reconciler"}
    return {module for module, owners in metadata.packages_distributions().items()
            if all(_normalized(owner) not in runtime for owner in owners)}


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _lines_until(process: subprocess.Popen[str], marker: str) -> str:
    """What the process printed up to the line starting with `marker` (it is up by then)."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith(marker):
        line = process.stdout.readline()
        assert line, f"the command ended early: {''.join(lines)}"
        lines.append(line)
    return "".join(lines)


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a user who never configured anything (no venv, no credentials)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RECONCILER_", "SELLIGENT_", "ACTITO_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "HOME": str(home), "PYTHONNOUSERSITE": "1"}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site: Path

    @property
    def command(self) -> str:
        return str(self.venv / "bin" / "reconciler")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel built from this checkout, installed in a fresh virtual environment."""
    folder = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(folder)
    yield Installed(wheel, folder / "venv", _install(wheel, folder / "venv"))


def test_wheel_demo_runs_from_an_empty_directory(installed: Installed, tmp_path: Path) -> None:
    # Scenario (acceptance): `pip install` of the built wheel into a clean virtual environment,
    # then `reconciler demo` from an empty directory, ends with "No changes".
    wheel = installed.wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"reconciler/example/{p.relative_to(REPO / 'manifests').as_posix()}"
               for p in (REPO / "manifests").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert "reconciler/example/activations/vip-selligent.yaml" in shipped
    assert {"reconciler/example/data/customers.csv", "reconciler/example/.env"} <= shipped
    assert shipped <= names, f"missing from the wheel: {sorted(shipped - names)}"

    site = installed.site
    example = site / "reconciler" / "example"
    before = _files(example)
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    env = _clean_env(home)
    command = installed.command

    # The sandbox (as a user would start it first) runs beside the demo, on free ports.
    sandbox = subprocess.Popen(
        [command, "sandbox", "--in-memory", "--selligent-port", "0", "--actito-port", "0",
         "--actito-ftps-port", "0", "--actito-sftp-port", "0"],
        cwd=empty, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        demo = subprocess.run([command, "demo"], cwd=empty, env=env, capture_output=True,
                              text=True, timeout=120)
        started = _lines_until(sandbox, "Press Ctrl-C")
    finally:
        sandbox.send_signal(signal.SIGTERM)
        rest, _ = sandbox.communicate(timeout=30)
    sandbox_output = started + rest

    output = demo.stdout + demo.stderr
    assert demo.returncode == 0, output
    assert f"Validate {example}/ (the example shipped with the package)" in output
    assert "No changes. The destinations match the manifests." in output
    assert output.count(": applied") == 4
    # Written: only the demo's work folder under the current directory; the installed example
    # and the home folder are untouched.
    assert [p.name for p in empty.iterdir()] == [".reconciler"]
    assert [p.name for p in (empty / ".reconciler").iterdir()] == ["demo"]
    assert list(home.iterdir()) == []
    assert _files(example) == before

    # `reconciler sandbox` without --seed-file seeded the example's customers (minus ~5%).
    with (REPO / "manifests" / "data" / "customers.csv").open(encoding="utf-8") as handle:
        known = sum(1 for row in csv.DictReader(handle) if not is_left_out(row["customer_id"]))
    assert known > 4000
    assert sandbox.returncode == 0, sandbox_output
    assert f"(key field EXTERNAL_ID), {known} contacts" in sandbox_output
    assert f"profile table Profiles ({known} profiles)" in sandbox_output


def test_the_wheel_answers_without_dev_extras(installed: Installed, tmp_path: Path) -> None:
    # Scenario: the wheel holds the package data the commands need (the example, init's
    # templates and workflows, py.typed) and, with the dev extras unimportable, `reconciler
    # --version`, `validate` of the packaged example, `init` + `validate`, and `schema export`
    # (the schemas are made from the code: the repository's schemas/ need not ship) all work.
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    templates = {f"reconciler/{p.relative_to(REPO / 'reconciler').as_posix()}"
                 for p in (REPO / "reconciler" / "templates").rglob("*") if p.is_file()}
    assert "reconciler/templates/project/manifests/destinations.yaml" in templates
    workflows = {f"reconciler/workflows/{p.name}"
                 for p in (REPO / ".github" / "workflows").glob("*.yml")}
    assert templates | workflows | {"reconciler/py.typed"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    (tmp_path / "home").mkdir()
    env = _clean_env(tmp_path / "home")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([installed.command, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    python = str(installed.venv / "bin" / "python")
    blocked = subprocess.run([python, "-c", "import pytest"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert "pytest comes with a dev extra only" in blocked.stderr  # the blocker holds
    assert run("--version").stdout == f"{__version__}\n"
    example = run("validate", str(installed.site / "reconciler" / "example"))
    assert example.returncode == 0, example.stdout + example.stderr
    assert "valid (4 Activation, 2 Destination" in example.stdout
    created = run("init", "my-project")
    assert created.returncode == 0, created.stdout + created.stderr
    assert (tmp_path / "my-project" / ".github" / "workflows" / "apply.yml").is_file()
    project = run("validate", "my-project/manifests")
    assert project.returncode == 0, project.stdout + project.stderr
    exported = run("schema", "export", "--out", "schemas")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert {name: (tmp_path / "schemas" / name).read_text("utf-8")
            for name in all_schemas()} == all_schemas()
