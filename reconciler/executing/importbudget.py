"""A daily bulk-import budget, as the executor, `plan` and `status` see it — for any
destination that declares an import target (`destinations/capabilities.py`; today Actito: 24
ETL imports per profile table per day, `limits.bulkImportsPerDay`, evidence §10). What a file
holds and how one is sent is the destination's (`BulkImportWriter`); here, the rules that span
activations:

- **Sharing.** One import carries one CSV per table ([C] evidence §6: "For each target table,
  provide one CSV file"), so activations of one run on one table share an import only when
  one CSV fits them all: the same key attribute, the same predefined ETL (`etlId`, or none),
  the same **set of columns** and the same empty-value rule. Any other activation gets an
  import of its own: an empty cell of one activation can then never blank an attribute
  another activation owns (CSVs of different columns are never merged).
- **Conflicts** are looked for across every activation of a run on one table and key
  (`table_clusters`): whether they share an import or not, two values for one attribute of
  one profile in one run is a mapping mistake.
- **Counting.** The state store's ledger counts the imports started per account, table and
  **UTC day**; a refusal for the quota (`QuotaExceededError`) marks that day used up whatever
  our count (another tool may share it).
- **Deferring.** A group whose import(s) no longer fit the day's remaining budget keeps its
  attribute updates for the next slot (the next UTC midnight); its members still sync. Groups
  claim the budget in plan order.

Pure apart from `read_budget`, which only reads the state store.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from reconciler.changes.imports import ImportTarget
from reconciler.destinations.capabilities import import_target
from reconciler.manifests.models import EmptyValues
from reconciler.manifests.project import Project
from reconciler.manifests.settings import EffectiveActivation
from reconciler.planning.plan import ActivationPlan
from reconciler.state import StateReader


def import_targets(project: Project,
                   settings: Mapping[str, EffectiveActivation]) -> dict[str, ImportTarget]:
    """The import target of each activation whose destination has an import budget (Actito);
    read from the manifests only (no secret is resolved)."""
    destinations = project.destinations()
    targets = {}
    for name, activation in settings.items():
        document = destinations.get(activation.destination)
        target = import_target(document.spec) if document is not None else None
        if target is not None:
            targets[name] = target
    return targets


@dataclass(frozen=True)
class ImportGroup:
    """Activations whose attribute updates go out in one CSV (one import, or several when the
    file passes the size cap) in a run: same table, key attribute, predefined ETL, columns
    (sorted) and empty-value rule."""

    target: ImportTarget
    key_attribute: str
    activations: tuple[str, ...]
    columns: tuple[str, ...] = ()
    etl_id: str | None = None
    empty_values: EmptyValues = EmptyValues.CLEAR


def import_groups(planned: Iterable[ActivationPlan], targets: Mapping[str, ImportTarget],
                  settings: Mapping[str, EffectiveActivation],
                  sends: Callable[[ActivationPlan], bool]) -> list[ImportGroup]:
    """The import groups of a run, in the order of their first activation; only activations
    with a budgeted target, attribute updates, and for which `sends` holds."""
    members: dict[tuple[ImportTarget, str, tuple[str, ...], str | None, EmptyValues],
                  list[str]] = {}
    for plan in planned:
        target = targets.get(plan.activation)
        if target is None or plan.attributes is None or not plan.attributes.updates:
            continue
        if not sends(plan):
            continue
        one = settings[plan.activation]
        columns = tuple(sorted({f.destination for f in one.fields}))
        members.setdefault((target, one.match_key.destination, columns, one.etl_id,
                            one.empty_values), []).append(plan.activation)
    return [ImportGroup(target, key, tuple(names), columns, etl_id, empty)
            for (target, key, columns, etl_id, empty), names in members.items()]


def table_clusters(groups: Iterable[ImportGroup]) -> list[tuple[ImportTarget, tuple[str, ...]]]:
    """The activations of the groups updating one table by one key (whatever their columns
    or ETL), in order: where two values for one attribute of one profile can meet."""
    clusters: dict[tuple[ImportTarget, str], list[str]] = {}
    for group in groups:
        clusters.setdefault((group.target, group.key_attribute), []).extend(group.activations)
    return [(target, tuple(names)) for (target, _key), names in clusters.items()]


def sends_updates(plan: ActivationPlan, *, allow_mass_removal: bool = False) -> bool:
    """Whether apply would reach this activation's attribute updates at all."""
    return (plan.error is None and not plan.removed
            and (not plan.stops or allow_mass_removal))


@dataclass(frozen=True)
class BudgetUse:
    """How much of a table's daily import budget is used on one UTC day."""

    target: ImportTarget
    day: dt.date
    used: int
    refused: bool = False  # the destination said the quota was used up

    @property
    def remaining(self) -> int:
        return 0 if self.refused else max(0, self.target.daily_budget - self.used)

    @property
    def next_slot(self) -> dt.datetime:
        return dt.datetime.combine(self.day + dt.timedelta(days=1), dt.time(), dt.UTC)

    def describe(self) -> str:
        used = f"{self.used}/{self.target.daily_budget} ETL imports used on table " \
               f"{self.target.table} today"
        return used + (" (Actito refused one: its quota is used up)" if self.refused else "")

    def deferral(self) -> str:
        return (f"attribute updates wait for the next import slot ({self.describe()}; "
                f"next slot {self.next_slot:%Y-%m-%d %H:%M} UTC)")

    def spend(self, imports: int) -> BudgetUse:
        return BudgetUse(self.target, self.day, self.used + imports, self.refused)


def read_budget(reader: StateReader, target: ImportTarget, now: dt.datetime) -> BudgetUse:
    """The budget use of `target` on the UTC day of `now`, from the state store's ledger."""
    day = now.astimezone(dt.UTC).date()
    executions = reader.import_executions(target.account, target.table, day)
    return BudgetUse(target, day, sum(not e.refused for e in executions),
                     any(e.refused for e in executions))


def deferred_groups(groups: Iterable[ImportGroup],
                    budgets: Mapping[ImportTarget, BudgetUse]) -> dict[ImportGroup, BudgetUse]:
    """The groups that would wait for the next slot if each needs one import, the budget
    claimed in order; each with the budget use it would see."""
    left = dict(budgets)
    deferred = {}
    for group in groups:
        use = left[group.target]
        if use.remaining < 1:
            deferred[group] = use
        else:
            left[group.target] = use.spend(1)
    return deferred
