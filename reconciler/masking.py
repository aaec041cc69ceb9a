"""Masking of personal data for plans, reports and logs.

Owns turning a raw value (a member key, an email, a phone number, a field value) into a
sample that shows its shape without revealing it: `j***@example.com`, `+32******55`,
`C*****1`. Pure functions, no I/O. Every sample of personal data that leaves `sources/` or
`planning/` goes through `mask_value`; showing raw values is an explicit opt-in elsewhere.
"""
from __future__ import annotations

import re

_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-/]{5,}$")
MASK = "*"
MAX_SHAPE = 64
"""The longest value whose shape a sample keeps: a longer one (a 1 MB string in a warehouse
row) is shortened and its length said, so one sample cannot weigh a megabyte in a plan."""
_MAX_ADDRESS = 254  # the longest e-mail address (RFC 5321)


def mask_email(value: str) -> str:
    """'john@example.com' -> 'j***@example.com' (the domain says little about a person)."""
    match = _EMAIL.match(value)
    if match is None:
        return mask_text(value)
    local, domain = match.groups()
    return f"{local[0]}{MASK * 3}@{domain}"


def mask_phone(value: str) -> str:
    """'+32472507455' -> '+32*******55': the country prefix and the last two digits stay."""
    digits = re.sub(r"[^0-9]", "", value)
    prefix = "+" if value.strip().startswith("+") else ""
    shown_head = 2 if prefix else 1
    if len(digits) <= shown_head + 2:
        return prefix + MASK * len(digits)
    hidden = len(digits) - shown_head - 2
    return f"{prefix}{digits[:shown_head]}{MASK * hidden}{digits[-2:]}"


def mask_text(value: str) -> str:
    """'C000123' -> 'C*****3'; values of four characters or fewer are fully hidden."""
    if len(value) <= 4:
        return MASK * max(len(value), 3)
    if len(value) > MAX_SHAPE:
        return f"{value[0]}{MASK * 8}…{MASK * 8}{value[-1]} ({len(value):,} characters)"
    return f"{value[0]}{MASK * (len(value) - 2)}{value[-1]}"


def mask_value(value: object) -> str:
    """Mask any scalar: emails and phones keep their shape, other text keeps its ends.

    Numbers, dates and booleans are hidden the same way as text (a lifetime value or a birth
    date can be personal too); None is shown as `null` since absence reveals nothing.
    """
    if value is None:
        return "null"
    text = str(value)
    if not isinstance(value, str):  # numbers and dates: no email or phone shape to keep
        return mask_text(text)
    stripped = text.strip()
    if len(stripped) > _MAX_ADDRESS:  # no e-mail address or phone number is this long
        return mask_text(text)
    if _EMAIL.match(stripped):
        return mask_email(stripped)
    if _PHONE.match(stripped) and sum(c.isdigit() for c in stripped) >= 7:
        return mask_phone(stripped)
    return mask_text(text)


# In free text: a quoted value, an e-mail address, or a word holding a digit (a key such as
# C000123, a phone number, a date); each alternative is masked once, left to right.
_IN_TEXT = re.compile(
    r"""(?P<quote>['"])(?P<quoted>[^'"]+)(?P=quote)"""
    r"|(?P<email>[^\s@'\"()<>,;]+@[^\s@'\"()<>,;]+)"
    r"|(?P<word>\+?[\w./-]*\d[\w./+-]*)")


def mask_in_text(text: str) -> str:
    """Free text from a remote system (an error, the reason a line was rejected) with what may
    be personal data masked: quoted values, e-mail addresses and words of four characters or
    more holding a digit. Other words stay, so the sentence still says what went wrong."""
    def masked(match: re.Match[str]) -> str:
        if match.group("quoted") is not None:
            quote = match.group("quote")
            return f"{quote}{mask_value(match.group('quoted'))}{quote}"
        if match.group("email") is not None:
            return mask_value(match.group("email"))
        word = match.group("word")
        return word if len(word) < 4 else mask_value(word)

    return _IN_TEXT.sub(masked, text)
