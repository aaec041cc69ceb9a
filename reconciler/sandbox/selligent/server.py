"""Starting the Selligent sandbox: its settings, its data directory, a handle to stop it.

`start_selligent_sandbox(SelligentSandboxConfig(...))` is what tests, the demo and
`reconciler sandbox` call. With a data directory the store is read from (or seeded into)
`<data_dir>/selligent/store.json` and every request is appended, without bodies, to
`<data_dir>/selligent/requests.jsonl`; without one, everything stays in memory.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.sandbox.example import example_seed_file
from reconciler.sandbox.http import Faults, RequestLog, SandboxServer
from reconciler.sandbox.selligent import inferred
from reconciler.sandbox.selligent.app import (
    BASE_PATH,
    DEFAULT_ACCOUNT,
    SelligentApp,
    ServiceAccount,
    utc_today,
)
from reconciler.sandbox.selligent.limits import DOCUMENTED_REQUESTS_PER_MINUTE, RateLimiter
from reconciler.sandbox.selligent.seeding import seed_store
from reconciler.sandbox.selligent.store import Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8781
DEFAULT_DATA_DIR = Path(".reconciler/sandbox")
DEFAULT_ORGANIZATION = "SANDBOX"
DEFAULT_LIST = "CONTACTS"
DEFAULT_KEY_FIELD = "EXTERNAL_ID"
# [C, partial: §8] "a default inbound request limit ... limited by a 15 seconds connection
# time-out"; what happens past it is inferred (inferred.py: the connection is closed).
DOCUMENTED_INBOUND_LIMIT_SECONDS = 15.0


@dataclass
class SelligentSandboxConfig:
    """Everything a Selligent sandbox can be told; the defaults are the documented ones.

    The limits (§8 of api/selligent.md): `requests_per_minute` per API key (documented 2,500;
    None: no limit; `Faults.requests_per_second`, when set, adds a shorter per-key window of
    the same 429 shape), `inbound_limit_seconds` per request (documented 15 s; None: none),
    which cuts loads slowed by `seconds_per_1000_rows`. The tenant's unknowns: `max_take`
    (None: pages are not capped), `unknown_segment_status` (404 or 400), `max_rows_per_load`.
    `today` is when service-account keys expire (tests inject a date)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0 picks a free port
    data_dir: Path | None = DEFAULT_DATA_DIR  # None: in memory only, nothing kept
    # Default: the example project's customers. None: an empty audience list.
    seed_file: Path | None = field(default_factory=example_seed_file)
    seed_columns: dict[str, str] = field(default_factory=dict)  # seed field → CSV column
    organization: str = DEFAULT_ORGANIZATION
    list_api_name: str = DEFAULT_LIST
    key_field: str = DEFAULT_KEY_FIELD  # the audience list's field holding the customer id
    accounts: list[ServiceAccount] = field(default_factory=lambda: [DEFAULT_ACCOUNT])
    max_rows_per_load: int | None = inferred.DEFAULT_MAX_ROWS_PER_LOAD
    requests_per_minute: int | None = DOCUMENTED_REQUESTS_PER_MINUTE  # per API key, 60-s window
    max_take: int | None = None  # a tenant capping pages: larger takes answer this many items
    unknown_segment_status: int = 404  # or 400 (undocumented, §8)
    inbound_limit_seconds: float | None = DOCUMENTED_INBOUND_LIMIT_SECONDS
    seconds_per_1000_rows: float = 0.0  # how long data loads and deletes take
    today: Callable[[], dt.date] = utc_today  # for service-account key expiry
    faults: Faults = field(default_factory=Faults)


# The store is saved once no request changed it for SAVE_IDLE_SECONDS, or at the latest
# SAVE_MAX_DELAY_SECONDS after its oldest unsaved change, and on stop. Serialising a 100k-contact
# store holds the interpreter for ~0.2 s: saving every half second during a burst of loads
# would stall the requests behind it, so a busy sandbox saves between bursts.
SAVE_IDLE_SECONDS = 0.5
SAVE_MAX_DELAY_SECONDS = 10.0
SAVE_CHECK_SECONDS = 0.1


class SelligentSandbox:
    """A running sandbox: `.url` is the /Portal/Api base; `.log` and `.store` are live."""

    def __init__(self, server: SandboxServer, store: Store, config: SelligentSandboxConfig) -> None:
        self.server = server
        self.store = store
        self.config = config
        self._stopped = threading.Event()
        self._saver = threading.Thread(target=self._save_changes, daemon=True,
                                       name="selligent-save")
        self._saver.start()

    def _save_changes(self) -> None:
        """Write the store when it changed and is quiet (see SAVE_IDLE_SECONDS): rewriting a
        large store on every request would make the sandbox far slower than the API it stands
        for."""
        while not self._stopped.wait(SAVE_CHECK_SECONDS):
            if self.store.save_due(SAVE_IDLE_SECONDS, SAVE_MAX_DELAY_SECONDS):
                self.store.save_if_changed()

    @property
    def url(self) -> str:
        host = self.config.host if self.config.host not in ("0.0.0.0", "") else "127.0.0.1"
        return f"http://{host}:{self.server.port}{BASE_PATH}"

    @property
    def log(self) -> RequestLog:
        return self.server.log

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def stop(self) -> None:
        self.server.stop()
        self._stopped.set()
        self._saver.join(timeout=5)
        self.store.save_if_changed()

    def trim_log(self, keep: int = 10_000) -> None:
        """Forget the in-memory log once it holds over `keep` exchanges (bodies included); the
        JSONL file of the data directory keeps the history. Long-running sandboxes call it."""
        if len(self.log.entries()) > keep:
            self.log.clear()

    def __enter__(self) -> SelligentSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_store(config: SelligentSandboxConfig) -> Store:
    """The saved store of the data directory, or a newly seeded one (saved at once)."""
    path = config.data_dir / "selligent" / "store.json" if config.data_dir else None
    clock = config.faults.clock
    store = Store.load(path, clock) if path is not None and path.exists() else Store(path, clock)
    with store.lock:
        seed_store(store, config.organization, config.list_api_name, config.seed_file,
                   config.key_field, config.seed_columns)
        org = store.organization(config.organization)
        table = org.list(config.list_api_name) if org else None
        key = table.field(config.key_field) if table else None
        if table is not None and key is not None:
            table.index((key.name,))  # as a tenant's list is indexed on its key: built now
    store.save()
    return store


def start_selligent_sandbox(config: SelligentSandboxConfig | None = None) -> SelligentSandbox:
    """Open (or seed) the store and serve it in background threads; returns the handle."""
    config = config or SelligentSandboxConfig()
    store = open_store(config)
    app = SelligentApp(
        store, config.accounts, config.max_rows_per_load, max_take=config.max_take,
        unknown_segment_status=config.unknown_segment_status,
        seconds_per_1000_rows=config.seconds_per_1000_rows, today=config.today,
    )
    log_path = config.data_dir / "selligent" / "requests.jsonl" if config.data_dir else None
    # The documented per-key rate limit replaces the generic token bucket (and its Retry-After
    # 429): both limits are read on each request, so a running sandbox can be re-tuned.
    limiter = RateLimiter(lambda: config.requests_per_minute, config.faults)
    server = SandboxServer(
        app.router, host=config.host, port=config.port, faults=config.faults,
        log=RequestLog(log_path), admit=limiter.admit,
        time_limit=lambda: config.inbound_limit_seconds,
    )
    return SelligentSandbox(server.start(), store, config)
