"""Audience names Selligent cannot take as they are, validated, planned, applied and planned
again against the sandbox: apply creates and loads the segment the plan showed."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.selligent.adapter import SelligentAdapter
from tests.e2e.conftest import Stack

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
LONG = ("Loyal customers " * 7)[:99] + "X"  # 100 characters
NAMES = {  # audience name → the api name the plan must show and apply must use
    "2024 VIP": "_2024_VIP",
    " VIP ": "VIP",
    "Été 2024": "Ete_2024",
    LONG: LONG.replace(" ", "_"),
}
ACTIVATION = """apiVersion: reconciler/v1
kind: Activation
metadata:
  name: {name}
spec:
  segment: vip-customers
  destination: selligent-sandbox
  audienceName: "{audience}"
"""


def _write_activations(stack: Stack) -> None:
    folder = stack.manifests / "activations"
    for old in folder.glob("*.yaml"):
        old.unlink()
    for number, audience in enumerate(NAMES, start=1):
        text = ACTIVATION.format(name=f"named-{number}", audience=audience)
        (folder / f"named-{number}.yaml").write_text(text, "utf-8")


def test_odd_audience_names_converge_with_the_segment_the_plan_showed(stack: Stack) -> None:
    # Scenario: '2024 VIP', ' VIP ', 'Été 2024' and a 100-character name: validate explains
    # each api name, plan shows it, apply creates and fills it, the next plan is empty.
    _write_activations(stack)
    assert len(LONG) == 100
    validated = runner.invoke(app, ["validate", str(stack.manifests)])
    assert validated.exit_code == 0, validated.output
    notes = re.findall(r": note: spec\.audienceName: .* gives the Selligent api name '(\w+)'",
                       validated.output)
    assert sorted(notes) == sorted(["_2024_VIP", "VIP", "Ete_2024"]), validated.output

    planned = runner.invoke(app, ["plan", *stack.cli_args()])
    assert planned.exit_code == 0, planned.output
    shown = re.findall(r"\+ static segment (\w+)", planned.output)
    assert sorted(shown) == sorted(NAMES.values()), planned.output

    applied = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 4 applied, 0 failed or stopped." in applied.output

    again = runner.invoke(app, ["plan", *stack.cli_args(), "--detailed-exitcode"])
    assert again.exit_code == 0, again.output
    assert again.stdout == "No changes. The destinations match the manifests.\n"
    with SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                          list_api_name="CONTACTS", api_key="sandbox-key",
                          api_secret="sandbox-secret") as adapter:
        segments = {s.api_name: s.name for s in adapter.read_static_segments()}
        assert segments == {api_name: audience for audience, api_name in NAMES.items()}
        for api_name in NAMES.values():
            assert next(adapter.iter_segment_member_keys(api_name, "EXTERNAL_ID"), [])
