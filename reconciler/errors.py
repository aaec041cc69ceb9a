"""The root of the errors a user can act on.

Anything deriving from `ReconcilerError` (or a destination's `DestinationError`, or a missing
environment variable) is printed by the CLI as one `Error: …` line, exit 1; `--debug` shows the
traceback. Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ReconcilerError(Exception):
    """A problem the user can fix; the message says what happened and what to do."""


class ManifestError(ReconcilerError):
    """The manifests are invalid; diagnostics were printed."""
