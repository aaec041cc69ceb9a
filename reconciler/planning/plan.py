"""The Plan: frozen data saying exactly what apply will change at each destination.

A plan holds per-resource changes as objects (a segment, a field, an attribute, a list) and
memberships/attribute updates as *counts* with a few masked samples — never one object per
member and never raw personal data. Renderers (`render.py`) are pure functions of a Plan; the
executor runs the same Plan, so what a reviewer reads is what apply does.
"""
from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field
from pydantic.json_schema import SkipJsonSchema

from reconciler.changes.batching import Batching
from reconciler.changes.guards import GuardStop
from reconciler.changes.imports import ImportTarget
from reconciler.changes.resources import Action, ResourceChange
from reconciler.manifests.settings import EffectiveActivation

# 2.0: `stops` are guard verdicts as objects (kind, activation, measured, limit), not sentences.
# 2.1: each activation's `verdict`, and the summary's `activations_blocked`.
# 2.2: replacements: a resource's action `-/+` with `replaces` (the list it succeeds), the
#      summary's `to_replace`, each activation's `remote_id` and `inferred_operations`.
# 2.3: attribute drift: `drift.changed_outside`, each activation's `remote_read` and
#      `unobserved`.
FORMAT_VERSION = "2.4"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MembershipChange(_Frozen):
    desired: int = Field(ge=0, description="Rows of the audience with a valid key.")
    matched: int = Field(ge=0, description="Desired rows whose key exists at the destination.")
    adds: int = Field(ge=0)
    removes: int = Field(ge=0)
    held: int = Field(
        default=0, ge=0, description="Members whose match key is on several rows of the "
        "audience, kept as they are (duplicateKeys: keep); not counted in `matched`.")
    samples: tuple[str, ...] = Field(default=(), description="A few masked keys added.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unmatched(self) -> int:
        return self.desired - self.matched

    @computed_field  # type: ignore[prop-decorator]
    @property
    def match_rate(self) -> float:
        return self.matched / self.desired if self.desired else 1.0


class AttributeChange(_Frozen):
    updates: int = Field(ge=0, description="Contacts whose mapped values change.")
    fields: tuple[str, ...]


class Drift(_Frozen):
    """Membership or members' values changed outside this tool since the last apply (seen
    with --refresh)."""

    added_outside: int = Field(ge=0, description="Members added outside: apply removes them.")
    removed_outside: int = Field(ge=0, description="Members removed outside: apply adds them.")
    changed_outside: int = Field(
        default=0, ge=0, description="Members whose mapped attributes were changed at the "
        "destination (read with --refresh): apply sends their values again (counted in "
        "`attributes.updates`).")


class RemoteRead(_Frozen):
    """What --refresh read at the destination for an activation, and what it cost."""

    members: int = Field(ge=0, description="Members read.")
    fields: tuple[str, ...] = Field(
        default=(), description="The mapped fields read with them (attribute drift); empty "
        "when only the membership was read (--refresh-members, or none observable).")
    calls: int | None = Field(default=None, ge=0, description="API calls the read sent, "
                              "retries included, when the destination counts them.")


class IndexSource(enum.StrEnum):
    """Where a plan's contact index came from."""

    STATE = "state"  # kept in the state store; only keys it did not know were checked
    FULL_READ = "full-read"  # every key read at the destination, page by page
    EXPORT = "export"  # every key read from the destination's documented export file
    CHECKED = "checked"  # no way to list every key: every audience key checked one by one
    UNKEPT = "unkept"  # read in full by a destination that keeps no index between plans


class ContactIndexRead(_Frozen):
    """What the plan read to know which of the audience's keys exist at the destination."""

    source: IndexSource
    keys: int = Field(ge=0, description="Keys known to exist at the destination.")
    read_at: datetime | None = Field(default=None, description="When the index was last read "
                                     "in full (this plan, for a full read).")
    checked: int = Field(default=0, ge=0, description="Audience keys the index did not know, "
                         "checked at the destination one by one.")
    found: int = Field(default=0, ge=0, description="Of those, the keys that exist.")
    check_calls: int = Field(default=0, ge=0, description="The calls the checks sent.")
    pages: int = Field(default=0, ge=0, description="Pages of a full read (1 for a file).")
    read_calls: int = Field(default=0, ge=0, description="The calls the full read sent.")
    seconds: float = Field(default=0.0, ge=0, description="How long the full read took.")
    file: str | None = Field(default=None, description="The export file a full read read.")
    reason: str | None = Field(default=None, description="Why the index was read in full.")
    stale: str | None = Field(default=None, description="Why the index may not show every "
                              "change at the destination (the match rate is then as of "
                              "`read_at`); None when it is known to be current.")
    complete: bool = Field(default=False, description="The index holds every key at the "
                           "destination as of `read_at` (a full read or export, not only "
                           "the audience's keys checked).")
    shared: bool = Field(default=False, description="Read for another activation of this "
                         "run on the same list or table and key (no call of its own).")


class DataIssue(_Frozen):
    """Rows that cannot be synced (null/duplicate keys, bad values, bad source rows)."""

    kind: str
    count: int = Field(ge=1)
    samples: tuple[str, ...] = ()


class Verdict(enum.StrEnum):
    """What apply will do with an activation, as the plan sees it."""

    NO_CHANGES = "no-changes"  # the destination already matches
    WILL_APPLY = "will-apply"  # it has changes and nothing stops them
    BLOCKED = "blocked"  # a guard stops it before any write (unless --allow-mass-removal)
    ERROR = "error"  # it could not be planned; apply fails it


class ActivationPlan(_Frozen):
    activation: str
    destination: str
    destination_type: str
    target: str = Field(description="Where, e.g. 'org SANDBOX, list CONTACTS'.")
    remote_name: str
    remote_id: str | None = Field(default=None, description="The list's id at the "
                                  "destination, when it exists and has one.")
    resources: tuple[ResourceChange, ...] = ()
    members: MembershipChange | None = None
    attributes: AttributeChange | None = None
    drift: Drift | None = None
    remote_read: RemoteRead | None = None
    contact_index: ContactIndexRead | None = None
    unobserved: tuple[str, ...] = Field(
        default=(), description="What --refresh asked for that the destination cannot show "
        "(e.g. Actito: attribute values changed there); not a change, and not a warning "
        "that makes a plan without changes say otherwise.")
    data_issues: tuple[DataIssue, ...] = ()
    warnings: tuple[str, ...] = ()
    batching: Batching | None = Field(
        default=None, description="How apply cuts the member and profile changes into calls "
        "(destinations that send rows in calls).")
    inferred_operations: tuple[str, ...] = Field(
        default=(), description="Destination operations this activation may use whose route "
        "or body no public source documents (Actito: routes.py's table), as "
        "'operation (METHOD path)'.")
    stops: tuple[GuardStop, ...] = Field(
        default=(), description="Guards apply will stop on (e.g. mass removal), unless allowed."
    )
    error: str | None = Field(default=None, description="Why this activation cannot be planned.")
    removed: bool = Field(
        default=False, description="Gone from the manifests: apply deletes the remote list "
        "`resources` name (deletionPolicy: delete) and forgets the activation, or keeps it.")
    # What apply executes, as the plan worked it out (None for a removed activation): the
    # effective settings (names, key, fields, policies) and where updates are bulk-imported.
    # Kept in saved plans; left out of the rendered JSON (see render.py) and its schema.
    settings: SkipJsonSchema[EffectiveActivation | None] = None
    import_target: SkipJsonSchema[ImportTarget | None] = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_changes(self) -> bool:
        members = self.members is not None and (self.members.adds or self.members.removes)
        updates = self.attributes is not None and self.attributes.updates > 0
        return bool(self.resources or members or updates)

    @computed_field(  # type: ignore[prop-decorator]
        description="What apply will do with this activation: no-changes, will-apply, blocked "
        "(a guard in `stops` stops it unless --allow-mass-removal) or error (it could not be "
        "planned).")
    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return Verdict.ERROR
        if self.stops:
            return Verdict.BLOCKED
        return Verdict.WILL_APPLY if self.has_changes else Verdict.NO_CHANGES


class Summary(_Frozen):
    to_create: int = Field(description="Resources created, replacements included.")
    to_update: int
    to_delete: int = Field(description="Resources deleted, lists a replacement deletes "
                           "included.")
    to_replace: int = Field(default=0, description="Lists replaced by another (`-/+`).")
    member_adds: int
    member_removes: int
    profile_updates: int
    activations_with_changes: int
    activations_failed: int
    activations_blocked: int = Field(description="Activations a guard will stop.")


class Plan(_Frozen):
    format_version: str = FORMAT_VERSION
    created_at: datetime
    activations: tuple[ActivationPlan, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> Summary:
        resources = [r for a in self.activations for r in a.resources]
        return Summary(
            to_create=sum(r.action in (Action.CREATE, Action.REPLACE) for r in resources),
            to_update=sum(r.action is Action.UPDATE for r in resources),
            to_delete=sum(r.action is Action.DELETE or r.retired() is not None
                          for r in resources),
            to_replace=sum(r.action is Action.REPLACE for r in resources),
            member_adds=sum(a.members.adds for a in self.activations if a.members),
            member_removes=sum(a.members.removes for a in self.activations if a.members),
            profile_updates=sum(a.attributes.updates for a in self.activations if a.attributes),
            activations_with_changes=sum(a.has_changes for a in self.activations),
            activations_failed=sum(a.verdict is Verdict.ERROR for a in self.activations),
            activations_blocked=sum(a.verdict is Verdict.BLOCKED for a in self.activations),
        )

    @property
    def has_changes(self) -> bool:
        return any(a.has_changes for a in self.activations)
