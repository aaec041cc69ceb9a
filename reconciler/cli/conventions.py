"""The conventions every command follows, in one place: `-h` as `--help`, help text as
paragraphs (never cut at a source line break), and plain metavars.

Recent typer versions print each parameter's Python type (`<bool>` beside a flag,
`<list[str]>` beside a repeatable option, `<path>` beside an argument). `Command` and `Group`
show what a shell user types instead: nothing for a flag, the option's `metavar` when it has
one, else a plain word (TEXT, INTEGER, FLOAT, PATH) or the choices (`[text|json]`); an
argument by its name in capitals (PATH, NAME). Every command of the app is built by these
classes because `Typer` below makes them the default.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
# Paragraphs as Markdown: a docstring's line breaks are joined (in the command list too), and
# `[…]` in a help text is shown, not taken for rich markup.
MARKUP_MODE = "markdown"
_PLAIN = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": ""}


def plain_metavar(shown: str | None) -> str | None:
    """`<list[str]>` → TEXT, `<text|json>` → [text|json], `<bool>` → nothing."""
    if not shown:
        return None
    inner = re.sub(r"^<(.*)>(\.\.\.)?$", r"\1", shown)
    inner = re.sub(r"^list\[(.*)\]$", r"\1", inner)
    if inner in _PLAIN:
        return _PLAIN[inner] or None
    if "|" in inner:
        return f"[{inner}]"
    return inner.upper() if inner != shown else shown


def clean_parameter(param: Any) -> None:
    """Show `param` as a shell user types it (see the module's docstring)."""
    shown: Callable[[Any], str | None] | None = getattr(param, "display_type_rich", None)
    if shown is None or getattr(param, "_plain", False):  # click's own metavars, or done
        return
    param._plain = True
    argument = getattr(param, "param_type_name", "") == "argument"
    if argument and param.metavar is None:
        param.metavar = str(param.name).upper()
    flag = bool(getattr(param, "is_flag", False))

    def display(ctx: Any) -> str | None:
        if argument or flag:
            return None
        if param.metavar is not None:
            return str(param.metavar) or None
        return plain_metavar(shown(ctx))

    param.display_type_rich = display


def _plain(params: list[Any]) -> list[Any]:
    for param in params:
        clean_parameter(param)
    return params


class Command(TyperCommand):
    """A command whose parameters (its help option and typer's own included) show plain
    metavars."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))


class Group(TyperGroup):
    """A command group (the app, `state`, `show`, `schema`) with the same conventions."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain(super().get_params(ctx))


class Typer(typer.Typer):
    """typer.Typer with this app's conventions as defaults: every command a `Command`, every
    group a `Group`, `-h` beside `--help`, Markdown help text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        kwargs.setdefault("rich_markup_mode", MARKUP_MODE)
        super().__init__(**kwargs)

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
                **kwargs: Any) -> Any:
        return super().command(name, cls=cls or Command, **kwargs)
