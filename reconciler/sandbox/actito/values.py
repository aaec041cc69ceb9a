"""Attribute value formats (§2.7's table, [C]): what a profile value may look like, per attribute
type, whether it comes from a JSON body or an ETL CSV cell. Pure functions, no I/O.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

MAX_STRING = 255
TRUE_WORDS = {"true", "1", "y", "yes"}
FALSE_WORDS = {"false", "0", "n", "no"}
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
INTEGER = re.compile(r"^-?\d+$")


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    return str(raw)


def _string(text: str) -> str:
    if len(text) > MAX_STRING:
        raise ValueError(f"longer than {MAX_STRING} characters")
    return text


def _boolean(text: str) -> bool:
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    raise ValueError("not a boolean (TRUE/FALSE, 1/0, Y/N)")


def _decimal(text: str) -> float:
    if not NUMBER.match(text):
        raise ValueError("not a number with '.' as decimal separator")
    return float(text)


def _integer(text: str) -> int:
    if not INTEGER.match(text):
        raise ValueError("not an integer")
    return int(text)


def _date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date yyyy-MM-dd") from None
    if len(text) != 10:
        raise ValueError("not a date yyyy-MM-dd")
    return text


def _timestamp(text: str) -> str:
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError("not a datetime yyyy-MM-dd HH:mm:ss") from None
    return text


def _matching(pattern: re.Pattern[str], what: str) -> Any:
    def check(text: str) -> str:
        if not pattern.match(text):
            raise ValueError(f"not {what}")
        return text

    return check


def _choice(options: tuple[str, ...], what: str) -> Any:
    def check(text: str) -> str:
        if text not in options:
            raise ValueError(f"not {what} ({'/'.join(options)})")
        return text

    return check


def _code(length: int, upper: bool, what: str) -> Any:
    def check(text: str) -> str:
        if len(text) != length or not text.isalpha() or text.isupper() != upper:
            raise ValueError(f"not {what}")
        return text

    return check


BY_VALUE_TYPE = {
    "STRING": _string, "TEXT": _string, "INTEGER": _integer, "LONG": _integer,
    "DECIMAL": _decimal, "NUMBER": _decimal, "DOUBLE": _decimal, "BOOLEAN": _boolean,
    "DATE": _date, "TIMESTAMP": _timestamp, "DATETIME": _timestamp,
}
BY_TYPE = {
    "EMAIL_ADDRESS": _matching(EMAIL, "an e-mail address"),
    "GSM": _matching(PHONE, "a phone number in international format (+3210458514)"),
    "PHONE": _matching(PHONE, "a phone number in international format (+3210458514)"),
    "COUNTRY": _code(2, True, "an ISO 3166-1 alpha-2 country"),
    "MOTHER_LANGUAGE": _code(2, False, "an ISO 639-1 language"),
    "SEX": _choice(("M", "F"), "a sex"),
    "TITLE": _choice(("Mr", "Mrs", "Ms"), "a title"),
    "BIRTHDATE": _date,
}


def parse_value(attribute: dict[str, Any], raw: Any) -> Any:
    """The stored value of `raw` for `attribute`; ValueError says why it is refused."""
    if raw is None or raw == "":
        if attribute.get("mandatory"):
            raise ValueError("mandatory attribute without a value")
        return None
    text = _text(raw)
    if attribute.get("type") == "CUSTOM":
        check = BY_VALUE_TYPE.get(str(attribute.get("valueType")), _string)
    else:
        check = BY_TYPE.get(str(attribute.get("type")), _string)
    value = check(text)
    limit = (attribute.get("valueRestriction") or {}).get("maxLength")
    if isinstance(value, str) and limit is not None and len(value) > int(limit):
        raise ValueError(f"longer than {limit} characters")
    return value
