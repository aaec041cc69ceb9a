"""What a message says: one `Warning_` per health change, one `KeyExpiryNotice` per API key
about to expire, each rendered for people and machines (`Rendered`).

Owns the wording of messages (a Slack-compatible `text`, an email subject and body) and their
structured form. Messages carry activation and destination names, health, dates and counts
only: never member keys, field values, a destination's error text (which may echo personal
data) or a credential. Pure: no I/O.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.notifying.health import Change, Health

_HEADLINES = {
    Health.FAILING: "the sync failed",
    Health.STOPPED: "a guard stopped the sync before any write",
    Health.REJECTING: "the destination rejected more rows than maxRejectedRatio",
    Health.HEALTHY: "recovered: the last sync succeeded",
}
_ICONS = {Health.FAILING: ":rotating_light:", Health.STOPPED: ":warning:",
          Health.REJECTING: ":warning:", Health.HEALTHY: ":white_check_mark:"}


@dataclass(frozen=True)
class Rendered:
    """A message as every channel sends it: the webhook's JSON body, the email's subject and
    the text people read (Slack's `text`, the email's body)."""

    subject: str
    text: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Warning_:
    """One health change of one activation, with the counts that explain it."""

    change: Change
    destination: str
    at: dt.datetime
    counts: Mapping[str, int] = field(default_factory=dict)
    guards: tuple[str, ...] = ()
    """The guards that stopped it (STOPPED only), by their setting names."""

    @property
    def activation(self) -> str:
        return self.change.activation

    @property
    def headline(self) -> str:
        return _HEADLINES[self.change.current]


def _details(warning: Warning_) -> list[str]:
    lines = []
    if warning.guards:
        lines.append("guards: " + ", ".join(warning.guards))
    if warning.counts:
        lines.append(", ".join(f"{k.replace('_', ' ')} {v:,}"
                               for k, v in sorted(warning.counts.items())))
    if warning.change.current is Health.FAILING:
        lines.append("the error is in the job's log and in `reconciler status`")
    if warning.change.recovered:
        lines.append(f"it was {warning.change.previous.value}")
    return lines


def render_text(warning: Warning_) -> str:
    """The message people read (Slack's `text`, the email's body)."""
    head = (f"{_ICONS[warning.change.current]} Audience Reconciler: {warning.activation} → "
            f"{warning.destination}: {warning.headline}")
    return "\n".join([head, *_details(warning)])


def render_subject(warning: Warning_) -> str:
    state = "recovered" if warning.change.recovered else warning.change.current.value
    return f"[reconciler] {warning.activation} → {warning.destination}: {state}"


def render_payload(warning: Warning_) -> dict[str, Any]:
    """The webhook's JSON body: Slack reads `text`; other receivers can read `event`."""
    return {
        "text": render_text(warning),
        "event": {
            "activation": warning.activation,
            "destination": warning.destination,
            "kind": "recovered" if warning.change.recovered else warning.change.current.value,
            "health": warning.change.current.value,
            "previous": warning.change.previous.value,
            "guards": list(warning.guards),
            "counts": dict(warning.counts),
            "at": warning.at.isoformat(),
        },
    }


def render(warning: Warning_) -> Rendered:
    return Rendered(render_subject(warning), render_text(warning), render_payload(warning))


_VENDORS = {"selligent": "Selligent", "actito": "Actito"}
NOTICE_KIND = "api-key-expiry"


@dataclass(frozen=True)
class KeyExpiryNotice:
    """A destination's API key expires soon or has expired (its manifest's
    `credentials.expiresOn`), told once to its activations' channels. Dates and names only."""

    destination: str
    destination_type: str
    expires_on: dt.date
    today: dt.date
    activations: tuple[str, ...]
    """The activations syncing to the destination (whose channels are told)."""
    at: dt.datetime

    @property
    def days_left(self) -> int:
        """Days until the expiry date (0 on it; negative once past: the key then fails)."""
        return (self.expires_on - self.today).days

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def vendor(self) -> str:
        return _VENDORS.get(self.destination_type, self.destination_type)


def _notice_headline(notice: KeyExpiryNotice) -> str:
    if notice.expired:
        return (f"the {notice.vendor} API key expired on {notice.expires_on}, "
                f"{-notice.days_left} day(s) ago: its syncs fail until it is renewed")
    return (f"the {notice.vendor} API key expires on {notice.expires_on}, "
            f"in {notice.days_left} day(s)")


def _notice_text(notice: KeyExpiryNotice) -> str:
    icon = ":rotating_light:" if notice.expired else ":key:"
    lines = [f"{icon} Audience Reconciler: destination {notice.destination}: "
             f"{_notice_headline(notice)}"]
    if notice.activations:
        lines.append("used by: " + ", ".join(notice.activations))
    lines.append(f"to do: renew the service account key in {notice.vendor}, update the secret "
                 "the destination's `credentials` read (e.g. the CI secret), and set "
                 "`credentials.expiresOn` in its manifest to the new expiry date")
    lines.append("this notice is sent once per expiry date; every `run --due` keeps warning "
                 "in its log until `credentials.expiresOn` changes")
    return "\n".join(lines)


def _notice_subject(notice: KeyExpiryNotice) -> str:
    # Short: the days left are in the body (a subject past ~70 characters is folded).
    verb = "expired" if notice.expired else "expires"
    return f"[reconciler] {notice.destination}: API key {verb} {notice.expires_on}"


def render_notice(notice: KeyExpiryNotice) -> Rendered:
    """The notice for every channel; the webhook's `event` has `kind` "api-key-expiry"."""
    text = _notice_text(notice)
    return Rendered(_notice_subject(notice), text, {
        "text": text,
        "event": {
            "kind": NOTICE_KIND,
            "destination": notice.destination,
            "destination_type": notice.destination_type,
            "expires_on": notice.expires_on.isoformat(),
            "days_left": notice.days_left,
            "expired": notice.expired,
            "activations": list(notice.activations),
            "at": notice.at.isoformat(),
        },
    })
