"""Starting and stopping the whole Actito sandbox in-process: the REST API, the FTPS and SFTP
servers, the file synchronization poller, the store and the request log.

`start_actito_sandbox(config)` is what tests, the demo and `reconciler sandbox` call.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from reconciler.sandbox.actito import inferred
from reconciler.sandbox.actito.app import register_model
from reconciler.sandbox.actito.auth import TokenIssuer, guarded, token_route
from reconciler.sandbox.actito.config import ActitoSandboxConfig
from reconciler.sandbox.actito.etl import WITH_ERROR, register_etl
from reconciler.sandbox.actito.exports import ProfileExports, read_exports
from reconciler.sandbox.actito.ftps import FtpsServer, ensure_certificate
from reconciler.sandbox.actito.profiles import register_profiles
from reconciler.sandbox.actito.routing import Routes
from reconciler.sandbox.actito.seeding import own_locations, seed_store
from reconciler.sandbox.actito.sftp import SftpServer, ensure_host_key
from reconciler.sandbox.actito.store import Store, load_store
from reconciler.sandbox.actito.targetlists import TargetListSync
from reconciler.sandbox.actito.transferroutes import register_transfer_routes
from reconciler.sandbox.http import Faults, LogEntry, RequestLog, Router, SandboxServer


@dataclass(frozen=True)
class TransferEndpoint:
    """How to reach one of the sandbox's file transfer servers."""

    protocol: str  # "ftps" | "sftp"
    host: str
    port: int
    username: str
    password: str | None
    ca_file: Path | None = None  # FTPS: the self-signed certificate to trust
    host_key: str | None = None  # SFTP: "ssh-rsa AAAA…" to trust
    root: Path | None = None  # the local folder behind the user's home


class ActitoSandbox:
    """A running sandbox; `stop()` ends every server it started."""

    def __init__(self, config: ActitoSandboxConfig, store: Store, api: SandboxServer,
                 ftps: FtpsServer, sftp: SftpServer, syncer: TargetListSync,
                 issuer: TokenIssuer, certificate: Path, routes: Routes,
                 exports: ProfileExports) -> None:
        self.config, self.store, self.syncer, self.issuer = config, store, syncer, issuer
        self.routes, self.exports = routes, exports
        self._api, self._ftps, self._sftp = api, ftps, sftp
        self._stopped = threading.Event()
        root = syncer.transfer_root
        first_ftps, first_sftp = config.ftps_users[0], config.sftp_users[0]
        self.ftps = TransferEndpoint("ftps", config.host, ftps.port, first_ftps.username,
                                     first_ftps.password, ca_file=certificate,
                                     root=root / "ftps" / first_ftps.username)
        host_key = f"{sftp.host_key.get_name()} {sftp.host_key.get_base64()}"
        self.sftp = TransferEndpoint("sftp", config.host, sftp.port, first_sftp.username,
                                     first_sftp.password, host_key=host_key,
                                     root=root / "sftp" / first_sftp.username)
        self._poller = threading.Thread(target=self._poll, daemon=True, name="actito-sync")
        self._poller.start()

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self._api.port}"

    @property
    def log(self) -> RequestLog:
        return self._api.log

    @property
    def faults(self) -> Faults:
        return self._api.faults

    @property
    def ftps_server(self) -> FtpsServer:
        """The FTPS server (its `before_command` seam)."""
        return self._ftps

    def undocumented_requests(self) -> list[LogEntry]:
        """The requests served so far that reached a route no public source documents."""
        return [e for e in self.log.entries()
                if e.path != "/auth/token" and not self.routes.is_documented(e.method, e.path)]

    def trim_log(self, keep: int = 10_000) -> None:
        """Forget the in-memory log past `keep` exchanges (requests.jsonl keeps the history)."""
        if len(self.log.entries()) > keep:
            self.log.clear()

    def _poll(self) -> None:
        while not self._stopped.wait(self.config.sync_poll_seconds):
            self.syncer.scan()
            self.exports.run_due()

    def stop(self) -> None:
        self._stopped.set()
        self._api.stop()
        self._ftps.stop()
        self._sftp.stop()
        self._poller.join(timeout=5)
        self.store.save()

    def __enter__(self) -> ActitoSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def open_store(config: ActitoSandboxConfig) -> Store:
    """The persisted store, or a freshly seeded one (saved at once when persisting)."""
    path = config.actito_dir / "store.json" if config.persist else None
    store = load_store(path) if path is not None else None
    if store is None:
        store = Store(path=path)
        with store.deferred():
            seed_store(config, store)
            store.save()
    for execution in store.etl_executions.values():
        if execution.get(inferred.ETL_STATUS_FIELD) == inferred.ETL_RUNNING:
            execution.update({inferred.ETL_STATUS_FIELD: WITH_ERROR,
                              "errors": ["interrupted by a restart"]})
    return store


def _faults(config: ActitoSandboxConfig) -> Faults:
    return Faults(latency_ms=config.latency_ms, error_ratio=config.error_ratio,
                  drop_ratio=config.drop_ratio, max_in_flight=config.max_in_flight,
                  throttle_per_minute=config.calls_per_minute, seed=config.fault_seed)


def start_actito_sandbox(config: ActitoSandboxConfig | None = None) -> ActitoSandbox:
    """Start the API, FTPS and SFTP servers on 127.0.0.1 (ports 0 = free ports)."""
    config = config or ActitoSandboxConfig()
    folder = config.actito_dir
    store = open_store(config)
    syncer = TargetListSync(store, folder / "transfer", config.clock)
    router = Router(inferred.error_body)
    issuer = TokenIssuer(config.api_key, config.token_ttl_seconds,
                         clock=lambda: config.clock.now().timestamp())
    router.add("GET", "/auth/token", token_route(router, issuer))
    routes = Routes(router, guarded(router, issuer), store, config)
    register_model(routes)
    register_profiles(routes)
    register_etl(routes)
    register_transfer_routes(routes, syncer)
    log = RequestLog(folder / "requests.jsonl" if config.persist else None)
    api = SandboxServer(router, host=config.host, port=config.port, faults=_faults(config),
                        log=log)
    certificate = ensure_certificate(folder)
    ftps = FtpsServer(config.host, config.ftps_port, folder / "transfer" / "ftps",
                      config.ftps_users, certificate, syncer.scan)
    sftp = SftpServer(config.host, config.sftp_port, folder / "transfer" / "sftp",
                      config.sftp_users, ensure_host_key(folder), syncer.scan)
    api.start()
    ftps.start()
    sftp.start()
    with store.deferred():
        own_locations(store, config.host, {
            "FTPS": (ftps.port, config.ftps_users[0].username),
            "SFTP": (sftp.port, config.sftp_users[0].username),
        })
        exports = ProfileExports(store, syncer, config.clock, read_exports(config.portal_file))
        exports.run_due()
    return ActitoSandbox(config, store, api, ftps, sftp, syncer, issuer, certificate, routes,
                         exports)
