"""Each activation's verdict and the exit code `plan --detailed-exitcode` derives from them."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.cli.plan import exit_code
from reconciler.planning.plan import ActivationPlan, MembershipChange, Plan, Verdict
from reconciler.planning.render import render_text

NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
STOP = GuardStop(kind=GuardKind.MAX_REMOVAL_RATIO, activation="a", measured=0.5, limit=0.1)


def _activation(name: str, adds: int = 0, removes: int = 0, *, stopped: bool = False,
                error: str | None = None) -> ActivationPlan:
    return ActivationPlan(
        activation=name, destination="d", destination_type="selligent", target="t",
        remote_name=name, error=error, stops=(STOP,) if stopped else (),
        members=None if error else MembershipChange(desired=10, matched=10, adds=adds,
                                                    removes=removes))


@pytest.mark.parametrize(("activation", "verdict"), [
    (_activation("same"), Verdict.NO_CHANGES),
    (_activation("adds", adds=3), Verdict.WILL_APPLY),
    (_activation("mass", removes=8, stopped=True), Verdict.BLOCKED),
    (_activation("broken", error="source unreachable"), Verdict.ERROR),
])
def test_each_activation_has_one_verdict(activation: ActivationPlan, verdict: Verdict) -> None:
    # Scenario: in sync, changes to apply, stopped by a guard, not plannable.
    assert activation.verdict is verdict
    assert activation.model_dump(mode="json")["verdict"] == verdict.value


@pytest.mark.parametrize(("activations", "plain", "detailed"), [
    ([_activation("same")], 0, 0),
    ([_activation("same"), _activation("adds", adds=3)], 0, 2),
    ([_activation("adds", adds=3), _activation("mass", removes=8, stopped=True)], 0, 3),
    ([_activation("mass", removes=8, stopped=True), _activation("broken", error="x")], 1, 1),
])
def test_detailed_exit_codes_follow_the_verdicts(activations: list[ActivationPlan],
                                                 plain: int, detailed: int) -> None:
    # Scenario: CI branches on the exit code: 0 in sync, 2 changes, 3 a guard will stop
    # one, 1 an error (whatever else the plan holds).
    plan = Plan(created_at=NOW, activations=tuple(activations))
    assert (exit_code(plan, False), exit_code(plan, True)) == (plain, detailed)


def test_the_summary_counts_blocked_activations() -> None:
    # Scenario: a reviewer reads the summary line of a plan a guard will partly stop.
    plan = Plan(created_at=NOW, activations=(_activation("mass", removes=8, stopped=True),))
    assert plan.summary.activations_blocked == 1
    assert render_text(plan).rstrip().endswith(
        "1 activation(s) will be stopped by a guard (apply --allow-mass-removal to apply them "
        "anyway).")
