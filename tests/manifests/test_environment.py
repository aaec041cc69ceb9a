"""Every environment variable a run needs, checked at once, each located in its manifest."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifests.environment import environment_problems, manifests_used
from reconciler.manifests.loading import load_project
from reconciler.manifests.settings import effective_activations

runner = CliRunner()
SECRETS = ("SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY", "ACTITO_FTPS_PASSWORD",
           "CRM_ALERTS_WEBHOOK", "WAREHOUSE_URL", "RECONCILER_STATE_URL")


@pytest.fixture
def bare(example_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project without its .env and no secret in the environment."""
    (example_copy / ".env").unlink()
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    return example_copy


def test_plan_reports_every_missing_and_empty_variable_at_once(
        bare: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Scenario: a CI job where SELLIGENT_API_SECRET's secret was never defined (an empty
    # variable) and two others are unset: one plan names all three, each at its
    # file:line:col and field, before any connection (nothing listens at the sandboxes'
    # addresses: a connection would fail differently).
    monkeypatch.setenv("SELLIGENT_API_SECRET", "")
    monkeypatch.setenv("ACTITO_FTPS_PASSWORD", "set")
    monkeypatch.chdir(bare.parent)
    result = runner.invoke(app, ["plan", "manifests", "--state", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1, result.output
    assert "Error: 3 environment variables the planned activations need are missing or " \
           "empty:\n" in result.output
    assert ("\n  manifests/destinations.yaml:13:13: spec.credentials.apiKey: environment "
            "variable SELLIGENT_API_KEY is not set (needed by destination "
            "'selligent-sandbox')\n") in result.output
    assert ("\n  manifests/destinations.yaml:14:16: spec.credentials.apiSecret: environment "
            "variable SELLIGENT_API_SECRET is empty (an unset CI secret becomes an empty "
            "variable)") in result.output
    assert "spec.credentials.apiKey: environment variable ACTITO_API_KEY is not set " \
           "(needed by destination 'actito-sandbox')" in result.output
    assert "ACTITO_FTPS_PASSWORD" not in result.output and "CRM_ALERTS_WEBHOOK" not in \
        result.output  # set; and a channel is not needed to plan
    assert "Hint: export each variable" in result.output
    only = runner.invoke(app, ["plan", "manifests", "-a", "vip-selligent",
                               "--state", str(tmp_path / "s.duckdb")])
    assert only.exit_code == 1
    assert "2 environment variables" in only.output and "ACTITO" not in only.output


def test_sources_and_channels_are_checked_with_their_activations(
        bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the warehouse is PostgreSQL behind ${env:WAREHOUSE_URL}; vip-selligent warns
    # the crm-alerts webhook: the source's variable is needed to plan, the channel's to warn.
    text = (bare / "sources.yaml").read_text("utf-8")
    (bare / "sources.yaml").write_text(
        text[:text.index("  type: duckdb\n")] + "  type: postgres\n  url: ${env:WAREHOUSE_URL}\n",
        "utf-8")
    monkeypatch.setenv("CRM_ALERTS_WEBHOOK", " ")
    project, _ = load_project(bare)
    settings = effective_activations(project)
    needed = environment_problems(manifests_used(project, settings, ["vip-selligent"]))
    assert [(p.variable, p.field, p.owner, p.empty) for p in needed] == [
        ("SELLIGENT_API_KEY", "spec.credentials.apiKey", "destination 'selligent-sandbox'",
         False),
        ("SELLIGENT_API_SECRET", "spec.credentials.apiSecret",
         "destination 'selligent-sandbox'", False),
        ("WAREHOUSE_URL", "spec.url", "source 'warehouse'", False)]
    [channel] = environment_problems(manifests_used(project, settings, ["vip-selligent"],
                                                    channels=True))
    assert str(channel).endswith("spec.url: environment variable CRM_ALERTS_WEBHOOK is empty "
                                 "(an unset CI secret becomes an empty variable) (needed by "
                                 "notification channel 'crm-alerts')")
    assert manifests_used(project, settings, ["sms-actito"], channels=True) == []


def test_doctor_lists_every_unset_variable_of_each_destination(
        bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: `reconciler doctor` on a new machine with only ACTITO_FTPS_PASSWORD set, and
    # empty: one failed finding per variable of each destination, nothing called.
    monkeypatch.setenv("ACTITO_FTPS_PASSWORD", "")
    result = runner.invoke(app, ["doctor", str(bare)])
    assert result.exit_code == 1, result.output
    failed = [line.strip() for line in result.output.splitlines() if "FAIL" in line]
    assert [line.split(": environment variable ")[1].split(" (")[0] for line in failed] == [
        "ACTITO_API_KEY is not set", "ACTITO_FTPS_PASSWORD is empty",
        "SELLIGENT_API_KEY is not set", "SELLIGENT_API_SECRET is not set"]
    assert all(line.startswith("FAIL environment: ") for line in failed)
    assert "4 check(s) failed." in result.output


@pytest.mark.parametrize("command", [["apply", "--auto-approve"], ["run", "--due"]])
def test_apply_and_run_report_an_empty_secret_before_anything_is_sent(
        bare: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        command: list[str]) -> None:
    # Scenario: the scheduled job's ACTITO_API_KEY secret was never defined, so GitHub gives
    # the step an empty variable: apply and run --due name it and its field and stop before
    # any destination is called (nothing listens at the sandboxes' addresses).
    for name in SECRETS[:4]:
        monkeypatch.setenv(name, "set")
    monkeypatch.setenv("ACTITO_API_KEY", "")
    result = runner.invoke(app, [*command, str(bare), "--state", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1, result.output
    assert ("spec.credentials.apiKey: environment variable ACTITO_API_KEY is empty (an unset "
            "CI secret becomes an empty variable) (needed by destination 'actito-sandbox')"
            ) in result.output
    assert "1 environment variable the planned activations need is missing or empty" in \
        result.output
    assert "refused" not in result.output and "applied" not in result.output
