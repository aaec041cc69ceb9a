"""The CLI's conventions, over every command: -h, --version, completion, plain metavars,
help on every option, whole sentences in the command list, colour only where wanted."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer.main
from typer.testing import CliRunner

from reconciler import __version__
from reconciler.cli import app
from reconciler.cli.colour import colour_plan, wants_colour

runner = CliRunner()
RECONCILER = Path(sys.executable).parent / "reconciler"
PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|list\[[^>]*\]|[a-z]+\|[a-z|]+)>")


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "-")
def test_every_command_takes_h_and_shows_no_python_types(path: tuple[str, ...]) -> None:
    # Scenario: `reconciler … -h` on each command: the help, with metavars a shell user
    # types (nothing for a flag, NAME, PATH, [text|json]), never <bool> or <list[str]>.
    result = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "120"}, prog_name="reconciler")
    assert result.exit_code == 0, result.output
    assert "Usage: reconciler" in result.output
    assert PYTHON_TYPES.search(result.output) is None, result.output


def test_every_option_and_argument_says_what_it_is_for() -> None:
    # Scenario: an option added without help (as `run --allow-mass-removal` was).
    silent = [f"reconciler {' '.join(path)} {param.name}" for path, command in COMMANDS
              for param in command.params
              if not getattr(param, "hidden", False) and not getattr(param, "help", None)]
    assert silent == []


def test_the_command_list_gives_each_summary_whole() -> None:
    # Scenario: `reconciler -h` on a wide terminal: each command's summary on its own line,
    # never cut where its docstring's source line ends.
    result = runner.invoke(app, ["-h"], env={"COLUMNS": "250"})
    panel = result.output.split("Commands")[1].splitlines()[1:]
    rows = [line for line in panel if line.startswith("│")]
    assert len(rows) == len(app.registered_commands) + len(app.registered_groups)
    assert all(re.match(r"^│ [a-z]+ ", row) for row in rows), "\n".join(rows)
    assert any("the key's expiry and whether this machine may call it" in row for row in rows)


def test_version_as_an_option_and_as_a_command() -> None:
    # Scenario: `reconciler --version` (as every CLI has) and the older `reconciler version`.
    for args in (["--version"], ["version"]):
        result = runner.invoke(app, args)
        assert (result.exit_code, result.output) == (0, f"{__version__}\n")


def test_shell_completion_completes_commands_and_options() -> None:
    # Scenario: bash asks the installed command to complete `reconciler pl` and
    # `reconciler plan --no`, as the script `--install-completion` installs does.
    def complete(words: str) -> str:
        env = {**os.environ, "_RECONCILER_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
        return subprocess.run([str(RECONCILER)], env=env, capture_output=True, text=True,
                              timeout=60, check=True).stdout.split()

    assert complete("reconciler pl") == ["plan"]
    assert complete("reconciler plan --no") == ["--no-color"]
    # typer finds the shell by walking up the process tree (shellingham): run it from bash,
    # as a user does, whatever runs the tests.
    # (`; exit $?`: bash would otherwise exec the command in its own place.)
    shown = subprocess.run(["bash", "-c", f"'{RECONCILER}' --show-completion; exit $?"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "_RECONCILER_COMPLETE=complete_bash" in shown.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "no_color", "environ", "colour"), [
    (Terminal(), False, {}, True),
    (Terminal(), False, {"NO_COLOR": "1"}, False),
    (Terminal(), False, {"NO_COLOR": ""}, True),  # no-color.org: set and not empty
    (Terminal(), True, {}, False),
    (io.StringIO(), False, {}, False),  # a pipe, a file, a CI log
])
def test_colour_only_on_a_terminal_unless_refused(stream: io.StringIO, no_color: bool,
                                                  environ: dict[str, str],
                                                  colour: bool) -> None:
    # Scenario: the plan coloured on a terminal; NO_COLOR, --no-color or no terminal: plain.
    assert wants_colour(stream, no_color, environ) is colour


def test_symbols_are_coloured_as_terraform_s_and_the_text_is_kept() -> None:
    # Scenario: a plan with a creation, a deletion, a change and a guard stop.
    text = ("  # vip → crm (list)\n  + static segment VIP  # new\n  - static segment OLD\n"
            "  ~ members  +1 −0\n  ! stop: removes 50%\nPlan: 1 to create\n")
    coloured = colour_plan(text)
    assert "\x1b[32m\x1b[1m+\x1b[0m static segment VIP" in coloured  # green
    assert "\x1b[31m\x1b[1m-\x1b[0m static segment OLD" in coloured  # red
    assert "\x1b[33m\x1b[1m~\x1b[0m members  +1 −0" in coloured  # yellow
    assert "\x1b[31m\x1b[1m! stop:\x1b[0m removes" in coloured
    assert click.unstyle(coloured) == text


@pytest.mark.parametrize(("text", "seconds"), [("30", 30.0), ("0", 0.0), ("2.5", 2.5),
                                               ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0)])
def test_lock_timeout_takes_seconds_or_a_duration(text: str, seconds: float) -> None:
    # Scenario (issue 15.10): `apply --lock-timeout 5m` waits five minutes, as people write it.
    from reconciler.cli.app import lock_timeout_seconds

    assert lock_timeout_seconds(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-1", "5 minutes"])
def test_a_lock_timeout_that_is_no_duration_is_a_usage_error(text: str) -> None:
    result = CliRunner().invoke(app, ["apply", "--lock-timeout", text, "--auto-approve"])
    assert result.exit_code == 2
    assert "--lock-timeout" in result.output
