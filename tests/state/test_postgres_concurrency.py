"""The PostgreSQL state store shared by parallel jobs: first use and writes at the same time."""
from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from reconciler.state import LATEST_VERSION, RemoteKind, open_state_reader, open_state_store
from reconciler.state.schema import MIGRATIONS


def _together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_jobs_creating_and_writing_the_store_at_once(
    postgres_url: str, postgres_schema: str
) -> None:
    # Scenario: four matrix jobs start on an empty database and each writes 10 times.
    def job(index: int) -> None:
        with open_state_store(postgres_url, schema=postgres_schema) as store:
            for n in range(10):
                store.set_remote_id("shared", RemoteKind.FIELD, f"id-{index}-{n}", name=f"F{n}")
                store.set_remote_id(f"own-{index}", RemoteKind.SEGMENT, f"seg-{n}")

    assert _together(4, job) == []
    with open_state_reader(postgres_url, schema=postgres_schema) as reader:
        assert reader.serial("shared") == 40
        assert [reader.serial(f"own-{i}") for i in range(4)] == [10, 10, 10, 10]
        assert len(reader.remote_ids("shared")) == 10
    with psycopg.connect(postgres_url) as conn:
        versions = conn.execute(
            f'SELECT count(*), max(version) FROM "{postgres_schema}".schema_version').fetchone()
    assert versions == (len(MIGRATIONS), LATEST_VERSION)  # each migration ran once


def test_reading_creates_no_schema(postgres_url: str, postgres_schema: str) -> None:
    # Scenario: the planner reads a shared store nobody has written to yet.
    with open_state_reader(postgres_url, schema=postgres_schema) as reader:
        assert reader.activations() == ()
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                             [postgres_schema]).fetchone()
    assert found == (0,)
