"""The Actito sandbox's first state: entity `sandbox`, table `Profiles`, seeded customers, and the
two file transfer locations (the Actito-hosted FTPS and a customer-hosted SFTP).
"""
from __future__ import annotations

from typing import Any

from reconciler.sandbox.actito.config import ActitoSandboxConfig
from reconciler.sandbox.actito.portal import load_portal
from reconciler.sandbox.actito.routing import now_text
from reconciler.sandbox.actito.store import Entity, Store, Table
from reconciler.sandbox.seed import read_seed_customers


def _custom(name: str, value_type: str, *, unique: bool = False, mandatory: bool = False,
            max_length: int | None = None) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "type": "CUSTOM", "name": name, "unique": unique, "mandatory": mandatory,
        "valueType": value_type, "multiValued": False,
    }
    if max_length is not None:
        attribute["valueRestriction"] = {"maxLength": max_length}
    return attribute


def profile_attributes() -> list[dict[str, Any]]:
    """The seeded table structure, in the documented shape (§2.1)."""
    return [
        _custom("profileId", "INTEGER", unique=True, mandatory=True),
        _custom("creationMoment", "TIMESTAMP", mandatory=True),
        _custom("updateMoment", "TIMESTAMP", mandatory=True),
        {"type": "LASTNAME", "name": "lastName", "unique": False, "mandatory": False},
        {"type": "FIRSTNAME", "name": "firstName", "unique": False, "mandatory": False},
        {"type": "EMAIL_ADDRESS", "name": "emailAddress", "unique": True, "mandatory": False},
        {"type": "GSM", "name": "gsmNumber", "unique": True, "mandatory": False},  # [I] type name
        {"type": "COUNTRY", "name": "country", "unique": False, "mandatory": False},  # [I]
        _custom("customerId", "STRING", unique=True, max_length=255),
        _custom("lifetimeValue", "DECIMAL"),  # [I] decimal type name
        _custom("lastOrderDate", "DATE"),  # [I]
        _custom("emailConsent", "BOOLEAN"),  # [I]
    ]


def _profile_values(row: dict[str, str]) -> dict[str, Any]:
    def text(name: str) -> str | None:
        return row.get(name) or None

    ltv = text("lifetime_value")
    consent = text("email_consent")
    return {
        "customerId": row["customer_id"], "emailAddress": text("email"),
        "gsmNumber": text("phone"), "firstName": text("first_name"),
        "lastName": text("last_name"), "country": text("country"),
        "lifetimeValue": float(ltv) if ltv else None, "lastOrderDate": text("last_order_date"),
        "emailConsent": None if consent is None else consent.lower() == "true",
    }


def seed_store(config: ActitoSandboxConfig, store: Store) -> None:
    """Fill an empty store with the default entity, table and profiles."""
    now = now_text(config.clock)
    table = Table(id="16", name=config.profile_table, attributes=profile_attributes())
    if config.seed_file is not None:
        for row in read_seed_customers(config.seed_file, config.seed_columns):
            table.create(_profile_values(row), now)
    entity = Entity(id=1, name=config.entity, tables={table.name: table})
    store.entities[entity.name] = entity
    if config.portal_file is not None:
        load_portal(store, config.portal_file, table, entity.name)


def own_locations(store: Store, host: str, servers: dict[str, tuple[int, str]]) -> None:
    """Point the locations `sandbox-ftps` / `sandbox-sftp` at the servers just started
    (protocol → (port, first user)); ports can change between runs."""
    with store.lock:
        for protocol, (port, username) in servers.items():
            name = f"sandbox-{protocol.lower()}"
            record = next((r for r in store.locations.values() if r["name"] == name), None)
            if record is None:
                record = {"id": store.new_id(), "name": name, "directory": "/"}
                store.locations[record["id"]] = record
            record.update(protocol=protocol, host=host, port=port, username=username)
        store.save()
