"""The one root of the errors a user can act on, and what each branch means.

    ReconcilerError                  a problem the user can fix; `hint` says how, when it can
    ├── ManifestError                the manifests are invalid (diagnostics were printed)
    ├── InvalidNowError              `--now` is not an ISO 8601 date-time (clock.py)
    ├── MissingEnvironmentVariable   a `${env:NAME}` is unset or empty when needed (values.py)
    ├── MissingEnvironmentVariables  every unset or empty one a run needs, located (environment.py)
    ├── SourceError                  reading a warehouse failed (sources/errors.py)
    ├── StateError                   the state store failed or is locked (state/errors.py)
    ├── DestinationError             a destination's API failed (destinations/errors.py)
    ├── StalePlanError               a saved plan no longer matches the world (planfile.py)
    └── DeliveryError                a warning did not reach its channel (notifying)

`ApplyInterrupted` (executing/outcomes.py) is no error but Ctrl-C carrying what an apply
did: a KeyboardInterrupt, so that no `except Exception` swallows it.

The CLI catches `ReconcilerError` once (`cli/app.py`): it prints `Error: <message>`, then the
hint, and exits 1; `--debug` shows the traceback. Anything else is a bug and keeps its
traceback. Library exceptions (requests, duckdb, psycopg) never reach the CLI bare: each
layer chains them as the cause of one of these.
"""
from __future__ import annotations


class ReconcilerError(Exception):
    """A problem the user can fix; the message says what happened, `hint` what to do (a
    subclass may set a default hint for its whole kind)."""

    hint: str = ""

    def __init__(self, message: str = "", *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ManifestError(ReconcilerError):
    """The manifests are invalid; diagnostics were printed."""
