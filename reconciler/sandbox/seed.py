"""Seed data shared by both sandboxes: the example project's customers, minus a few.

A deterministic ~5% of the customers is left out of every destination, so match rates in the
demo and tests are realistic (some users of a segment do not exist at the destination).
"""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

DEFAULT_SEED_FILE = Path("manifests/data/customers.csv")
LEFT_OUT_PERCENT = 5


def is_left_out(customer_id: str) -> bool:
    """True for the customers the sandboxes do not know (stable across runs and machines)."""
    digest = hashlib.sha256(customer_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < LEFT_OUT_PERCENT


def read_seed_customers(path: Path = DEFAULT_SEED_FILE) -> Iterator[dict[str, str]]:
    """The seed file's rows (as the CSV has them), without the left-out customers."""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not is_left_out(row["customer_id"]):
                yield row
