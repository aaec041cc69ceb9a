"""`reconciler status`, `state locks` and `state unlock` over a local state file."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.state import ImportExecution, RunStatus, open_state_store
from reconciler.state.duckdb_backend import DuckDBBackend
from tests.manifests.conftest import EXAMPLE, REPO

runner = CliRunner()
T0 = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)


def _store_with_history(location: Path) -> None:
    with open_state_store(location) as store:
        run = store.start_run("vip-selligent", started_at=T0)
        store.finish_run(run, RunStatus.SUCCEEDED, counts={"members_sent": 1200},
                         finished_at=T0 + dt.timedelta(minutes=2))
        store.write_snapshot("vip-selligent", [pa.record_batch(
            [pa.array(["a", "b"]), pa.array(["h", "h"])],
            names=["member_key", "attributes_hash"])], taken_at=T0 + dt.timedelta(minutes=2))
        failed = store.start_run("churn-actito", started_at=T0)
        store.finish_run(failed, RunStatus.FAILED, error="HTTP 503 from Actito")
        store.acquire_lock("churn-actito", "apply by alice@ci-7 (pid 42)", 3600)
        store.start_run("removed-one", started_at=T0)


def test_status_shows_last_run_lock_and_snapshot_per_activation(tmp_path: Path) -> None:
    # Scenario: after applies, one succeeded and one failed and still locked, a person asks.
    location = tmp_path / "state.duckdb"
    _store_with_history(location)
    result = runner.invoke(app, ["status", str(EXAMPLE), "--state", str(location)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "# vip-selligent → selligent-sandbox" in text
    assert ("last run  succeeded, started 2026-11-27 05:00:00 UTC, "
            "finished 2026-11-27 05:02:00 UTC") in text
    assert "members_sent 1,200" in text and "snapshot  2 members, taken 2026-11-27 05:02:00" in text
    assert "last run  failed" in text and "error: HTTP 503 from Actito" in text
    assert "lock      held by apply by alice@ci-7 (pid 42) since" in text
    assert "# sms-actito → actito-sandbox\n  last run  never applied\n  lock      none" in text
    assert "no longer define: removed-one" in text


def test_status_as_json(tmp_path: Path) -> None:
    # Scenario: a dashboard reads the status as JSON.
    location = tmp_path / "state.duckdb"
    _store_with_history(location)
    result = runner.invoke(app, ["status", str(EXAMPLE), "--state", str(location),
                                 "--format", "json", "--now", "2026-11-27T06:00:00+00:00"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {row["activation"]: row for row in report["activations"]}
    assert rows["vip-selligent"]["last_run"]["counts"] == {"members_sent": 1200}
    assert rows["vip-selligent"]["snapshot"]["members"] == 2
    assert rows["vip-selligent"]["next_due"] == {
        "due": True, "at": "2026-11-27T06:00:00+00:00",
        "reason": "due since 2026-11-27 06:00 UTC (schedule)"}
    assert rows["churn-actito"]["lock"]["owner"] == "apply by alice@ci-7 (pid 42)"
    assert rows["churn-actito"]["lock"]["expired"] is False
    assert rows["churn-actito"]["warnings"] == {"health": "failing", "open": True}
    assert rows["sms-actito"] == {
        "activation": "sms-actito", "destination": "actito-sandbox", "last_run": None,
        "lock": None, "snapshot": None,
        "next_due": {"due": True, "at": "2026-11-27T06:00:00+00:00",
                     "reason": "no successful run yet"},
        "match_rate": None, "contact_index": None,
        "warnings": {"health": "healthy", "open": False},
        "key_file_expires_at": None, "api_key_expires_on": None,
        "import_budget": {"table": "Profiles", "day": "2026-11-27", "used": 0, "budget": 24,
                          "refused": False},
        "deferred_updates": None}
    assert report["only_in_state"] == ["removed-one"]


def test_status_shows_due_match_rate_key_file_and_import_budget(tmp_path: Path) -> None:
    # Scenario: an Actito list synced twice today (one import each); a person asks at 09:00.
    location = tmp_path / "state.duckdb"
    counts = {"audience_desired": 400, "audience_matched": 388, "members_sent": 388}
    with open_state_store(location) as store:
        run = store.start_run("churn-actito", started_at=T0)
        store.finish_run(run, RunStatus.SUCCEEDED, counts=counts, finished_at=T0)
        for hour in (5, 6):
            store.record_import_execution(ImportExecution(
                "sandbox@127.0.0.1:8782", "Profiles", T0.date(), T0.replace(hour=hour), "e",
                ("churn-actito",), 10))
    result = runner.invoke(app, ["status", str(EXAMPLE), "--state", str(location),
                                 "--now", "2026-11-27T09:00:00+00:00"])
    assert result.exit_code == 0, result.output
    block = result.output.split("# churn-actito → actito-sandbox\n")[1].split("\n\n")[0]
    assert "  next due  2026-11-28 05:00 UTC (schedule)\n" in block
    assert "  match     97.0% (388 of 400 matched)\n" in block
    assert "  warnings  none\n" in block
    assert "  key file  expires 2026-11-29 05:00 UTC\n" in block  # validityPeriod 2d
    assert "  imports   2/24 ETL imports used on table Profiles today" in block
    assert "  match     unknown (no sync recorded it yet)" in result.output
    assert "  next due  manual" not in result.output


def test_state_locks_and_unlock(tmp_path: Path) -> None:
    # Scenario: an apply died holding a lock; a person lists the locks and breaks it.
    location = tmp_path / "state.duckdb"
    _store_with_history(location)
    listed = runner.invoke(app, ["state", "locks", "--state", str(location)])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.startswith("churn-actito: held by apply by alice@ci-7 (pid 42) since")
    as_json = json.loads(runner.invoke(app, ["state", "locks", "--state", str(location),
                                             "--format", "json"]).stdout)
    assert [lock["activation"] for lock in as_json["locks"]] == ["churn-actito"]
    unlocked = runner.invoke(app, ["state", "unlock", "churn-actito", "--state", str(location)])
    assert unlocked.exit_code == 0, unlocked.output
    assert "Unlocked 'churn-actito': it was held by apply by alice@ci-7 (pid 42)" in unlocked.output
    assert "lease was still running" in unlocked.output
    again = runner.invoke(app, ["state", "unlock", "churn-actito", "--state", str(location)])
    assert "was not locked; nothing to do" in again.output
    empty = runner.invoke(app, ["state", "locks", "--state", str(location)])
    assert empty.stdout == "No activation is locked.\n"


def test_state_commands_find_the_store_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scenario: CI sets RECONCILER_STATE_URL instead of passing --state.
    location = tmp_path / "state.duckdb"
    _store_with_history(location)
    monkeypatch.setenv("RECONCILER_STATE_URL", str(location))
    listed = runner.invoke(app, ["state", "locks"])
    assert listed.stdout.startswith("churn-actito: held by"), listed.output
    assert listed.stderr == f"State: DuckDB file {location.resolve()}\n"


@pytest.mark.parametrize(("command", "location", "origin", "expected"), [
    ("status", "mysql://u:secret@db/x", "--state", "unknown state store scheme 'mysql'"),
    ("plan", "sqlite:///tmp/x.db", "--state", "unknown state store scheme 'sqlite'"),
    ("state locks", "nowhere/deeper/state.duckdb", "--state", "does not exist"),
    ("status", "mysql://u:secret@db/x", "$RECONCILER_STATE_URL",
     "unknown state store scheme 'mysql'"),
])
def test_a_state_location_that_cannot_be_a_store_is_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, location: str,
        origin: str, expected: str) -> None:
    # Scenario: a mistyped --state (or $RECONCILER_STATE_URL) is refused, naming where it
    # came from, instead of opening a new, empty store that shows everything as new.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_STATE_URL", raising=False)
    args = [*command.split(), *([str(EXAMPLE)] if command != "state locks" else [])]
    if origin == "--state":
        args += ["--state", location]
    else:
        monkeypatch.setenv("RECONCILER_STATE_URL", location)
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"{origin}: " in result.output and expected in result.output, result.output
    assert "secret" not in result.output
    assert not (tmp_path / "nowhere").exists()


def test_the_default_state_lives_beside_the_manifests(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: status from another directory, without --state or the variable, uses (and
    # names) the DuckDB file beside the manifests directory, not one in the current directory.
    project = tmp_path / "repo"
    shutil.copytree(EXAMPLE, project / "manifests")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("RECONCILER_STATE_URL", raising=False)
    _store_with_history(project / ".reconciler" / "state.duckdb")
    result = runner.invoke(app, ["status", str(project / "manifests"),
                                 "--now", "2026-11-27T06:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"State: DuckDB file {(project / '.reconciler' / 'state.duckdb').resolve()}\n")
    assert "succeeded" in result.stdout, result.stdout  # the runs of that store
    assert not (elsewhere / ".reconciler").exists()


def test_the_state_line_never_shows_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a PostgreSQL URL with a password: the state line names host, database and
    # schema only (the command then fails to connect, which is not the point here).
    monkeypatch.setenv("RECONCILER_STATE_URL",
                       "postgresql://alice:hunter2@127.0.0.1:1/db?schema=mk&connect_timeout=1")
    result = runner.invoke(app, ["state", "locks"])
    assert "State: PostgreSQL postgresql://127.0.0.1:1/db (schema mk)" in result.stderr
    assert "hunter2" not in result.output


def _project_with_file(root: Path, text: str) -> Path:
    """A repository whose project file names its manifests (conf/manifests) and state."""
    shutil.copytree(EXAMPLE, root / "conf" / "manifests")
    (root / ".git").mkdir()
    (root / "reconciler.yaml").write_text(text, encoding="utf-8")
    (root / "docs").mkdir()
    return root


def test_the_project_file_names_manifests_and_state_for_every_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a team commits reconciler.yaml; from any directory of the repository, commands
    # without arguments use its manifests and its state, and say so.
    root = _project_with_file(tmp_path / "repo",
                              "manifests: conf/manifests\nstate: var/team.duckdb\n")
    (root / "var").mkdir()
    _store_with_history(root / "var" / "team.duckdb")
    monkeypatch.chdir(root / "docs")
    monkeypatch.delenv("RECONCILER_STATE_URL", raising=False)
    validated = runner.invoke(app, ["validate"])
    assert validated.exit_code == 0, validated.output
    assert f"{root / 'conf' / 'manifests'}: valid" in validated.stdout, validated.stdout
    status = runner.invoke(app, ["status", "--now", "2026-11-27T06:00:00+00:00"])
    assert status.exit_code == 0, status.output
    assert status.stderr == f"State: DuckDB file {(root / 'var' / 'team.duckdb').resolve()}\n"
    assert "succeeded" in status.stdout
    locks = runner.invoke(app, ["state", "locks"])
    assert locks.stdout.startswith("churn-actito: held by"), locks.output
    assert not (root / "docs" / ".reconciler").exists()
    assert not (root / "conf" / ".reconciler").exists()  # the file's state, not the default


def test_option_then_variable_then_project_file_then_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project_with_file(tmp_path / "repo", "manifests: conf/manifests\n"
                                                 "state: from-file.duckdb\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("RECONCILER_STATE_URL", str(tmp_path / "from-env.duckdb"))

    def used(*args: str) -> str:
        result = runner.invoke(app, ["state", "locks", *args])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert used("--state", str(tmp_path / "from-option.duckdb")).endswith(
        "from-option.duckdb\n")
    assert used().endswith("from-env.duckdb\n")
    monkeypatch.delenv("RECONCILER_STATE_URL")
    assert used() == f"State: DuckDB file {(root / 'from-file.duckdb').resolve()}\n"
    (root / "reconciler.yaml").write_text("manifests: conf/manifests\n", encoding="utf-8")
    assert used() == (f"State: DuckDB file "
                      f"{(root / 'conf' / '.reconciler' / 'state.duckdb').resolve()}\n")


def test_a_bad_project_file_stops_every_command_with_its_location(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project_with_file(tmp_path / "repo", "manifests: conf/manifests\n"
                                                 "state: mysql://ci@db/x\n")
    monkeypatch.chdir(root / "docs")
    monkeypatch.delenv("RECONCILER_STATE_URL", raising=False)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1, result.output
    assert f"{(root / 'reconciler.yaml').resolve()}:2:8 (state): unknown state store scheme " \
           "'mysql'" in result.stderr, result.stderr
    (root / "reconciler.yaml").write_text("manifest: conf\n", encoding="utf-8")
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 1
    assert "reconciler.yaml:1:1: unknown key 'manifest'" in result.stderr, result.stderr


def test_status_and_run_due_warn_of_a_selligent_key_expiring_within_two_weeks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: the manifest says the service account key expires on 2026-12-06; on
    # 2026-11-27 status shows it on each Selligent activation (and in JSON), and every
    # scheduled run warns (an annotation on GitHub) until it is renewed.
    from reconciler.cli.run import _warn_of_expiring_keys
    from reconciler.manifests.loading import load_project
    from tests.manifests.conftest import replace_in

    shutil.copytree(EXAMPLE, tmp_path / "manifests")
    replace_in(tmp_path / "manifests" / "destinations.yaml",
               "    apiSecret: ${env:SELLIGENT_API_SECRET}\n",
               "    apiSecret: ${env:SELLIGENT_API_SECRET}\n    expiresOn: 2026-12-06\n")
    args = ["status", str(tmp_path / "manifests"), "--state", str(tmp_path / "s.duckdb"),
            "--now", "2026-11-27T09:00:00+00:00"]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    block = text.stdout.split("# vip-selligent → selligent-sandbox\n")[1].split("\n\n")[0]
    assert "  api key   the key expires on 2026-12-06, in 9 day(s): renew it now" in block
    actito = text.stdout.split("# churn-actito → actito-sandbox\n")[1].split("\n\n")[0]
    assert "api key" not in actito
    rows = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)["activations"]
    assert {r["activation"]: r["api_key_expires_on"] for r in rows}["vip-selligent"] == \
        "2026-12-06"
    project, _ = load_project(tmp_path / "manifests")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _warn_of_expiring_keys(project, dt.date(2026, 11, 27))
    printed = capsys.readouterr()
    assert "Warning: destination selligent-sandbox: the key expires on 2026-12-06" in printed.err
    assert printed.out.startswith("::warning::destination selligent-sandbox:")
    _warn_of_expiring_keys(project, dt.date(2026, 11, 1))  # 35 days ahead: nothing said
    assert capsys.readouterr() == ("", "")


def test_locks_and_status_read_a_duckdb_state_while_an_apply_holds_it(tmp_path: Path) -> None:
    # Scenario (issue 15.10): another process has the DuckDB state open for writing and holds
    # the apply lock of `vip` (the moment `state locks` matters); both commands answer, from a
    # copy taken now, and say so; the copy is gone afterwards.
    location = tmp_path / "state.duckdb"
    open_state_store(location).close()
    go = tmp_path / "go"
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.state.lock_racer", str(location), "reconciler",
         "apply by bob@laptop (pid 7)", "600", str(go)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        go.touch()
        assert holder.stdout.readline().strip() == "won"
        locks = runner.invoke(app, ["state", "locks", "--state", str(location)])
        assert locks.exit_code == 0, locks.output
        assert "vip: held by apply by bob@laptop (pid 7)" in locks.output
        assert "(a copy: the store is in use by pid" in locks.output
        status = runner.invoke(app, ["status", str(EXAMPLE), "--state", str(location)])
        assert status.exit_code == 0, status.output
        assert "(a copy: the store is in use by pid" in status.output
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_a_copy_of_the_state_lives_in_a_private_folder_removed_on_close(tmp_path: Path) -> None:
    location = tmp_path / "state.duckdb"
    open_state_store(location).close()
    copy = DuckDBBackend.copy_of(location, "pid 7 on host h (reconciler apply)")
    folder = copy.path.parent
    assert folder != tmp_path and (folder.stat().st_mode & 0o077) == 0
    assert copy.location.endswith("(a copy: the store is in use by pid 7 on host h "
                                  "(reconciler apply))")
    copy.close()
    assert not folder.exists()


def test_a_state_server_that_refuses_the_connection_is_one_located_error(
        tmp_path: Path) -> None:
    # Scenario: --state names a PostgreSQL port nothing listens on: `plan` stops at once with
    # the URL (no password), the driver's reason on one line, and what to check.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--state",
                                 f"postgresql://ops:hunter2@127.0.0.1:{port}/db"])
    assert result.exit_code == 1, result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: cannot open the state store postgresql://127.0.0.1:{port}"
                            "/db (schema reconciler): ")
    assert "Connection refused" in error and "hunter2" not in result.output
    assert "Hint: check the state location (--state" in result.output
