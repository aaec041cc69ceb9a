"""The planner on fakes: the example project's DuckDB source, an empty local state and a fake
observer that says which contacts exist. No sandbox, no HTTP."""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from reconciler.changes.guards import GuardKind
from reconciler.changes.resources import Action, ResourceChange, ResourceType
from reconciler.destinations.base import Structure, load_key_pages
from reconciler.manifests.loading import load_project
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation, effective_activations
from reconciler.planning.plan import Plan
from reconciler.planning.planner import Planner, PlanOptions, Workspace
from reconciler.state import open_state_reader

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


class FakeObserver:
    """A destination where the segment is missing and only `known` contact keys exist."""

    target = "fake org, list CONTACTS"

    def __init__(self, known: list[str]) -> None:
        self.known = known

    def plan_structure(self, activation: EffectiveActivation) -> Structure:
        create = ResourceChange(action=Action.CREATE, type=ResourceType.SELLIGENT_SEGMENT,
                                name=activation.selligent_api_name, reason="not found")
        return Structure(activation.selligent_api_name, (create,))

    def load_contact_index(self, activation: EffectiveActivation,
                           conn: duckdb.DuckDBPyConnection, table: str,
                           desired_table: str) -> None:
        load_key_pages(conn, table, [self.known])

    def load_members(self, activation: EffectiveActivation, conn: duckdb.DuckDBPyConnection,
                     table: str) -> bool:
        return False

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def project() -> Project:
    loaded, _ = load_project(REPO / "manifests")
    return loaded


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace()
    yield space
    space.close()


def _vip_keys(workspace: Workspace) -> list[str]:
    rows = workspace.conn.execute(
        "SELECT customer_id FROM read_csv_auto(?) WHERE lifetime_value >= 1000 "
        "AND email_consent ORDER BY 1", [str(REPO / "manifests" / "data" / "customers.csv")])
    return [row[0] for row in rows.fetchall()]


def _plan(project: Project, settings: dict[str, EffectiveActivation], known: list[str],
          workspace: Workspace, tmp_path: Path) -> Plan:
    reader = open_state_reader(tmp_path / "state.duckdb")
    planner = Planner(project, settings, reader, {"selligent-sandbox": FakeObserver(known)},
                      workspace)
    try:
        return planner.build_plan(PlanOptions(now=NOW, activations=["vip-selligent"]))
    finally:
        planner.close()
        reader.close()


def test_first_plan_adds_the_members_the_destination_knows(project: Project,
                                                          workspace: Workspace,
                                                          tmp_path: Path) -> None:
    # Scenario: no snapshot, the destination knows all but 10 of the VIP audience: the plan
    # creates the segment, adds the known members only, and carries the settings it used.
    settings = effective_activations(project)
    keys = _vip_keys(workspace)
    [planned] = _plan(project, settings, keys[10:], workspace, tmp_path).activations
    assert planned.error is None, planned.error
    assert [r.name for r in planned.resources] == ["VIP_customers"]
    assert planned.members is not None
    assert (planned.members.desired, planned.members.matched) == (len(keys), len(keys) - 10)
    assert (planned.members.adds, planned.members.removes) == (len(keys) - 10, 0)
    assert planned.settings == settings["vip-selligent"] and planned.import_target is None
    assert planned.stops == ()


def test_a_low_match_rate_is_a_typed_verdict(project: Project, workspace: Workspace,
                                            tmp_path: Path) -> None:
    # Scenario: minMatchRate 90% and the destination knows half the audience: the plan holds
    # a GuardStop with the measured rate and the limit, not a sentence.
    base = effective_activations(project)
    vip = base["vip-selligent"]
    strict = dataclasses.replace(vip, warnings=vip.warnings.model_copy(
        update={"min_match_rate": 0.9}))
    keys = _vip_keys(workspace)
    [planned] = _plan(project, {**base, "vip-selligent": strict}, keys[::2], workspace,
                      tmp_path).activations
    [stop] = planned.stops
    assert stop.kind is GuardKind.MIN_MATCH_RATE and stop.limit == 0.9
    assert stop.measured == pytest.approx(len(keys[::2]) / len(keys))


def test_an_audience_of_no_rows_is_a_warning(project: Project, workspace: Workspace,
                                             tmp_path: Path) -> None:
    # Scenario: a segment edit matches no customer: the plan warns that the segment matches 0
    # rows; a right segment whose keys the destination does not know warns about matching.
    base = effective_activations(project)
    manifests = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", manifests)
    segments = manifests / "segments.yaml"
    segments.write_text(segments.read_text("utf-8").replace("gte: 1000", "gte: 99999999"),
                        "utf-8")
    narrowed, _ = load_project(manifests)
    [planned] = _plan(narrowed, effective_activations(narrowed), _vip_keys(workspace),
                      workspace, tmp_path).activations
    assert "segment 'vip-customers' matches 0 rows: the audience is empty" in " ".join(
        planned.warnings), planned.warnings
    [unknown] = _plan(project, base, ["nobody"], workspace, tmp_path).activations
    assert any("none of the audience's" in w and "matches a contact" in w
               for w in unknown.warnings), unknown.warnings
    [fine] = _plan(project, base, _vip_keys(workspace), workspace, tmp_path).activations
    assert not any("0 rows" in w or "none of the audience" in w for w in fine.warnings)


class RecordingSteps:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def started(self, activation: str, step: str) -> None:
        self.events.append(("start", activation, step))

    def finished(self, activation: str, step: str, seconds: float, detail: str) -> None:
        assert seconds >= 0
        self.events.append(("end", activation, f"{step} | {detail}"))


def test_each_planning_step_is_reported_as_it_starts_and_ends(project: Project,
                                                             workspace: Workspace,
                                                             tmp_path: Path) -> None:
    # Scenario: a first plan (no snapshot, the list missing): progress hears the structure,
    # the audience with its row count, the snapshot (none), the contacts and the comparison,
    # each start before its end; the members are not read (the list does not exist).
    keys = _vip_keys(workspace)
    steps = RecordingSteps()
    reader = open_state_reader(tmp_path / "state.duckdb")
    planner = Planner(project, effective_activations(project), reader,
                      {"selligent-sandbox": FakeObserver(keys)}, workspace, steps)
    try:
        planner.build_plan(PlanOptions(now=NOW, activations=["vip-selligent"]))
    finally:
        planner.close()
        reader.close()
    ends = [what for kind, _, what in steps.events if kind == "end"]
    assert ends == [
        "reading selligent-sandbox's lists and fields | ",
        f"reading the audience from source warehouse | {len(keys):,} rows",
        "reading the last applied snapshot | none yet",
        f"reading selligent-sandbox's contacts | contact index: {len(keys):,} keys read in "
        "full (not kept)",
        "comparing | ",
    ]
    assert [kind for kind, _, _ in steps.events] == ["start", "end"] * 5
    assert {activation for _, activation, _ in steps.events} == {"vip-selligent"}


def _with_bad_cell(tmp_path: Path, *, declared: bool) -> Project:
    """The example project with `abc` in one lifetime_value; the Source declaring that
    column's type, or not."""
    manifests = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", manifests)
    customers = manifests / "data" / "customers.csv"
    lines = customers.read_text("utf-8").splitlines(keepends=True)
    cells = lines[7].split(",")
    cells[6] = "abc"  # lifetime_value
    lines[7] = ",".join(cells)
    customers.write_text("".join(lines), "utf-8")
    if not declared:
        sources = manifests / "sources.yaml"
        text = sources.read_text("utf-8")
        assert "        lifetime_value: decimal\n" in text
        sources.write_text(text.replace("        lifetime_value: decimal\n", ""), "utf-8")
    broken, _ = load_project(manifests)
    return broken


def test_one_bad_cell_does_not_make_a_number_comparison_compare_text(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario (issue 15): `abc` in one lifetime_value of customers.csv, whose type the
    # Source does not declare, makes the column text; the VIP segment's `lifetime_value gte
    # 1000` would then compare text. The plan refuses it, at the condition's file:line:col,
    # naming the column's type.
    monkeypatch.chdir(tmp_path)  # positions are shown relative to the working directory
    broken = _with_bad_cell(tmp_path, declared=False)
    [planned] = _plan(broken, effective_activations(broken), _vip_keys(workspace), workspace,
                      tmp_path).activations
    segments = (tmp_path / "manifests" / "segments.yaml").read_text("utf-8").splitlines()
    line = next(n for n, text in enumerate(segments, 1) if "gte: 1000" in text)
    column = segments[line - 1].index("1000") + 1
    assert planned.error == (
        f"manifests/segments.yaml:{line}:{column}: segment 'vip-customers', column "
        "'lifetime_value': gte compares a string column (VARCHAR) with the number 1000; "
        "expected text, in quotes ('1000'); if the column should not be text, some of its "
        "values do not fit its type: declare the column's type in the Source's `columns` (a "
        "value that does not fit is then a bad row, counted and left out) or CAST it in the "
        "model")


def test_a_bad_cell_in_a_declared_column_is_a_bad_row(workspace: Workspace,
                                                     tmp_path: Path) -> None:
    # Scenario: the same cell with the type declared (as the example does): its row is left
    # out and shown as a data issue, masked; the segment still compares numbers.
    broken = _with_bad_cell(tmp_path, declared=True)
    keys = _vip_keys(workspace)
    [planned] = _plan(broken, effective_activations(broken), keys, workspace,
                      tmp_path).activations
    assert planned.error is None, planned.error
    [issue] = planned.data_issues
    assert (issue.kind, issue.count, issue.samples) == (
        "bad source row (customers.lifetime_value: not a decimal)", 1, ("***",))
    assert planned.members is not None
    assert planned.members.desired == len(keys)  # C000007 (106.87) was no VIP anyway
