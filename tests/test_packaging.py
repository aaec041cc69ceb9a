"""How the tool is installed: the container image's invariants (read from the Dockerfile, not
built: the suite never needs docker) and the Makefile's split between the demo's runtime-only
environment and the tests' dev extra."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in dockerfile.read_text("utf-8").splitlines()
        if not line.lstrip().startswith("#")))
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "")
            for line in text.splitlines() if (parts := line.strip().split(None, 1))]


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (name, _) in enumerate(instructions) if name == "FROM"]
    return instructions[starts[-1]:]


def test_the_image_runs_reconciler_as_a_user_without_the_dev_extra() -> None:
    # Scenario: a change to the Dockerfile that runs the tool as root, installs the dev extra
    # or an editable checkout, or leaves the slim base, fails here (no docker needed).
    instructions = _instructions(REPO / "Dockerfile")
    final = _final_stage(instructions)
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim|python:[\d.]+-slim(@sha256:\w+)?",
                        final[0][1]), final[0]
    users = [args for name, args in final if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    last_user = max(i for i, (name, _) in enumerate(final) if name == "USER")
    assert all(name != "RUN" for name, _ in final[last_user:])  # nothing after it as root
    installs = [args for name, args in final if name == "RUN" and "pip install" in args]
    assert installs and all(".whl" in args for args in installs)
    everything = " ".join(args for _, args in instructions)
    assert "[dev]" not in everything and not re.search(r"\s(-e|--editable)\s", everything)
    [entrypoint] = [args for name, args in final if name == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["reconciler"]


def _ignored(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatch(c, bare) or (bare.startswith("**/") and (
                fnmatch.fnmatch(c, bare[3:]) or fnmatch.fnmatch(c.split("/")[-1], bare[3:])))
               for c in candidates):
            verdict = not negated
    return verdict


def test_the_build_context_holds_what_the_wheel_needs_and_no_local_secret() -> None:
    # Scenario: `.dockerignore` sends the package, its metadata, the example and the
    # workflows `reconciler init` copies, but never git, a venv, the state or a local .env.
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text("utf-8")
                .splitlines() if line.strip() and not line.startswith("#")]
    needed = ["setup.py", "pyproject.toml", "README.md", "LICENSE", "reconciler/cli/app.py",
              "reconciler/templates/project/gitignore", "manifests/.env",
              "manifests/data/customers.csv", ".github/workflows/apply.yml"]
    assert [p for p in needed if _ignored(patterns, p)] == []
    kept_out = [".git/config", ".venv/bin/python", ".reconciler/state.duckdb", ".env",
                "manifests/activations/.env", "reconciler/__pycache__/app.cpython-311.pyc",
                "tests/test_packaging.py", "audience_reconciler.egg-info/PKG-INFO"]
    assert [p for p in kept_out if not _ignored(patterns, p)] == []


@pytest.fixture
def fresh_clone_files(tmp_path: Path) -> Path:
    """The files make reads, in a folder with no .venv (a fresh clone)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml", "setup.py"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def _dry_run(folder: Path, target: str) -> list[str]:
    # --no-print-directory: under `make test` (as .ci/run runs the suite) this make is nested
    # and would print "make[1]: Entering directory …" lines.
    done = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=folder,
                          capture_output=True, text=True, check=True, timeout=30,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")})
    return done.stdout.splitlines()


def test_make_demo_installs_the_runtime_only_and_make_test_the_dev_extra(
        fresh_clone_files: Path) -> None:
    # Scenario: on a fresh clone `make demo` makes the venv and installs the package without
    # its dev extra; `make test` installs the dev extra and runs the suite's one command,
    # the one `.ci/run` runs through `make test`.
    demo = _dry_run(fresh_clone_files, "demo")
    assert demo[0] == "python3 -m venv .venv"
    assert ".venv/bin/python -m pip install --quiet -e ." in demo
    assert not [line for line in demo if "[dev]" in line]
    assert demo[-1] == ".venv/bin/reconciler demo"
    test = _dry_run(fresh_clone_files, "test")
    assert test[0] == "python3 -m venv .venv"
    assert ".venv/bin/python -m pip install --quiet -e '.[dev]'" in test
    assert test[-1] == ".venv/bin/python -m pytest -q -n 4 --dist loadfile --no-loadscope-reorder"
    ci = (REPO / ".ci" / "run").read_text("utf-8").strip().splitlines()
    assert ci[-1] == "make test"
