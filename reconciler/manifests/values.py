"""Value types shared by the manifest kinds: durations, environment references, schedules.

Owns parsing and the JSON-Schema shape of each value; must not read the environment
except in `EnvRef.resolve`, which is called only when a value is used.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from croniter import croniter
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from reconciler.errors import ReconcilerError

DURATION_PATTERN = r"^[1-9][0-9]*(s|m|h|d|w)$"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ENV_REF_PATTERN = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$"


def parse_duration(text: str) -> timedelta:
    """'15m' -> 15 minutes. The unit is one of s, m, h, d, w."""
    match = re.fullmatch(DURATION_PATTERN, text)
    if not match:
        raise ValueError(
            f"{text!r} is not a duration: write a whole number and a unit among s, m, h, d, w "
            "(e.g. 15m, 1h, 2d)"
        )
    return timedelta(seconds=int(text[:-1]) * _DURATION_UNITS[text[-1]])


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    Field(json_schema_extra={"pattern": DURATION_PATTERN, "examples": ["15m", "1h", "2d"]}),
]


class MissingEnvironmentVariable(ReconcilerError):
    """A `${env:NAME}` reference whose variable is not set, or empty, when the value is
    needed (an unset CI secret becomes an empty variable: it is never sent as a value)."""

    def __init__(self, name: str, where: str, *, empty: bool = False) -> None:
        state = ("is empty (an unset CI secret becomes an empty variable)" if empty
                 else "is not set")
        super().__init__(
            f"environment variable {name} {state} (needed by {where}); "
            f"export it or add it to the .env file beside your manifests"
        )
        self.name = name
        self.empty = empty


def env_ref_name(value: str) -> str:
    """'${env:API_KEY}' -> 'API_KEY'."""
    return value[len("${env:") : -1]


def resolve_env_ref(value: str, where: str) -> str:
    """Return the variable's value now; a missing or blank one is a clear error naming the
    field (see `environment.py` for checking every reference of a run at once)."""
    name = env_ref_name(value)
    resolved = os.environ.get(name)
    if resolved is None or not resolved.strip():
        raise MissingEnvironmentVariable(name, where, empty=resolved is not None)
    return resolved


def _reject_literal_secret(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(ENV_REF_PATTERN, value):
        # Never echo the value: it may be a real secret pasted by mistake.
        raise ValueError(
            "a credential must be an environment reference like ${env:NAME}, never a literal "
            "value; move the secret to an environment variable (or the .env file)"
        )
    return value


Credential = Annotated[
    str,
    BeforeValidator(_reject_literal_secret),
    StringConstraints(pattern=ENV_REF_PATTERN),
    Field(
        description="An environment reference, ${env:NAME}; resolved only when used.",
        json_schema_extra={"examples": ["${env:SELLIGENT_API_SECRET}"]},
    ),
]


def resolve_maybe_env(value: str, where: str) -> str:
    """A setting that may be literal or `${env:NAME}` (e.g. a base URL)."""
    if re.fullmatch(ENV_REF_PATTERN, value):
        return resolve_env_ref(value, where)
    return value


def _check_cron(value: str) -> str:
    if not croniter.is_valid(value) or len(value.split()) != 5:
        raise ValueError(
            f"{value!r} is not a valid cron expression: write five fields, "
            "minute hour day-of-month month day-of-week (e.g. '0 6 * * *')"
        )
    return value


CronExpression = Annotated[
    str,
    AfterValidator(_check_cron),
    Field(json_schema_extra={"examples": ["0 6 * * *", "*/30 * * * 1-5"]}),
]


def cron_max_interval(expression: str, timezone_name: str = "UTC") -> timedelta:
    """The longest gap between two consecutive runs of a cron schedule, over four weeks."""
    from zoneinfo import ZoneInfo

    start = datetime(2026, 1, 5, tzinfo=ZoneInfo(timezone_name))
    it = croniter(expression, start)
    previous = it.get_next(datetime)
    longest = timedelta(0)
    end = start + timedelta(days=28)
    while previous < end:
        current = it.get_next(datetime)
        longest = max(longest, current - previous)
        previous = current
    return longest

