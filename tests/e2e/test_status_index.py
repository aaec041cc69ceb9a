"""`reconciler status` says what each activation's contact index holds and when it was read in
full, and when it is older than the destination's `indexMaxAge` (issue 14). On both state
backends: the indexes are read from the store as it keeps them."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import NOW, Stack, printed

runner = CliRunner()


def _status(stack: Stack, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["status", *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def test_status_shows_each_contact_index_and_when_it_is_stale(stack: Stack) -> None:
    # Scenario: before any plan no index is kept; after an apply each activation shows its
    # destination's index for its match key (the keys the plan found, how it read them);
    # two days later (indexMaxAge 24h by default) status says the next plan reads it again.
    code, text = _status(stack)
    assert code == 0, text
    assert "  contacts  no contact index kept" in text
    planned = runner.invoke(app, ["plan", *stack.cli_args(), "--format", "json"])
    reads = {a["activation"]: a["contact_index"]
             for a in json.loads(printed(planned))["activations"]}
    assert runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).exit_code == 0
    code, text = _status(stack, "--format", "json")
    assert code == 0, text
    shown: dict[str, Any] = {a["activation"]: a["contact_index"]
                             for a in json.loads(text)["activations"]}
    selligent, actito = shown["vip-selligent"], shown["sms-actito"]
    assert selligent is not None and actito is not None, shown
    assert selligent == shown["churn-selligent"]  # one index per list and key: shared
    assert selligent["keys"] > 1000 and not selligent["stale"]
    assert selligent["read_at"] == NOW.isoformat()
    assert reads["vip-selligent"]["keys"] <= selligent["keys"]
    assert "export" in actito["read_how"], actito
    code, text = _status(stack.at(NOW + dt.timedelta(days=1)), "--format", "json")
    assert code == 0, text  # exactly indexMaxAge old: a plan still uses it, as status says
    at_limit = {a["activation"]: a for a in json.loads(text)["activations"]}
    assert not at_limit["vip-selligent"]["contact_index"]["stale"]
    code, text = _status(stack.at(NOW + dt.timedelta(days=2)))
    assert code == 0, text
    line = next(t for t in text.splitlines()
                if t.startswith("  contacts  ") and "keys" in t)
    assert f"{selligent['keys']:,} keys" in text
    assert "older than indexMaxAge: the next plan reads it in full again" in line, text
