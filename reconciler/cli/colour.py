"""Colour in the plan text on a terminal, as terraform's: `+` green, `-` red, `~` yellow.

Only on a terminal, and never when `--no-color` is given or `NO_COLOR` is set to anything
(https://no-color.org): logs, pipes and files always get the plain text, byte for byte what
`render_text` returns (tests compare it). Colour marks the change symbols, guard stops and
the summary; the words stay as the terminal shows them.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import IO

import typer

NO_COLOR_OPTION = typer.Option(False, "--no-color",
                               help="Never colour the plan (neither does NO_COLOR=1).")
_SYMBOLS = {"+": typer.colors.GREEN, "-": typer.colors.RED, "~": typer.colors.YELLOW}
_LINE = re.compile(r"^(\s*)([+~-]|! stop:|!)( )")


def wants_colour(stream: IO[str], no_color: bool,
                 environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, unless --no-color or NO_COLOR (any non-empty value)."""
    environ = os.environ if environ is None else environ
    return not no_color and not environ.get("NO_COLOR") and stream.isatty()


def colour_plan(text: str) -> str:
    """The plan text with ANSI colours on its change symbols, stops, warnings and summary."""
    return "".join(_colour_line(line) for line in text.splitlines(keepends=True))


def _colour_line(line: str) -> str:
    if line.startswith("Plan: "):
        return typer.style(line.rstrip("\n"), bold=True) + line[len(line.rstrip("\n")):]
    match = _LINE.match(line)
    if match is None:
        return line
    indent, mark, space = match.groups()
    if mark in _SYMBOLS:
        styled = typer.style(mark, fg=_SYMBOLS[mark], bold=True)
    elif mark == "! stop:":
        styled = typer.style(mark, fg=typer.colors.RED, bold=True)
    else:
        styled = typer.style(mark, fg=typer.colors.YELLOW)
    return f"{indent}{styled}{space}{line[match.end():]}"


def echo_plan(text: str, no_color: bool) -> None:
    """Print the plan text on stdout, coloured when `wants_colour` says so."""
    stream = typer.get_text_stream("stdout")
    typer.echo(colour_plan(text) if wants_colour(stream, no_color) else text, nl=False)
