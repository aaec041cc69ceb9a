"""`reconciler init`: a new project that validates as written, keeps credentials and state out
of git, carries the workflows, and plans against the sandboxes."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

import reconciler
from reconciler.cli import app
from reconciler.sandbox.actito import ActitoSandboxConfig, start_actito_sandbox
from reconciler.sandbox.project import copy_project_for
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from reconciler.schemas import all_schemas
from tests.e2e.conftest import NOW, SEED, StageClock

runner = CliRunner()
BIN = Path(sys.executable).parent
VARIABLES = ["SELLIGENT_API_KEY", "SELLIGENT_API_SECRET", "ACTITO_API_KEY",
             "ACTITO_FTPS_PASSWORD"]
SANDBOX_ENV = ("SELLIGENT_API_KEY=sandbox-key\nSELLIGENT_API_SECRET=sandbox-secret\n"
               "ACTITO_API_KEY=sandbox-api-key\nACTITO_FTPS_PASSWORD=sandbox-ftp-password\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`reconciler init my-project` run in an empty folder."""
    for name in [*VARIABLES, "RECONCILER_STATE_URL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "my-project"])
    assert result.exit_code == 0, result.output
    assert "Created 19 files in my-project/:" in result.output
    return tmp_path / "my-project"


def test_init_then_validate_passes(project: Path) -> None:
    # Scenario (acceptance): `reconciler init my-project && reconciler validate
    # my-project/manifests` on a fresh machine: valid, with a source, a model, a segment, a
    # destination of each kind and an activation; and from inside the project, no argument.
    result = runner.invoke(app, ["validate", "my-project/manifests"])
    assert result.exit_code == 0, result.output
    assert ("my-project/manifests: valid (1 Activation, 2 Destination, 1 Model, 1 Segment, "
            "1 Source); 0 error(s), 0 warning(s)") in result.output
    inside = subprocess.run([str(BIN / "reconciler"), "validate"], cwd=project,
                            capture_output=True, text=True, timeout=60)
    assert inside.returncode == 0 and "manifests: valid" in inside.stdout, inside.stderr
    destinations = (project / "manifests" / "destinations.yaml").read_text("utf-8")
    assert "type: selligent" in destinations and "type: actito" in destinations
    assert (project / "reconciler.yaml").is_file()
    for name, text in all_schemas().items():  # what the editor comments point at
        assert (project / "schemas" / name).read_text("utf-8") == text


def test_credentials_are_references_listed_in_env_example(project: Path) -> None:
    # Scenario: every credential is a ${env:…} reference, and .env.example (beside the
    # manifests, where .env is read) names each variable once, without a value.
    manifests = project / "manifests"
    text = "".join(line for p in sorted(manifests.rglob("*.yaml"))
                   for line in p.read_text("utf-8").splitlines(keepends=True)
                   if not line.lstrip().startswith("#"))
    assert re.findall(r"\$\{env:([A-Z_]+)\}", text) == VARIABLES
    lines = (manifests / ".env.example").read_text("utf-8").splitlines()
    assert [line for line in lines if not line.startswith("#")] == [f"{v}=" for v in VARIABLES]


def test_gitignore_keeps_state_env_and_plans_out_but_not_the_manifests(project: Path) -> None:
    # Scenario: `git add -A` in the new project commits the manifests, the schemas and the
    # workflows, never the state, a filled-in .env or a saved plan.
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, timeout=30)
    for local in (".reconciler/state.duckdb", ".reconciler/sandbox/actito/store.json",
                  "manifests/.env", "plans/today.plan.zip", "out.plan"):
        (project / local).parent.mkdir(parents=True, exist_ok=True)
        (project / local).write_text("x")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=project, capture_output=True, text=True, check=True,
                            timeout=30).stdout
    listed = sorted(line[3:] for line in status.splitlines())
    assert listed == sorted([".github/workflows/apply.yml", ".github/workflows/pull-request.yml",
                             ".github/workflows/scheduled-sync.yml", ".gitignore",
                             "manifests/.env.example",
                             "manifests/activations/newsletter-selligent.yaml",
                             "manifests/data/customers.csv", "manifests/destinations.yaml",
                             "manifests/models.yaml", "manifests/segments.yaml",
                             "manifests/sources.yaml", "reconciler.yaml",
                             *(f"schemas/{name}" for name in all_schemas())])


def test_the_workflows_install_the_release_and_name_the_projects_secrets(
        project: Path) -> None:
    # Scenario: the workflows copied from this repository install the released package (not
    # the checkout: a project has no setup), name exactly the project's secrets, and still
    # pass actionlint and GitHub's workflow schema.
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["apply.yml", "pull-request.yml",
                                           "scheduled-sync.yml"]
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    schema = json.loads((vendor / "github-workflows.json").read_text("utf-8"))
    for path in workflows:
        text = path.read_text("utf-8")
        assert "pip install .\n" not in text
        assert f'pip install "audience-reconciler=={reconciler.__version__}"' in text
        secrets = re.findall(r"\$\{\{ secrets\.([A-Z_]+) \}\}", text)
        assert sorted(secrets) == sorted([*VARIABLES, "RECONCILER_STATE_URL"]), path.name
        document = YAML(typ="safe").load(text)
        assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(document)] \
            == []
    lint = subprocess.run([str(BIN / "actionlint"), "-color=false", *map(str, workflows)],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_folder_holding_files_is_refused_unless_forced(project: Path, tmp_path: Path) -> None:
    # Scenario: init run again on the project (or any folder with files) writes nothing;
    # with --force it rewrites its own files and leaves the others alone.
    segments = project / "manifests" / "segments.yaml"
    segments.write_text("# edited\n", "utf-8")
    (project / "notes.txt").write_text("mine", "utf-8")
    again = runner.invoke(app, ["init", "my-project"])
    assert again.exit_code == 1
    assert "Error: my-project is not empty; nothing was written" in again.output
    assert "--force" in again.output
    assert segments.read_text("utf-8") == "# edited\n"
    forced = runner.invoke(app, ["init", "my-project", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "kind: Segment" in segments.read_text("utf-8")
    assert (project / "notes.txt").read_text("utf-8") == "mine"
    (tmp_path / "a-file").write_text("x", "utf-8")
    not_a_folder = runner.invoke(app, ["init", "a-file"])
    assert not_a_folder.exit_code == 1 and "a-file exists and is not a folder" in \
        not_a_folder.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(app, ["init", "empty"]).exit_code == 0  # an empty folder is fine


def test_the_new_project_plans_against_the_sandboxes(project: Path) -> None:
    # Scenario: the README's first-project path: the sandboxes' credentials in
    # manifests/.env, the sandboxes running (here on free ports), `reconciler plan` from the
    # project's folder shows the static segment to create and the members to add; after
    # `apply`, the next plan has no changes.
    clock = StageClock(NOW)
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=SEED))
    actito = start_actito_sandbox(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=project / ".reconciler" / "sandbox",
        seed_file=SEED, clock=clock))
    try:
        manifests = project / "manifests"
        aimed = copy_project_for(manifests, project / "aimed", selligent, actito)
        shutil.rmtree(manifests)
        aimed.rename(manifests)
        (manifests / ".env").write_text(SANDBOX_ENV, "utf-8")
        plan = subprocess.run([str(BIN / "reconciler"), "plan", "--now", NOW.isoformat()],
                              cwd=project, capture_output=True, text=True, timeout=120)
        applied = runner.invoke(app, ["apply", str(manifests), "--auto-approve", "--now",
                                      NOW.isoformat()])
        again = runner.invoke(app, ["plan", str(manifests), "--now", NOW.isoformat()])
    finally:
        selligent.stop()
        actito.stop()
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "# newsletter-selligent → selligent" in plan.stdout
    assert "+ static segment Newsletter" in plan.stdout
    assert re.search(r"~ members  \+\d+ −0   match rate", plan.stdout), plan.stdout
    assert "State: DuckDB file " in plan.stderr and ".reconciler/state.duckdb" in plan.stderr
    assert applied.exit_code == 0, applied.output
    assert "newsletter-selligent: applied" in applied.output
    assert again.exit_code == 0 and "No changes." in again.stdout, again.output
