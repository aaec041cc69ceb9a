"""Activations removed from the manifests: their remote list is deleted only with
`deletionPolicy: delete`; otherwise it is kept and the plan says it is no longer managed."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from reconciler.state import open_state_reader
from tests.e2e.conftest import Stack, printed

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py


def _run(stack: Stack, command: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, [command, *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def _selligent(stack: Stack) -> SelligentAdapter:
    return SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                            list_api_name="CONTACTS", api_key="sandbox-key",
                            api_secret="sandbox-secret")


def _contacts(adapter: SelligentAdapter) -> int:
    return sum(len(page) for page in adapter.iter_contact_keys("EXTERNAL_ID"))


def _set_delete_policy(manifest: Path) -> None:
    manifest.write_text(manifest.read_text("utf-8") + "  deletionPolicy: delete\n", "utf-8")


def _actito_lists(stack: Stack) -> set[str]:
    return {str(r["name"]) for r in stack.actito.store.target_lists.values()}


def test_a_removed_activation_with_delete_policy_has_its_segment_deleted(stack: Stack) -> None:
    # Scenario: apply, set deletionPolicy: delete and apply, remove the file: the plan shows
    # the deletion, apply deletes the segment (contacts stay) and the next plan is empty.
    assert _run(stack, "apply", "--auto-approve")[0] == 0
    manifest = stack.manifests / "activations" / "churn-selligent.yaml"
    _set_delete_policy(manifest)
    code, text = _run(stack, "apply", "-a", "churn-selligent", "--auto-approve")
    assert code == 0, text
    manifest.unlink()
    with _selligent(stack) as adapter:
        assert adapter.read_segment("Churn_risk") is not None
        contacts = _contacts(adapter)
    code, text = _run(stack, "plan", "--detailed-exitcode")
    assert code == 2, text
    assert ("- static segment Churn_risk  # activation removed from the manifests; "
            "deletionPolicy: delete") in text
    assert "Plan: 0 to create, 0 to update, 1 to delete;" in text
    # Named, as a removed activation may be; Actito's per-minute budget is kept for the rest.
    code, text = _run(stack, "apply", "-a", "churn-selligent", "--auto-approve")
    assert code == 0, text
    assert "churn-selligent: applied — deleted static segment Churn_risk" in text
    with _selligent(stack) as adapter:
        assert adapter.read_segment("Churn_risk") is None
        assert adapter.read_segment("VIP_customers") is not None
        assert _contacts(adapter) == contacts
    code, text = _run(stack, "plan", "--detailed-exitcode")
    assert code == 0, text
    assert text == "No changes. The destinations match the manifests.\n"
    code, text = _run(stack, "status")
    assert code == 0 and "churn-selligent" not in text, text


def test_a_removed_activation_keeps_its_segment_by_default(stack: Stack) -> None:
    # Scenario: an activation without deletionPolicy is removed: nothing is deleted, the plan
    # has no changes but says the segment is kept and no longer managed.
    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    (stack.manifests / "activations" / "vip-selligent.yaml").unlink()
    code, text = _run(stack, "plan", "-a", "vip-selligent", "--detailed-exitcode")
    assert code == 0, text
    assert "- static segment" not in text and "0 to delete" in text
    assert ("! warning: removed from the manifests (deletionPolicy: keep): static segment "
            "'VIP_customers' stays at the destination and is no longer managed") in text
    code, text = _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")
    assert code == 0, text
    assert "vip-selligent: unchanged" in text
    with _selligent(stack) as adapter:
        assert adapter.read_segment("VIP_customers") is not None
    code, text = _run(stack, "plan", "-a", "churn-selligent")
    assert code == 0 and "vip-selligent" not in text, text  # a filter leaves it out


def test_a_kept_list_is_forgotten_on_request_and_the_warning_ends(stack: Stack) -> None:
    # Scenario: `state forget` refuses an activation still defined; once it is removed, the
    # plan's warning names the command, which forgets it (the segment stays, the runs stay)
    # and the warning is gone; forgetting it twice says there is nothing to forget.
    def forget() -> tuple[int, str]:
        result = runner.invoke(app, ["state", "forget", "vip-selligent", str(stack.manifests),
                                     "--state", str(stack.state)])
        return result.exit_code, printed(result)

    assert _run(stack, "apply", "-a", "vip-selligent", "--auto-approve")[0] == 0
    code, text = forget()
    assert code == 1 and "is still defined" in text, text
    (stack.manifests / "activations" / "vip-selligent.yaml").unlink()
    code, text = _run(stack, "plan", "-a", "vip-selligent")
    assert "(`reconciler state forget vip-selligent` ends this warning)" in text, text
    code, text = forget()
    assert code == 0, text
    assert "Forgot activation 'vip-selligent'; 'VIP_customers' at selligent-sandbox is left" in text
    code, text = _run(stack, "plan", "--detailed-exitcode")
    assert "vip-selligent" not in text, text
    with _selligent(stack) as adapter:
        assert adapter.read_segment("VIP_customers") is not None
    with open_state_reader(stack.state) as reader:
        assert reader.runs("vip-selligent")  # what happened stays, for people
        assert reader.snapshot_info("vip-selligent") is None
    code, text = forget()
    assert code == 1 and "holds no activation 'vip-selligent'" in text, text


def test_a_removed_actito_activation_with_delete_policy_has_its_list_deleted(
        stack: Stack) -> None:
    # Scenario: the same for Actito, planned and applied by name: the external target list
    # is deleted and the other lists stay.
    assert _run(stack, "apply", "-a", "sms-actito", "-a", "churn-actito",
                "--auto-approve")[0] == 0
    manifest = stack.manifests / "activations" / "sms-actito.yaml"
    _set_delete_policy(manifest)
    assert _run(stack, "apply", "--auto-approve", "-a", "sms-actito")[0] == 0
    manifest.unlink()
    assert _actito_lists(stack) == {"Churn risk", "sms-benelux"}
    code, text = _run(stack, "plan", "-a", "sms-actito", "--detailed-exitcode")
    assert code == 2, text
    assert "- external target list sms-benelux  # activation removed" in text
    code, text = _run(stack, "apply", "-a", "sms-actito", "--auto-approve")
    assert code == 0, text
    assert _actito_lists(stack) == {"Churn risk"}
    code, text = _run(stack, "plan", "-a", "sms-actito")
    assert code == 1 and "no activation named sms-actito" in text, text
