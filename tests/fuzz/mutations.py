"""Hypothesis strategies for hostile manifests: the example project, mutated.

A generated case starts from the example's documents (so mutations reach the cross-document
checks, not only the YAML parser), changes a few values, keys, kinds or whole documents, dumps
them as YAML, then may damage the text itself: tabs, an alias bomb, deep nesting, a huge
string, a truncation, stray YAML syntax, bytes that are not UTF-8.
"""
from __future__ import annotations

import copy
import datetime as dt
import io
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "manifests"
DATA = EXAMPLE / "data"


def _example_documents() -> list[dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    documents = []
    for file in sorted(EXAMPLE.rglob("*.yaml")):
        documents.extend(d for d in yaml.load_all(file.read_text("utf-8")) if d)
    return documents


BASE = _example_documents()
NAMES = sorted({str(d["metadata"]["name"]) for d in BASE})
KINDS = sorted({str(d["kind"]) for d in BASE})

# Strings a careless parser, formatter or SQL builder trips on.
TRICKY = [
    "", " ", "\t", "\n", "a\nb", "\r\n", "\x00", "nul\x00inside", "\u202eevil", "\ufeff",
    "😀", "名前", "Ωμέγα", "e\u0301", "${env:X}", "${env:}", "${env:FUZZ_UNSET_VARIABLE}", "${",
    "$${env:X}",
    "30d", "-1d", "0d", "0s", "99999999999999999d", "1.5h", "PT1H", "1h30m", "36h",
    "0 6 * * *", "* * * * * * *", "61 25 * * *", "@reboot", "Europe/Nowhere", "UTC",
    "../../etc/passwd", "/etc/passwd", "C:\\Windows", "file:///etc/passwd", "http://", "http://[::1",
    "'; DROP TABLE x; --", '"; DROP TABLE x; --', "%s", "%(x)s", "%", "{}", "{0}", "{x!r}", "?",
    "NaN", "null", "~", "yes", "no", "on", "0x10", "1e400", "2026-02-30", "--", "---", "...",
    "reconciler/v1", "reconciler/v2", *NAMES, *KINDS, "a" * 300, "x" * 5000,
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), timezones=st.none() | st.just(dt.UTC)),
    st.sampled_from(TRICKY),
)
KEYS = st.text(max_size=12) | st.sampled_from(TRICKY[:40])
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=8,
)
Path_ = tuple[Any, ...]


def _paths(node: Any, path: Path_ = ()) -> list[Path_]:
    """Every path in a document, containers included (the root is `()`)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for number, value in enumerate(node):
            found.extend(_paths(value, (*path, number)))
    return found


def _parent(document: Any, path: Path_) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


def _chain(activation: dict[str, Any]) -> list[dict[str, Any]]:
    """An activation with the documents it names: segment, model, source, destination."""
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in BASE}
    segment = by_name[("Segment", activation["spec"]["segment"])]
    model = by_name[("Model", segment["spec"]["model"])]
    return [activation, segment, model, by_name[("Source", model["spec"]["source"])],
            by_name[("Destination", activation["spec"]["destination"])]]


CHAINS = [_chain(d) for d in BASE if d["kind"] == "Activation"]


@st.composite
def mutated_documents(draw: st.DrawFn) -> list[Any]:
    """Some of the example's documents (one, an activation's chain, or all of them: fewer
    documents, more cases per second) with one to four mutations."""
    scope = draw(st.sampled_from(["one"] * 4 + ["chain"] * 4 + ["all"]))
    chosen = (BASE if scope == "all" else draw(st.sampled_from(CHAINS)) if scope == "chain"
              else [draw(st.sampled_from(BASE))])
    documents: list[Any] = copy.deepcopy(chosen)
    for _ in range(draw(st.integers(1, 4))):
        if not documents:
            break
        number = draw(st.integers(0, len(documents) - 1))
        operation = draw(st.sampled_from(
            ["set", "set", "set", "delete", "add", "kind", "twice", "drop", "replace"]))
        if operation == "drop":
            documents.pop(number)
            continue
        if operation == "twice":
            documents.append(copy.deepcopy(documents[number]))
            continue
        if operation == "replace":
            documents[number] = draw(VALUES)
            continue
        if operation == "kind" and isinstance(documents[number], dict):
            documents[number]["kind"] = draw(st.sampled_from(KINDS) | SCALARS)
            continue
        path = draw(st.sampled_from(_paths(documents[number])))
        if not path:
            continue
        parent = _parent(documents[number], path)
        if operation == "delete":
            del parent[path[-1]]
        elif operation == "add" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(KEYS)] = draw(VALUES)
        elif operation == "add" and isinstance(parent[path[-1]], list):
            parent[path[-1]].append(draw(VALUES))
        else:
            parent[path[-1]] = draw(VALUES)
    return documents


def dump(documents: list[Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump_all(documents, stream)
    return stream.getvalue()


def alias_bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        aliases = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth: int, style: str) -> str:
    if style == "flow":
        return "[" * depth + "x" + "]" * depth
    if style == "flowmap":
        return "{a: " * depth + "x" + "}" * depth
    if style == "dash":
        return "- " * depth + "x"
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "x"


# Text that means something to a YAML parser, for inserting anywhere.
YAML_SYNTAX = [
    ":", ": ", "- ", "? ", "{", "}", "[", "]", ",", "&a ", "*a", "*nowhere", "!", "!!binary ",
    "!!python/object/apply:os.system ", "!!set ", "!!omap ", "!!int ", "!!float ", "!!bool ",
    "!!timestamp ", "!foo ", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "|", ">",
    "'", '"', "#", "@", "`", "<<: *a\n", "<<: [1, 2]\n", "\t", "\r", "\x85", "\u2028", "\x00",
    "2026-02-30", "2026-01-01T25:00:00", "0x" + "f" * 5000, "9" * 5000, "0b" + "1" * 20000,
]


@st.composite
def damaged_text(draw: st.DrawFn, text: str) -> bytes:
    """`text`, maybe damaged, as the bytes of a file. An alias bomb or a huge string costs
    the loader some 0.2 s to refuse: one case in twenty gets one (some 25 each in 1,000)."""
    heavy = draw(st.integers(0, 19)) == 0
    damage = draw(st.sampled_from(["bomb", "huge"] if heavy else [
        "none", "none", "tab", "indent", "deep", "cut", "insert", "bytes", "crlf", "bom",
        "tagged"]))
    offset = draw(st.integers(0, len(text)))
    if damage == "tab":
        text = text[:offset] + "\t" + text[offset:]
    elif damage == "indent":
        text = text.replace("\n  ", "\n\t", draw(st.integers(1, 5)))
    elif damage == "bomb":
        text += "---\n" + alias_bomb(draw(st.integers(3, 9)))
    elif damage == "deep":
        style = draw(st.sampled_from(["flow", "flowmap", "dash", "block"]))
        nested = deep_nesting(draw(st.integers(10, 400)), style)
        text += "---\napiVersion: reconciler/v1\nkind: Segment\nspec:\n  where: " + (
            nested if style in ("flow", "flowmap") else "\n" + nested) + "\n"
    elif damage == "huge":
        size = draw(st.sampled_from([10_000, 300_000, 999_000, 1_000_001]))
        char = draw(st.sampled_from(["x", "é", "😀", "'", " "]))
        text += "---\nkind: Model\nmetadata: {name: big}\nspec: {sql: '" + char * (
            size // len(char.encode())) + "'}\n"
    elif damage == "cut":
        text = text[:offset]
    elif damage == "insert":
        piece = draw(st.sampled_from(YAML_SYNTAX) | st.text(max_size=8))
        text = text[:offset] + piece + text[offset:]
    elif damage == "crlf":
        text = text.replace("\n", draw(st.sampled_from(["\r\n", "\r"])))
    elif damage == "bom":
        text = "\ufeff" + text
    elif damage == "tagged":
        tag = draw(st.sampled_from([s for s in YAML_SYNTAX if s.startswith("!")]))
        text = text.replace(": ", ": " + tag, 1)
    data = text.encode("utf-8", "surrogatepass")
    if damage == "bytes":
        junk = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + junk + data[cut:]
    return data
