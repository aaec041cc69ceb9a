"""The environment variables a run needs, checked all at once before anything is opened.

Every `${env:NAME}` in the manifests an activation uses (its destination, the source of its
model, its notification channels) is found with its file:line:column and field, so a CI job
missing three secrets fails once naming all three, not three times one by one. A variable set
to an empty (or blank) value counts as missing: an unset GitHub secret becomes an empty
variable, and an empty credential must never be sent. Values are never read into messages.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.manifests.diagnostics import Position, format_field_path
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Manifest, Project
from reconciler.manifests.settings import EffectiveActivation
from reconciler.manifests.values import ENV_REF_PATTERN, env_ref_name

EMPTY_MEANING = "an unset CI secret becomes an empty variable"


@dataclass(frozen=True)
class EnvProblem:
    """One `${env:NAME}` whose variable is unset or empty, where it is written."""

    variable: str
    empty: bool
    position: Position
    field: str
    owner: str  # e.g. "destination 'selligent-prod'"

    def __str__(self) -> str:
        state = f"is empty ({EMPTY_MEANING})" if self.empty else "is not set"
        return (f"{self.position}: {self.field}: environment variable {self.variable} {state} "
                f"(needed by {self.owner})")


class MissingEnvironmentVariables(ReconcilerError):
    """Several `${env:NAME}` references are unset or empty; the message lists each."""

    hint = ("export each variable (or add it to the .env file beside your manifests: a variable "
            "already set, even empty, wins over the file); in GitHub Actions, define the "
            "secrets the workflow's `env:` names")

    def __init__(self, problems: list[EnvProblem], what: str) -> None:
        count = len(problems)
        listed = "".join(f"\n  {problem}" for problem in problems)
        super().__init__(f"{count} environment variable{'s' if count > 1 else ''} {what} "
                         f"{'are' if count > 1 else 'is'} missing or empty:{listed}")
        self.problems = problems


def environment_problems(manifests: Iterable[Manifest[Any]],
                         environ: Mapping[str, str] | None = None) -> list[EnvProblem]:
    """Each unset or blank variable referenced by `manifests`, in file order."""
    environ = os.environ if environ is None else environ
    problems = []
    for manifest in manifests:
        owner = f"{_kind_label(manifest.kind)} {manifest.name!r}"
        for path, name in _references(manifest.raw.data, ()):
            value = environ.get(name)
            if value is None or not value.strip():
                problems.append(EnvProblem(name, value is not None, manifest.locate(*path),
                                           format_field_path(path), owner))
    return sorted(problems, key=lambda p: (str(p.position.file), p.position.line,
                                           p.position.column))


def manifests_used(project: Project, settings: Mapping[str, EffectiveActivation],
                   activations: Iterable[str], *, channels: bool = False
                   ) -> list[Manifest[Any]]:
    """The destinations and sources the `activations` read and write (with `channels`: only
    the notification channels they warn instead), each once."""
    segments, models = project.segments(), project.models()
    by_kind = {kind: project.of_kind(kind) for kind in Kind}
    wanted: dict[tuple[Kind, str], None] = {}
    for name in activations:
        effective = settings.get(name)
        if effective is None:
            continue
        if channels:
            wanted.update(((Kind.NOTIFICATION_CHANNEL, c), None)
                          for c in effective.warnings.notify or [])
            continue
        wanted[(Kind.DESTINATION, effective.destination)] = None
        segment = segments.get(effective.segment or "")
        model = models.get(segment.spec.model if segment else effective.model or "")
        if model is not None:
            wanted[(Kind.SOURCE, model.spec.source)] = None
    return [by_kind[kind][name] for kind, name in wanted if name in by_kind[kind]]


def _references(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...],
                                                                          str]]:
    if isinstance(value, str) and re.fullmatch(ENV_REF_PATTERN, value):
        yield path, env_ref_name(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _references(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, (*path, index))


def _kind_label(kind: Kind) -> str:
    return "notification channel" if kind is Kind.NOTIFICATION_CHANNEL else kind.value.lower()
