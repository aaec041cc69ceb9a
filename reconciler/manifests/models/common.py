"""What every manifest kind shares: the strict base model, names, metadata.

Must not know any kind in particular (each kind has its own module).
"""
from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

API_VERSION = "reconciler/v1"
NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class StrictModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
    )


def _check_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(
            f"{value!r} is not a valid name: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters"
        )
    return value


Name = Annotated[
    str, AfterValidator(_check_name), Field(json_schema_extra={"pattern": NAME_PATTERN})
]


def _check_file_name(value: str) -> str:
    # A key file is put at this name in the transfer server's directory: a path would put it
    # elsewhere ('../../x'), a control character would end the FTP command.
    if any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in value) or value in (".", ".."):
        raise ValueError(f"{value!r} is not a file name: no '/', '\\', '..' or control "
                         "characters (the file goes in the location's directory)")
    return value


FileName = Annotated[str, AfterValidator(_check_file_name)]
"""A file's name in a directory, not a path."""

UrlOrEnv = Annotated[
    str,
    Field(
        min_length=1,
        description="A URL, or an environment reference ${env:NAME}.",
        json_schema_extra={"examples": ["http://127.0.0.1:8781/Portal/Api"]},
    ),
]


# Kubernetes' label syntax (without its DNS prefixes): `-l KEY=VALUE` selects by them, so a
# key never holds `=` or `,` and a value is one word.
LABEL_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$"


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key, value in labels.items():
        for what, text in (("key", key), ("value", value)):
            if not re.fullmatch(LABEL_PATTERN, text) and not (what == "value" and text == ""):
                raise ValueError(
                    f"label {what} {text!r} is not valid: use letters, digits, '-', '_' and "
                    "'.', starting and ending with a letter or digit, at most 63 characters")
    return labels


Labels = Annotated[dict[str, str], AfterValidator(_check_labels), Field(
    description="Free key/value tags, e.g. {team: crm}: letters, digits, '-', '_' and '.', at "
    "most 63 characters each. plan, apply, run and status select activations by them "
    "(-l team=crm).",
    json_schema_extra={"propertyNames": {"pattern": LABEL_PATTERN},
                       "additionalProperties": {"type": "string",
                                                "pattern": f"{LABEL_PATTERN}|^$"}})]


class Metadata(StrictModel):
    name: Name = Field(description="Unique among the documents of the same kind.")
    labels: Labels = Field(default_factory=dict)
    description: str | None = None
