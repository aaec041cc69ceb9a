"""`reconciler sandbox --data-dir /an/absolute/path` and the example's FTPS `caFile`.

Reported: with an absolute data dir every FTPS upload failed with "No such file or
directory". The FTPS server serves an absolute data dir well (tests/destinations/actito
/test_cli.py uploads to one); what failed was the client: the example manifests trust
`../.reconciler/sandbox/actito/ftps-cert.pem`, the default data dir's certificate, which such a
sandbox never writes, and ssl's error surfaced as a refused upload halfway through an apply.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.cli.sandbox import _start_actito
from reconciler.sandbox.actito import ActitoSandbox, ActitoSandboxConfig
from reconciler.sandbox.actito.seeding import seed_store
from reconciler.sandbox.actito.store import Store, Table, load_store
from reconciler.sandbox.project import DEFAULT_CA_FILE, copy_project_for
from reconciler.sandbox.selligent import SelligentSandboxConfig, start_selligent_sandbox
from tests.e2e.conftest import NOW, REPO, SEED, StageClock

runner = CliRunner()


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[ActitoSandbox, list[str], Path]]:
    """The sandboxes as `reconciler sandbox --data-dir <absolute>` starts them (on free
    ports), with the lines it prints, and the example project aimed at their addresses but
    trusting the certificate it names (the default data dir's)."""
    data_dir = (tmp_path / "elsewhere" / "sandbox").resolve()
    selligent = start_selligent_sandbox(SelligentSandboxConfig(port=0, data_dir=None,
                                                               seed_file=SEED))
    actito, lines = _start_actito(ActitoSandboxConfig(
        port=0, ftps_port=0, sftp_port=0, data_dir=data_dir, seed_file=SEED,
        sync_poll_seconds=0.1, clock=StageClock(NOW)))
    assert isinstance(actito, ActitoSandbox)
    try:
        manifests = copy_project_for(REPO / "manifests", tmp_path / "project" / "manifests",
                                     selligent, actito)
        destinations = manifests / "destinations.yaml"
        text = destinations.read_text("utf-8")
        destinations.write_text(text.replace(str(actito.ftps.ca_file), DEFAULT_CA_FILE),
                                "utf-8")
        yield actito, lines, manifests
    finally:
        selligent.stop()
        actito.stop()


def test_an_absolute_data_dir_serves_ftps_once_the_manifest_trusts_its_certificate(
        sandboxes: tuple[ActitoSandbox, list[str], Path], tmp_path: Path) -> None:
    # Scenario: the sandbox keeps its data in an absolute folder; the example project still
    # names the default data dir's certificate. The plan stops at once, naming the field and
    # where the file was looked for, not an upload halfway through an apply; the sandbox said
    # which caFile to set; set to it, the key file goes up over FTPS and the list fills.
    actito, lines, manifests = sandboxes
    certificate = (tmp_path / "elsewhere" / "sandbox" / "actito" / "ftps-cert.pem").resolve()
    assert any(f"trust the certificate {certificate}" in line for line in lines)
    assert any(f"set the Actito destination's fileTransfer.caFile to {certificate}" in line
               for line in lines)
    args = [str(manifests), "-a", "sms-actito", "--state", str(tmp_path / "s.duckdb"),
            "--now", NOW.isoformat()]
    missing = (manifests / DEFAULT_CA_FILE).resolve()
    refused = runner.invoke(app, ["plan", *args])
    assert refused.exit_code == 1
    assert (f"Error: destination 'actito-sandbox' spec.fileTransfer.caFile: {DEFAULT_CA_FILE} "
            f"({missing}) does not exist") in refused.output
    assert "<data-dir>/actito/ftps-cert.pem" in refused.output

    destinations = manifests / "destinations.yaml"
    destinations.write_text(destinations.read_text("utf-8").replace(
        DEFAULT_CA_FILE, str(certificate)), "utf-8")
    applied = runner.invoke(app, ["apply", *args, "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "sms-actito: applied; members" in applied.output
    dropped = [p for p in (certificate.parent / "transfer" / "ftps" / "sandbox").iterdir()
               if p.is_file()]  # beside the sandbox's daily export, in exports/
    assert [p.name.startswith("sms-benelux_") for p in dropped] == [True], dropped


def test_the_actito_store_reads_back_every_field_it_saved(tmp_path: Path) -> None:
    # Scenario: a seeded store with a changed profile, an ETL execution and a target list is
    # saved and loaded again: every table field and every profile comes back as it was (the
    # document is written field by field, so a field added to Table must be added there).
    store = Store(path=tmp_path / "store.json")
    seed_store(ActitoSandboxConfig(seed_file=SEED, clock=StageClock(NOW)), store)
    table = next(iter(next(iter(store.entities.values())).tables.values()))
    table.update(1, {"firstName": "Zoë"}, "2026-01-01T00:00:00Z")
    store.etl_executions["7"] = {"status": "FINISHED"}
    store.target_lists["9"] = {"name": "Churn risk"}
    store.save()
    loaded = load_store(store.path)
    assert loaded is not None
    again = next(iter(next(iter(loaded.entities.values())).tables.values()))
    saved = {f.name for f in fields(Table)} - {"_indexes"}
    assert {name: getattr(again, name) for name in saved} == {
        name: getattr(table, name) for name in saved}
    assert again.profiles[1]["firstName"] == "Zoë" and len(again.profiles) > 1000
    assert loaded.etl_executions == store.etl_executions
    assert loaded.target_lists == store.target_lists


def test_saves_inside_a_deferred_block_are_written_once_as_it_ends(tmp_path: Path) -> None:
    # Scenario: the sandbox's start-up changes its store several times: nothing is written
    # until the block ends, then the last state is; a block with no save writes nothing.
    store = Store(path=tmp_path / "store.json")
    with store.deferred():
        store.next_id = 101
        store.save()
        with store.deferred():
            store.next_id = 102
            store.save()
        assert not store.path.exists()
    loaded = load_store(store.path)
    assert loaded is not None and loaded.next_id == 102
    store.path.unlink()
    with store.deferred():
        pass
    assert not store.path.exists()
