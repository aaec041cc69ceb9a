"""`apply --format json` and `run --due --format json`: what the command did, as one JSON
document on stdout, for scripts and CI steps.

Owns the summary's shape and the output discipline of the JSON mode: while the command runs,
everything it would print on stdout (the plan text, result lines, notices, annotations) goes
to stderr instead, so stdout holds the document and nothing else. Counts, names, outcomes and
run ids only: never a key, a value or a credential.
"""
from __future__ import annotations

import contextlib
import enum
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import typer

from reconciler.destinations.base import WriteResult
from reconciler.executing.outcomes import ActivationResult, Outcome
from reconciler.planning.plan import ActivationPlan, Plan

SUMMARY_FORMAT = "1.0"


class SummaryFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


SUMMARY_FORMAT_OPTION = typer.Option(
    SummaryFormat.TEXT, "--format", help="text, or json: one JSON summary on stdout (the "
    "plan and every other line on stderr; needs --auto-approve with apply)")


class RunOutcome(enum.StrEnum):
    """The command's outcome as a whole (the exit code says the same)."""

    SUCCEEDED = "succeeded"  # exit 0: every activation applied or unchanged
    FAILED = "failed"  # exit 1: an activation failed or a guard stopped it
    INTERRUPTED = "interrupted"  # exit 130: Ctrl-C (see cli/interrupts.py)
    NOTHING_DUE = "nothing-due"  # exit 0: `run --due` found no activation due


@dataclass(frozen=True)
class Skipped:
    """An activation `run --due` left for later."""

    activation: str
    reason: str
    next_due: str | None  # ISO 8601; None for a manual activation


def outcome_of(results: Sequence[ActivationResult]) -> RunOutcome:
    outcomes = {r.outcome for r in results}
    if Outcome.INTERRUPTED in outcomes:
        return RunOutcome.INTERRUPTED
    if outcomes & {Outcome.FAILED, Outcome.STOPPED}:
        return RunOutcome.FAILED
    return RunOutcome.SUCCEEDED


def summary_document(command: str, plan: Plan | None, results: Sequence[ActivationResult],
                     *, outcome: RunOutcome | None = None,
                     skipped: Sequence[Skipped] = ()) -> dict[str, Any]:
    """The document: the command's outcome, then per activation the plan's verdict and
    counts beside what apply did (outcome, confirmed rows, run id)."""
    planned = {a.activation: a for a in plan.activations} if plan else {}
    done = {o.value.replace(" ", "_"): sum(r.outcome is o for r in results) for o in Outcome}
    document: dict[str, Any] = {
        "format_version": SUMMARY_FORMAT,
        "command": command,
        "outcome": (outcome or outcome_of(results)).value,
        "summary": done,
        "activations": [_activation(r, planned.get(r.activation)) for r in results],
    }
    if command == "run":
        document["skipped"] = [{"activation": s.activation, "reason": s.reason,
                                "next_due": s.next_due} for s in skipped]
    return document


def _activation(result: ActivationResult, planned: ActivationPlan | None) -> dict[str, Any]:
    return {
        "activation": result.activation,
        "destination": planned.destination if planned else None,
        "verdict": planned.verdict.value if planned else None,
        "outcome": result.outcome.value,
        "run_id": result.run_id,
        "planned": _planned_counts(planned) if planned else None,
        "members": _written(result.members, "not_found"),
        "updates": _written(result.updates, "rejected"),
        "stops": [stop.model_dump(mode="json") for stop in result.stops],
        "message": result.message or None,
        "seconds": round(result.seconds, 3),
    }


def _planned_counts(planned: ActivationPlan) -> dict[str, int]:
    members, attributes = planned.members, planned.attributes
    return {
        "resources": len(planned.resources),
        "audience_desired": members.desired if members else 0,
        "audience_matched": members.matched if members else 0,
        "member_adds": members.adds if members else 0,
        "member_removes": members.removes if members else 0,
        "profile_updates": attributes.updates if attributes else 0,
    }


def _written(result: WriteResult | None, extra: str) -> dict[str, int] | None:
    if result is None:
        return None
    return {"sent": result.sent, "applied": result.applied, extra: getattr(result, extra)}


@contextlib.contextmanager
def stdout_for(output: SummaryFormat) -> Iterator[TextIO]:
    """Yields where the JSON document goes (the real stdout); in JSON mode, everything else
    printed on stdout meanwhile goes to stderr."""
    stdout = sys.stdout
    if output is not SummaryFormat.JSON:
        yield stdout
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield stdout


def write_document(stream: TextIO, document: dict[str, Any]) -> None:
    stream.write(json.dumps(document, indent=2) + "\n")
    stream.flush()
