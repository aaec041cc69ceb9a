"""Every behaviour of the Selligent sandbox that no source confirms, in one place.

`../shared/api/selligent.md` marks these details [I]: a real tenant may answer differently.
Each constant or function here is one inference, named after what it decides; correct it here
(and in the README's list) when a real tenant shows otherwise. Nothing else in the sandbox
hard-codes these choices.
"""
from __future__ import annotations

import re
from typing import Any

# Auth (§1.1, §5.1): the 401 body is unknown; the Swagger's only 401 schema is the string
# "unauthorized.". A wrong key or secret, and a service account limited to other organizations
# or endpoints (a missing endpoint permission is a documented 401, §8), get 401 with it.
UNAUTHORIZED_BODY = "unauthorized."

# Service-account key expiry and IP filtering are documented (§1.1, §8: the Marigold
# api-key-authentication guide); how a refused call is answered is not. The sandbox answers
# each with the error envelope (not the bare "unauthorized." string), so a client can tell the
# three refusals apart by the body: the string, or one of these two error codes.
# - An expired key: 401; the key works through its expiry date (UTC) and is refused from the
#   next day on.
KEY_EXPIRED_STATUS = 401
KEY_EXPIRED_CODE = "ERR_APIKEY_EXPIRED"
KEY_EXPIRED_DESCRIPTION = "The API key expired on {expired}."
# - A call from an address the account does not allow: 401, not 403 (the vendor's status table,
#   §3.2, has no 403; its "blocked" requests are most likely its usual auth failure). Entries
#   may be addresses or networks ("10.0.0.0/8"); the caller is the connection's peer address
#   (X-Forwarded-For is not trusted).
IP_NOT_ALLOWED_STATUS = 401
IP_NOT_ALLOWED_CODE = "ERR_APIKEY_IPNOTALLOWED"
IP_NOT_ALLOWED_DESCRIPTION = "Requests from IP address {ip} are not allowed for this API key."
# The order of the checks: the key and secret, then expiry, then the IP, then organization and
# endpoint permissions.

# Unknown organization, list or segment (§3.2): 404 with the error envelope, result_code NotFound.
NOT_FOUND_STATUS = 404
NOT_FOUND_RESULT = "NotFound"

# Unknown segment (§8 [?]: 404 or 400 is undocumented; `SelligentSandboxConfig.
# unknown_segment_status` picks one, for every route naming the segment). Both answers carry the
# description "Segment <api_name> not found." in errors[0], which is how a client tells "not
# found" from other errors:
# - 404: error_code ERR, result_code NotFound;
# - 400: error_code ERR_LIST_VALIDATION (the code of the documented segment 400s), result_code
#   ValidationFailed, exactly like any other refused segment call except for that description.
SEGMENT_NOT_FOUND_DESCRIPTION = "Segment {name} not found."
SEGMENT_NOT_FOUND_400_CODE = "ERR_LIST_VALIDATION"
UNKNOWN_SEGMENT_STATUSES = (404, 400)

# Malformed input to data/load, data/search and segment data (§3.2): 400, result_code
# ValidationFailed, error_code ERR_VALIDATION.
VALIDATION_STATUS = 400
VALIDATION_RESULT = "ValidationFailed"
VALIDATION_CODE = "ERR_VALIDATION"

# Max rows per load or delete (§3.3): no documented limit; over the configured one we answer 400.
DEFAULT_MAX_ROWS_PER_LOAD = 10_000
TOO_MANY_ROWS_STATUS = 400

# api_name is "alphanumeric plus underscore only" [C: S6]; that it must start with a letter or
# underscore and is compared case-insensitively (SQL Server collation) is inferred.
API_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def same_name(a: str, b: str) -> bool:
    """List, segment and field names compare case-insensitively."""
    return a.casefold() == b.casefold()


def key_of(value: Any) -> str:
    """How a key value is matched against stored records: as text, trimmed, case-insensitive."""
    if type(value) is str:  # the usual case first: keys arrive as text (a hot path of loads)
        return value.strip().casefold()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


# A row whose key fields are all empty is invalid, with validation_code Unknown.
EMPTY_KEY_CODE = "Unknown"

# An empty string loaded into a field stores NULL.
EMPTY_IS_NULL = True

# Data rows: `record_index` in invalid_records is 0-based over the data rows, the header row
# excluded (§2.5).
RECORD_INDEX_BASE = 0


def load_result_code(valid: int, failed: int) -> str:
    """Succeeded when no row failed, PartiallySucceeded when some did, Failed when all did."""
    if failed == 0:
        return "Succeeded"
    return "PartiallySucceeded" if valid > 0 else "Failed"


# `mode=Stream` is answered like `Sync`, and `errorHandling` is accepted and ignored (its
# values are undocumented): invalid rows are always skipped and reported (§2.5).
IGNORED_QUERY_PARAMETERS = ("mode", "errorHandling")

# A list load with data_import_option=OnlyInsert counts rows whose key already exists as
# duplicates (they are not updated); OnlyUpdate counts unknown keys as not found (§2.5).
ONLY_INSERT_EXISTING_COUNTS_AS = "number_of_duplicate_records"

# Segment data/load (§2.6) adds references to EXISTING list records only: unknown keys are
# counted in number_of_records_not_found and nothing is inserted into the list. A key already in
# the segment counts as updated; a newly added one as inserted. Non-key fields are ignored.
SEGMENT_ALREADY_MEMBER_COUNTS_AS = "number_of_updated_records"

# Loading into, deleting from or clearing a non-static segment is refused with 400.
READ_ONLY_SEGMENT_MESSAGE = "Only static segments can be loaded or cleared."

# Paging (§2.7): with no `take`, everything from `skip` on is returned; `segment_count` is the
# number of segments matching the filter before skip/take.
DEFAULT_TAKE: int | None = None
# A tenant capping page size (`SelligentSandboxConfig.max_take`, the maximum is undocumented,
# §6) silently answers at most that many items to a larger `take`, and to a call with no `take`
# at all; nothing in the answer says it was capped.

# data/search (§2.4): filters are ANDed; `field_value` is a string compared with the field's
# type; `Like` uses SQL wildcards `%` and `_`; order_by_direction is ASC or DESC; with no
# order_by, records come in insertion (record id) order; the response echoes the requested
# field names as given.
LIKE_WILDCARDS = {"%": ".*", "_": "."}
DEFAULT_ORDER = "SYSTEM.SELLIGENTID"

# Swagger 2.0 has no null: where the vendor's examples show null (`errors`, `field_name`), the
# sandbox sends an empty array or leaves the property out so answers validate.
OMIT_NULLS = True

# Rate limit (§8, documented: 2,500 requests a minute per API key, over it 429 with a plain-text
# body and X-RateLimit-Limit/Remaining/Reset, no Retry-After). Inferred details:
# - the window is fixed, 60 s from the key's first request (and then from the first request
#   after it ended); the docs only say X-RateLimit-Reset is "seconds until the 60-s window
#   resets". Reset is in whole seconds, rounded up (at least 1 while the window runs);
# - the key is the part of X-ApiKey before the colon (or X-ApiKey alone with X-ApiKey-Secret),
#   counted before authentication, so refused and unknown keys count too; refused requests
#   (429) do not use up the window;
# - the body's wording and Content-Type below (the docs give the sense, not the bytes);
# - answers let through also carry the three headers (Remaining after this request);
# - `Faults.requests_per_second` (a test and demo knob) becomes a second per-key fixed window
#   of the same shape: max(1, floor(r)) requests per max(1, floor(r)) / r seconds.
RATE_LIMIT_CONTENT_TYPE = "text/plain; charset=utf-8"


def rate_limit_body(limit: int, window: float) -> str:
    """The 429 body: one sentence of plain text."""
    per = {60.0: "Minute", 1.0: "Second"}.get(window, f"{window:g} Seconds")
    return f"API calls quota exceeded! maximum admitted {limit} per {per}."


def rate_limit_header(limit: int, window: float) -> str:
    """X-RateLimit-Limit, as documented: `2500, 2500;w=60`."""
    return f"{limit}, {limit};w={window:g}"


# 503 (§8: "under high load or maintenance"): its body is undocumented; the sandbox sends the
# error envelope with the generic code ERR and result_code ServiceUnavailable.
SERVICE_UNAVAILABLE_CODE = "ERR"
SERVICE_UNAVAILABLE_DESCRIPTION = "The service is temporarily unavailable. Please try again later."

# Inbound time limit (§8, documented in part: "limited by a 15 seconds connection time-out").
# Over it the sandbox closes the connection without an answer once the limit has passed (a
# connection time-out, rather than a 408). A request cut because its own work was too slow
# (`seconds_per_1000_rows`) has been applied: only its answer is lost; one cut by added
# latency alone never reached the handler. Which of the two a real tenant does is unknown: a
# client must treat a cut call as maybe applied.
