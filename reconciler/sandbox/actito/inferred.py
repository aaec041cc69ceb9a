"""Every Actito behaviour the sandbox serves that the public sources do NOT confirm, in one place.

`../shared/api/actito.md` and `../shared/api/actito-evidence.md` ("evidence §n") mark facts [C]
(confirmed), [I] (inferred) or [?] (unknown). What is [C] lives in the other modules; each
guess below is named, says why it was chosen, and is the only place to change once a real
licence shows the truth. The README lists the same items.
"""
from __future__ import annotations

from typing import Any

# --- Routes ------------------------------------------------------------------------------------
# [I] §2.2: creating a custom attribute; one attribute object in the structure's own shape.
ATTRIBUTE_CREATE = "/v5/entities/{entity}/profile-tables/{table}/attributes"
# [C] evidence §7 (the webhook's `_links.etlExecution`): an ETL execution, polled until it ends.
ETL_EXECUTION = "/v5/entities/{entity}/etl-executions/{execution}"
# [I] evidence §4: the v5 profile listing, the collection above the [C] single-profile route
# (`…/profiles/{profileKey}`, served in profiles.py); its parameters and answer are [?]: paging
# by `page` (0-based) and `size` (max PAGE_SIZE_MAX), answering `{profiles, page: {number,
# size, totalElements, totalPages}}` (the config's `listing_*` knobs change that).
PROFILES_V5 = "/v5/entities/{entity}/profile-tables/{table}/profiles"
PAGE_SIZE_MAX = 1000
# [?] evidence §2: the envelope key of the profile-table list (its entries are [C]).
TABLE_LIST_KEY = "profileTables"
# [I] evidence "new facts" 2: the v4 single-profile calls were to be replaced by the end of Q1
# 2026; what Actito answers them since is undocumented. 410 Gone rather than 404: the old
# client read a 404 on a lookup as "no such profile", so a 404 would have let it see every key
# as absent without a word; 410 makes any caller of a retired route fail loudly.
RETIRED_STATUS = 410
# [I] §2.8: file transfer locations, file synchronizations, external target lists.
LOCATIONS = "/v5/entities/{entity}/file-transfer-locations"
SYNCHRONIZATIONS = "/v5/entities/{entity}/file-synchronizations"
TARGET_LISTS = "/v5/entities/{entity}/external-target-lists"
# [I] sandbox-only: who an external target list targets right now (paged profile ids).
TARGET_LIST_MEMBERS = TARGET_LISTS + "/{list}/members"
# API family prefixes of those inferred routes (the [C] ones are in app.py).
FILE_TRANSFER_FAMILY = "file-transfers"
TARGETING_FAMILY = "targetings"

# --- Bodies and shapes -------------------------------------------------------------------------
# [I] §2.7: multipart part names of an ETL execution (the v4 import's names, reused).
ETL_FILE_PART = "inputFile"
ETL_DEFINITION_PART = "parameters"
# [I] §2.7: ETL modes (the v4 import's).
ETL_MODES = ("CREATE_ONLY", "UPDATE_ONLY", "CREATE_UPDATE")
# [I] evidence §7: the execution's status field is named as in the FINISHED webhook
# (`etl.executionStatus`, whose end values SUCCESS / WITH_ERROR are [C], in etl.py); whether the
# GET body calls it `status` or `executionStatus` is [?]. Its value while running is [?].
ETL_STATUS_FIELD = "executionStatus"
ETL_RUNNING = "RUNNING"
# [I] evidence §7: counters (`totalLines`, `created`, `updated`, `unchanged`, `rejected`),
# `rejectedLines` ({line, reason}; the header is line 1) and `errors` are [?] in shape; an
# execution with rejected lines ends WITH_ERROR, as does one whose file is refused whole.
# [?] §2.7: the doc on empty values during an update was cut off; here an empty cell clears the
# attribute (a mandatory attribute's line is rejected instead).
EMPTY_VALUE_CLEARS = True
# [I] §2.7: a line with the wrong number of columns is rejected alone, not the whole file.
REJECT_LINE_ON_COLUMN_COUNT = True
# [I] evidence §6, §10: one-shot ETL executions count against the Mass Imports API's bulk quota
# (24 per table per day, [C] limitations/; the config's `bulk_imports_per_day`).
ETL_COUNTS_AS_BULK = True
# [?] evidence §10: the body of the quota's 429 is undocumented, and a 429 for concurrency looks
# alike. So the sandbox's says nothing helpful (no "quota"): a client must not read the words.
QUOTA_REFUSAL_MESSAGE = "Too Many Requests"
# [I] §2.8: validity period units of an external target list.
VALIDITY_UNITS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400}
# [I] §2.8: a target-list file is a CSV (ETL rules) whose header names the key attribute.
# [I] §2.8: each new file replaces the list; an expired list targets nobody until the next file.


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """[?] §3.3: the error envelope is unknown; this small object is an approximation."""
    return {"status": status, "error": code, "message": message}


def profile_body(profile_id: int, attributes: dict[str, Any]) -> dict[str, Any]:
    """[I] §2.3, evidence §5: a profile as read back (v5 shape [?], v4's reused): attributes as a
    name/value list."""
    return {
        "profileId": profile_id,
        "attributes": [{"name": k, "value": v} for k, v in attributes.items() if v is not None],
        "subscriptions": [],
        "segmentations": [],
    }
