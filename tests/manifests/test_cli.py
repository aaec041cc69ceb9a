"""The manifest commands as a user runs them: validate, show activation, schema export, demo."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.manifests.conftest import REPO, replace_in

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_validate_example_exits_0(example_copy: Path) -> None:
    # Scenario: `reconciler validate manifests/` on the example project.
    result = runner.invoke(app, ["validate", str(example_copy)])
    assert result.exit_code == 0, result.output
    assert ("valid (4 Activation, 2 Destination, 2 Model, 1 NotificationChannel, 3 Segment, "
            "1 Source)") in result.output


def test_validate_reports_all_five_problems_with_positions(example_copy: Path) -> None:
    # Scenario (acceptance): misspelled field, dangling destination, duplicate name, bad cron
    # and an audience name with no letter for a Selligent api name — all reported in one run,
    # each at its file:line:col.
    replace_in(example_copy / "activations/vip-selligent.yaml", "  description:", "  descripion:")
    replace_in(example_copy / "activations/churn-selligent.yaml",
               "destination: selligent-sandbox", "destination: selligent-prod")
    segments = example_copy / "segments.yaml"
    duplicate_line = len(segments.read_text().splitlines()) + 5
    with segments.open("a") as handle:
        handle.write("---\napiVersion: reconciler/v1\nkind: Segment\nmetadata:\n"
                     "  name: vip-customers\nspec: {model: customers, where: {column: a, eq: 1}}\n")
    replace_in(example_copy / "activations/sms-actito.yaml", '"0 6 * * *"', '"0 6 * *"')
    replace_in(example_copy / "activations/vip-selligent.yaml", "audienceName: VIP customers",
               'audienceName: "日本"')
    result = runner.invoke(app, ["validate", "manifests"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": error: " in line]
    expected = {
        "manifests/activations/vip-selligent.yaml:12:3: error: spec.descripion: unknown field",
        "manifests/activations/churn-selligent.yaml:9:16: error: spec.destination:",
        f"manifests/segments.yaml:{duplicate_line}:9: error: metadata.name: duplicate Segment",
        "manifests/activations/sms-actito.yaml:12:20: error: spec.schedule.cron:",
        "manifests/activations/vip-selligent.yaml:11:17: error: spec.audienceName:",
    }
    assert len(lines) == 5, result.output
    for prefix in expected:
        assert any(line.startswith(prefix) for line in lines), (prefix, result.output)


def test_validate_json_format(example_copy: Path) -> None:
    # Scenario: CI tooling reads the diagnostics as JSON.
    replace_in(example_copy / "models.yaml", "source: warehouse", "source: lake")
    result = runner.invoke(app, ["validate", str(example_copy), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False and report["errors"] == 1
    [diagnostic] = report["diagnostics"]
    assert diagnostic["line"] == 8 and diagnostic["field"] == "spec.source"


def test_warnings_alone_exit_0(example_copy: Path) -> None:
    # Scenario: a warning is shown but does not fail validation.
    replace_in(example_copy / "activations/sms-actito.yaml", '"0 6 * * *"', '"0 6 * * 1"')
    result = runner.invoke(app, ["validate", str(example_copy)])
    assert result.exit_code == 0 and ": warning: spec.validityPeriod:" in result.output


def test_show_activation_prints_merged_settings_with_origins(example_copy: Path) -> None:
    # Scenario: a user asks where churn-selligent's settings come from.
    result = runner.invoke(app, ["show", "activation", "churn-selligent", str(example_copy)])
    assert result.exit_code == 0, result.output
    assert "selligentApiName: Churn_risk" in result.output
    assert re.search(r"every: 1h\s*$", result.output, re.M)
    assert "from destination defaults (" in result.output
    assert "deletionPolicy: keep # from built-in default" in result.output
    missing = runner.invoke(app, ["show", "activation", "nope", str(example_copy)])
    assert missing.exit_code == 1 and "no activation named 'nope'" in missing.output


def test_schema_export_and_check(tmp_path: Path) -> None:
    # Scenario: export writes one schema per kind; --check then passes, and fails when stale.
    out = tmp_path / "s"
    assert runner.invoke(app, ["schema", "export", "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (REPO / "schemas").iterdir())
    assert runner.invoke(app, ["schema", "export", "--out", str(out), "--check"]).exit_code == 0
    (out / "model.schema.json").write_text("{}")
    stale = runner.invoke(app, ["schema", "export", "--out", str(out), "--check"])
    assert stale.exit_code == 1 and "model.schema.json: out of date" in stale.output


def test_demo_validates_and_lists_activations(example_copy: Path) -> None:
    # Scenario: the README's demo command on the example project.
    result = runner.invoke(app, ["demo", "--path", str(example_copy)])
    assert result.exit_code == 0, result.output
    for name in ("vip-selligent", "churn-selligent", "churn-actito", "sms-actito"):
        assert name in result.output
    assert "VIP_customers" in result.output
    assert "No changes. The destinations match the manifests." in result.output
    assert result.output.count(": applied") == 4


def test_dotenv_beside_manifests_is_read_but_environment_wins(
    example_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scenario: .env supplies missing variables; an exported one is not overridden.
    from reconciler.manifests.envfile import load_env_file

    monkeypatch.setenv("SELLIGENT_API_KEY", "from-shell")
    monkeypatch.delenv("ACTITO_API_KEY", raising=False)
    exported = load_env_file(example_copy)
    assert "ACTITO_API_KEY" in exported and "SELLIGENT_API_KEY" not in exported
    assert os.environ["SELLIGENT_API_KEY"] == "from-shell"
    monkeypatch.delenv("ACTITO_API_KEY")
