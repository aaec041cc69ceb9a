"""Running past one machine: jobs of a GitHub Actions matrix sharing a PostgreSQL state store.

The matrix workflow (`.github/workflows/matrix-sync.yml`) runs one `reconciler` process per
destination against one PostgreSQL database; `?schema=` in the state URL keeps each test's
state apart here, as it keeps projects apart in a team's database.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import ReconcilerError
from reconciler.state import open_state_reader
from reconciler.state.store import split_schema
from tests.e2e.conftest import Stack

RECONCILER = Path(sys.executable).parent / "reconciler"
runner = CliRunner()
JOBS = (("vip-selligent", "churn-selligent"), ("churn-actito", "sms-actito"))


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_matrix_jobs_apply_in_parallel_on_a_shared_postgres_state(
        stack: Stack, postgres_schema: str) -> None:
    # Scenario: one job per destination starts at the same time, as a matrix does; both
    # apply, the shared state records every activation, and a later plan of the whole
    # project from that state is empty.
    jobs = [subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve",
         *[arg for name in names for arg in ("-a", name)]],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"}) for names in JOBS]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    for job, output in zip(jobs, outputs, strict=True):
        assert job.returncode == 0, output
    check = runner.invoke(app, ["plan", *stack.cli_args(), "--detailed-exitcode"])
    assert check.exit_code == 0, check.output
    status = runner.invoke(app, ["status", *stack.cli_args(), "--format", "json"])
    assert status.exit_code == 0, status.output
    runs = {a["activation"]: a["last_run"]["status"]
            for a in json.loads(status.stdout)["activations"]}
    assert runs == {name: "succeeded" for names in JOBS for name in names}
    with open_state_reader(stack.state) as reader:  # in that schema, not the default one
        assert postgres_schema in reader.location


def test_a_schema_in_the_state_url_is_taken_out_of_what_libpq_sees() -> None:
    # Scenario: `?schema=` is ours; other parameters stay for libpq; a bad one is an error.
    assert split_schema("postgresql://h/db?sslmode=disable&schema=mk") == (
        "postgresql://h/db?sslmode=disable", "mk")
    assert split_schema("postgresql://h/db") == ("postgresql://h/db", None)
    with pytest.raises(ReconcilerError, match="one non-empty"):
        split_schema("postgresql://h/db?schema=")


# The writes of one apply of vip-selligent: each must reach Selligent exactly once.
WRITES = ("/fields", "/segments/static", "/segments/VIP_customers/data/load", "/data/load")


@pytest.mark.parametrize("lock_timeout", ["30", "0"])
@pytest.mark.parametrize("trial", range(3))
@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_two_applies_of_one_activation_at_once_write_once(
        stack: Stack, trial: int, lock_timeout: str) -> None:
    # Scenario (issue 17.1, several trials): two jobs apply vip-selligent at the same moment
    # on one PostgreSQL state. Exactly one writes; the other is refused before its first
    # write (locked, naming the holder's command, user, host and pid; or, after waiting, the
    # state moved since its plan) or plans after it and finds nothing to do. Every Selligent
    # write path of the apply is in the request log once, and one run wrote journal entries.
    jobs = [subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve", "-a", "vip-selligent",
         "--lock-timeout", lock_timeout],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"}) for _ in range(2)]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    everything = "\n=====\n".join(outputs)
    winners = [i for i, output in enumerate(outputs) if "vip-selligent: applied;" in output]
    assert len(winners) == 1, everything
    loser = outputs[1 - winners[0]]
    refused = (f"is locked by apply by {getpass.getuser()}@{socket.gethostname()} "
               f"(pid {jobs[winners[0]].pid})")
    assert (jobs[1 - winners[0]].returncode == 1 and (
        refused in loser or "the state changed since this plan was made" in loser)) or (
        jobs[1 - winners[0]].returncode == 0 and "No changes." in loser), everything
    writes = Counter(e.path.split("/lists/CONTACTS", 1)[1] for e in stack.selligent.log.entries()
                     if e.method == "POST" and not e.path.endswith("/data/search"))
    assert writes == dict.fromkeys(WRITES, 1), (writes, everything)
    with open_state_reader(stack.state) as reader:
        runs = reader.runs("vip-selligent")
        journaled = [run.run_id for run in runs if reader.journal_entries(run.run_id)]
    assert len(journaled) == 1, (runs, everything)
