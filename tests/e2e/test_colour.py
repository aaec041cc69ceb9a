"""The plan in colour on a real terminal (a pseudo-terminal), plain everywhere else."""
from __future__ import annotations

import os
import pty
import re
import subprocess

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_resume import RECONCILER

GREEN_PLUS = "\x1b[32m\x1b[1m+\x1b[0m static segment VIP_customers"
ONE = ("-a", "vip-selligent")  # one activation is enough, and quicker
YELLOW_TILDE = "\x1b[33m\x1b[1m~\x1b[0m members  +152 −0"


def _plan_on_terminal(stack: Stack, *extra: str, no_color: str | None = None) -> str:
    """What `reconciler plan` writes to a terminal (its stdout a pseudo-terminal)."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    process = subprocess.Popen([str(RECONCILER), "plan", *stack.cli_args(), *ONE, *extra],
                               stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the process ended and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize("stack", ["duckdb"], indirect=True)
def test_the_plan_is_coloured_on_a_terminal_unless_refused(stack: Stack) -> None:
    # Scenario: `reconciler plan` typed in a terminal shows `+` green and `~` yellow, as
    # terraform; with NO_COLOR=1 or --no-color, and piped into a file, the same plain text.
    coloured = _plan_on_terminal(stack)
    assert GREEN_PLUS in coloured and YELLOW_TILDE in coloured
    plain = [_plan_on_terminal(stack, no_color="1"), _plan_on_terminal(stack, "--no-color"),
             subprocess.run([str(RECONCILER), "plan", *stack.cli_args(), *ONE],
                            capture_output=True, text=True, timeout=120, check=True).stdout]
    assert all("\x1b[" not in text for text in plain)
    # The same text but for how long reads took (the contacts line says it: `in 0.3 s`).
    timeless = [re.sub(r"\d+(\.\d+)? (s|min)\b", "N s", text) for text in plain]
    assert timeless[0] == timeless[1] == timeless[2]
    assert "  + static segment VIP_customers (named 'VIP customers')" in plain[0]
