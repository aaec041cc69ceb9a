"""Credentials go only to the vendors' hosts, or to hosts the repository allows, on a pull
request (issue 17.10): a manifest change cannot send the plan's API key elsewhere."""
from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.destinations.hosts import HostNotAllowedError, check_host
from tests.manifests.conftest import EXAMPLE, replace_in

PR = {"GITHUB_EVENT_NAME": "pull_request"}


@pytest.mark.parametrize(("address", "vendor"), [
    ("https://acme.slgnt.eu/Portal/Api", "selligent"),
    ("https://acme.crm.slgnt.us/Portal/Api", "selligent"),
    ("https://api.actito.com", "actito"),
    ("https://api3.actito.com", "actito"),
    ("ftp02.actito.be", "actito file transfer"),
])
def test_vendor_hosts_are_allowed_on_a_pull_request(address: str, vendor: str) -> None:
    check_host(address, vendor, "destination d", PR)


@pytest.mark.parametrize(("address", "vendor"), [
    ("https://attacker.example/Portal/Api", "selligent"),
    ("https://slgnt.eu.attacker.example", "selligent"),
    ("https://acme.slgnt.eu.attacker.example/Portal/Api", "selligent"),
    ("https://api.actito.com.attacker.example", "actito"),
    ("files.attacker.example", "actito file transfer"),
])
def test_other_hosts_are_refused_on_a_pull_request(address: str, vendor: str) -> None:
    with pytest.raises(HostNotAllowedError, match="RECONCILER_ALLOWED_HOSTS"):
        check_host(address, vendor, "destination d spec.baseUrl", PR)


def test_the_repository_variable_allows_more_and_other_events_allow_all() -> None:
    allowed = {**PR, "RECONCILER_ALLOWED_HOSTS": "sftp.acme.example, *.internal.acme.example"}
    check_host("sftp.acme.example", "actito file transfer", "d", allowed)
    check_host("https://proxy.internal.acme.example/Portal/Api", "selligent", "d", allowed)
    with pytest.raises(HostNotAllowedError):
        check_host("https://acme.example/Portal/Api", "selligent", "d", allowed)
    check_host("https://attacker.example", "selligent", "d", {"GITHUB_EVENT_NAME": "push"})
    check_host("https://attacker.example", "selligent", "d", {})


class Listener:
    """A TCP server on 127.0.0.1 that records every byte it is sent (and answers nothing)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(1)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_a_pull_request_pointing_a_destination_elsewhere_sends_it_nothing(
        tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a PR changes the Selligent baseUrl to a host it controls (here a recording
    # listener on localhost, which the repository does not allow); the plan refuses that
    # destination before any call: the listener gets no connection, no byte, no key.
    manifests = Path(shutil.copytree(EXAMPLE, tmp_path / "manifests"))
    replace_in(manifests / "destinations.yaml", "http://127.0.0.1:8781/Portal/Api",
               f"http://localhost:{listener.port}/Portal/Api")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", "127.0.0.1")  # the sandboxes, not localhost
    monkeypatch.setenv("SELLIGENT_API_KEY", "the-real-key")
    monkeypatch.setenv("SELLIGENT_API_SECRET", "the-real-secret")
    result = CliRunner().invoke(app, ["plan", str(manifests), "-a", "vip-selligent",
                                      "--state", str(tmp_path / "state.duckdb")])
    assert "host 'localhost' is not a selligent host" in result.output, result.output
    assert "the-real-key" not in result.output
    assert listener.connections == 0 and bytes(listener.received) == b""
