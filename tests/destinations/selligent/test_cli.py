"""`reconciler sandbox` starts the Selligent sandbox, says where, and stops on Ctrl-C."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.destinations.selligent.harness import KEY, SEED_FILE


def _run(*flags: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the command; return it once every sandbox is up, with the lines it printed."""
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "sandbox",
               "--selligent-port", "0", "--actito-port", "0", "--actito-ftps-port", "0",
               "--actito-sftp-port", "0", "--seed-file", str(SEED_FILE), *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Press Ctrl-C"):
        line = process.stdout.readline()
        assert line, f"the command ended early: {''.join(lines)}"
        lines.append(line)
    return process, lines


def _selligent_url(lines: list[str]) -> str:
    first = next(line for line in lines if line.startswith("Selligent sandbox listening on"))
    return first.split(" on ", 1)[1].strip()


def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    # Scenario: a user runs `reconciler sandbox`, lists the org's lists with curl, then Ctrl-C.
    process, lines = _run("--data-dir", str(tmp_path))
    try:
        url = _selligent_url(lines)
        assert url.startswith("http://127.0.0.1:")
        banner = lines[lines.index(next(x for x in lines if url in x)) + 1:]
        assert "SANDBOX" in banner[0] and "sandbox-key:sandbox-secret" in banner[1]
        lists = requests.get(f"{url}/organizations/SANDBOX/lists", headers=KEY, timeout=5)
        assert lists.json()["lists"][0]["api_name"] == "CONTACTS"
        wrong = {"X-ApiKey": "sandbox-key:nope"}
        assert requests.get(f"{url}/organizations/SANDBOX/lists", headers=wrong,
                            timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "Sandboxes stopped." in output
    assert (tmp_path / "selligent" / "store.json").exists()


def test_sandbox_command_flags_change_the_defaults() -> None:
    # Scenario: another organization, list, key field and API key are served as asked.
    process, lines = _run("--in-memory", "--selligent-org", "ACME", "--selligent-list",
                          "PEOPLE", "--selligent-key-field", "CUSTOMER_ID",
                          "--selligent-api-key", "k:s")
    try:
        url = _selligent_url(lines)
        fields = requests.get(f"{url}/organizations/ACME/lists/PEOPLE/fields",
                              headers={"X-ApiKey": "k:s"}, timeout=5).json()["fields"]
        assert fields[0]["name"] == "CUSTOMER_ID"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_sigterm_right_after_a_write_keeps_what_was_acknowledged(tmp_path: Path) -> None:
    # Scenario: a field is created (answered 201), then the sandbox gets SIGTERM at once (as
    # from `kill`, docker stop or a CI runner): it stops cleanly, and when started again on
    # the same data directory the field is there.
    process, lines = _run("--data-dir", str(tmp_path))
    try:
        url = _selligent_url(lines)
        created = requests.post(f"{url}/organizations/SANDBOX/lists/CONTACTS/fields",
                                json={"fields": [{"name": "KEPT", "data_type": "Text",
                                                  "length": 20}]},
                                headers=KEY, timeout=5)
        assert created.status_code == 201, created.text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "Sandboxes stopped." in output, output
    again, lines = _run("--data-dir", str(tmp_path))
    try:
        fields = requests.get(f"{_selligent_url(lines)}/organizations/SANDBOX/lists/CONTACTS/"
                              "fields", headers=KEY, timeout=5).json()["fields"]
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=10)
    assert "KEPT" in {field["name"] for field in fields}


def test_tenant_knobs_set_the_documented_limits_and_the_unknowns() -> None:
    import pytest
    import typer

    from reconciler.cli.sandbox import _selligent_config

    config = _selligent_config(api_key="k:s", tenant=[
        "max-take=200", "requests-per-minute=0", "unknown-segment-status=400",
        "inbound-limit-seconds=2.5"])
    assert (config.max_take, config.requests_per_minute) == (200, None)
    assert (config.unknown_segment_status, config.inbound_limit_seconds) == (400, 2.5)
    assert _selligent_config(api_key="k:s").requests_per_minute == 2500  # documented default
    with pytest.raises(typer.BadParameter, match="KNOB one of requests-per-minute"):
        _selligent_config(api_key="k:s", tenant=["take=5"])
    with pytest.raises(typer.BadParameter, match="is not a number"):
        _selligent_config(api_key="k:s", tenant=["max-take=lots"])
