"""What a plan says about an activation besides its changes: data issues, warnings, guards.

Owns the sentences and verdicts the planner derives from one activation's audience report
and diff: bad data (counted, with the masked samples `sources/` made), held duplicate keys,
an empty or unmatched audience, hashes that cannot be compared, and the guards apply will
stop on. Pure: no I/O, no raw personal data (samples arrive masked).
"""
from __future__ import annotations

from reconciler.changes.guards import GuardKind, GuardStop
from reconciler.errors import ReconcilerError
from reconciler.manifests.models import Kind
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.diff import DiffResult
from reconciler.planning.plan import DataIssue
from reconciler.sources import AudienceReport, ConditionError, ProblemKind, UnknownColumnError
from reconciler.state import SnapshotHashes


def error_message(project: Project, error: ReconcilerError) -> str:
    """Why an activation cannot be planned; a segment condition's problem (a column the
    model lacks, a value that does not fit the column's type) starts with its file:line:col."""
    if isinstance(error, ConditionError | UnknownColumnError) and error.path is not None \
            and error.segment is not None:
        segment = project.of_kind(Kind.SEGMENT).get(error.segment)
        if segment is not None:
            return f"{segment.locate('spec', 'where', *error.path)}: {error}"
    return str(error)


def data_issues(report: AudienceReport) -> tuple[DataIssue, ...]:
    return tuple(DataIssue(kind=f"{p.kind} ({p.field})" if p.field else str(p.kind),
                           count=p.rows, samples=p.samples)
                 for p in report.problems)


def warnings_of(settings: EffectiveActivation, report: AudienceReport, diff: DiffResult,
                hashes: SnapshotHashes) -> tuple[str, ...]:
    """The activation's warnings about its data and its diff, in the order the plan shows."""
    return (*_data_warnings(settings, report), *_held_warnings(report),
            *_empty_warnings(settings, report, diff), *_hash_warnings(hashes, diff),
            *_unsettled_warnings(diff))


def guard_stops(settings: EffectiveActivation, diff: DiffResult) -> tuple[GuardStop, ...]:
    """The activation's guards that apply will stop on, said at plan time already."""
    warnings, name = settings.warnings, settings.name
    out = []
    rate = diff.matched / diff.desired if diff.desired else 1.0
    if warnings.min_match_rate and rate < warnings.min_match_rate:
        out.append(GuardStop(kind=GuardKind.MIN_MATCH_RATE, activation=name, measured=rate,
                             limit=warnings.min_match_rate))
    if warnings.max_removal_ratio is not None and diff.base_members:
        ratio = diff.removes / diff.base_members
        if ratio > warnings.max_removal_ratio:
            out.append(GuardStop(kind=GuardKind.MAX_REMOVAL_RATIO, activation=name,
                                 measured=ratio, limit=warnings.max_removal_ratio))
    # Held members stay in the list: an audience of held keys only is not an emptied one.
    if warnings.empty_audience and diff.matched + diff.held == 0 and diff.base_members:
        out.append(GuardStop(kind=GuardKind.EMPTY_AUDIENCE, activation=name,
                             measured=diff.base_members))
    return tuple(out)


def _held_warnings(report: AudienceReport) -> tuple[str, ...]:
    """Held keys (duplicated, or with a bad source row): say how many, and that their
    members did not move."""
    out = []
    if report.held_duplicate_keys:
        rows = sum(p.rows for p in report.problems if p.kind is ProblemKind.DUPLICATE_KEY)
        samples = [s for p in report.problems if p.kind is ProblemKind.DUPLICATE_KEY
                   for s in p.samples]
        examples = f" (e.g. {', '.join(samples)})" if samples else ""
        out.append(f"{_keys(report.held_duplicate_keys)} on more than one row of the audience "
                   f"({rows:,} rows){examples}: duplicateKeys is keep, so their members stay "
                   "as they are this run (none is added, removed or updated). Make the key "
                   "unique in the model, or set duplicateKeys: first or fail")
    if report.held_bad_keys:
        out.append(f"{_keys(report.held_bad_keys)} on bad source rows (a value unfit for its "
                   "declared type, see above): their members stay as they are this run (none "
                   "is added, removed or updated) until the source is fixed")
    return tuple(out)


def _keys(count: int) -> str:
    return "1 match key is" if count == 1 else f"{count:,} match keys are"


def _hash_warnings(hashes: SnapshotHashes, diff: DiffResult) -> tuple[str, ...]:
    if hashes is not SnapshotHashes.UNKNOWN or not diff.updates:
        return ()
    return ("the last applied snapshot's attribute hashes were made by another version of "
            "reconciler or DuckDB, so they cannot be compared: every member's attributes are "
            "sent once more (later plans compare again)",)


def _unsettled_warnings(diff: DiffResult) -> tuple[str, ...]:
    if not diff.unsettled:
        return ()
    return (f"{diff.unsettled:,} members' values changed in the source while planning: their "
            "attributes are not updated now, the next plan sends them",)


def _empty_warnings(settings: EffectiveActivation, report: AudienceReport,
                    diff: DiffResult) -> tuple[str, ...]:
    """An audience of 0 rows is most often a mistake (a condition, a stale table): say so."""
    if not report.rows_read:
        what = (f"segment {settings.segment!r} matches" if settings.segment
                else "the model returns")
        return (f"{what} 0 rows: the audience is empty (check its conditions and the "
                "source's data)",)
    if not diff.matched and not diff.held:
        return (f"none of the audience's {report.rows_read:,} rows matches a contact at the "
                "destination: the audience synced is empty (check the match key)",)
    return ()


def _data_warnings(settings: EffectiveActivation, report: AudienceReport) -> tuple[str, ...]:
    limit = settings.warnings.max_rejected_ratio
    if not report.rows_read or limit is None:
        return ()
    rejected = report.rejected_rows / report.rows_read
    if rejected <= limit:
        return ()
    return (f"{rejected:.1%} of the audience's rows are not synced (bad data), over "
            f"maxRejectedRatio {limit:.0%}",)
