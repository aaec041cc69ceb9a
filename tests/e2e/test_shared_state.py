"""Running past one machine: jobs of a GitHub Actions matrix sharing a PostgreSQL state store.

The matrix workflow (`.github/workflows/matrix-sync.yml`) runs one `reconciler` process per
destination against one PostgreSQL database; `?schema=` in the state URL keeps each test's
state apart here, as it keeps projects apart in a team's database.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
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


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_two_applies_of_one_activation_at_once_write_once(stack: Stack) -> None:
    # Scenario (issue 17.1): two jobs apply vip-selligent at the same moment on one PostgreSQL
    # state. Exactly one writes; the other is refused before its first write (it waits for the
    # lock, then finds the state moved since its plan, or plans after it and finds nothing
    # to do); each data load reaches Selligent once.
    jobs = [subprocess.Popen(
        [str(RECONCILER), "apply", *stack.cli_args(), "--auto-approve", "-a", "vip-selligent"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CI": "true"}) for _ in range(2)]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    everything = "\n=====\n".join(outputs)
    # The other job either planned after the first applied (no changes) or is refused.
    assert sum("vip-selligent: applied;" in output for output in outputs) == 1, everything
    assert all(job.returncode in (0, 1) for job in jobs), everything
    loads = [e for e in stack.selligent.log.entries()
             if e.method == "POST" and e.path.endswith("/data/load")]
    bodies = [e.request_body for e in loads]
    assert loads and len(bodies) == len(set(bodies)), [e.path for e in loads]
