"""Orchestration: the one place that runs plan and apply (octoDNS's `Manager`).

The CLI commands, `run --due`, the demo and `bench/` all call these functions; none of them
prints or asks anything (the CLI does), and each works the project's effective settings out
once per run and passes them down.

- `plans`: `make_plan` (a Plan and the fingerprint of what it read), the fingerprint of a
  saved plan's inputs now, loading a saved plan;
- `applying`: `execute` a Plan through the destinations' writers, then notify;
- `schedule`: which activations are due;
- `notices`: `run --due`'s key-expiry notices, sent once (the state store remembers them).
"""
