"""Which audience keys exist at a destination, from the contact index kept in the state store.

Owns the decision of what a plan reads to know it (see design.md "Scale and speed"): the index
kept from earlier plans, and only the audience keys it does not know checked one by one; or a
full read (every page, or the documented export file) when there is no index, when it is older
than the destination's `indexMaxAge`, when asked (`--refresh`, `--refresh-index`), when an
apply since found contacts gone (its not-found count), or when the destination's record count
moved more than the keys found explain. One read per list or table and key per run, shared by
every activation on it. What was read goes into the plan (`ContactIndexRead`) and, as
`IndexWrite`s, back into the state after the plan; this module never writes the state.
"""
from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import duckdb

from reconciler.destinations.base import DestinationObserver, load_key_pages
from reconciler.destinations.keyindex import IndexedContacts
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import parse_duration
from reconciler.planning.plan import ContactIndexRead, IndexSource
from reconciler.planning.render import describe_age, describe_duration
from reconciler.state import ABSENT, IndexInfo, StateReader, index_id

CHECK_PAGE = 10_000  # keys checked per round trip to the workspace
CHECKED_HOW = "every audience key checked (no full read allowed)"
RECHECK_MOST = 100  # audience keys remembered absent checked again by every plan, at most


@dataclass(frozen=True)
class IndexWrite:
    """What to store after the plan: the rows of workspace table `table` (member_key,
    attributes_hash), the whole index when `full`, else keys checked since."""

    info: IndexInfo
    table: str
    full: bool


@dataclass
class _Loaded:
    table: str  # every known key: member_key, attributes_hash (NULL, or ABSENT)
    added: str  # keys checked this run (written back when the index came from the state)
    read: ContactIndexRead
    info: IndexInfo
    full: bool  # stored as a replacement of the index
    complete: bool  # `table` holds every key at the destination: unknown keys are absent
    rechecked: bool = False  # the audience keys remembered absent were checked this run


@dataclass
class IndexContext:
    """What the index decisions need besides the observer: the state, the moment, the
    destinations' `indexMaxAge`, whether the plan asked for a full read, and the not-found
    counts of applies to a destination since a moment."""

    state: StateReader
    now: dt.datetime
    max_age: Callable[[str], dt.timedelta]
    refresh: bool = False
    not_found_since: Callable[[str, dt.datetime], int] = lambda _d, _t: 0
    clock: Callable[[], float] = time.monotonic


@dataclass
class ContactIndexes:
    """The contact indexes of one plan run, by index id; `writes()` after the plan."""

    context: IndexContext
    conn: duckdb.DuckDBPyConnection
    _loaded: dict[str, _Loaded] = field(default_factory=dict)
    _tables: Iterator[int] = field(default_factory=itertools.count)

    def load(self, settings: EffectiveActivation, observer: DestinationObserver,
             contacts: str, desired: str) -> ContactIndexRead:
        """Fill `contacts(member_key)` with the keys that exist (at least the desired ones);
        what was read for it."""
        if not isinstance(observer, IndexedContacts):
            observer.load_contact_index(settings, self.conn, contacts, desired)
            return ContactIndexRead(source=IndexSource.UNKEPT, keys=_count(self.conn, contacts))
        index = index_id(settings.destination, observer.index_scope(settings),
                         settings.match_key.destination)
        loaded = self._loaded.get(index)
        shared = loaded is not None
        if loaded is None:
            loaded = self._cheaper_in_full(
                self._first_load(index, settings, observer, desired), settings, observer,
                desired)
            self._loaded[index] = loaded
        before = observer.calls_sent
        checked, found = self._settle(loaded, settings, observer, desired)
        calls = observer.calls_sent - before
        if shared:
            read = loaded.read.model_copy(update={
                "checked": checked, "found": found, "check_calls": calls, "shared": True,
                "pages": 0, "read_calls": 0, "seconds": 0.0})
        else:
            read = loaded.read.model_copy(update={
                "checked": loaded.read.checked + checked, "found": loaded.read.found + found,
                "check_calls": loaded.read.check_calls + calls})
            if loaded.read.source is IndexSource.STATE:
                read = self._recheck_absent(loaded, settings, observer, desired, read)
                read = self._counted(loaded, settings, observer, desired, read)
                loaded = self._loaded[index]
        read = read.model_copy(update={"keys": _present(self.conn, loaded.table)})
        if not shared:
            loaded.read = read
        self.conn.execute(f'CREATE OR REPLACE TEMP VIEW "{contacts}" AS SELECT member_key '
                          f'FROM "{loaded.table}" WHERE attributes_hash IS NULL')
        return read

    def writes(self) -> list[IndexWrite]:
        """What to store of each index read or extended by this run."""
        return [IndexWrite(loaded.info, loaded.table if loaded.full else loaded.added,
                           loaded.full) for loaded in self._loaded.values()]

    # -- deciding and reading -------------------------------------------------------------
    def _first_load(self, index: str, settings: EffectiveActivation,
                    observer: IndexedContacts, desired: str) -> _Loaded:
        info = self.context.state.contact_index(index)
        reason = self._full_read_reason(info, settings)
        if reason is None and info is not None:
            return self._from_state(index, info)
        return self._full(index, settings, observer, reason or "no index kept yet")

    def _full_read_reason(self, info: IndexInfo | None,
                          settings: EffectiveActivation) -> str | None:
        context = self.context
        if info is None:
            return "no index kept yet"
        if context.refresh:
            return "asked for (--refresh or --refresh-index)"
        most = context.max_age(settings.destination)
        if info.older_than(most, context.now):
            return (f"read {describe_age(context.now - info.read_at)} ago, older than "
                    f"indexMaxAge ({describe_age(most)})")
        gone = context.not_found_since(settings.destination, info.read_at)
        if gone:
            return (f"an apply since found {gone:,} contacts gone at the destination "
                    "(its not-found count)")
        return None

    def _from_state(self, index: str, info: IndexInfo) -> _Loaded:
        table, added = _names(next(self._tables))
        self.context.state.copy_contact_index_into(index, self.conn, table)
        _rows_table(self.conn, added)
        read = ContactIndexRead(source=IndexSource.STATE, keys=info.keys, read_at=info.read_at,
                                stale=_stale(info, self.context),
                                complete=info.read_how != CHECKED_HOW)
        return _Loaded(table, added, read, info, full=False, complete=False)

    def _full(self, index: str, settings: EffectiveActivation, observer: IndexedContacts,
              reason: str) -> _Loaded:
        """Read every key; without a way to, an empty index whose keys are all checked."""
        conn, now = self.conn, self.context.now
        table, added = _names(next(self._tables))
        _rows_table(conn, added)
        plan = observer.full_read(settings)
        if plan is None:
            _rows_table(conn, table)
            read = ContactIndexRead(source=IndexSource.CHECKED, keys=0, read_at=now,
                                    reason=reason)
            how = CHECKED_HOW
            return _Loaded(table, added, read, _info(index, now, how, None), full=True,
                           complete=False)
        before, started = observer.calls_sent, self.context.clock()
        count = None if plan.file else observer.count_contacts(settings)
        load_key_pages(conn, f"{table}_read", observer.iter_all_keys(settings))
        conn.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT DISTINCT member_key, '
                     f'CAST(NULL AS VARCHAR) AS attributes_hash FROM "{table}_read"')
        conn.execute(f'DROP TABLE "{table}_read"')
        seconds = self.context.clock() - started
        source = IndexSource.EXPORT if plan.file else IndexSource.FULL_READ
        name, made = observer.file_read() or (plan.file, None)
        now = min(now, made) if made is not None else now  # an export is as of its date
        how = (f"the export {name}" if plan.file
               else f"full read: {plan.pages:,} pages in {describe_duration(seconds)}")
        read = ContactIndexRead(source=source, keys=0, read_at=now, pages=plan.pages,
                                complete=True,
                                read_calls=observer.calls_sent - before, seconds=seconds,
                                file=name, reason=reason)
        return _Loaded(table, added, read, _info(index, now, how, count), full=True,
                       complete=True)

    def _cheaper_in_full(self, loaded: _Loaded, settings: EffectiveActivation,
                         observer: IndexedContacts, desired: str) -> _Loaded:
        """An index from the state, unless checking the keys it does not know would cost
        more calls than reading every page (a file would not help: it is as old as it is)."""
        if loaded.read.source is not IndexSource.STATE:
            return loaded
        unknown = int(self.conn.execute(
            f'SELECT count(DISTINCT member_key) FROM "{desired}" WHERE member_key NOT IN '
            f'(SELECT member_key FROM "{loaded.table}")').fetchall()[0][0])
        plan = observer.full_read(settings) if unknown else None
        if plan is None or plan.file is not None or unknown <= plan.calls:
            return loaded
        return self._full(loaded.info.index, settings, observer,
                          f"{unknown:,} new keys to check would take more calls than a full "
                          f"read ({plan.calls:,})")

    def _settle(self, loaded: _Loaded, settings: EffectiveActivation,
                observer: IndexedContacts, desired: str) -> tuple[int, int]:
        """The desired keys the index does not know: absent, after a complete read (nothing
        called); else checked at the destination. (checked, found)."""
        if loaded.complete:
            self.conn.execute(
                f'INSERT INTO "{loaded.table}" SELECT DISTINCT member_key, \'{ABSENT}\' FROM '
                f'"{desired}" WHERE member_key NOT IN (SELECT member_key FROM "{loaded.table}")')
            return 0, 0
        return self._check(loaded, settings, observer, desired, absent_too=False)

    def _check(self, loaded: _Loaded, settings: EffectiveActivation,
               observer: IndexedContacts, desired: str, *, absent_too: bool) -> tuple[int, int]:
        """Check the desired keys the index does not know (with `absent_too`, also those it
        holds as absent) and record the answers. (checked, found)."""
        known = "attributes_hash IS NULL" if absent_too else "TRUE"
        keys = [str(row[0]) for row in self.conn.execute(
            f'SELECT DISTINCT member_key FROM "{desired}" WHERE member_key NOT IN '
            f'(SELECT member_key FROM "{loaded.table}" WHERE {known}) AND member_key NOT IN '
            f'(SELECT member_key FROM "{loaded.added}") ORDER BY 1').fetchall()]
        found_total = 0
        for start in range(0, len(keys), CHECK_PAGE):
            page = keys[start:start + CHECK_PAGE]
            found = set(observer.check_keys(settings, page))
            found_total += len(found)
            rows = [(k, None if k in found else ABSENT) for k in page]
            if absent_too:
                self.conn.execute(f'DELETE FROM "{loaded.table}" WHERE member_key IN '
                                  '(SELECT unnest(?::VARCHAR[]))', [page])
            for table in (loaded.added, loaded.table):
                self.conn.executemany(f'INSERT INTO "{table}" VALUES (?, ?)', rows)
        return len(keys), found_total

    def _recheck_absent(self, loaded: _Loaded, settings: EffectiveActivation,
                        observer: IndexedContacts, desired: str,
                        read: ContactIndexRead) -> ContactIndexRead:
        """Check again the audience keys remembered absent when there are at most
        RECHECK_MOST (contacts created there for them are then seen at once); else say that
        they are seen at the next full read."""
        absent = _absent_desired(self.conn, loaded, desired)
        if not absent:
            return read
        if absent > RECHECK_MOST:
            return read.model_copy(update={"stale": f"{read.stale}; {absent:,} audience keys "
                                           "remembered absent are checked again by the next "
                                           "full read"})
        before = observer.calls_sent
        checked, found = self._check(loaded, settings, observer, desired, absent_too=True)
        loaded.rechecked = True
        return read.model_copy(update={
            "checked": read.checked + checked, "found": read.found + found,
            "check_calls": read.check_calls + observer.calls_sent - before})

    def _counted(self, loaded: _Loaded, settings: EffectiveActivation,
                 observer: IndexedContacts, desired: str,
                 read: ContactIndexRead) -> ContactIndexRead:
        """Compare the destination's record count with what the index explains: fewer
        records than at the last plan plus the keys found means deletions (a full read); more
        may be audience keys recorded absent that now exist (checked again when that costs
        fewer calls than a full read, else a full read)."""
        count = observer.count_contacts(settings)
        if count is None or loaded.info.remote_count is None:
            return read
        moved = count - loaded.info.remote_count
        if moved < read.found:
            return self._replace(loaded, settings, observer, desired, read,
                                 f"the destination holds {read.found - moved:,} records fewer "
                                 "than the index and the keys found explain (deleted there)")
        if moved > read.found and not loaded.rechecked:
            absent = _absent_desired(self.conn, loaded, desired)
            plan = observer.full_read(settings)
            if plan is not None and absent > plan.calls:
                return self._replace(loaded, settings, observer, desired, read,
                                     f"the destination holds {moved - read.found:,} records "
                                     "more than the index and the keys found explain")
            before = observer.calls_sent
            checked, found = self._check(loaded, settings, observer, desired, absent_too=True)
            read = read.model_copy(update={
                "checked": read.checked + checked, "found": read.found + found,
                "check_calls": read.check_calls + observer.calls_sent - before})
        info = loaded.info
        loaded.info = IndexInfo(info.index, info.keys, info.absent, info.read_at, info.read_how,
                                count, self.context.now)
        return read

    def _replace(self, loaded: _Loaded, settings: EffectiveActivation,
                 observer: IndexedContacts, desired: str, checks: ContactIndexRead,
                 reason: str) -> ContactIndexRead:
        """A full read after all (what the checks cost is still said)."""
        index = loaded.info.index
        fresh = self._full(index, settings, observer, reason)
        self._settle(fresh, settings, observer, desired)
        fresh.read = fresh.read.model_copy(update={
            "checked": checks.checked, "found": checks.found,
            "check_calls": checks.check_calls})
        self._loaded[index] = fresh
        return fresh.read


def index_context(state: StateReader, now: dt.datetime, project: Project,
                  settings: Mapping[str, EffectiveActivation], refresh: bool) -> IndexContext:
    """The index decisions' context for a plan of `project` at `now`."""
    specs = {name: d.spec for name, d in project.destinations().items()}

    def max_age(destination: str) -> dt.timedelta:
        return parse_duration(specs[destination].index_max_age)

    where = {name: s.destination for name, s in settings.items()}
    return IndexContext(state, now, max_age, refresh, not_found_counter(state, where))


def not_found_counter(state: StateReader, destinations: Mapping[str, str]
                      ) -> Callable[[str, dt.datetime], int]:
    """The contacts applies to a destination found gone (their not-found counts) since a
    moment; `destinations`: each activation's destination."""
    def since(destination: str, moment: dt.datetime) -> int:
        return sum(int(run.counts.get("members_not_found", 0))
                   for name, where in destinations.items() if where == destination
                   for run in state.runs(name, limit=5) if run.started_at >= moment)
    return since


def _names(number: int) -> tuple[str, str]:
    return f"contact_index_{number}", f"contact_index_{number}_added"


def _rows_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    conn.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" '
                 '(member_key VARCHAR, attributes_hash VARCHAR)')


def _count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(conn.execute(f'SELECT count(DISTINCT member_key) FROM "{table}"').fetchall()[0][0])


def _present(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    """The keys that exist (a key stored twice by two plans at once counts twice: said, not
    used)."""
    return int(conn.execute(f'SELECT count(*) FROM "{table}" '
                            'WHERE attributes_hash IS NULL').fetchall()[0][0])


def _absent_desired(conn: duckdb.DuckDBPyConnection, loaded: _Loaded, desired: str) -> int:
    """The audience keys remembered absent, not checked this run."""
    return int(conn.execute(
        f'SELECT count(DISTINCT member_key) FROM "{loaded.table}" WHERE attributes_hash IS NOT '
        f'NULL AND member_key IN (SELECT member_key FROM "{desired}") AND member_key NOT IN '
        f'(SELECT member_key FROM "{loaded.added}")').fetchall()[0][0])


def _info(index: str, now: dt.datetime, how: str, count: int | None) -> IndexInfo:
    return IndexInfo(index, 0, 0, now, how, count, now)


def _stale(info: IndexInfo, context: IndexContext) -> str:
    """What an index from the state cannot show (said in every plan that uses one)."""
    age = context.now - info.read_at
    return (f"read in full {describe_age(age)} ago: contacts deleted at the destination since "
            "are seen by the next full read, the record count or an apply's not-found count; "
            "the match rate is as of that read")
