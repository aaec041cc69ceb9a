"""The project file: where a project's manifests and its state store are, so that every command
works without flags from anywhere in the repository.

Either `reconciler.yaml` or a `[tool.reconciler]` table in `pyproject.toml`, found as ruff and
pytest find theirs: from the manifests path given on the command line (else the current
directory) upward, to the first directory holding one, stopping at the repository's root (the
directory holding `.git`). Two keys, both optional:

    manifests: manifests                  # the manifests directory, relative to this file
    state: .reconciler/state.duckdb       # a DuckDB file (relative to this file), or
    # state: postgresql://reconciler@db.internal/marketing?schema=audiences
    # state: ${env:RECONCILER_PG_URL}     # resolved when a command needs the store
    # state:                              # the same as a mapping, with encryption at rest:
    #   url: .reconciler/state.duckdb     # optional (the default applies)
    #   encryption:
    #     key: ${env:RECONCILER_STATE_KEY}  # 32 random bytes as base64

A password never sits in this committed file: a PostgreSQL URL with one is refused (libpq reads
PGPASSWORD or ~/.pgpass; or reference an environment variable). Precedence, as terraform and dbt
users expect: the command-line option, then the environment variable, then this file, then the
default. This module reads and checks the file; `operations/plans.py` applies the precedence.
"""
from __future__ import annotations

import contextlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.errors import ReconcilerError
from reconciler.manifests.values import ENV_REF_PATTERN, env_ref_name, resolve_env_ref
from reconciler.private import private_folder

PROJECT_FILE_NAME = "reconciler.yaml"
PYPROJECT_NAME = "pyproject.toml"
DEFAULT_MANIFESTS = "manifests"
_KEYS = ("manifests", "state")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


class ProjectFileError(ReconcilerError):
    """The project file cannot be read or holds a value that cannot be used."""

    hint = ("the project file takes two optional keys, `manifests` (a directory, relative to "
            "the file) and `state` (a DuckDB file path, a postgresql:// URL without password, "
            "or ${env:NAME}; or a mapping of `url` and `encryption: {key: ${env:NAME}}`)")


@dataclass(frozen=True)
class ProjectFile:
    """A read and checked project file; `where` locates each key's value (`file:line:col`)."""

    file: Path  # absolute
    manifests: str | None
    state: str | None
    where: dict[str, str]
    state_key_env: str | None = None
    """The variable holding the state's encryption key (`state.encryption.key`), if any."""

    @property
    def directory(self) -> Path:
        return self.file.parent

    def manifests_path(self) -> Path:
        """The manifests directory it names (default: `manifests` beside the file)."""
        return self.directory / (self.manifests or DEFAULT_MANIFESTS)

    def state_location(self) -> str | None:
        """The state it names, `${env:…}` resolved, a relative file path made absolute
        against the file's directory; None when it names none."""
        if self.state is None:
            return None
        value = self.state
        if re.fullmatch(ENV_REF_PATTERN, value):
            value = resolve_env_ref(value, self.origin("state"))  # may hold a password
        if _SCHEME.match(value):
            return value
        path = (self.directory / value).resolve()
        if path.is_relative_to(self.directory):
            # A folder of the repository that git does not keep (.reconciler/ is ignored): a
            # fresh clone lacks it. Made here, as for the default state; a path outside the
            # repository must exist (a mistyped one is an error, not a new empty store).
            with contextlib.suppress(OSError):
                private_folder(path.parent)
        return str(path)

    def origin(self, key: str) -> str:
        """Where a key's value comes from, for error messages: `reconciler.yaml:3:8 (state)`."""
        return f"{self.where.get(key, str(self.file))} ({key})"


def find_project_file(start: Path) -> ProjectFile | None:
    """The project file governing `start` (a manifests path, or a working directory): the
    first found from it upward, within its repository; None when there is none."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        own = candidate / PROJECT_FILE_NAME
        if own.is_file():
            return read_project_file(own)
        pyproject = candidate / PYPROJECT_NAME
        if pyproject.is_file():
            table = _reconciler_table(pyproject)
            if table is not None:
                return _checked(pyproject, table, {k: f"{pyproject} [tool.reconciler] {k}"
                                                   for k in _KEYS})
        if (candidate / ".git").exists():
            return None  # the repository's root: a file above belongs to something else
    return None


def read_project_file(file: Path) -> ProjectFile:
    """Read and check a `reconciler.yaml`; errors name the file, line and column."""
    file = file.resolve()
    try:
        data = YAML(typ="rt").load(file.read_text(encoding="utf-8"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        raise ProjectFileError(f"{at}: invalid YAML: {exc.problem or exc}") from exc
    except (YAMLError, UnicodeDecodeError, OSError) as exc:
        raise ProjectFileError(f"{file}: cannot read the project file: {exc}") from exc
    if data is None:  # an empty file marks the project root: every default applies
        return ProjectFile(file, None, None, {})
    if not isinstance(data, CommentedMap):
        raise ProjectFileError(f"{file}:1:1: the project file must be a mapping of keys "
                               f"({', '.join(_KEYS)})")
    where, keys = {}, {}
    for key in data:
        key_line, key_column, line, column = data.lc.data[key]
        keys[str(key)] = f"{file}:{key_line + 1}:{key_column + 1}"
        where[str(key)] = f"{file}:{line + 1}:{column + 1}"
    return _checked(file, dict(data), where, keys)


def _checked(file: Path, table: dict[str, Any], where: dict[str, str],
             keys: dict[str, str] | None = None) -> ProjectFile:
    unknown = sorted(str(key) for key in table if key not in _KEYS)
    if unknown:
        at = (keys or where).get(unknown[0], str(file))
        raise ProjectFileError(f"{at}: unknown key {', '.join(map(repr, unknown))} in the "
                               f"project file; known keys: {', '.join(_KEYS)}")
    values: dict[str, str | None] = {}
    key_env = None
    if isinstance(table.get("state"), dict):
        table = dict(table)
        table["state"], key_env = _state_table(table["state"], where.get("state", str(file)))
    for key in _KEYS:
        value = table.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ProjectFileError(f"{where.get(key, file)}: `{key}` must be a non-empty "
                                   f"string, not {value!r}")
        values[key] = value
    if values["state"] is not None and not re.fullmatch(ENV_REF_PATTERN, values["state"]):
        _refuse_password(values["state"], where.get("state", str(file)))
    return ProjectFile(file.resolve(), values["manifests"], values["state"], where, key_env)


def _state_table(state: dict[str, Any], at: str) -> tuple[str | None, str | None]:
    """`state` as a mapping: its `url` (None: the default) and its encryption key's
    variable."""
    unknown = sorted(str(key) for key in state if key not in ("url", "encryption"))
    if unknown:
        raise ProjectFileError(f"{at}: unknown key {', '.join(map(repr, unknown))} in `state`; "
                               "known keys: url, encryption")
    encryption = state.get("encryption")
    key_env = None
    if encryption is not None:
        reference = encryption.get("key") if isinstance(encryption, dict) else None
        if (not isinstance(encryption, dict) or set(encryption) != {"key"}
                or not isinstance(reference, str)
                or not re.fullmatch(ENV_REF_PATTERN, reference)):
            # Never echo the value: it may be a key pasted by mistake.
            raise ProjectFileError(
                f"{at}: `state.encryption` takes one key, `key`, an environment reference "
                "like ${env:RECONCILER_STATE_KEY}: the key itself never sits in this file")
        key_env = env_ref_name(reference)
    return state.get("url"), key_env


def _refuse_password(location: str, origin: str) -> None:
    """A password in a committed file leaks to everyone who reads the repository."""
    if _SCHEME.match(location) and urlsplit(location).password is not None:
        # Never echo the URL: it holds the secret.
        raise ProjectFileError(
            f"{origin}: the state URL holds a password; a committed file must not",
            hint="remove it from the URL and set PGPASSWORD (or ~/.pgpass), or write "
                 "`state: ${env:NAME}` and keep the whole URL in that variable")


def _reconciler_table(pyproject: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ProjectFileError(f"{pyproject}: cannot read it to look for [tool.reconciler]: "
                               f"{exc}") from exc
    table = data.get("tool", {}).get("reconciler")
    if table is not None and not isinstance(table, dict):
        raise ProjectFileError(f"{pyproject}: [tool.reconciler] must be a table")
    return table
