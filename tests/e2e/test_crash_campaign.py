"""The crash campaign (issue 17): the example's apply killed with SIGKILL at 20 distinct points,
each followed by one `apply`, then checked against the destinations themselves. This file holds
the points of planning and of Selligent's writes; test_crash_campaign_actito.py the points of
Actito's writes and of removals (two files, so two test workers share the campaign).

A kill point is a request the sandbox holds before answering (its `nth` of a kind), so the
apply is provably at that step when it dies: no sleeps. The points cover planning (the first
reads of either destination), creating segments and fields, adding members, updating profiles
and removing members in Selligent, and, in Actito, the writer's first call, the ETL trigger and
its first status read, and the FTPS server holding a key file's upload (STOR) or its rename
from the temporary name (RNTO). After the kill one
apply must converge: the refreshed plan is empty, each Selligent segment and Actito list holds
exactly the audience's matched members (none lost, none extra, none twice), and every Actito
member has its updated churnScore. The state is DuckDB: where the kill lands is what varies.
"""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.crashing import LIST_LOAD, SEGMENT_LOAD, KillPoint, killed_then_applied
from tests.e2e.test_crash_campaign_actito import POINTS as ACTITO_POINTS

pytestmark = pytest.mark.slow
POINTS = [
    KillPoint("plan: Selligent's fields read", "selligent", "GET", r"/CONTACTS/fields$", 1),
    KillPoint("plan: Selligent's segment read", "selligent", "GET", r"/segments/[^/]+$", 1),
    KillPoint("plan: Selligent's contact index", "selligent", "POST", r"/data/search$", 1),
    KillPoint("plan: Actito's token", "actito", "GET", r"^/auth/token$", 1),
    KillPoint("plan: Actito's table list", "actito", "GET", r"/profile-tables$", 1),
    KillPoint("create: first static segment", "selligent", "POST", r"/segments/static$", 1),
    KillPoint("create: second static segment", "selligent", "POST", r"/segments/static$", 2),
    KillPoint("create: the LTV field", "selligent", "POST", r"/CONTACTS/fields$", 1),
    KillPoint("add members: load 1", "selligent", "POST", SEGMENT_LOAD, 1),
    KillPoint("update profiles: load 1", "selligent", "POST", LIST_LOAD, 1),
]


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_an_apply_killed_at_any_point_converges_with_one_more_apply(
        stack: Stack, point: KillPoint) -> None:
    killed_then_applied(stack, point)


def test_the_campaign_has_twenty_distinct_points() -> None:
    points = [*POINTS, *ACTITO_POINTS]
    assert len({(p.sandbox, p.method, p.path, p.nth, p.removals) for p in points}) >= 20
