"""The Selligent sandbox's first data: one organization, its audience list of contacts, segments.

The contacts come from the shared seed file (`reconciler.sandbox.seed`, by default the example
project's customers, minus a deterministic ~5%). The list also gets a dynamic segment, so
clients can see that dynamic segments are read-only.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reconciler.sandbox.seed import read_seed_customers
from reconciler.sandbox.selligent.store import Field, Segment, Store

CONTACT_FIELDS = (
    Field("EXTERNAL_ID", "Text", 50, "The customer id of the warehouse (the key field)", False),
    Field("MAIL", "Text", 255, "Email address"),
    Field("MOBILE", "Text", 50, "Mobile phone, international format"),
    Field("FIRSTNAME", "Text", 60, "First name"),
    Field("NAME", "Text", 60, "Last name"),
    Field("COUNTRY", "Text", 2, "ISO country code"),
    Field("OPTOUT", "Numeric", 0, "1 when the contact refused email"),
    Field("CREATED_DT", "DateTime", 0, "When the contact was created"),
)


def seed_store(
    store: Store, organization: str, list_api_name: str, seed_file: Path | None,
    key_field: str = "EXTERNAL_ID", seed_columns: Mapping[str, str] | None = None,
) -> None:
    """Create the organization and its audience list (`key_field` holds the customer id),
    filled from `seed_file` when given (`seed_columns`: seed field → CSV column); an existing
    list is left as it is."""
    org = store.add_organization(organization)
    if org.list(list_api_name) is not None:
        return
    table = store.add_list(
        org,
        api_name=list_api_name,
        name="Contacts",
        type="Userlist",
        description="The audience list of the sandbox",
        fields=[Field(**{**vars(f), "name": key_field}) if f.name == "EXTERNAL_ID"
                else Field(**vars(f)) for f in CONTACT_FIELDS],
    )
    table.segments.append(
        Segment(
            api_name="BELGIAN_CONTACTS",
            name="Belgian contacts",
            type="Dynamic",
            description="Contacts whose country is BE (a dynamic segment: read-only)",
            filters=[{"field_name": "COUNTRY", "operator": "EqualTo", "field_value": "BE"}],
        )
    )
    if seed_file is None:
        return
    for row in read_seed_customers(seed_file, seed_columns):
        table.insert(
            {
                key_field: row["customer_id"],
                "MAIL": row.get("email") or None,
                "MOBILE": row.get("phone") or None,
                "FIRSTNAME": row.get("first_name") or None,
                "NAME": row.get("last_name") or None,
                "COUNTRY": row.get("country") or None,
                "OPTOUT": 0 if row.get("email_consent", "true") == "true" else 1,
                "CREATED_DT": row.get("created_at") or None,
            }
        )
