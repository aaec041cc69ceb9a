"""Key-expiry notices: a destination's API key about to expire is told to its channels once.

Owns which destinations get a notice (`credentials.expiresOn` within `EXPIRY_NOTICE_DAYS`, or
past: the rule `doctor`, `status` and the stderr warning of every `run --due` follow), who
gets it (the union of the effective `warnings.notify` of the activations syncing to the
destination, each channel once) and sending it once per destination, expiry date and channel,
remembered in the state store's notices: a new `expiresOn` is a new notice. As with warnings,
a delivery that fails is printed on stderr naming the channel and never raises; the next run
tries it again.
"""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from reconciler.destinations.readiness import api_key_expiries, expiry_finding
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import effective_activations
from reconciler.notifying.channels import DeliveryError, send
from reconciler.notifying.message import NOTICE_KIND, KeyExpiryNotice, Rendered, render_notice
from reconciler.state import StateWriter


@dataclass(frozen=True)
class PendingNotice:
    """A key-expiry notice and the channels it is for (each named once)."""

    notice: KeyExpiryNotice
    channels: tuple[str, ...]


@dataclass(frozen=True)
class NoticeDelivery:
    """One notice given to one channel (or not: `error` says why)."""

    channel: str
    notice: str
    """The id the state store remembers it by (see `notice_id`)."""
    delivered: bool
    error: str | None = None


def notice_id(notice: KeyExpiryNotice, channel: str) -> str:
    """`api-key-expiry:<destination>:<expiresOn>:<channel>`: names and a date, no secret. Per
    channel, so a channel whose delivery failed is retried without repeating the others."""
    return f"{NOTICE_KIND}:{notice.destination}:{notice.expires_on.isoformat()}:{channel}"


def expiring_keys(project: Project, now: dt.datetime) -> list[PendingNotice]:
    """The destinations whose key expires within two weeks (or has expired) and whose
    activations name a channel, by destination name. Reads the manifests only."""
    today = now.date()
    settings = effective_activations(project)
    destinations = project.destinations()
    pending = []
    for name, expires_on in sorted(api_key_expiries(project).items()):
        finding = expiry_finding(expires_on, today)
        if finding is None or finding.ok is not False:
            continue
        users = sorted(a for a, s in settings.items() if s.destination == name)
        channels = _union(settings[a].warnings.notify or [] for a in users)
        if channels:
            notice = KeyExpiryNotice(name, destinations[name].spec.type, expires_on, today,
                                     tuple(users), now)
            pending.append(PendingNotice(notice, channels))
    return pending


def _union(lists: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every name of the lists once, in first-seen order."""
    return tuple(dict.fromkeys(name for names in lists for name in names))


def send_key_expiry_notices(project: Project, pending: Sequence[PendingNotice],
                            store: StateWriter, *, out: IO[str] | None = None,
                            err: IO[str] | None = None) -> list[NoticeDelivery]:
    """Send each pending notice to each of its channels that has not had it yet; what was
    tried (a notice sent before is not tried again, and not listed)."""
    out, err = out or sys.stdout, err or sys.stderr
    channels = project.of_kind(Kind.NOTIFICATION_CHANNEL)
    deliveries = []
    for item in pending:
        notice, message = item.notice, render_notice(item.notice)
        for name in item.channels:
            delivery = _send_once(store, name, channels.get(name), notice, message)
            if delivery is None:
                continue
            deliveries.append(delivery)
            if delivery.delivered:
                print(f"Notice sent to {name}: destination {notice.destination}: its API key "
                      f"expires on {notice.expires_on}.", file=out)
            else:
                print(f"warning: notification channel {name!r} did not get the key expiry "
                      f"notice for destination {notice.destination}: {delivery.error} (the "
                      "next run tries again)", file=err)
    return deliveries


def _send_once(store: StateWriter, name: str, channel: Manifest[Any] | None,
               notice: KeyExpiryNotice, message: Rendered) -> NoticeDelivery | None:
    """Claim, send, and release the claim if the delivery failed; None: sent before."""
    # Claimed before it is sent, not recorded after: of two runs sharing the store (parallel
    # jobs on PostgreSQL) only the claimant sends, so nobody gets it twice. The price: a run
    # killed between its claim and the delivery loses the notice, while the stderr warning of
    # every run and `status` still say the key expires. A failed delivery gives the claim back.
    key = notice_id(notice, name)
    if not store.claim_notice(key, notice.at):
        return None
    try:
        send(name, channel, message)
    except DeliveryError as exc:
        store.release_notice(key)
        return NoticeDelivery(name, key, False, str(exc))
    return NoticeDelivery(name, key, True)
