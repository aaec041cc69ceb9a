"""Renderers of a Plan: text (terraform's grammar), JSON (versioned) and Markdown (PR comment).

Pure functions of a Plan: no I/O, no clock. A Plan never holds raw personal data, so no
renderer can leak it.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.planning.plan import (
    ActivationPlan,
    ContactIndexRead,
    IndexSource,
    Plan,
    RemoteRead,
)

GITHUB_COMMENT_LIMIT = 65_536
_MARKDOWN_MARGIN = 1_024  # room for the truncation note and the footer
_MAX_DRIFT_LINES = 50  # in a PR comment; the artifact has them all


def describe_stop(stop: GuardStop) -> str:
    """A guard's verdict in words (plan output, the executor's refusal, run records)."""
    if stop.kind is GuardKind.MIN_MATCH_RATE:
        return f"match rate {stop.measured:.1%} is under minMatchRate {stop.limit:.0%}"
    if stop.kind is GuardKind.MAX_REMOVAL_RATIO:
        return (f"removes {stop.measured:.1%} of the list's members, over maxRemovalRatio "
                f"{stop.limit:.0%}")
    return (f"the audience is empty (0 rows to sync): apply would remove all {stop.measured:,.0f} "
            "members of the list")


def summary_line(plan: Plan) -> str:
    s = plan.summary
    replaced = f" ({s.to_replace} replaced: -/+)" if s.to_replace else ""
    line = (
        f"Plan: {s.to_create} to create, {s.to_update} to update, {s.to_delete} to delete"
        f"{replaced}; members +{s.member_adds:,} −{s.member_removes:,}; "
        f"{s.profile_updates:,} profile updates."
    )
    if s.activations_failed:
        line += f" {s.activations_failed} activation(s) could not be planned."
    if s.activations_blocked:
        line += (f" {s.activations_blocked} activation(s) will be stopped by a guard "
                 "(apply --allow-mass-removal to apply them anyway).")
    return line


def activation_lines(activation: ActivationPlan) -> list[str]:
    """The body of one activation's section, one change per line, symbol first."""
    lines: list[str] = []
    if activation.error:
        return [f"! cannot plan: {activation.error}"]
    for change in activation.resources:
        detail = f" ({change.detail})" if change.detail else ""
        name = change.name if re.fullmatch(r"[\w.-]+", change.name) else f'"{change.name}"'
        lines.append(f"{change.action.value} {change.type.label} {name}{detail}"
                     f"  # {change.reason}")
    members = activation.members
    if members is not None and (members.adds or members.removes):
        samples = f"; e.g. {', '.join(members.samples)}" if members.samples else ""
        lines.append(
            f"~ members  +{members.adds:,} −{members.removes:,}   match rate "
            f"{members.match_rate:.1%} ({members.unmatched:,} unmatched, skipped){samples}"
        )
    if activation.attributes is not None and activation.attributes.updates:
        fields = ", ".join(activation.attributes.fields)
        lines.append(f"~ profiles {activation.attributes.updates:,} contacts: {fields}")
    if (read := describe_read(activation.remote_read)) is not None:
        lines.append(f"  refresh  {read}")
    if activation.contact_index is not None and activation.has_changes:
        lines.append(f"  contacts {describe_index(activation.contact_index)}")
    if activation.batching is not None and activation.batching.calls_max:
        lines.append(f"  batches  {activation.batching.describe()}")
    for issue in activation.data_issues:
        samples = f" e.g. {', '.join(issue.samples)}" if issue.samples else ""
        lines.append(f"! {issue.count:,} rows not synced: {issue.kind}{samples}")
    lines.extend(f"! warning: {warning}" for warning in activation.warnings)
    lines.extend(f"  note     {what}" for what in activation.unobserved)
    if activation.inferred_operations:
        lines.append("  inferred " + ", ".join(activation.inferred_operations)
                     + ": routes no public source documents; confirm them with the vendor or "
                     "replace them in the destination's api.routes")
    lines.extend(f"! stop: {describe_stop(stop)}" for stop in activation.stops)
    return lines


def _heading(activation: ActivationPlan) -> str:
    return f"{activation.activation} → {activation.destination} ({activation.target})"


def _drift_lines(plan: Plan) -> list[str]:
    lines = []
    for a in plan.activations:
        if a.drift is None:
            continue
        if a.drift.removed_outside:
            lines.append(f"~ {a.activation}: {a.drift.removed_outside:,} members removed outside "
                         "this tool will be added back")
        if a.drift.added_outside:
            lines.append(f"~ {a.activation}: {a.drift.added_outside:,} members added outside "
                         "this tool will be removed")
        if a.drift.changed_outside:
            lines.append(f"~ {a.activation}: attributes changed at the destination: "
                         f"{a.drift.changed_outside:,} contacts will get their values again")
    return lines


def describe_index(read: ContactIndexRead, now: datetime | None = None) -> str:
    """What the plan read to know which keys exist, in words: e.g. "contact index: 9,981,203
    keys from state (read 3 h ago), 10,211 new keys checked in 11 calls"; `now`: the plan's
    moment, for the index's age."""
    checks = (f", {read.checked:,} new keys checked in {read.check_calls:,} calls "
              f"({read.found:,} found)" if read.checked else "")
    why = f" ({read.reason})" if read.reason else ""
    if read.shared:
        return f"contact index: {read.keys:,} keys, read for another activation{checks}"
    if read.source is IndexSource.STATE:
        age = (f" (read {describe_age(now - read.read_at)} ago)"
               if now is not None and read.read_at is not None else "")
        return f"contact index: {read.keys:,} keys from state{age}{checks}"
    if read.source is IndexSource.EXPORT:
        return (f"contact index: {read.keys:,} keys from the export {read.file} (one file, "
                f"no API call){why}{checks}")
    if read.source is IndexSource.CHECKED:
        return f"contact index: every audience key checked{why}{checks}"
    if read.source is IndexSource.UNKEPT:
        return f"contact index: {read.keys:,} keys read in full (not kept)"
    return (f"contact index: full read: {read.pages:,} pages in {describe_duration(read.seconds)}, "
            f"{read.read_calls:,} calls, {read.keys:,} keys{why}{checks}")


def describe_age(age: timedelta) -> str:
    """An age for people: 40 s, 12 min, 3 h, 4 days."""
    seconds = max(0.0, age.total_seconds())
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h" if seconds < 48 * 3600 else f"{seconds / 86400:.0f} days"


def describe_duration(seconds: float) -> str:
    """A duration for people: 4.2 s, 4 min 12 s."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def describe_read(read: RemoteRead | None) -> str | None:
    """What --refresh read for an activation and its cost, in words (None: nothing read)."""
    if read is None:
        return None
    fields = f" with {', '.join(read.fields)}" if read.fields else ""
    calls = f" ({read.calls:,} calls)" if read.calls is not None else ""
    return f"read {read.members:,} members{fields}{calls}"


def _worth_a_section(activation: ActivationPlan) -> bool:
    """Changes, an error, a warning, a guard, or data that could not be synced."""
    return bool(activation.has_changes or activation.error or activation.warnings
                or activation.stops or activation.data_issues)


def render_text(plan: Plan) -> str:
    sections = [a for a in plan.activations if _worth_a_section(a)]
    if not sections and not plan.summary.activations_failed:
        return "No changes. The destinations match the manifests.\n"
    out = ["Audience Reconciler will perform the following actions:", ""]
    for activation in sections:
        out.append(f"  # {_heading(activation)}")
        out.extend(f"  {line}" for line in activation_lines(activation))
        out.append("")
    drift = _drift_lines(plan)
    if drift:
        out.append("Drift since the last apply (seen with --refresh):")
        out.extend(f"  {line}" for line in drift)
        out.append("")
    out.append(summary_line(plan))
    return "\n".join(out) + "\n"


# What apply executes but a reader already has in the manifests (`reconciler show activation`).
_EXECUTION_ONLY = {"activations": {"__all__": {"settings", "import_target"}}}


def render_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2, exclude=_EXECUTION_ONLY) + "\n"


def render_markdown(plan: Plan, *, artifact_hint: str = "the full plan in the job's artifacts",
                    limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A PR comment: summary first, a section per changed activation, drift collapsed.

    Stays under `limit` characters (GitHub's comment limit): sections that do not fit are
    left out with a pointer to the full artifact.
    """
    head = ["### Audience Reconciler plan", "", f"**{summary_line(plan)}**", ""]
    sections = [a for a in plan.activations if _worth_a_section(a)]
    if not sections:
        head.append("No changes. The destinations match the manifests.")
    body: list[str] = []
    budget = limit - _MARKDOWN_MARGIN - len("\n".join(head))
    drift = _drift_lines(plan)
    if len(drift) > _MAX_DRIFT_LINES:
        drift = [*drift[:_MAX_DRIFT_LINES], f"… {len(drift) - _MAX_DRIFT_LINES} more lines"]
    drift_block = ["<details><summary>Drift since the last apply</summary>", "", "```diff",
                   *drift, "```", "</details>", ""] if drift else []
    budget -= len("\n".join(drift_block))
    shown = 0
    for activation in sections:
        lines = activation_lines(activation)
        block = [f"#### {_heading(activation)}", "```diff", *lines, "```", ""]
        size = len("\n".join(block)) + 1
        if size > budget:
            break
        body.extend(block)
        budget -= size
        shown += 1
    if shown < len(sections):
        body.append(f"_{len(sections) - shown} more activation(s) not shown: see "
                    f"{artifact_hint}._")
        body.append("")
    return "\n".join(head + body + drift_block) + "\n"
