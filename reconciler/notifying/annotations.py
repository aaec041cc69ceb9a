"""GitHub Actions annotations: `::error::`/`::warning::`/`::notice::` workflow commands.

Owns their syntax and escaping. Unlike channels, annotations describe this run (they show on
the run's page, not in anyone's inbox): every activation that is unhealthy now gets one, and a
recovery gets a notice. Pure: returns lines; the caller prints them on stdout.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping

from reconciler.notifying.health import Health
from reconciler.notifying.message import Warning_, render_text


class Level(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


_LEVELS = {Health.FAILING: Level.ERROR, Health.STOPPED: Level.WARNING,
           Health.REJECTING: Level.WARNING, Health.HEALTHY: Level.NOTICE}


def in_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(warning: Warning_) -> str:
    """One workflow command line for a warning (its text without the Slack emoji)."""
    level = _LEVELS[warning.change.current]
    title = _escape_property(f"reconciler: {warning.activation}")
    text = render_text(warning).split(" ", 1)[1]
    return f"::{level.value} title={title}::{_escape_data(text)}"
