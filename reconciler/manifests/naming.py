"""Naming rules: how an activation's names become the names the destinations see.

One pure function per rule, used alike by `validate` (checks.py), `plan` (the observers) and
`apply` (the writers, which take the names the plan shows): a name is never worked out twice.
Destinations import this module; it must not import them, nor do any I/O.
"""
from __future__ import annotations

import re
import unicodedata

# Selligent api names (lists, segments): "Only alphanumeric characters and underscores are
# allowed" is documented (Marigold Engage "Create List" page, shared/api/selligent.md §4, S6);
# segments are assumed to follow the list rule. Inferred, not documented: a leading digit is
# refused (api names behave as SQL Server identifiers), so a name starting with a digit gets a
# leading underscore — valid whichever way Selligent decides; and the length limit is SQL
# Server's identifier limit (sysname, 128 characters).
SELLIGENT_API_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SELLIGENT_API_NAME_MAX_LENGTH = 128
_NOT_API_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_]")

# An Actito external target list is valid this long unless the manifests say otherwise.
ACTITO_DEFAULT_VALIDITY_PERIOD = "2d"


def audience_name(audience_name: str | None, segment: str | None, model: str | None,
                  activation: str) -> str:
    """The remote list's display name: `audienceName`, else the segment's (or model's) name.

    Actito names its external target list exactly so; Selligent derives its api name from it.
    """
    return audience_name or segment or model or activation


def selligent_api_name(audience_name: str) -> str:
    """The Selligent segment api name of an audience name.

    Outer blanks go; accented letters lose their accents ('Été' → 'Ete'); every other character
    outside [A-Za-z0-9_] (a space included) becomes '_', one for one; a leading digit gets a
    leading '_'. E.g. 'VIP customers' → 'VIP_customers', '2024 VIP' → '_2024_VIP'.
    """
    decomposed = unicodedata.normalize("NFKD", audience_name.strip())
    unaccented = "".join(c for c in decomposed if not unicodedata.combining(c))
    name = _NOT_API_NAME_CHARACTER.sub("_", unaccented)
    return f"_{name}" if name[:1].isdigit() else name


def selligent_api_name_refusal(audience_name: str) -> str | None:
    """Why no usable Selligent api name comes from `audience_name`, or None when one does."""
    api_name = selligent_api_name(audience_name)
    if not any(c.isalnum() for c in api_name):
        return (f"audience name {audience_name!r} gives the Selligent api name {api_name!r}, "
                "which has no letter or digit: choose a name with letters or digits")
    if len(api_name) > SELLIGENT_API_NAME_MAX_LENGTH:
        return (f"audience name {audience_name!r} gives a Selligent api name of "
                f"{len(api_name)} characters, over the {SELLIGENT_API_NAME_MAX_LENGTH} an api "
                "name can hold: choose a shorter audienceName")
    return None


def selligent_api_name_differs(audience_name: str) -> bool:
    """True when the api name is more than the audience name with spaces as underscores."""
    return selligent_api_name(audience_name) != audience_name.replace(" ", "_")


def actito_file_stem(list_name: str) -> str:
    """A file-name-safe form of an Actito list name: 'Churn risk' → 'churn-risk'."""
    return re.sub(r"[^a-z0-9]+", "-", list_name.lower()).strip("-") or "list"
