"""What a plan reads to know which keys exist (planning/keyindex.py), against a fake destination
that counts its calls and a real DuckDB state store."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.keyindex import FullRead
from reconciler.planning.keyindex import ContactIndexes, IndexContext
from reconciler.planning.plan import IndexSource
from reconciler.state import index_id, open_state_reader, open_state_store

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
PAGE = 100
INDEX = index_id("crm", "list CONTACTS", "ID")


class FakeDestination:
    """Contacts by key; a full read costs one call per page, a check one call per key."""

    def __init__(self, contacts: set[str]) -> None:
        self.contacts = set(contacts)
        self.calls_sent = 0
        self.full_reads = 0
        self.truncate = False  # serve one page fewer than the count, then fail as a client does

    def index_scope(self, activation: Any) -> str:
        return "list CONTACTS"

    def count_contacts(self, activation: Any) -> int:
        self.calls_sent += 1
        return len(self.contacts)

    def full_read(self, activation: Any) -> FullRead:
        pages = -(-len(self.contacts) // PAGE)
        return FullRead(pages=pages, calls=pages)

    def iter_all_keys(self, activation: Any) -> Iterator[list[str]]:
        self.full_reads += 1
        keys = sorted(self.contacts)
        served = keys[:-PAGE] if self.truncate else keys
        for start in range(0, len(served), PAGE):
            self.calls_sent += 1
            yield served[start:start + PAGE]
        if len(served) < len(keys):
            raise PermanentApiError("read fewer records than the list holds",
                                    destination="fake")

    def file_read(self) -> None:
        return None

    def check_keys(self, activation: Any, keys: Sequence[str]) -> list[str]:
        self.calls_sent += len(keys)
        return [k for k in keys if k in self.contacts]


SETTINGS = SimpleNamespace(name="vip", destination="crm", match_key=SimpleNamespace(
    destination="ID"))


def _keys(prefix: str, count: int, start: int = 0) -> set[str]:
    return {f"{prefix}{n:06d}" for n in range(start, start + count)}


def _plan(state: Path, fake: FakeDestination, audience: set[str], *,
          now: dt.datetime = NOW, refresh: bool = False, not_found: int = 0,
          keep: bool = True) -> tuple[Any, set[str]]:
    """One plan's index read of `audience`; what it said and the audience keys it found."""
    conn = duckdb.connect()
    conn.execute("CREATE TABLE desired (member_key VARCHAR)")
    conn.executemany("INSERT INTO desired VALUES (?)", [[k] for k in sorted(audience)])
    with open_state_reader(state) as reader:
        indexes = ContactIndexes(IndexContext(
            reader, now, lambda _d: dt.timedelta(hours=24), refresh,
            lambda _d, _t: not_found), conn)
        read = indexes.load(SETTINGS, fake, "contacts", "desired")  # type: ignore[arg-type]
    found = {row[0] for row in conn.execute(
        "SELECT member_key FROM desired SEMI JOIN contacts USING (member_key)").fetchall()}
    if keep:
        with open_state_store(state) as store:
            for write in indexes.writes():
                store.write_contact_index(write.info, conn, write.table, full=write.full)
    return read, found


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.duckdb"
    open_state_store(path).close()
    return path


def test_a_first_plan_reads_in_full_and_the_next_checks_only_new_keys(state: Path) -> None:
    # Scenario: 20,000 contacts, an audience of 500 of them and 150 unknown keys (more than a
    # plan checks again): the first plan reads 200 pages; the next (an hour later) reads
    # nothing but the count, and after 30 new audience keys (10 of them new contacts) checks
    # exactly those 30, one call each.
    fake = FakeDestination(_keys("c", 20000))
    audience = _keys("c", 500) | _keys("u", 150)
    read, found = _plan(state, fake, audience)
    assert (read.source, read.pages, read.keys, fake.full_reads) == (IndexSource.FULL_READ,
                                                                       200, 20000, 1)
    assert found == _keys("c", 500)
    fake.contacts |= _keys("n", 10)
    before = fake.calls_sent
    audience |= _keys("n", 10) | _keys("x", 20)
    read, found = _plan(state, fake, audience, now=NOW + dt.timedelta(hours=1))
    assert read.source is IndexSource.STATE and fake.full_reads == 1
    assert (read.checked, read.found, read.check_calls) == (30, 10, 30)
    assert fake.calls_sent - before == 31  # the 30 checks and the record count
    assert found == _keys("c", 500) | _keys("n", 10)
    assert read.read_at == NOW and read.keys == 20010
    assert read.stale is not None and "150 audience keys remembered absent" in read.stale
    before = fake.calls_sent
    read, _ = _plan(state, fake, audience, now=NOW + dt.timedelta(hours=2))
    assert (read.checked, fake.calls_sent - before) == (0, 1)  # known absent: not again


def test_more_new_keys_than_pages_are_read_in_full(state: Path) -> None:
    # Scenario: 2,000 contacts (20 pages) and, an hour after the first plan, 50 new audience
    # keys: checking them would take 50 calls, a full read 20: the plan reads in full.
    fake = FakeDestination(_keys("c", 2000))
    _plan(state, fake, _keys("c", 100))
    fake.contacts |= _keys("n", 50)
    read, found = _plan(state, fake, _keys("c", 100) | _keys("n", 50),
                        now=NOW + dt.timedelta(hours=1))
    assert read.source is IndexSource.FULL_READ and fake.full_reads == 2
    assert "50 new keys to check would take more calls" in (read.reason or "")
    assert read.checked == 0 and found == _keys("c", 100) | _keys("n", 50)


@pytest.mark.parametrize(("later", "refresh", "not_found", "why"), [
    (dt.timedelta(hours=25), False, 0, "older than indexMaxAge"),
    (dt.timedelta(hours=1), True, 0, "--refresh-index"),
    (dt.timedelta(hours=1), False, 3, "not-found count"),
])
def test_a_stale_asked_or_contradicted_index_is_read_in_full(
        state: Path, later: dt.timedelta, refresh: bool, not_found: int, why: str) -> None:
    # Scenario: the index is older than indexMaxAge, or the plan asks for a full read, or an
    # apply since found contacts gone: the next plan reads every key again and says why.
    fake = FakeDestination(_keys("c", 300))
    _plan(state, fake, _keys("c", 50))
    read, _ = _plan(state, fake, _keys("c", 50), now=NOW + later, refresh=refresh,
                    not_found=not_found)
    assert read.source is IndexSource.FULL_READ and fake.full_reads == 2
    assert read.reason is not None and why in read.reason


def test_deletions_and_creations_at_the_destination_are_seen_by_the_count(state: Path) -> None:
    # Scenario: 0.5% of contacts deleted and as many created there, the new ones entering the
    # audience too: the count explains fewer records than the index and the keys found, so
    # the plan reads in full and finds exactly the audience keys that exist.
    fake = FakeDestination(_keys("c", 2000))
    audience = _keys("c", 400)
    _plan(state, fake, audience)
    fake.contacts -= _keys("c", 10, start=0)  # 10 members' contacts deleted
    fake.contacts |= _keys("n", 10)  # 10 new contacts, new audience keys
    audience |= _keys("n", 10)
    read, found = _plan(state, fake, audience, now=NOW + dt.timedelta(hours=1))
    assert read.source is IndexSource.FULL_READ and "deleted there" in (read.reason or "")
    assert (read.checked, read.found) == (10, 10)
    assert found == audience & fake.contacts


def test_changes_the_count_cannot_show_leave_the_plan_saying_so(state: Path) -> None:
    # Scenario: as many contacts deleted as created outside the audience: the count does not
    # move, so the plan keeps the index from the state and says what it cannot see.
    fake = FakeDestination(_keys("c", 2000))
    _plan(state, fake, _keys("c", 400))
    fake.contacts -= _keys("c", 10)
    fake.contacts |= _keys("z", 10)
    read, found = _plan(state, fake, _keys("c", 400), now=NOW + dt.timedelta(hours=1))
    assert read.source is IndexSource.STATE
    assert read.stale is not None and "deleted at the destination since" in read.stale
    assert found == _keys("c", 400)  # as of the full read an hour ago


@pytest.mark.parametrize(("contacts", "absent"), [(2000, 8), (20000, 150)])
def test_new_contacts_among_keys_known_absent_are_found(state: Path, contacts: int,
                                                        absent: int) -> None:
    # Scenario: audience keys absent at the full read, 5 of them then created at the
    # destination: 8 are few enough to be checked again by every plan; 150 are not, but the
    # record count grew by 5 that no key found explains, so they are checked again (fewer
    # calls than a full read). Either way the 5 are found without a full read.
    fake = FakeDestination(_keys("c", contacts))
    audience = _keys("c", 100) | _keys("u", absent)
    _plan(state, fake, audience)
    fake.contacts |= _keys("u", 5)
    read, found = _plan(state, fake, audience, now=NOW + dt.timedelta(hours=1))
    assert read.source is IndexSource.STATE and fake.full_reads == 1
    assert (read.checked, read.found) == (absent, 5)
    assert found == _keys("c", 100) | _keys("u", 5)


def test_a_truncated_read_fails_the_plan_and_keeps_the_index(state: Path) -> None:
    # Scenario: a full read that ends a page short of the record count fails the plan; the
    # index kept in the state is the previous one, not a smaller one.
    fake = FakeDestination(_keys("c", 1000))
    _plan(state, fake, _keys("c", 100))
    fake.truncate = True
    with pytest.raises(PermanentApiError):
        _plan(state, fake, _keys("c", 100), now=NOW + dt.timedelta(hours=30))
    with open_state_reader(state) as reader:
        info = reader.contact_index(INDEX)
    assert info is not None and (info.keys, info.read_at) == (1000, NOW)


def test_activations_on_one_list_share_one_read(state: Path) -> None:
    # Scenario: two activations on the same list and key in one run: one full read; the
    # second's keys not in it are absent without a call.
    fake = FakeDestination(_keys("c", 500))
    conn = duckdb.connect()
    for table, keys in (("a", _keys("c", 100)), ("b", _keys("c", 50, 400) | _keys("u", 5))):
        conn.execute(f"CREATE TABLE {table} (member_key VARCHAR)")
        conn.executemany(f"INSERT INTO {table} VALUES (?)", [[k] for k in sorted(keys)])
    with open_state_reader(state) as reader:
        indexes = ContactIndexes(IndexContext(reader, NOW, lambda _d: dt.timedelta(days=1)),
                                 conn)
        first = indexes.load(SETTINGS, fake, "ca", "a")  # type: ignore[arg-type]
        calls = fake.calls_sent
        second = indexes.load(SETTINGS, fake, "cb", "b")  # type: ignore[arg-type]
    assert fake.full_reads == 1 and fake.calls_sent == calls
    assert not first.shared and second.shared and second.check_calls == 0
    assert conn.execute("SELECT count(*) FROM b SEMI JOIN cb USING (member_key)"
                        ).fetchall()[0][0] == 50


class ExportDestination(FakeDestination):
    """Its full read is a file made at `made` (as Actito's daily export), with no count."""

    def __init__(self, contacts: set[str], made: dt.datetime) -> None:
        super().__init__(contacts)
        self.made = made

    def count_contacts(self, activation: Any) -> None:
        return None

    def full_read(self, activation: Any) -> FullRead:
        return FullRead(pages=1, calls=0, file="profiles_$yyyyMMdd.csv")

    def file_read(self) -> tuple[str, dt.datetime]:
        return f"profiles_{self.made:%Y%m%d}.csv", self.made

    def iter_all_keys(self, activation: Any) -> Iterator[list[str]]:
        self.full_reads += 1
        yield sorted(self.contacts)  # one file: no call


def test_an_index_read_from_an_export_is_as_old_as_the_export(state: Path) -> None:
    # Scenario: the export read was made 20 h before the plan: the index says so (source,
    # file, read_at), and a plan 5 h later (25 h after the export) reads it in full again.
    made = NOW - dt.timedelta(hours=20)
    fake = ExportDestination(_keys("c", 300), made)
    read, found = _plan(state, fake, _keys("c", 50))
    assert (read.source, read.file, read.read_at) == (IndexSource.EXPORT,
                                                      f"profiles_{made:%Y%m%d}.csv", made)
    assert found == _keys("c", 50) and fake.calls_sent == 0
    read, _ = _plan(state, fake, _keys("c", 50), now=NOW + dt.timedelta(hours=5))
    assert read.source is IndexSource.EXPORT and "older than indexMaxAge" in (read.reason or "")
