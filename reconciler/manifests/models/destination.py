"""The Destination kind: a Selligent list or an Actito profile table, and how to reach it."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from reconciler.manifests.models.activation import ActivationSettings
from reconciler.manifests.models.common import StrictModel, UrlOrEnv
from reconciler.manifests.values import Credential, Duration


class SelligentCredentials(StrictModel):
    api_key: Credential
    api_secret: Credential
    expires_on: dt.date | None = Field(
        default=None, description="The service account key's expiry date: from 14 days "
        "before it `reconciler doctor` fails, `status` and every `run --due` warn, and one "
        "notice goes to the notify channels of the destination's activations, so the key is "
        "renewed before a sync fails.")


# Documented (api/selligent.md §8): 2,500 requests per minute per API key, all paths counted.
SELLIGENT_REQUESTS_PER_MINUTE = 2500


def budget_share_field(description: str) -> Any:
    """A destination's share of a budget it shares with other integrations (default 80%)."""
    return Field(default=0.8, gt=0, le=1, description=description)


class SelligentLimits(StrictModel):
    max_rows_per_load: int = Field(default=10_000, ge=1)
    initial_rows_per_load: int = Field(
        default=2_000, ge=1,
        description="Rows in the first data calls; later calls are sized by how long calls "
        "take, to stay well under Selligent's documented 15-s inbound time-out, up to "
        "maxRowsPerLoad.")
    requests_per_minute: int = Field(
        default=SELLIGENT_REQUESTS_PER_MINUTE, ge=1,
        description="The API key's request budget (Selligent documents 2,500 per minute per "
        "key, counted across all paths and every integration using the key).")
    budget_share: float = budget_share_field(
        "The share of `requestsPerMinute` this tool may use; the rest is left to the other "
        "integrations sharing the key. Shared by every activation of a run using the key and, "
        "on a PostgreSQL state, by every process using it.")
    requests_per_second: float | None = Field(
        default=None, gt=0,
        description="A pace set by hand, in place of requestsPerMinute × budgetShare / 60.")
    concurrency: int = Field(default=4, ge=1, le=64)

    def pace_per_second(self) -> float:
        """How fast this tool starts calls with this key."""
        if self.requests_per_second is not None:
            return self.requests_per_second
        return self.requests_per_minute * self.budget_share / 60


class SelligentDestination(StrictModel):
    type: Literal["selligent"]
    base_url: UrlOrEnv = Field(description="e.g. https://<tenant>.slgnt.eu/Portal/Api")
    organization: str = Field(min_length=1)
    list: str = Field(min_length=1, description="The audience list's api name, e.g. CONTACTS.")
    credentials: SelligentCredentials
    limits: SelligentLimits = Field(default_factory=SelligentLimits)
    index_max_age: Duration = Field(
        default="24h", description="How old the contact index kept in the state may be before "
        "a plan reads every key at the destination again (a full read); younger, a plan "
        "checks only the audience keys the index does not know.")
    defaults: ActivationSettings | None = None


class FileTransferProtocol(enum.StrEnum):
    FTPS = "ftps"
    SFTP = "sftp"


class ActitoLocation(StrictModel):
    """An Actito file transfer location that already exists (set up by Actito or in the
    portal), for `targetList.manage: api`: found by id or name instead of being created."""

    id: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _id_or_name(self) -> ActitoLocation:
        if (self.id is None) == (self.name is None):
            raise ValueError("a location needs exactly one of `id` or `name`")
        return self


class FileTransfer(StrictModel):
    protocol: FileTransferProtocol
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: Credential | None = None
    private_key: Credential | None = Field(default=None, description="SFTP: a PEM private key.")
    directory: str = "/"
    ca_file: str | None = Field(
        default=None,
        description="FTPS: a PEM file of certificates to trust, relative to this manifest; "
        "the system's certificates when absent.",
    )
    host_key: str | None = Field(
        default=None,
        description="SFTP: the server's public key ('ssh-ed25519 AAAA…'); ~/.ssh/known_hosts "
        "when absent.",
    )

    location: ActitoLocation | None = Field(
        default=None,
        description="The Actito file transfer location declared for this server, by `id` or "
        "`name` (used with `targetList.manage: api` only; found by address, else created, "
        "when absent).")

    @model_validator(mode="after")
    def _some_secret(self) -> FileTransfer:
        if self.password is None and self.private_key is None:
            raise ValueError("a file transfer location needs a `password` or a `privateKey`")
        return self


# The operations of reconciler/destinations/actito/routes.py's table (a test keeps the two
# equal): the names `api.routes` accepts.
ACTITO_OPERATIONS = (
    "listProfileTables", "getProfileTable", "createAttribute", "getProfile", "listProfiles",
    "startEtlExecution", "triggerEtl", "getEtlExecution", "listLocations", "createLocation",
    "listSynchronizations", "createSynchronization", "listTargetLists", "createTargetList",
    "getTargetList", "deleteTargetList",
)


class ActitoRoute(StrictModel):
    """A replacement for one Actito route of this tool's table (from Actito's API reference)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    path: str | None = Field(
        default=None, pattern=r"^/",
        description="A path template, e.g. /targetings/v5/entities/{entity}/lists; "
        "`{entity}`, `{table}` (the profile table's id) and the operation's own placeholders.")
    body: Any = Field(
        default=None, description="A JSON body template: a string `{name}` becomes the value "
        "itself, `{name}` inside a longer string its text.")
    query: dict[str, Any] | None = Field(default=None, description="Query parameter templates.")
    list_key: str | None = Field(
        default=None, description="The key of a listing answer's list (a bare list when the "
        "answer is one).")


class ActitoApi(StrictModel):
    documented_only: bool = Field(
        default=False,
        description="Refuse, before sending anything, every operation whose route or body no "
        "public Actito source documents (unless replaced under `routes`); plans say which "
        "activations would need one.")
    routes: dict[str, ActitoRoute] = Field(
        default_factory=dict,
        description="Replacements for this tool's Actito routes, by operation: "
        + ", ".join(ACTITO_OPERATIONS) + ".")

    @model_validator(mode="after")
    def _known_operations(self) -> ActitoApi:
        unknown = sorted(set(self.routes) - set(ACTITO_OPERATIONS))
        if unknown:
            raise ValueError(f"unknown operation(s) {', '.join(unknown)} in `routes`; the "
                             f"operations are {', '.join(ACTITO_OPERATIONS)}")
        return self


class ProfileExportSettings(StrictModel):
    """Actito's periodic full export of the profile table (documented; activated once in the
    portal), read to learn which profiles exist: one download per plan."""

    file_name_pattern: str = Field(
        min_length=1, pattern=r"\$yyyy",
        description="The export's file name pattern with Actito's date placeholders, e.g. "
        "`profiles_$yyyyMMdd.zip`; the newest matching file is read.")
    directory: str | None = Field(
        default=None, description="Where on the file transfer server the export is dropped; "
        "default: fileTransfer.directory.")
    max_age: Duration = Field(
        default="36h", description="An export older than this (by the date in its name) "
        "fails the plan: it could take new profiles for absent ones.")


class ActitoCredentials(StrictModel):
    api_key: Credential


class ActitoLimits(StrictModel):
    concurrency: int = Field(
        default=5, ge=1, le=5,
        description="Requests in flight per licence (Actito documents 5; a 6th gets 429). "
        "budgetShare applies: this tool uses at most concurrency × budgetShare (at least 1).")
    requests_per_minute: int = Field(
        default=100, ge=1,
        description="Calls per minute per licence (Actito documents 100; over it calls are "
        "throttled). budgetShare applies.")
    budget_share: float = budget_share_field(
        "The share of the licence's limits this tool may use; the rest is left to the other "
        "integrations of the licence. Shared by every activation of a run and, on a "
        "PostgreSQL state, by every process using it.")
    bulk_imports_per_day: int = Field(
        default=24, ge=1,
        description="ETL imports allowed per profile table per UTC day (Actito documents 24 "
        "for the Mass Imports API on its current limitations page; the older DATA V4 page said "
        "12). The attribute updates of the activations of a run on one table share one "
        "import when one CSV fits them (same match key, etlId and attributes); when the "
        "day's imports are used up they wait for the next day while memberships still sync.")

    def in_flight(self) -> int:
        """Requests this tool keeps in flight per licence, at most."""
        return max(1, int(self.concurrency * self.budget_share))

    def calls_per_minute(self) -> float:
        return self.requests_per_minute * self.budget_share


class EmptyValues(enum.StrEnum):
    """What a NULL among an Actito activation's changed values does (Actito's own rule for an
    empty cell on update is undocumented, [?] evidence §6; the sandbox clears)."""

    CLEAR = "clear"  # sent as an empty cell: the attribute is cleared
    SKIP = "skip"  # never sent as an empty cell: the attribute keeps its value


class ActitoDestination(StrictModel):
    type: Literal["actito"]
    base_url: UrlOrEnv = Field(description="e.g. https://api.actito.com")
    entity: str = Field(min_length=1)
    profile_table: str = Field(min_length=1)
    credentials: ActitoCredentials
    unique_attributes: list[str] = Field(
        default_factory=list,
        description="Unique custom attributes usable as match keys (e.g. customerId), besides "
        "emailAddress and gsmNumber; checked against the table at plan time.",
    )
    file_transfer: FileTransfer
    limits: ActitoLimits = Field(default_factory=ActitoLimits)
    api: ActitoApi = Field(default_factory=ActitoApi)
    profile_export: ProfileExportSettings | None = Field(
        default=None, description="Read which profiles exist from Actito's periodic full "
        "export (documented) instead of the profile API.")
    empty_values: EmptyValues = Field(
        default=EmptyValues.CLEAR,
        description="What a NULL value of an attribute update does: `clear` (default) sends "
        "an empty cell, taken to clear the attribute (Actito does not document it); `skip` "
        "never sends an empty cell: a profile's update leaves out the attributes whose new "
        "value is NULL, which keep their value in Actito (one more import per set of NULL "
        "attributes; not with an activation's etlId, whose columns are fixed).")
    index_max_age: Duration = Field(
        default="24h", description="How old the contact index kept in the state may be before "
        "a plan reads every key at the destination again (a full read, from the profileExport "
        "when there is one); younger, a plan checks only the audience keys the index does "
        "not know.")
    defaults: ActivationSettings | None = None


DestinationSpec = Annotated[
    SelligentDestination | ActitoDestination, Field(discriminator="type")
]
