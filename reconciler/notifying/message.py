"""What a warning says: one `Warning_` per health change, rendered for people and machines.

Owns the wording of warnings (a Slack-compatible `text`, an email subject and body) and their
structured form. Messages carry activation and destination names, health and counts only:
never member keys, field values or a destination's error text (which may echo personal data).
Pure: no I/O.
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
