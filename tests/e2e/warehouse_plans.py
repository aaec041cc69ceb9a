"""What the `planIn: warehouse` scenarios share: plan some activations and collect their
change sets, compare two such plans, apply."""
from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.manifests.loading import load_project
from reconciler.operations.plans import make_plan
from reconciler.planning.planner import Refresh, Workspace
from tests.e2e.conftest import Stack

FULL_READ = "plans in the warehouse, but this plan read every row"
runner = CliRunner()


def planned_changes(stack: Stack, activations: list[str]) -> dict[str, Any]:
    """Each activation's counts, data issues, warnings and change sets (sorted rows)."""
    project, _ = load_project(stack.manifests)
    workspace = Workspace()
    try:
        run = make_plan(project, activations=activations, refresh=Refresh.NONE,
                        state=str(stack.state), workspace=workspace, clock=stack.clock)
        found: dict[str, Any] = {}
        for planned in run.plan.activations:
            assert planned.error is None, planned.error
            tables = workspace.tables_of(planned.activation)
            sets = {role: sorted(workspace.conn.execute(f'SELECT * FROM "{name}"').fetchall())
                    for role, name in (("adds", tables.adds), ("removes", tables.removes),
                                       ("updates", tables.updates))}
            members = planned.members
            assert members is not None
            found[planned.activation] = {
                "counts": (members.desired, members.matched, members.adds, members.removes,
                           planned.attributes.updates if planned.attributes else None),
                "issues": [(i.kind, i.count) for i in planned.data_issues],
                "sets": sets, "warnings": planned.warnings}
        return found
    finally:
        workspace.close()


def same_plans(local: dict[str, Any], warehouse: dict[str, Any]) -> None:
    assert local.keys() == warehouse.keys()
    for name in local:
        for part in ("counts", "issues", "sets"):
            assert local[name][part] == warehouse[name][part], (name, part)


def full_reads(planned: dict[str, Any]) -> list[str]:
    """The warnings saying a warehouse-side plan read every row."""
    return [w for found in planned.values() for w in found["warnings"] if FULL_READ in w]


def apply_all(stack: Stack, activations: list[str]) -> None:
    applied = runner.invoke(app, ["apply", *stack.cli_args(), "--auto-approve",
                                  *(a for name in activations for a in ("-a", name))])
    assert applied.exit_code == 0, applied.output
