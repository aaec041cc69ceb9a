"""Actito contact index benchmark: which profiles exist, read three ways from one sandbox.

    .venv/bin/python -m bench.actito_index                      # 100k profiles, 10k audience
    .venv/bin/python -m bench.actito_index --profiles 20000     # quicker

- **export** (documented): the table's daily full export, one file downloaded over FTPS from
  the location and parsed (`profileExport`); no API call.
- **listing** (inferred, the baseline): the v5 profile listing, 1,000 profiles a call.
- **lookups** (documented): one v5 single-profile call per audience key.

The sandbox answers as fast as it can (no per-minute throttle), so each way's wall time here is
its floor; the licence's budget (100 calls a minute, 80% of it for this tool: 80 a minute) is
what bounds the API ways in production, so the table also gives their calls and what those
calls take at that budget. Everything is written under a temporary directory, removed at the end.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.apply import write_seed
from reconciler.clock import FixedClock
from reconciler.destinations.actito import (
    ActitoAdapter,
    ActitoLimits,
    FileTransferSettings,
    RetryPolicy,
    TransferProtocol,
)
from reconciler.destinations.actito.exports import ProfileExport
from reconciler.destinations.actito.routes import RouteBook
from reconciler.sandbox.actito import ActitoSandboxConfig, start_actito_sandbox

BUDGET_PER_MINUTE = 80  # Actito's documented 100 a minute per licence × the default 0.8 share
DAY = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _portal(folder: Path) -> Path:
    path = folder / "portal.json"
    path.write_text(json.dumps({"exports": [{
        "name": "daily", "location": "sandbox-ftps", "directory": "/exports",
        "fileNamePattern": "profiles_$yyyyMMdd.zip", "table": "Profiles",
        "attributes": ["profileId", "customerId", "emailAddress", "gsmNumber"]}]}), "utf-8")
    return path


def run(profiles: int, audience: int) -> list[tuple[str, float, int]]:
    """(way, seconds, API calls) for each way."""
    with tempfile.TemporaryDirectory(prefix="bench-actito-index-") as root:
        folder = Path(root)
        seed = write_seed(folder, profiles)
        config = ActitoSandboxConfig(
            port=0, ftps_port=0, sftp_port=0, data_dir=folder / "sandbox", seed_file=seed,
            portal_file=_portal(folder), calls_per_minute=None, persist=False,
            clock=FixedClock(DAY))
        with start_actito_sandbox(config) as sandbox:
            transfer = FileTransferSettings(
                TransferProtocol.FTPS, sandbox.ftps.host, sandbox.ftps.port,
                sandbox.ftps.username, sandbox.ftps.password, ca_file=sandbox.ftps.ca_file)
            table = sandbox.store.entity("sandbox").table("Profiles")  # type: ignore[union-attr]
            assert table is not None
            keys = sorted(str(v["customerId"]) for v in table.profiles.values())[:audience]
            common = {"base_url": sandbox.url, "entity": "sandbox", "profile_table": "Profiles",
                      "api_key": config.api_key, "transfer": transfer,
                      "limits": ActitoLimits(max_in_flight=4, calls_per_minute=1e9),
                      "retry": RetryPolicy(max_attempts=3, backoff_base=0.05)}
            export = ProfileExport("profiles_$yyyyMMdd.zip", "/exports", timedelta(hours=36))
            results = []
            for way, adapter, wanted in (
                ("export", ActitoAdapter(**common, export=export), keys),
                ("listing", ActitoAdapter(**common), keys),
                # documentedOnly: the (inferred) listing is never used, keys are looked up.
                ("lookups", ActitoAdapter(**common, routes=RouteBook(documented_only=True)),
                 keys),
            ):
                sandbox.log.clear()
                started = time.perf_counter()
                found = {k for page in adapter.iter_existing_keys(
                    "customerId", iter(wanted), len(wanted), now=DAY) for k in page}
                seconds = time.perf_counter() - started
                assert set(wanted) <= found, f"{way}: keys missing"
                calls = sum(1 for e in sandbox.log.entries() if e.path != "/auth/token")
                results.append((way, seconds, calls))
            return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--audience", type=int, default=10_000)
    args = parser.parse_args()
    results = run(args.profiles, args.audience)
    print(f"{args.profiles:,} profiles in the table, an audience of {args.audience:,} keys")
    print(f"{'way':<10}{'wall s':>10}{'API calls':>12}{'at 80 calls/min':>18}")
    for way, seconds, calls in results:
        budget = calls / BUDGET_PER_MINUTE * 60
        print(f"{way:<10}{seconds:>10.2f}{calls:>12,}{budget:>16.0f} s")
    listing = next(s for w, s, c in results if w == "listing")
    listing_calls = next(c for w, s, c in results if w == "listing")
    export = next(s for w, s, c in results if w == "export")
    print(f"export vs listing at the budget: {export:.2f} s vs "
          f"{listing_calls / BUDGET_PER_MINUTE * 60:.0f} s "
          f"(wall floor here {listing:.2f} s)")


if __name__ == "__main__":
    main()
