"""Match keys found on several rows of an audience, settled by the activation's `duplicateKeys`.

Owns what a plan does with such a key, as SQL over the rows `quality.py` staged:
- `keep` (the default): every row of the key is left out and the key is *held*: the diff
  keeps its member exactly as it is this run (not added, not removed, not updated). Which
  row is right would be a guess, and leaving the key out altogether would take a member out
  of the list because the warehouse briefly holds two rows for it;
- `first`: one row per key is synced, the first when the key's rows are ordered by their
  mapped values (the activation's `fields` in order, each ascending, empty values last),
  a row with a value unfit for its field after every row without one; the others are left
  out. Those rows are read again from the source (the staged rows hold hashes only);
- `fail`: the activation is not planned (`DuplicateKeysError`).
Keys in counts, samples and errors are masked (`reconciler.masking`).
"""
from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import duckdb

from reconciler.manifests.models import DuplicateKeys
from reconciler.masking import mask_value
from reconciler.sources.audience import HASH_COLUMN, KEY_COLUMN, AudienceSpec
from reconciler.sources.conversion import (
    converted,
    invalid_column,
    raw_value,
    staging_select,
    typed_fields,
)
from reconciler.sources.dialects import DUCKDB
from reconciler.sources.errors import DuplicateKeysError
from reconciler.sources.problems import DataProblem, ProblemKind

Reread = Callable[[str, str, str], None]
"""`reread(table, select, where)`: the audience read again from its source into temp table
`table`, with DuckDB SELECT list `select`, keeping the rows where `where` holds."""


@dataclass(frozen=True)
class Duplicates:
    """The keys found on more than one staged row; their keys are in temp table `table`."""

    table: str
    keys: int
    rows: int
    samples: tuple[str, ...]
    """A few of the keys, masked."""


# A key of spaces, tabs or line breaks only is no key (the fuzz tests found tab-only keys
# passing a plain trim: DuckDB's trims spaces only). Shared with quality.py's NULL_KEY check.
BLANKS = "' ' || chr(9) || chr(10) || chr(13)"


def find_duplicates(into: duckdb.DuckDBPyConnection, staged: str, table: str,
                    samples: int) -> Duplicates:
    """Make temp table `table` hold every key (not NULL nor blank) on several staged rows."""
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    into.execute(
        f"CREATE OR REPLACE TEMP TABLE {q(table)} AS SELECT {key}, count(*) AS n "
        f"FROM {q(staged)} WHERE {key} IS NOT NULL AND trim({key}, {BLANKS}) <> '' "
        f"GROUP BY {key} HAVING count(*) > 1")
    rows = into.execute(f"SELECT count(*), coalesce(sum(n), 0) FROM {q(table)}").fetchall()
    keys, total = int(rows[0][0]), int(rows[0][1])
    shown = into.execute(f"SELECT {key} FROM {q(table)} ORDER BY 1 LIMIT {max(0, samples)}"
                         ).fetchall() if keys else []
    return Duplicates(table, keys, total, tuple(mask_value(r[0]) for r in shown))


def settle_duplicates(spec: AudienceSpec, into: duckdb.DuckDBPyConnection, staged: str,
                      found: Duplicates, reread: Reread,
                      zoned: AbstractSet[str] = frozenset()) -> DataProblem | None:
    """Apply the activation's policy to its duplicated keys, before the other checks.

    `fail` raises; `first` leaves one row per key in `staged` and returns the problem of the
    rows left out; `keep` changes nothing here (the checks leave the rows out and `quality.py`
    holds the keys).
    """
    if not found.keys:
        return None
    if spec.duplicate_keys is DuplicateKeys.FAIL:
        examples = ", ".join(found.samples)
        keys = "1 match key" if found.keys == 1 else f"{found.keys:,} match keys"
        verb = "is" if found.keys == 1 else "are"
        raise DuplicateKeysError(
            f"activation {spec.activation!r}: {keys} ({spec.match_key}) {verb} on more than "
            f"one row of the audience ({found.rows:,} "
            f"rows{'; e.g. ' + examples if examples else ''}) and duplicateKeys is fail: "
            "nothing is planned for it. Make the key unique in the model, or set "
            "duplicateKeys: keep (those members stay as they are) or first (one row each)")
    if spec.duplicate_keys is DuplicateKeys.FIRST:
        _keep_first_rows(spec, into, staged, found, reread, zoned)
        return DataProblem(ProblemKind.DUPLICATE_ROW, found.rows - found.keys, found.samples)
    return None


def _keep_first_rows(spec: AudienceSpec, into: duckdb.DuckDBPyConnection, staged: str,
                     found: Duplicates, reread: Reread, zoned: AbstractSet[str]) -> None:
    """Replace the staged rows of the duplicated keys by the first row of each, as read again
    from the source with the values it is ordered by."""
    q, key = DUCKDB.quote, DUCKDB.quote(KEY_COLUMN)
    order_columns = [f"__order_{i}" for i in range(len(spec.fields))]
    values = [f"{converted(f, raw_value(f, zoned))} AS {q(name)}"
              for f, name in zip(spec.fields, order_columns, strict=True)]
    staged_columns = [r[0] for r in into.execute(
        f"SELECT * FROM {q(staged)} LIMIT 0").description or ()]
    read = f"{found.table}__rows"
    reread(read, ", ".join([staging_select(spec, zoned), *values]),
           f"{key} IN (SELECT {key} FROM {q(found.table)})")
    unfit = " OR ".join(q(invalid_column(i)) for i, _ in typed_fields(spec)) or "FALSE"
    order = ", ".join([f"({unfit}) ASC", *(f"{q(c)} ASC NULLS LAST" for c in order_columns),
                       f"{q(HASH_COLUMN)} ASC"])
    into.execute(f"DELETE FROM {q(staged)} WHERE {key} IN (SELECT {key} FROM {q(found.table)})")
    into.execute(
        f"INSERT INTO {q(staged)} BY NAME SELECT {', '.join(q(c) for c in staged_columns)} "
        f"FROM {q(read)} QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {order}) = 1")
    into.execute(f"DROP TABLE {q(read)}")
