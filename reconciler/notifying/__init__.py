"""Warnings after a sync: when an activation's health changes, tell its notification channels;
and notices sent once: a destination's API key about to expire.

Owns deciding which warnings to send (`health.py`), their wording (`message.py`), delivering
them (`channels.py`: webhook and email; `annotations.py`: GitHub Actions) and the one entry
point the CLI calls around an apply (`notifier.py`); and the key-expiry notices of `run --due`
(`expiry.py`), sent once per destination, expiry date and channel as the state store
remembers. Must not change what a sync does: a delivery that fails is reported on stderr and
never fails the sync.
"""
from reconciler.notifying.expiry import (
    NoticeDelivery,
    PendingNotice,
    expiring_keys,
    send_key_expiry_notices,
)
from reconciler.notifying.health import Change, Health, read_health
from reconciler.notifying.notifier import Delivery, notify_results, previous_health

__all__ = ["Change", "Delivery", "Health", "NoticeDelivery", "PendingNotice", "expiring_keys",
           "notify_results", "previous_health", "read_health", "send_key_expiry_notices"]
