"""The example project planned and applied against both sandboxes, over real HTTP and FTPS."""
from __future__ import annotations

import datetime as dt
import json
import re

from typer.testing import CliRunner

from reconciler.cli import app
from tests.e2e.conftest import Stack, printed

runner = CliRunner()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_ONLY_POSTS = ("/auth/token", "/data/search")  # searches are POSTs that change nothing


def _plan(stack: Stack, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["plan", *stack.cli_args(), *extra])
    return result.exit_code, printed(result)


def test_first_plan_shows_creations_and_adds_only_and_writes_nothing(stack: Stack) -> None:
    # Scenario: the example project before any apply: lists, fields, attributes, adds.
    code, text = _plan(stack, "--detailed-exitcode")
    assert code == 2, text
    assert "+ static segment VIP_customers (named 'VIP customers')" in text
    assert "+ static segment Churn_risk" in text
    # The Actito lists and churnScore were set up in the portal (data/actito-portal.json):
    # nothing to create there, and the keys come from the daily export, not the profile API.
    assert "external target list" not in text and "attribute churnScore" not in text
    assert "+ field LTV (Float)" in text and "listProfiles" not in text
    assert re.search(r"~ members  \+\d[\d,]* −0   match rate 9\d\.\d%", text)
    assert " −0 " in text and "Drift" not in text and "cannot plan" not in text
    for sandbox in (stack.selligent, stack.actito):
        writes = [e for e in sandbox.log.entries()
                  if e.method in WRITE_METHODS and not e.path.endswith(READ_ONLY_POSTS)]
        assert writes == [], [(e.method, e.path) for e in writes]


def test_apply_converges_then_plan_is_empty(stack: Stack) -> None:
    # Scenario: apply the example project, then a second plan has nothing to do. Its one
    # channel's webhook variable is unset (as in the demo): said before writing, located.
    applied = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert ("Warning: these notification channels cannot be reached (their warnings would "
            "not be delivered):\n  ") in applied.output
    assert ("notifications.yaml:11:8: spec.url: environment variable CRM_ALERTS_WEBHOOK is not "
            "set (needed by notification channel 'crm-alerts')") in applied.output
    assert "Apply complete: 4 applied, 0 failed or stopped." in applied.output
    code, text = _plan(stack, "--detailed-exitcode")
    assert code == 0, text
    assert text == "No changes. The destinations match the manifests.\n"


def test_segment_edit_and_manual_removal_show_exact_changes_and_drift(stack: Stack) -> None:
    # Scenario: after an apply, a condition change gives exact adds/removes, and a member
    # removed by hand in Selligent shows as drift with --refresh.
    assert runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).exit_code == 0
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 1500"), "utf-8")
    code, text = _plan(stack, "-a", "vip-selligent", "--format", "json")
    assert code == 0, text
    members = json.loads(text)["activations"][0]["members"]
    assert members["adds"] == 0 and members["removes"] > 0
    # Remove one member outside the tool, through the API, then refresh.
    from reconciler.destinations.selligent.adapter import SelligentAdapter

    with SelligentAdapter(base_url=stack.selligent.url, organization="SANDBOX",
                          list_api_name="CONTACTS", api_key="sandbox-key",
                          api_secret="sandbox-secret") as adapter:
        first = next(adapter.iter_segment_member_keys("Churn_risk", "EXTERNAL_ID"))[0]
        adapter.remove_segment_members("Churn_risk", "EXTERNAL_ID", [first])
    code, text = _plan(stack, "-a", "churn-selligent", "--refresh")
    assert "1 members removed outside this tool will be added back" in text
    assert "~ members  +1 −0" in text


def test_no_raw_personal_data_in_any_output(stack: Stack) -> None:
    # Scenario: plans in every format and an apply never print an email, phone or raw key.
    outputs = [_plan(stack, "--format", fmt)[1] for fmt in ("text", "json", "markdown")]
    outputs.append(runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).output)
    everything = "\n".join(outputs)
    assert not re.search(r"[\w.]+@example\.(com|org|net)", everything)
    assert not re.search(r"\+32\d{6,}", everything)
    assert not re.search(r"C\d{6}", everything)


def test_saved_plan_applies_exactly_once_and_stale_plans_are_refused(stack: Stack) -> None:
    # Scenario: plan --out, apply the file; applying it again, or after an edit, is refused.
    saved = stack.workdir / "first.plan"
    code, _ = _plan(stack, "--out", str(saved))
    assert code == 0 and saved.is_file()
    applied = runner.invoke(app, ["apply", str(saved), "--state", str(stack.state),
                                  "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 4 applied" in applied.output
    again = runner.invoke(app, ["apply", str(saved), "--state", str(stack.state),
                                "--auto-approve"])
    assert again.exit_code == 1 and "is stale" in again.output
    assert "an apply ran since" in again.output
    second = stack.workdir / "second.plan"
    assert _plan(stack, "--out", str(second))[0] == 0
    segments = stack.manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 900"), "utf-8")
    edited = runner.invoke(app, ["apply", str(second), "--state", str(stack.state),
                                 "--auto-approve"])
    assert edited.exit_code == 1 and "manifest segments.yaml changed" in edited.output


def test_show_members_is_an_explicit_local_opt_in(stack: Stack, monkeypatch) -> None:
    # Scenario: raw sample keys only with --show-members, and never under CI.
    masked = _plan(stack, "-a", "vip-selligent")[1]
    assert re.search(r"e\.g\. C\*{5}\d", masked) and not re.search(r"C\d{6}", masked)
    monkeypatch.setenv("CI", "false")
    shown = _plan(stack, "-a", "vip-selligent", "--show-members")[1]
    assert re.search(r"e\.g\. C\d{6}", shown)
    monkeypatch.setenv("CI", "true")
    code, refused = _plan(stack, "-a", "vip-selligent", "--show-members")
    assert code == 1 and "refused in CI" in refused


def test_apply_reports_progress_as_plain_lines_off_a_terminal(stack: Stack) -> None:
    # Scenario: in CI (no terminal) apply prints one line per confirmed batch, counts only.
    result = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert result.exit_code == 0, result.output
    assert "vip-selligent: applying 304 row changes" in result.output
    assert re.search(r"vip-selligent: add members batch confirmed, 152 rows \(152/304\)",
                     result.output)
    # 814: churn-risk's `olderThan: 180d` on the pinned day (conftest.NOW), whatever today is.
    assert "churn-actito: update profiles batch confirmed, 814 rows" in result.output


def test_progress_counters_never_run_past_their_totals(stack: Stack) -> None:
    # Scenario (issue 17.6): a second apply 30 days on, when a few customers enter churn-risk
    # (`olderThan: 180d`): Actito's member step sends the list's whole file, so its total is
    # the list's members, not the few who entered (it once read 106,152/84,996).
    assert runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).exit_code == 0
    stack.at(stack.clock.now() + dt.timedelta(days=30))
    result = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"])
    assert result.exit_code == 0, result.output
    text = result.output.replace(",", "")
    counters = re.findall(r"\((\d+)/(\d+)\)", text)
    assert counters and all(int(done) <= int(total) for done, total in counters), counters
    assert re.search(r"churn-actito: add members batch confirmed (\d+) rows \(\1/", text), text


def test_an_expired_actito_list_gets_its_file_again(stack: Stack) -> None:
    # Scenario: after an apply, the sandbox's list outlives its validity (no member changed):
    # the plan refreshes its file, apply drops it, and the list targets its members again.
    # Seen through the list's (inferred) read: the list is managed by API here.
    churn = stack.manifests / "activations" / "churn-actito.yaml"
    text = churn.read_text("utf-8")
    churn.write_text(text.replace("targetList: {", "targetList: {manage: api, "), "utf-8")
    assert runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve"]).exit_code == 0
    store = stack.actito.store
    with store.lock:
        record = next(r for r in store.target_lists.values() if r["name"] == "Churn risk")
        record["lastRetrievedEpoch"] -= 3 * 86400
    code, text = _plan(stack, "-a", "churn-actito", "--detailed-exitcode")
    assert code == 2, text
    assert '~ external target list "Churn risk" (drop its key file again)' in text
    assert "its file has expired" in text
    applied = runner.invoke(app, ["apply", *stack.cli_args(), "-a", "churn-actito",
                                  "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    assert _plan(stack, "-a", "churn-actito", "--detailed-exitcode")[0] == 0


def test_a_snapshot_hashed_another_way_resends_attributes_once(stack: Stack) -> None:
    # Scenario: a snapshot written by an older reconciler (md5 hashes, no recorded format):
    # the plan does not compare its hashes, says why, and updates every matched member's
    # attributes once; after that apply the next plan is empty again.
    assert runner.invoke(app, ["apply", *stack.cli_args(), "-a", "vip-selligent",
                               "--auto-approve"]).exit_code == 0
    rows = stack.state_sql(
        "UPDATE snapshots SET attributes_hash = left(md5(member_key), 16) "
        "WHERE activation = 'vip-selligent'",
        "UPDATE snapshot_info SET hash_format = NULL",
        "SELECT members FROM snapshot_info WHERE activation = 'vip-selligent'")
    members = rows[0][0]
    code, text = _plan(stack, "-a", "vip-selligent", "--format", "json")
    planned = json.loads(text)["activations"][0]
    assert (planned["members"]["adds"], planned["members"]["removes"]) == (0, 0), text
    assert planned["attributes"]["updates"] == members
    assert any("made by another version of reconciler or DuckDB" in w
               for w in planned["warnings"]), planned["warnings"]
    assert runner.invoke(app, ["apply", *stack.cli_args(), "-a", "vip-selligent",
                               "--auto-approve"]).exit_code == 0
    assert _plan(stack, "-a", "vip-selligent", "--detailed-exitcode")[0] == 0
