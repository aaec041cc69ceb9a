"""The GitHub Actions workflows users copy: linted by actionlint, valid against GitHub's
workflow schema, and wired to the commands and secrets the README documents."""
from __future__ import annotations

import json
import re
import subprocess
from importlib import resources

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.manifests.loader import discover_files
from tests.workflows.harness import BIN, REPO, WORKFLOWS, load_workflow, step

NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
SECRET_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def test_the_four_workflows_exist() -> None:
    # Scenario: the PR plan, apply on merge, scheduled sync and matrix examples are shipped.
    assert NAMES == ["apply.yml", "matrix-sync.yml", "pull-request.yml", "scheduled-sync.yml"]


def test_actionlint_passes_on_every_workflow() -> None:
    # Scenario: actionlint (expressions, contexts, deprecated actions, cron syntax) is clean.
    done = subprocess.run([str(BIN / "actionlint"), "-color=false",
                           *(str(WORKFLOWS / n) for n in NAMES)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", NAMES)
def test_workflow_matches_githubs_schema(name: str) -> None:
    # Scenario: each file validates against the workflow schema vendored by check-jsonschema.
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    schema = json.loads((vendor / "github-workflows.json").read_text("utf-8"))
    document = YAML(typ="safe").load((WORKFLOWS / name).read_text("utf-8"))
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(document)]
    assert errors == []


def test_pull_request_workflow_plans_and_comments_without_failing_on_changes() -> None:
    # Scenario: validate and plan in one step that keeps exit 2 (changes) as success; the
    # last step fails the check only on exit 1.
    workflow = load_workflow("pull-request.yml")
    assert list(workflow["on"]) == ["pull_request"]
    assert workflow["permissions"]["pull-requests"] == "write"
    plan = step(workflow, "Validate and plan")["run"]
    assert "reconciler validate manifests/" in plan
    assert "reconciler plan manifests/ --format markdown --detailed-exitcode" in plan
    comment = step(workflow, "Post or update the plan comment")
    assert comment["uses"].startswith("actions/github-script@")
    assert step(workflow, "Fail on plan errors")["if"] == "steps.plan.outputs.exitcode == '1'"


def test_apply_and_scheduled_workflows() -> None:
    # Scenario: apply on push to main, one at a time and never cancelled; `run --due` every
    # 15 minutes; the matrix applies one activation per job.
    apply = load_workflow("apply.yml")
    assert apply["on"]["push"]["branches"] == ["main"]
    assert apply["concurrency"] == {"group": "reconciler-apply", "cancel-in-progress": False}
    assert step(apply, "Apply")["run"] == "reconciler apply manifests/ --auto-approve"
    scheduled = load_workflow("scheduled-sync.yml")
    assert scheduled["on"]["schedule"] == [{"cron": "*/15 * * * *"}]
    assert step(scheduled, "Sync what is due")["run"] == "reconciler run --due manifests/"
    matrix = load_workflow("matrix-sync.yml")
    [job] = matrix["jobs"].values()
    assert job["strategy"]["fail-fast"] is False
    assert "-a \"${{ matrix.activation }}\"" in job["steps"][-1]["run"]


def test_matrix_lists_every_example_activation() -> None:
    # Scenario: the matrix example stays in step with manifests/activations/.
    [job] = load_workflow("matrix-sync.yml")["jobs"].values()
    names = {file.stem for file in (REPO / "manifests" / "activations").glob("*.yaml")}
    assert set(job["strategy"]["matrix"]["activation"]) == names


@pytest.mark.parametrize("name", ["apply.yml", "scheduled-sync.yml", "matrix-sync.yml"])
def test_every_secret_the_manifests_need_comes_from_repository_secrets(name: str) -> None:
    # Scenario: each ${env:NAME} of the example manifests, and the state store's URL, is set
    # from `secrets.NAME` in the syncing workflows.
    needed = {"RECONCILER_STATE_URL"}
    for file in discover_files(REPO / "manifests"):
        needed |= set(SECRET_REF.findall(file.read_text("utf-8")))
    [job] = load_workflow(name)["jobs"].values()
    assert {k: v for k, v in job["env"].items() if k in needed} == {
        k: f"${{{{ secrets.{k} }}}}" for k in needed}


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_by_commit_sha(name: str) -> None:
    # Scenario (issue 17.10): a moved tag cannot change what runs with the secrets: every
    # `uses:` names a full commit SHA, the release it is kept as a comment for people.
    uses = re.findall(r"uses: (\S+)(.*)", (WORKFLOWS / name).read_text("utf-8"))
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), comment
