"""The sandboxes' seed file: its columns, their mapping, and the errors a wrong file gives."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli.app import app
from reconciler.sandbox.actito import ActitoSandboxConfig
from reconciler.sandbox.actito.seeding import seed_store as seed_actito
from reconciler.sandbox.actito.store import Store as ActitoStore
from reconciler.sandbox.example import example_seed_file
from reconciler.sandbox.seed import (
    SEED_FIELDS,
    SeedFileError,
    check_seed_file,
    is_left_out,
    read_seed_customers,
)
from reconciler.sandbox.selligent import SelligentSandboxConfig
from reconciler.sandbox.selligent.server import open_store as open_selligent

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
# Should a regression start the sandboxes anyway: on free ports, in memory, and stopped at once
# (see `_no_waiting`) rather than serving until Ctrl-C.
QUIET = ["--in-memory", "--selligent-port", "0", "--actito-port", "0", "--actito-ftps-port",
         "0", "--actito-sftp-port", "0"]


@pytest.fixture
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.cli.sandbox._wait_until_interrupted", lambda running: None)


def _ids(count: int) -> list[str]:
    """`count` customer ids that the sandboxes do not leave out."""
    return [f"K{i:05d}" for i in range(count * 2) if not is_left_out(f"K{i:05d}")][:count]


def _csv(tmp_path: Path, text: str, name: str = "crm.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_the_default_seed_file_is_the_example_projects_customers() -> None:
    # Scenario: `reconciler sandbox` without --seed-file seeds from the example shipped with
    # the package (here, a checkout: the repository's manifests/), wherever it runs from.
    assert example_seed_file().resolve() == REPO / "manifests" / "data" / "customers.csv"
    assert SelligentSandboxConfig().seed_file == example_seed_file()
    assert ActitoSandboxConfig().seed_file == example_seed_file()


def test_the_readme_documents_every_seed_field() -> None:
    # Scenario: a sandbox starts reading a new column, but the README's table does not say so.
    readme = (REPO / "README.md").read_text("utf-8")
    section = readme[readme.index("### Seed file"):readme.index("### Selligent sandbox")]
    assert [f for f in SEED_FIELDS if f"`{f}`" not in section] == []
    assert "--seed-column FIELD=COLUMN" in section


def test_columns_are_mapped_to_fields_and_other_columns_ignored(tmp_path: Path) -> None:
    # Scenario: a CRM export names its columns its own way; --seed-column maps them.
    first, second = _ids(2)
    path = _csv(tmp_path, f"Id,Mail,Given,Consent,notes\n{first},a@example.com,Ann,TRUE,n\n"
                          f"{second},,Bob,false,n\n")
    columns = {"customer_id": "Id", "email": "Mail", "first_name": "Given",
               "email_consent": "Consent"}
    rows = list(read_seed_customers(path, columns))
    assert rows == [
        {"customer_id": first, "email": "a@example.com", "first_name": "Ann",
         "email_consent": "true"},
        {"customer_id": second, "email": "", "first_name": "Bob", "email_consent": "false"},
    ]
    # Both sandboxes seed from the mapped columns.
    store = open_selligent(SelligentSandboxConfig(data_dir=None, seed_file=path,
                                                  seed_columns=columns))
    org = store.organization("SANDBOX")
    table = org.list("CONTACTS") if org else None
    assert table is not None
    records = sorted(table.records.values(), key=lambda r: r["EXTERNAL_ID"])
    assert [(r["EXTERNAL_ID"], r["MAIL"], r["FIRSTNAME"], r["OPTOUT"]) for r in records] == [
        (first, "a@example.com", "Ann", 0), (second, None, "Bob", 1)]
    actito = ActitoStore(path=None)
    seed_actito(ActitoSandboxConfig(data_dir=tmp_path, seed_file=path, seed_columns=columns,
                                    persist=False), actito)
    profiles = actito.entities["sandbox"].tables["Profiles"].profiles.values()
    assert sorted((p["customerId"], p["emailAddress"], p["emailConsent"]) for p in profiles) == [
        (first, "a@example.com", True), (second, None, False)]


def test_a_missing_required_column_names_file_line_and_column(tmp_path: Path) -> None:
    # Scenario: the file's id column is `id` and nobody mapped it.
    path = _csv(tmp_path, "id,email\nA1,a@example.com\n")
    with pytest.raises(SeedFileError) as caught:
        check_seed_file(path)
    message = str(caught.value)
    assert f"{path}, line 1: no column 'customer_id' for the field customer_id" in message
    assert "the header has: id, email" in message
    assert "--seed-column customer_id=COLUMN" in caught.value.hint
    # A mapping that names a column the file lacks is the same error, naming the mapping.
    with pytest.raises(SeedFileError, match=r"no column 'mail' for the field email \(mapped "
                       r"by --seed-column email=mail\)"):
        check_seed_file(path, {"customer_id": "id", "email": "mail"})
    check_seed_file(path, {"customer_id": "id"})  # mapped: fine


@pytest.mark.parametrize(("content", "expected"), [
    (b"customer_id,email\nC1,a\n,b\n", r"line 3, column 'customer_id': empty customer id"),
    (b"customer_id,email\nC1,a\nC2,\xe9t\xe9\n", r"line 3: not UTF-8 text"),
    (b"customer_id,lifetime_value\nC1,1.5\nC2,12,5\nC3,abc\n",
     r"line 4, column 'lifetime_value': 'abc' is not a number"),
    (b"customer_id,email_consent\nC1,yes\n", r"line 2, column 'email_consent': 'yes' is not"),
    (b"customer_id\nC1\nC2\x00\n", r"line 3: a NUL character, so not a text file"),
    (b"customer_id,email\nC1,a\rC2,b\n", r"line 2: not a CSV file"),
    (b"", r"line 1: no header line"),
])
def test_a_wrong_row_names_its_line(tmp_path: Path, content: bytes, expected: str) -> None:
    # Scenario: a hand-edited seed file with one bad row, read when a sandbox seeds from it.
    path = tmp_path / "seed.csv"
    path.write_bytes(content)
    with pytest.raises(SeedFileError, match=f"^{path}, {expected}"):
        list(read_seed_customers(path))


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match=f"seed file {tmp_path / 'nope.csv'} not found"):
        list(read_seed_customers(tmp_path / "nope.csv"))
    with pytest.raises(SeedFileError, match="cannot be read"):
        check_seed_file(tmp_path)  # a folder


@pytest.mark.usefixtures("_no_waiting")
def test_cli_missing_seed_file_exits_1_without_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: `reconciler sandbox --seed-file missing.csv`: an error, not empty sandboxes.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sandbox", "--seed-file", "missing.csv", *QUIET])
    assert result.exit_code == 1, result.output
    assert "Error: seed file missing.csv not found" in result.output
    assert "Hint: give an existing CSV file to --seed-file" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written


@pytest.mark.usefixtures("_no_waiting")
def test_cli_wrong_columns_and_unknown_field(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _csv(tmp_path, f"id,mail\n{_ids(1)[0]},a@example.com\n")
    result = runner.invoke(app, ["sandbox", "--seed-file", "crm.csv", *QUIET])
    assert result.exit_code == 1
    assert "Error: crm.csv, line 1: no column 'customer_id'" in result.output
    result = runner.invoke(app, ["sandbox", "--seed-file", "crm.csv", *QUIET,
                                 "--seed-column", "customer=id"])
    assert result.exit_code == 2  # a usage error: typer's message
    assert "unknown field 'customer'" in result.output
    result = runner.invoke(app, ["sandbox", "--seed-file", "crm.csv", *QUIET,
                                 "--seed-column", "customer_id"])
    assert result.exit_code == 2 and "expected FIELD=COLUMN" in result.output
    # Mapped, the same file seeds both sandboxes (started on free ports, stopped at once).
    result = runner.invoke(app, ["sandbox", "--seed-file", "crm.csv", *QUIET,
                                 "--seed-column", "customer_id=id", "--seed-column",
                                 "email=mail"])
    assert result.exit_code == 0, result.output
    assert "(key field EXTERNAL_ID), 1 contacts" in result.output
    assert "profile table Profiles (1 profiles)" in result.output


def test_a_seed_file_not_loaded_because_a_store_exists_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario (issue 15.12): the sandboxes ran before with this data dir; starting them again
    # with --seed-file says the file is not loaded there, instead of ignoring it silently.
    from reconciler.cli.sandbox import _seed

    (tmp_path / "selligent").mkdir()
    (tmp_path / "selligent" / "store.json").write_text("{}", "utf-8")
    _seed(example_seed_file(), [], tmp_path)
    err = capsys.readouterr().err
    assert f"{tmp_path / 'selligent'} hold(s) the data of an earlier run" in err
    assert "remove it to seed again" in err
    _seed(None, [], tmp_path)  # the default seed: nothing was asked, nothing to say
    _seed(example_seed_file(), [], tmp_path / "fresh")
    assert capsys.readouterr().err == ""
