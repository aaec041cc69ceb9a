"""Which activations a command works on: named ones (`-a NAME`) and labelled ones
(`-l team=crm`), every condition given holding at once.

Owns the label selector's syntax (`KEY=VALUE`) and matching; reads only the loaded project.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.errors import ReconcilerError
from reconciler.manifests.project import Project

LabelSelector = dict[str, str]


class SelectionError(ReconcilerError):
    """A label selector that cannot be read, or one that no activation matches."""


def parse_labels(texts: Iterable[str]) -> LabelSelector:
    """`["team=crm", "tier=gold"]` as `{team: crm, tier: gold}`; a key given twice with two
    values can match nothing, so it is refused rather than silently selecting no activation."""
    selector: LabelSelector = {}
    for text in texts:
        key, equals, value = text.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key:
            raise SelectionError(f"-l/--label {text!r}: expected KEY=VALUE, e.g. team=crm")
        if selector.get(key, value) != value:
            raise SelectionError(f"-l/--label gives {key} two values ({selector[key]!r} and "
                                 f"{value!r}): an activation has one")
        selector[key] = value
    return selector


def describe_selector(selector: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in selector.items())


def matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    """Every pair of the selector is among the labels (an empty selector matches all)."""
    return all(labels.get(key) == value for key, value in selector.items())


def select_by_labels(labelled: Mapping[str, Mapping[str, str]], names: list[str],
                     selector: Mapping[str, str]) -> list[str]:
    """The activations a command works on, from each defined activation's labels: `names`
    as given without a selector (none: all, as each command reads it); with one, those of
    `names` (or of all when none is named) carrying every label of the selector, sorted.
    No activation matching is an error: a typo in a scheduled job must not sync nothing
    quietly (nor, given no names, everything)."""
    if not selector:
        return names
    pool = names or sorted(labelled)
    chosen = [name for name in pool if matches(labelled.get(name, {}), selector)]
    if not chosen:
        among = f" among {', '.join(names)}" if names else ""
        raise SelectionError(
            f"no activation{among} has the labels {describe_selector(selector)}",
            hint=f"labels in use: {_labels_in_use(labelled) or 'none'}")
    return chosen


def select_activations(project: Project, names: list[str],
                       selector: Mapping[str, str]) -> list[str]:
    """`select_by_labels` over the project's activations."""
    labelled = {name: activation.metadata.labels
                for name, activation in project.activations().items()}
    return select_by_labels(labelled, names, selector)


def _labels_in_use(labelled: Mapping[str, Mapping[str, str]]) -> str:
    pairs = sorted({f"{key}={value}" for labels in labelled.values()
                    for key, value in labels.items()})
    return ", ".join(pairs)
