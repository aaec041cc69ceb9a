"""Actito's daily import budget end to end: shared ETL executions, deferral, next-day catch-up."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox.actito.etl import split_multipart
from reconciler.sandbox.http import Request
from tests.e2e.conftest import Stack, one_shot_imports, printed, set_actito_limit

runner = CliRunner()
STATE_BACKENDS = ("duckdb",)  # a destination's behaviour: see tests/e2e/conftest.py
DAY1 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _activation(name: str, segment: str, audience: str, source: str, schedule: str) -> str:
    """An Actito activation keyed by customerId that writes `source` into lifetimeValue."""
    return (f"apiVersion: reconciler/v1\nkind: Activation\nmetadata: {{name: {name}}}\n"
            f"spec:\n  segment: {segment}\n  destination: actito-sandbox\n"
            f"  audienceName: {audience}\n"
            "  matchKey: {source: customer_id, destination: customerId}\n"
            f"  fields: [{{source: {source}, destination: lifetimeValue}}]\n"
            f"  schedule: {schedule}\n")


VIP_ACTITO = _activation("vip-actito", "vip-customers", "VIP customers", "lifetime_value",
                         "{every: 1h}")
CONFLICTING = _activation("churn-ltv-actito", "churn-risk", "Churn LTV", "order_count", "manual")


def _budgeted(stack: Stack, per_day: int) -> None:
    """A second Actito activation keyed like churn-actito, and a smaller daily budget."""
    (stack.manifests / "activations" / "vip-actito.yaml").write_text(VIP_ACTITO, "utf-8")
    set_actito_limit(stack.manifests, "bulkImportsPerDay", per_day)


def _cli(stack: Stack, command: str, now: dt.datetime, *extra: str) -> tuple[int, str]:
    args = [command, *(["--due"] if command == "run" else []), *stack.at(now).cli_args(),
            *extra]
    result = runner.invoke(app, args)
    return result.exit_code, printed(result)


def _etl_posts(stack: Stack) -> int:
    return sum(1 for e in stack.actito.log.entries()
               if e.method == "POST"
               and e.path.endswith(("/etl-executions", "/trigger-execution")))


def _csv_names(request: Request) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(split_multipart(request)["inputFile"])) as archive:
        return archive.namelist()


def _vip_keys(stack: Stack) -> list[str]:
    with (stack.manifests / "data" / "customers.csv").open(encoding="utf-8") as file:
        return [row["customer_id"] for row in csv.DictReader(file)
                if float(row["lifetime_value"] or 0) >= 1000 and row["email_consent"] == "true"]


def _set_values(stack: Stack, values: dict[str, str]) -> None:
    path: Path = stack.manifests / "data" / "customers.csv"
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        row["lifetime_value"] = values.get(row["customer_id"], row["lifetime_value"])
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _remote_value(stack: Stack, key: str) -> float | None:
    entity = stack.actito.store.entity("sandbox")
    assert entity is not None
    table = entity.table("Profiles")
    assert table is not None
    pid = table.find("customerId", key)
    value = table.profiles[pid].get("lifetimeValue") if pid is not None else None
    return None if value is None else float(value)



@pytest.fixture(autouse=True)
def _one_shot(stack: Stack) -> None:
    """These scenarios are about one-shot executions (the example triggers ETL 601)."""
    one_shot_imports(stack.manifests)

def test_budget_defers_updates_but_not_members_until_the_next_day(stack: Stack) -> None:
    # Scenario: two activations set other attributes of one table: an import of one CSV each;
    # the budget of 3 runs out; members still sync, updates wait (plan and status say so);
    # the next UTC day they go out and plan is empty.
    _budgeted(stack, per_day=3)
    files: list[list[str]] = []
    stack.actito.faults.before_answer = lambda request: files.extend(
        [_csv_names(request)] if request.path.endswith("/etl-executions") else [])
    code, first = _cli(stack, "run", DAY1)
    assert code == 0, first
    assert _etl_posts(stack) == 2 and files == [["data.csv"], ["data.csv"]]
    keys = [k for k in _vip_keys(stack) if _remote_value(stack, k) is not None]
    changed, leaving = keys[:3], keys[3]
    _set_values(stack, {key: "5001.5" for key in changed})
    code, second = _cli(stack, "run", DAY1 + dt.timedelta(hours=1, minutes=5))
    assert code == 0 and "vip-actito: applied" in second, second
    assert _etl_posts(stack) == 3 and _remote_value(stack, changed[0]) == 5001.5

    later = DAY1 + dt.timedelta(hours=2, minutes=10)
    _set_values(stack, {**{key: "7002.25" for key in changed}, leaving: "10"})
    code, plan = _cli(stack, "plan", later, "-a", "vip-actito")
    slot = ("attribute updates wait for the next import slot (3/3 ETL imports used on table "
            "Profiles today; next slot 2026-11-28 00:00 UTC)")
    assert code == 0 and slot in plan, plan
    code, third = _cli(stack, "run", later)
    assert code == 0 and "vip-actito: applied; members" in third and slot in third, third
    assert _etl_posts(stack) == 3 and _remote_value(stack, changed[0]) == 5001.5
    code, status = _cli(stack, "status", later, "--format", "json")
    vip = next(a for a in json.loads(status)["activations"] if a["activation"] == "vip-actito")
    assert vip["deferred_updates"]["until"] == "2026-11-28T00:00:00+00:00"
    assert vip["import_budget"] == {"used": 3, "budget": 3, "table": "Profiles",
                                    "day": "2026-11-27", "refused": False}
    assert vip["last_run"]["counts"]["updates_deferred"] == 3
    code, text = _cli(stack, "status", later)
    assert "3/3 ETL imports used on table Profiles today" in text, text
    assert "attribute updates deferred (3 profiles) until 2026-11-28 00:00 UTC" in text

    day2 = dt.datetime(2026, 11, 28, 0, 5, tzinfo=dt.UTC)
    code, fourth = _cli(stack, "run", day2)
    assert code == 0 and "sync vip-actito" in fourth, fourth
    assert _etl_posts(stack) == 4 and _remote_value(stack, changed[0]) == 7002.25
    code, final = _cli(stack, "plan", day2 + dt.timedelta(minutes=1), "-a", "vip-actito",
                       "--detailed-exitcode")
    assert code == 0, final


def test_a_quota_refused_by_actito_defers_and_is_counted(stack: Stack) -> None:
    # Scenario: Actito itself answers 429 (its quota is shared with other tools): the updates
    # wait for the next day and the ledger marks today as used up.
    _budgeted(stack, per_day=12)
    stack.actito.config.bulk_imports_per_day = 0
    code, first = _cli(stack, "run", DAY1)
    assert code == 0, first
    assert "Actito refused one: its quota is used up" in first, first
    code, status = _cli(stack, "status", DAY1, "--format", "json")
    churn = next(a for a in json.loads(status)["activations"] if a["activation"] == "churn-actito")
    assert churn["import_budget"]["refused"] is True
    assert churn["deferred_updates"]["until"] == "2026-11-28T00:00:00+00:00"



def test_two_activations_setting_one_attribute_differently_are_a_plan_error(
        stack: Stack) -> None:
    # Scenario: vip-actito and churn-ltv-actito both write lifetimeValue, from other columns,
    # to profiles in both audiences: whichever import ran last would win; plan says so.
    _budgeted(stack, per_day=12)
    (stack.manifests / "activations" / "churn-ltv-actito.yaml").write_text(CONFLICTING, "utf-8")
    code, text = _cli(stack, "plan", DAY1, "-a", "vip-actito", "-a", "churn-ltv-actito",
                      "-a", "churn-actito")
    assert code == 1, text
    assert "sets lifetimeValue of " in text and "than activation churn-ltv-actito" in text
    assert "than activation vip-actito, and both update table Profiles in this run" in text
    assert "C0" not in text  # counts only, no customer key
    result = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    out = result.output
    assert result.exit_code == 1 and "vip-actito: failed" in out, out
    assert "churn-ltv-actito: failed" in out and "churn-actito: applied" in out
    assert _etl_posts(stack) == 1  # churn-actito's updates still went out, alone
