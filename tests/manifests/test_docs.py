"""The README documents every manifest field and every command (so the docs cannot drift)."""
from __future__ import annotations

import re
from collections.abc import Iterator

import click
import typer.main

from reconciler.cli import app
from reconciler.manifests.validation import _field_vocabulary
from tests.manifests.conftest import REPO

README = (REPO / "README.md").read_text("utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 3)
    return README[start:end if end != -1 else None]


def test_manifest_reference_mentions_every_field() -> None:
    # Scenario: a field is added to a model but not to the README's manifest reference.
    reference = _section("Manifest reference")
    missing = sorted(name for name in _field_vocabulary()
                     if not re.search(rf"`{re.escape(name)}`|\b{re.escape(name)}\b", reference))
    assert missing == [], f"document these fields in the README: {missing}"


def test_cli_reference_mentions_every_command() -> None:
    # Scenario: a command is added without a line in the README's CLI reference.
    reference = _section("CLI reference")
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    names += [g.name or "" for g in app.registered_groups]
    missing = [name for name in names if f"reconciler {name}" not in reference]
    assert missing == [], f"document these commands in the README: {missing}"


def _commands(group: click.Command, prefix: str = "reconciler") -> Iterator[tuple[str,
                                                                                 click.Command]]:
    yield prefix, group
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, f"{prefix} {name}")


def test_readme_mentions_every_option() -> None:
    # Scenario: an option is added to a command (or typer adds one, e.g. shell completion)
    # without a word in the README (the CLI reference, or "Sandboxes" for `sandbox`'s).
    missing = [f"{path} {opt}" for path, command in _commands(typer.main.get_command(app))
               for param in command.params if not getattr(param, "hidden", False)
               for opt in param.opts if opt.startswith("--") and opt not in README]
    assert missing == [], f"document these options in the README: {missing}"
