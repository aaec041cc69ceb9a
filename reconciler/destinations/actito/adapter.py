"""The Actito adapter: what the planner and executor ask of one Actito destination.

It reads (table structure, which keys exist, target lists) and writes (custom attributes,
external target lists and their members, changed attributes of existing profiles). **No method
ever creates a profile**: members are replaced by a key file that only matches existing
profiles, and profile updates run as ETL executions in UPDATE_ONLY mode.

Which keys exist: the adapter picks the cheaper of two strategies, counted in API calls because
the per-minute budget (~100 calls) is what bounds Actito work:
- lookup by unique attribute (v5 `…/profiles/customerId=…`): one call per key, exact, best
  for small sets (a few hundred keys);
- paging the v5 profile listing with only the key attribute: one call per 1000 profiles,
  whatever the audience size; chosen when there are more keys than pages (or when the listing
  announces no total). Its paging is undocumented ([?] evidence §4), so it is read until a
  short or empty page, and a listing that ends below the total it announced is an error: a
  truncated index would make existing profiles look absent. Actito's file exports (Data OUT)
  would scale further but need a second location and are not modelled.
"""
from __future__ import annotations

import itertools
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.destinations.actito import targeting, updates
from reconciler.destinations.actito.client import ActitoClient
from reconciler.destinations.actito.etlfile import write_zipped_csv
from reconciler.destinations.actito.exports import ExportReader, ProfileExport
from reconciler.destinations.actito.limits import ActitoLimits
from reconciler.destinations.actito.models import (
    Attribute,
    AttributeSpec,
    MembershipReport,
    TableStructure,
    TargetList,
    UpdateReport,
)
from reconciler.destinations.actito.polling import poll_delays
from reconciler.destinations.actito.routes import RouteBook
from reconciler.destinations.actito.targeting import ListTarget
from reconciler.destinations.actito.transfer import FileTransferSettings, upload_file
from reconciler.destinations.errors import PermanentApiError
from reconciler.destinations.http import RetryPolicy

log = logging.getLogger(__name__)
MEGABYTE = 1024 * 1024
LOOKUP_CHUNK = 500  # keys looked up per batch of concurrent calls


class ActitoAdapter:
    """One Actito destination: an entity's profile table, reached by API key and a location.

    `base_url` is the environment's host (https://api.actito.com, api1, api3, api-pre1, or a
    sandbox URL); `transfer` is the FTPS/SFTP location the target-list files are dropped on,
    declared in Actito under `location_name` (found by its address when None, else created).
    """

    def __init__(self, *, base_url: str, entity: str, profile_table: str, api_key: str,
                 transfer: FileTransferSettings, location_name: str | None = None,
                 location_id: str | None = None, routes: RouteBook | None = None,
                 export: ProfileExport | None = None,
                 limits: ActitoLimits | None = None, retry: RetryPolicy | None = None,
                 max_file_bytes: int = 100 * MEGABYTE, page_size: int = 1000,
                 etl_timeout_seconds: float = 3600.0, pickup_wait_seconds: float = 30.0,
                 poll_seconds: float = 5.0) -> None:
        """`pickup_wait_seconds`: how long a key file's pickup is watched, on a list managed by
        API only (through an inferred read), before the apply goes on with it unconfirmed."""
        self.routes = routes or RouteBook()
        self.client = ActitoClient(base_url, api_key, entity, limits=limits, retry=retry,
                                   routes=self.routes)
        self.entity, self.table = entity, profile_table
        self.transfer, self.location_name = transfer, location_name
        self.location_id = location_id
        self.export = export
        self.exported = ExportReader(export, transfer, retry) if export else None
        self.limits = limits or ActitoLimits()
        self.retry = retry or RetryPolicy()
        self.max_file_bytes, self.page_size = max_file_bytes, page_size
        self.etl_timeout_seconds = etl_timeout_seconds
        self.pickup_wait_seconds = pickup_wait_seconds
        self.poll_seconds = poll_seconds

    # --- reading -----------------------------------------------------------------------------
    def read_structure(self) -> TableStructure:
        """The profile table's attributes (name, type, valueType, unique, mandatory)."""
        raw = self.client.profile_table(self.table)
        attributes = tuple(Attribute.from_api(a) for a in raw.get("attributes") or [])
        return TableStructure(str(raw.get("id")), str(raw.get("name")), attributes)

    def iter_existing_keys(self, key_attribute: str, keys: Iterable[str], count: int,
                           now: datetime | None = None) -> Iterator[list[str]]:
        """Pages of existing keys for an intersection done elsewhere (e.g. in DuckDB), never
        holding the audience: from the profile export when the destination names one (one
        download, [C]); else `keys` (about `count` of them) are looked up in chunks when that
        needs fewer calls than paging; otherwise every profile's key is paged (a superset of
        the answer: join it with the audience)."""
        if self.exported is not None:
            yield from self.exported.keys(key_attribute, now or datetime.now(UTC))
            return
        if self.routes.inferred(["listProfiles"]) and self.routes.documented_only:
            pages: int | None = count  # the listing is undocumented: look every key up
        else:
            total = announced_total(self.client.profiles_page(self.table, 0, 1,
                                                              [key_attribute]))
            pages = -(-total // self.page_size) if total is not None else None
        if pages is None or count > pages:
            yield from self.iter_keys(key_attribute)
            return
        iterator = iter(keys)
        chunk = list(itertools.islice(iterator, LOOKUP_CHUNK))
        while chunk:
            found = self._looked_up(key_attribute, {str(k) for k in chunk if k not in (None, "")})
            if found:
                yield sorted(found)
            chunk = list(itertools.islice(iterator, LOOKUP_CHUNK))

    def count_profiles(self, key_attribute: str) -> int | None:
        """How many profiles the table holds, from the listing's announced total ([I] route,
        [?] evidence §4); None when the destination keeps to documented routes, reads an
        export (its file is the full read) or the listing announces none."""
        if self.exported is not None or (self.routes.inferred(["listProfiles"])
                                         and self.routes.documented_only):
            return None
        return announced_total(self.client.profiles_page(self.table, 0, 1, [key_attribute]))

    def find_keys(self, key_attribute: str, keys: Sequence[str]) -> list[str]:
        """Of `keys`, those of a profile: the documented lookup by unique attribute, one call
        per key, `max_in_flight` at once ([C] evidence §5), in chunks of LOOKUP_CHUNK."""
        found: list[str] = []
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = {str(k) for k in keys[start:start + LOOKUP_CHUNK] if k not in (None, "")}
            found += sorted(self._looked_up(key_attribute, chunk))
        return found

    def _looked_up(self, key_attribute: str, wanted: set[str]) -> set[str]:
        def exists(key: str) -> bool:
            return self.client.find_profile(self.table, key_attribute, key) is not None

        with ThreadPoolExecutor(max_workers=self.limits.max_in_flight) as pool:
            ordered = sorted(wanted)
            return {k for k, found in zip(ordered, pool.map(exists, ordered), strict=True)
                    if found}

    def iter_keys(self, key_attribute: str) -> Iterator[list[str]]:
        """Every profile's `key_attribute` value, a page (≤ page_size) at a time, for large
        audiences: stream it into the planner's SQL engine rather than into a Python set.
        Pages are read until one is short or empty; PermanentApiError when the listing
        announces no total (a short page could then be a page size limit, not the end) or
        fewer profiles came than it announced: never a silently truncated index."""
        seen, total = 0, None
        for number in itertools.count():
            body = self.client.profiles_page(self.table, number, self.page_size, [key_attribute])
            profiles = body.get("profiles")
            if not isinstance(profiles, list):
                raise PermanentApiError(
                    f"the profile listing of table {self.table} (entity {self.entity}) answered "
                    "without a profiles list", destination="actito", call="GET profiles page")
            seen += len(profiles)
            total = announced_total(body) if total is None else total
            if total is None:
                raise PermanentApiError(
                    f"the profile listing of table {self.table} (entity {self.entity}) announces "
                    "no total (page.totalElements): a page shorter than asked could be a page "
                    "size limit rather than the end, so nothing is planned from it. Read the "
                    "keys from the table's daily export instead (the destination's "
                    "profileExport, documented)", destination="actito", call="GET profiles page")
            values = [str(a["value"]) for p in profiles
                      for a in p.get("attributes") or [] if a.get("name") == key_attribute]
            if values:
                yield values
            if len(profiles) < self.page_size:
                break
        if total is not None and seen < total:
            raise PermanentApiError(
                f"the profile listing of table {self.table} (entity {self.entity}) ended after "
                f"{seen:,} profiles of the {total:,} it announced, in pages of up to "
                f"{self.page_size:,} asked: nothing was planned from a partial index. The "
                "listing's paging is undocumented (Actito may serve smaller pages than asked); "
                "ask Actito for its page size limit and lower the adapter's page_size to it",
                destination="actito", call="GET profiles page")

    def read_target_list(self, target: ListTarget | str) -> TargetList | None:
        """The external target list of `target` (or called so), or None. [I] routes."""
        return targeting.find_list(self.client, target)

    # --- writing -----------------------------------------------------------------------------
    def ensure_attributes(self, specs: Sequence[AttributeSpec]) -> list[str]:
        """Create the custom attributes that are missing; the names created. An existing
        attribute of another value type is an error (Actito cannot change a type)."""
        structure = self.read_structure()
        created = []
        for spec in specs:
            found = structure.attribute(spec.name)
            if found is not None:
                if found.value_type not in (None, spec.value_type.value):
                    raise PermanentApiError(
                        f"attribute {spec.name} is {found.value_type}, not {spec.value_type}; "
                        "Actito cannot change an attribute's type",
                        destination="actito", call="POST profile table attribute")
                continue
            try:
                self.client.create_attribute(self.table, spec.name, spec.value_type.value)
            except PermanentApiError as exc:
                if exc.status != 409:  # 409: a retried POST had already created it
                    raise
            created.append(spec.name)
        return created

    def ensure_target_list(self, target: ListTarget) -> TargetList:
        """[I] routes: the external target list of `target`, keyed by its key attribute, with
        its file synchronization on this adapter's location; created when missing."""
        location_id = targeting.ensure_location(self.client, self.transfer, self.location_id,
                                                self.location_name)
        return targeting.ensure_list(self.client, self.table, target, location_id)

    def delete_target_list(self, name: str) -> bool:
        """[I] routes: delete the external target list `name` (the profiles stay); False when
        it was already gone."""
        return targeting.delete_list(self.client, name)

    def empty_target_list(self, name: str) -> MembershipReport:
        """Drop a key file with no key for the list `name` (default file pattern) so that it
        targets nobody; the list itself stays (deleting one is undocumented). Its header names
        every unique attribute of the table ([C] structure read): whichever the list is keyed
        by, the file has that column ([I] that extra columns are ignored)."""
        header = ",".join(self.read_structure().keys)
        target = ListTarget(name, header, False, targeting.default_pattern(name))
        log.warning("actito: list %r emptied by a key file without keys; delete the list "
                    "itself in the Actito portal (deleting a list is not documented)", name)
        return self.replace_members(target, [])

    def replace_members(self, target: ListTarget, keys: Iterable[str], *,
                        moment: datetime | None = None) -> MembershipReport:
        """Make `keys` the whole membership of `target`'s list by dropping one key file (header
        = the key attribute) on the location, named by the list's file pattern ([C] evidence
        §8: the last file read becomes the list). Keys of no profile are skipped by Actito,
        never created. Whether Actito read the file is confirmed only for a list managed by
        API, through an inferred read, for at most `pickup_wait_seconds`; otherwise the report
        says `confirmed=False` and the counts are what was sent."""
        found = self.read_target_list(target) if target.managed_by_api else None
        if target.managed_by_api and found is None:
            raise PermanentApiError(f"external target list {target.name!r} does not exist; "
                                    "create it with ensure_target_list first",
                                    destination="actito", call="GET external-target-lists")
        remote = targeting.file_name(target.file_pattern, moment or datetime.now(UTC))
        sent = 0
        with tempfile.TemporaryDirectory(prefix="actito-") as folder:
            def rows() -> Iterator[list[str]]:
                nonlocal sent
                for key in keys:
                    if key not in (None, ""):
                        sent += 1
                        yield [key]

            header = found.key_attribute if found is not None else target.key_attribute
            # Attribute names hold no comma: "a,b" is empty_target_list's several columns.
            parts = write_zipped_csv(Path(folder), "keys", header.split(","), rows(),
                                     self.max_file_bytes)
            if len(parts) > 1:
                raise PermanentApiError(f"the key file of {target.name!r} would pass the file "
                                        "size cap", destination="actito",
                                        call="target list file")
            upload_file(self.transfer, parts[0], remote, self.retry)
        unconfirmed = MembershipReport(target.name, remote, sent, sent, 0, confirmed=False)
        if found is None or self.routes.documented_only:
            log.info("actito: key file %s dropped for list %r (%d keys); Actito reads it "
                     "asynchronously, not confirmed", remote, target.name, sent)
            return unconfirmed
        return self._wait_for_file(found, remote) or unconfirmed

    def _wait_for_file(self, found: TargetList, remote: str) -> MembershipReport | None:
        """[I] the list's `lastReport` once Actito read `remote`; None when the wait ends
        first (the apply goes on: the file is there, Actito reads it asynchronously)."""
        name = found.name
        deadline = time.monotonic() + self.pickup_wait_seconds
        delays = poll_delays(self.poll_seconds)
        while True:
            current = targeting.read_list(self.client, found.id)
            report = current.last_report or {}
            if report.get("fileName") == remote:
                if report.get("status") != "OK":
                    raise PermanentApiError(f"Actito refused the key file of {name!r}",
                                            destination="actito", call="target list file",
                                            api_message=str(report.get("error", "")))
                return MembershipReport(name, remote, int(report.get("lines", 0)),
                                        int(report.get("matched", 0)),
                                        int(report.get("unmatched", 0)))
            if time.monotonic() >= deadline:
                log.warning("actito: list %r has not read %s after %.0fs; going on, "
                            "unconfirmed (the next plan or status shows it)", name, remote,
                            self.pickup_wait_seconds)
                return None
            time.sleep(next(delays))

    # --- profile updates: updates.py --------------------------------------------------------
    def update_profiles(self, key_attribute: str, columns: Sequence[str],
                        rows: Iterable[Sequence[Any]], *,
                        etl_id: str | None = None) -> UpdateReport:
        """Write changed attributes of existing profiles (see updates.update_profiles)."""
        return updates.update_profiles(self, key_attribute, columns, rows, etl_id=etl_id)

    def write_update_files(self, folder: Path, header: Sequence[str],
                           rows: Iterable[Sequence[Any]]) -> list[Path]:
        """The zips of one update CSV, each one execution (see updates.write_update_files)."""
        return updates.write_update_files(self, folder, header, rows)

    def run_update_file(self, part: Path, key_attribute: str,
                        on_started: Callable[[str], None] | None = None, *,
                        etl_id: str | None = None) -> UpdateReport:
        """One UPDATE_ONLY ETL execution of `part`, waited for (see updates.run_update_file)."""
        return updates.run_update_file(self, part, key_attribute, on_started, etl_id=etl_id)


    def close(self) -> None:
        """Remove the local copy of the profile export, if one was read."""
        if self.exported is not None:
            self.exported.close()


def announced_total(body: dict[str, Any]) -> int | None:
    """How many profiles a listing page says there are ([?] evidence §4: `page.totalElements`
    [I]), or None when it does not say."""
    page = body.get("page")
    value = page.get("totalElements") if isinstance(page, dict) else None
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None
