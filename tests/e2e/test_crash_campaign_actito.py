"""The crash campaign's second half (see test_crash_campaign.py): the example's apply killed at
Actito's writes (the writer's first call, the ETL trigger and its first status read, a key
file's upload and rename) and while a narrower audience removes members, each followed by one
`apply` and checked against the destinations themselves."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.crashing import KillPoint, killed_then_applied

pytestmark = pytest.mark.slow
POINTS = [
    KillPoint("Actito writer: its first call", "actito", "GET", r"^/auth/token$", 2),
    KillPoint("Actito: the ETL trigger", "actito", "POST", r"/trigger-execution$", 1),
    KillPoint("Actito: the ETL's first status", "actito", "GET", r"/etl-executions/[^/]+$", 1),
    KillPoint("Actito: the first key file's upload", "actito-ftps", "STOR", "", 1),
    KillPoint("Actito: the first key file's rename", "actito-ftps", "RNTO", "", 1),
    KillPoint("Actito: the second key file's upload", "actito-ftps", "STOR", "", 2),
    KillPoint("remove members: call 1", "selligent", "DELETE", r"/segments/[^/]+/data$", 1,
              removals=True),
    KillPoint("remove members: call 2", "selligent", "DELETE", r"/segments/[^/]+/data$", 2,
              removals=True),
    KillPoint("removals: the plan's contact index", "selligent", "POST", r"/data/search$", 1,
              removals=True),
    KillPoint("removals: Actito's table list", "actito", "GET", r"/profile-tables$", 1,
              removals=True),
]


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_an_apply_killed_at_any_point_converges_with_one_more_apply(
        stack: Stack, point: KillPoint) -> None:
    killed_then_applied(stack, point)
