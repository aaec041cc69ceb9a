"""v5 ETL executions: CSV edge cases, compression, BOM, value formats, update-only semantics."""
from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from reconciler.destinations.actito.etlfile import format_value
from reconciler.destinations.actito.executions import EtlEnd, end_of
from reconciler.destinations.errors import PermanentApiError
from reconciler.sandbox.actito import ActitoSandbox
from tests.destinations.actito.conftest import make_adapter, make_client, profile, profile_count

UPDATE = {"table": "Profiles", "mode": "UPDATE_ONLY", "keyAttribute": "customerId"}


def _run(sandbox: ActitoSandbox, path: Path, definition: dict | None = None) -> dict:  # type: ignore[type-arg]
    client = make_client(sandbox)
    execution_id = client.start_etl(definition or UPDATE, path)
    return client.wait_for_etl(execution_id, timeout_seconds=10, poll_seconds=0.05)


def test_quotes_newlines_non_ascii_and_empty_values_round_trip(sandbox: ActitoSandbox) -> None:
    # Scenario: awkward values go through the adapter's CSV writer and come back intact.
    rows = [
        ("C000001", 'Jean "JJ", Jr.', "Line one\nline two"),
        ("C000002", "Zoé 日本 Ñandú", "Müller"),
        ("C000003", "", None),
    ]
    report = make_adapter(sandbox).update_profiles("customerId", ["firstName", "lastName"], rows)
    assert report.executions == 1 and report.updated == 3 and report.rejected == 0
    assert profile(sandbox, "C000001")["firstName"] == 'Jean "JJ", Jr.'  # type: ignore[index]
    assert profile(sandbox, "C000001")["lastName"] == "Line one\nline two"  # type: ignore[index]
    assert profile(sandbox, "C000002")["firstName"] == "Zoé 日本 Ñandú"  # type: ignore[index]
    cleared = profile(sandbox, "C000003")
    assert cleared is not None and cleared["firstName"] is None and cleared["lastName"] is None


def test_update_only_never_creates_profiles(sandbox: ActitoSandbox,
                                            caplog: pytest.LogCaptureFixture) -> None:
    # Scenario: most rows carry keys of no profile; they are rejected, not created; the
    # execution ends WITH_ERROR and is reported with counts and masked samples only.
    before = profile_count(sandbox)
    rows = [("C000001", "Known"), ("NOPE-1", "Ghost"), ("C000004", "Left out"), ("NOPE-2", "X")]
    report = make_adapter(sandbox).update_profiles("customerId", ["firstName"], rows)
    assert profile_count(sandbox) == before
    assert (report.updated, report.rejected, report.unsettled) == (1, 3, True)
    assert [r["line"] for r in report.rejected_lines] == [3, 4, 5]
    reasons = " ".join(r["reason"] for r in report.rejected_lines)
    assert "update only" in reasons and "N****1" in reasons
    execution = next(e.response_json() for e in reversed(sandbox.log.entries())
                     if "/etl-executions/" in e.path)
    assert "NOPE-1" in execution["rejectedLines"][0]["reason"]  # the raw answer quotes it
    warning = next(r.getMessage() for r in caplog.records if "WITH_ERROR" in r.getMessage())
    assert "3 of 4 lines rejected" in warning and "sends them again" in warning
    for raw in ("NOPE-1", "NOPE-2", "C000004"):
        assert raw not in reasons and raw not in caplog.text


def test_success_ends_the_wait_without_another_look(sandbox: ActitoSandbox,
                                                    tmp_path: Path) -> None:
    # Scenario: an execution ends SUCCESS (the documented value): the client stops polling at
    # the first answer saying so, long before its timeout.
    path = tmp_path / "ok.csv"
    path.write_text("customerId,firstName\nC000001,Done\n", encoding="utf-8")
    client = make_client(sandbox)
    execution_id = client.start_etl(UPDATE, path)
    execution = client.wait_for_etl(execution_id, timeout_seconds=60, poll_seconds=0.05)
    assert execution["executionStatus"] == "SUCCESS"
    looks = [e.response_json()["executionStatus"] for e in sandbox.log.entries()
             if e.path.endswith(f"/etl-executions/{execution_id}")]
    assert looks[-1] == "SUCCESS" and looks.count("SUCCESS") == 1
    assert set(looks[:-1]) <= {"RUNNING"}


def test_a_file_with_a_bom_is_rejected(sandbox: ActitoSandbox, tmp_path: Path) -> None:
    # Scenario: a UTF-8 file with a byte order mark, as Excel writes it.
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomerId,firstName\nC000001,Bommed\n")
    execution = _run(sandbox, path)
    assert execution["executionStatus"] == "WITH_ERROR" and "BOM" in execution["errors"][0]
    assert profile(sandbox, "C000001")["firstName"] == "Finn"  # type: ignore[index]


@pytest.mark.parametrize("packing", ["plain", "gzip", "zip"])
def test_plain_gzip_and_zip_files_are_read(sandbox: ActitoSandbox, tmp_path: Path,
                                           packing: str) -> None:
    # Scenario: the same update sent plain, gzipped, and as a zip of one CSV.
    first = b"customerId,firstName\nC000001,Packed\n"
    path = tmp_path / "data.bin"  # the extension plays no part
    if packing == "plain":
        path.write_bytes(first)
    elif packing == "gzip":
        path.write_bytes(gzip.compress(first))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.csv", first)
    execution = _run(sandbox, path)
    assert execution["executionStatus"] == "SUCCESS"
    assert profile(sandbox, "C000001")["firstName"] == "Packed"  # type: ignore[index]


def test_a_zip_of_several_csvs_is_refused(sandbox: ActitoSandbox, tmp_path: Path) -> None:
    # Scenario: the old shared import's zip, one CSV per activation for one table: Actito
    # documents one CSV file per target table, so the sandbox refuses it (400), not counted.
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("1-a.csv", "customerId,firstName\nC000001,Two\n")
        archive.writestr("2-b.csv", "customerId,lastName\nC000001,Files\n")
    with pytest.raises(PermanentApiError, match="one CSV file per target table") as refused:
        make_client(sandbox).start_etl(UPDATE, path)
    assert refused.value.status == 400
    assert profile(sandbox, "C000001")["firstName"] == "Finn"  # type: ignore[index]
    assert sandbox.store.bulk_counts == {}


def test_documented_value_formats_are_checked_per_line(sandbox: ActitoSandbox,
                                                       tmp_path: Path) -> None:
    # Scenario: good and bad dates, decimals, booleans and phone numbers in one file.
    path = tmp_path / "values.csv"
    path.write_text(
        "customerId,lastOrderDate,lifetimeValue,emailConsent,gsmNumber\n"
        "C000001,2026-01-31,12.50,TRUE,+3210458514\n"
        "C000002,31/01/2026,1,Y,\n"
        "C000003,2026-01-31,\"12,5\",1,\n"
        "C000005,2026-01-31,3,maybe,\n"
        "C000006,2026-01-31,3,N,0470123456\n"
        "C000007,2026-01-31\n", encoding="utf-8")
    execution = _run(sandbox, path)
    reasons = {r["line"]: r["reason"] for r in execution["rejectedLines"]}
    assert execution["counters"]["updated"] == 1 and set(reasons) == {3, 4, 5, 6, 7}
    assert "yyyy-MM-dd" in reasons[3] and "decimal" in reasons[4] and "boolean" in reasons[5]
    assert "international" in reasons[6] and "columns" in reasons[7]
    assert profile(sandbox, "C000001")["emailConsent"] is True  # type: ignore[index]
    assert profile(sandbox, "C000001")["lifetimeValue"] == 12.5  # type: ignore[index]


def test_a_header_without_the_key_column_fails_the_execution(sandbox: ActitoSandbox,
                                                             tmp_path: Path) -> None:
    # Scenario: the file's header does not name the key attribute.
    path = tmp_path / "nokey.csv"
    path.write_text("emailAddress,firstName\nfinn.maes1@example.com,X\n", encoding="utf-8")
    execution = _run(sandbox, path)
    assert execution["executionStatus"] == "WITH_ERROR" and "customerId" in execution["errors"][0]


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (True, "TRUE"), (False, "FALSE"), (3, "3"), (12.5, "12.5"), (1e-7, "0.0000001"),
    (1000.0, "1000"),
])
def test_values_are_written_in_the_documented_formats(value: object, text: str) -> None:
    # Scenario: Python values become the ETL's text formats.
    assert format_value(value) == text


@pytest.mark.parametrize(("answer", "end"), [
    ({"executionStatus": "SUCCESS"}, EtlEnd.SUCCESS),
    ({"executionStatus": "WITH_ERROR"}, EtlEnd.WITH_ERROR),
    ({"status": "SUCCESS"}, EtlEnd.SUCCESS),
    ({"status": "FINISHED"}, EtlEnd.SUCCESS),
    ({"status": "ERROR"}, EtlEnd.WITH_ERROR),
    ({"executionStatus": "with_error"}, EtlEnd.WITH_ERROR),
    ({"executionStatus": "RUNNING"}, None),
    ({"status": "QUEUED"}, None),
    ({}, None),
])
def test_an_execution_ends_in_either_spelling_of_either_field(
        answer: dict[str, str], end: EtlEnd | None) -> None:
    # Scenario: the documented SUCCESS / WITH_ERROR and the older FINISHED / ERROR, under
    # `executionStatus` (the webhook's name) or `status`; anything else is still running.
    assert end_of(answer) is end
