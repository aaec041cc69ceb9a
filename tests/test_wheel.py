"""The built wheel works on its own: installed into a fresh virtual environment, `reconciler
demo` run from an empty directory ends with "No changes", and `reconciler sandbox` seeds the
example customers.

No network: the wheel is built without build isolation (setuptools and wheel come with the dev
extra) and installed without dependencies; the new environment sees the dev environment's
installed packages through a .pth file, but not its editable `reconciler` (a .pth file inside a
folder added that way is not run), so `reconciler` can only come from the wheel.
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from reconciler.sandbox.seed import is_left_out

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
    # The dependencies: the dev environment's, after the wheel's own files on sys.path.
    (site / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return site


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


def test_wheel_demo_runs_from_an_empty_directory(tmp_path: Path) -> None:
    # Scenario (acceptance): `pip install` of the built wheel into a clean virtual environment,
    # then `reconciler demo` from an empty directory, ends with "No changes".
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"reconciler/example/{p.relative_to(REPO / 'manifests').as_posix()}"
               for p in (REPO / "manifests").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert "reconciler/example/activations/vip-selligent.yaml" in shipped
    assert {"reconciler/example/data/customers.csv", "reconciler/example/.env"} <= shipped
    assert shipped <= names, f"missing from the wheel: {sorted(shipped - names)}"

    site = _install(wheel, tmp_path / "venv")
    example = site / "reconciler" / "example"
    before = _files(example)
    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    env = _clean_env(home)
    command = str(tmp_path / "venv" / "bin" / "reconciler")

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
