"""The Actito sandbox's settings: addresses, credentials, documented limits and fault knobs.

Defaults are the documented ones (Actito's limits, the README's ports); tests shrink them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.clock import SYSTEM_CLOCK, Clock
from reconciler.sandbox.example import example_portal_file, example_seed_file

DEFAULT_DATA_DIR = Path(".reconciler/sandbox")
MEGABYTE = 1024 * 1024


@dataclass
class TransferUser:
    """A file transfer account: a password, an authorized public key ("ssh-rsa AAAA…"), or both."""

    username: str
    password: str | None = None
    public_key: str | None = None


@dataclass
class ActitoSandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8782  # 0 picks a free port
    ftps_port: int = 8721
    sftp_port: int = 8722
    data_dir: Path = DEFAULT_DATA_DIR
    api_key: str = "sandbox-api-key"
    entity: str = "sandbox"
    profile_table: str = "Profiles"
    # Default: the example project's customers. None: an empty table.
    seed_file: Path | None = field(default_factory=example_seed_file)
    seed_columns: dict[str, str] = field(default_factory=dict)  # seed field → CSV column
    # What a user set up once in the Actito portal (attributes, file synchronizations, external
    # target lists, ETL definitions; portal.py), loaded into a new store. Default: the example
    # project's. None: nothing.
    portal_file: Path | None = field(default_factory=example_portal_file)
    # True: every route no public source documents answers 501 (routing.py).
    documented_only: bool = False
    ftps_users: list[TransferUser] = field(
        default_factory=lambda: [TransferUser("sandbox", "sandbox-ftp-password")]
    )
    sftp_users: list[TransferUser] = field(
        default_factory=lambda: [TransferUser("sandbox", "sandbox-sftp-password")]
    )
    # Actito's documented limits (evidence §10), all configurable.
    token_ttl_seconds: float = 900.0
    max_in_flight: int | None = 5
    calls_per_minute: float | None = 100.0
    bulk_imports_per_day: int = 24  # [C] limitations/: Mass Imports API, per table per day
    max_file_bytes: int = 100 * MEGABYTE
    # How fast the sandbox works in the background.
    etl_delay_seconds: float = 0.1  # an ETL execution stays RUNNING at least this long
    sync_poll_seconds: float = 1.0  # how often the transfer directories are scanned
    # The v5 profile listing's undocumented paging ([?] evidence §4), made unkind on purpose:
    # serve at most this many profiles a page whatever size is asked (None: as asked), and
    # False leaves out the answer's `page` block (no totalElements / totalPages).
    listing_page_cap: int | None = None
    listing_totals: bool = True
    # Faults.
    latency_ms: float = 0.0
    error_ratio: float = 0.0
    drop_ratio: float = 0.0
    fault_seed: int = 0
    persist: bool = True  # False: nothing is written under data_dir but the transfer files
    # What "now" is for key-file validity, import quota days and timestamps (tests pin it).
    clock: Clock = SYSTEM_CLOCK

    @property
    def actito_dir(self) -> Path:
        return Path(self.data_dir) / "actito"
