"""Reading the workflows in `.github/workflows/` and running their steps' shell the way a
runner does (bash -e, GITHUB_OUTPUT), or their github-script with a fake GitHub API in node."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent


def load_workflow(name: str) -> dict[str, Any]:
    return dict(YAML(typ="safe").load((WORKFLOWS / name).read_text("utf-8")))


def step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    """The step called `name` in the workflow's only job."""
    [job] = workflow["jobs"].values()
    return next(s for s in job["steps"] if s.get("name") == name)


def run_step(script: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """Run a `run:` script as GitHub's bash shell does; exit code, output, step outputs."""
    outputs = cwd / "github_output"
    outputs.write_text("")
    full_env = {**os.environ, **env, "GITHUB_OUTPUT": str(outputs),
                "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    values = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return done.returncode, done.stdout + done.stderr, values


_NODE_HARNESS = """
const fs = require('fs');
const [script, statePath, sha] = process.argv.slice(1);
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const issues = {
  listComments: async () => ({ data: state.comments }),
  createComment: async ({ body }) => {
    state.comments.push({ id: state.comments.length + 1, body }); state.calls.push('create');
  },
  updateComment: async ({ comment_id, body }) => {
    state.comments.find((c) => c.id === comment_id).body = body; state.calls.push('update');
  },
};
const github = { rest: { issues }, paginate: async (fn, args) => (await fn(args)).data };
const context = { sha, repo: { owner: 'acme', repo: 'manifests' }, issue: { number: 7 } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', script)(require, github, context)
  .then(() => fs.writeFileSync(statePath, JSON.stringify(state)));
"""


def run_github_script(script: str, cwd: Path, state: dict[str, Any], sha: str) -> dict[str, Any]:
    """Run an actions/github-script body in node against a fake issues API kept in `state`."""
    path = cwd / "github_state.json"
    path.write_text(json.dumps(state))
    subprocess.run(["node", "-e", _NODE_HARNESS, script, str(path), sha], cwd=cwd, check=True,
                   timeout=60)
    return dict(json.loads(path.read_text()))
