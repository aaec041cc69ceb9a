"""The workflows' own steps, run as a runner runs them, against both sandboxes: the PR plan
and its sticky comment, apply on merge, the scheduled sync and one matrix job."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.workflows.harness import load_workflow, run_github_script, run_step, step

MARKER = "<!-- audience-reconciler-plan -->"
needs_node = pytest.mark.skipif(shutil.which("node") is None,
                                reason="node runs the github-script step")


def _env(stack: Stack) -> dict[str, str]:
    return {"RECONCILER_STATE_URL": str(stack.state), "CI": "true",
            "RECONCILER_NOW": stack.clock.now().isoformat()}


def _pr_plan(stack: Stack, cwd: Path,
             runner: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """The PR workflow's Validate and plan step (`runner`: more environment, e.g. what a
    GitHub runner sets); its output and its step outputs (stage, exit code)."""
    workflow = load_workflow("pull-request.yml")
    code, output, outputs = run_step(step(workflow, "Validate and plan")["run"], cwd,
                                     {**_env(stack), **(runner or {})})
    assert code == 0, output  # the step itself never fails: the last step decides
    return output, outputs


def _with_outputs(text: str, outputs: dict[str, str]) -> str:
    for name in ("exitcode", "stage"):
        text = text.replace(f"${{{{ steps.plan.outputs.{name} }}}}", outputs[name])
    return text


def _comment(cwd: Path, outputs: dict[str, str], state: dict[str, Any]) -> dict[str, Any]:
    script = step(load_workflow("pull-request.yml"), "Post or update the plan comment")
    body = _with_outputs(script["with"]["script"], outputs)
    return run_github_script(body, cwd, state, sha="0123456789abcdef")


@needs_node
def test_pull_request_plan_comment_then_apply_then_schedules(stack: Stack) -> None:
    # Scenario (acceptance): the PR step plans with changes (exit 2, still green) and posts one
    # comment; after the apply workflow's step, the re-plan updates that same comment; the
    # scheduled step finds nothing due and a matrix job finds its activation in sync.
    cwd = stack.manifests.parent
    _, outputs = _pr_plan(stack, cwd)
    assert outputs["exitcode"] == "2"
    plan = (cwd / "plan.md").read_text("utf-8")
    assert "vip-selligent" in plan and "VIP_customers" in plan
    state = _comment(cwd, outputs, {"comments": [{"id": 99, "body": "LGTM"}], "calls": []})
    assert state["calls"] == ["create"]
    assert state["comments"][1]["body"].startswith(f"{MARKER}\n{plan.strip()}")

    code, output, _ = run_step(step(load_workflow("apply.yml"), "Apply")["run"], cwd,
                               _env(stack))
    assert code == 0 and "Apply complete: 4 applied" in output, output
    _, outputs = _pr_plan(stack, cwd)
    assert outputs["exitcode"] == "0"
    state = _comment(cwd, outputs, state)
    assert state["calls"] == ["create", "update"] and len(state["comments"]) == 2
    assert "No changes" in state["comments"][1]["body"]

    scheduled = step(load_workflow("scheduled-sync.yml"), "Sync what is due")["run"]
    code, output, _ = run_step(scheduled, cwd, _env(stack))
    assert code == 0 and "Nothing is due." in output, output
    [job] = load_workflow("matrix-sync.yml")["jobs"].values()
    one = job["steps"][-1]["run"].replace("${{ matrix.activation }}", "sms-actito")
    code, output, _ = run_step(one, cwd, _env(stack))
    assert code == 0 and "sms-actito: unchanged" in output, output


@needs_node
def test_pull_request_plan_errors_fail_the_check(stack: Stack) -> None:
    # Scenario: Selligent refuses the credentials: the comment says the plan failed and the
    # last step fails the check (exit 1).
    cwd = stack.manifests.parent
    env_file = stack.manifests / ".env"
    env_file.write_text(env_file.read_text().replace("sandbox-secret", "revoked"))
    _, outputs = _pr_plan(stack, cwd)
    assert outputs["exitcode"] == "1"
    state = _comment(cwd, outputs, {"comments": [], "calls": []})
    body = state["comments"][0]["body"]
    assert body.startswith(f"{MARKER}\n**The plan failed.**") and "credentials refused" in body
    workflow = load_workflow("pull-request.yml")
    fail = step(workflow, "Fail on plan errors")
    assert fail["if"] == "steps.plan.outputs.exitcode == '1'"
    code, output, _ = run_step(_with_outputs(fail["run"], outputs), cwd, {})
    assert code == 1 and "::error::reconciler plan failed" in output


@needs_node
def test_invalid_manifests_get_a_located_comment_and_annotations(stack: Stack) -> None:
    # Scenario (acceptance): a PR breaks a segment's reference: the step validates, plans
    # nothing, prints a GitHub annotation at the file and line; the comment shows the located
    # diagnostic (not the annotation), and the last step fails the check.
    cwd = stack.manifests.parent
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("model: customers",
                                                            "model: customerz", 1), "utf-8")
    output, outputs = _pr_plan(stack, cwd, {"GITHUB_ACTIONS": "true",
                                            "GITHUB_WORKSPACE": str(cwd)})
    assert (outputs["stage"], outputs["exitcode"]) == ("validate", "1"), output
    assert not (cwd / "plan.md").exists()  # nothing was planned
    assert re.search(r"^::error file=manifests/segments\.yaml,line=\d+,col=\d+,title=[^:]*::"
                     r".*customerz", output, re.MULTILINE), output
    state = _comment(cwd, outputs, {"comments": [], "calls": []})
    body = state["comments"][0]["body"]
    assert body.startswith(f"{MARKER}\n**The manifests are invalid**"), body
    assert re.search(r"manifests/segments\.yaml:\d+:\d+: error: .*customerz", body), body
    assert "::error" not in body
    fail = step(load_workflow("pull-request.yml"), "Fail on plan errors")
    code, output, _ = run_step(_with_outputs(fail["run"], outputs), cwd, {})
    assert code == 1 and "::error::reconciler validate failed" in output
