"""The README's promises about getting started: two quick-start commands, and the sections a
new user reads, in step with what `reconciler init` writes."""
from __future__ import annotations

import re
from pathlib import Path

from reconciler.cli.init import scaffold
from reconciler.schemas import all_schemas

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 4)
    return README[start:end]


def test_the_quick_start_is_two_commands() -> None:
    # Scenario: someone adds a third step (an export, a pip install) to the quick start.
    [block] = re.findall(r"```sh\n(.*?)```", _section("Quick start"), re.DOTALL)
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands == ["make demo", "make test"]


def test_getting_started_sections_are_there() -> None:
    # Scenario: the Install, first-project and production sections cover what a new team
    # needs: the wheel and the image; init, validate and plan; secrets, shared state, fixed
    # egress addresses, service accounts and file permissions.
    install = _section("Install")
    assert "pipx install dist/audience_reconciler-" in install
    assert "docker build -t audience-reconciler ." in install
    first = _section("Your first project")
    for command in ("reconciler init my-project", "reconciler validate", "reconciler sandbox",
                    "reconciler plan"):
        assert command in first
    production = _section("Going to production")
    for topic in ("**Credentials**", "**Shared state.**", "**Fixed egress addresses.**",
                  "**Permissions and service accounts.**", "**File permissions.**"):
        assert topic in production


def test_the_first_project_table_names_every_file_init_writes(tmp_path: Path) -> None:
    # Scenario: a template is added to `reconciler init` without a word in the README.
    first = _section("Your first project")
    named = set(re.findall(r"`([^`\s]+)`", first))
    written = [p.relative_to(tmp_path).as_posix() for p in scaffold(tmp_path)]
    schemas = {f"schemas/{name}" for name in all_schemas()}
    missing = [path for path in written if path not in schemas
               and not any(path == name or path.endswith(f"/{name}") for name in named)]
    assert missing == []
