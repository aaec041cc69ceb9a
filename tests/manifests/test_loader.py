"""The YAML loader: documents, positions, and YAML errors as diagnostics."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reconciler.manifests.diagnostics import Diagnostic
from reconciler.manifests.loader import discover_files, read_documents, walk_path

TWO_DOCUMENTS = """\
# a comment
apiVersion: reconciler/v1
kind: Segment
metadata:
  name: one
spec:
  where:
    all:
      - {column: a, eq: 1}
      - column: b
        withinLast: 30d
---
kind: Model
day: 2026-01-31
---
"""


def test_positions_of_values_keys_and_list_items(tmp_path: Path) -> None:
    # Scenario: every value and key of a multi-document file keeps its 1-based line:column.
    file = tmp_path / "a.yaml"
    file.write_text(TWO_DOCUMENTS)
    diagnostics: list[Diagnostic] = []
    first, second = read_documents(file, diagnostics)
    assert diagnostics == []
    positions = first.positions
    assert (positions.locate(("kind",)).line, positions.locate(("kind",)).column) == (3, 7)
    assert positions.locate(("spec", "where"), key=True).line == 7
    item = positions.locate(("spec", "where", "all", 0, "column"))
    assert (item.line, item.column) == (9, 18)
    assert positions.locate(("spec", "where", "all", 1, "withinLast")).line == 11
    # A path that does not exist falls back to its nearest existing ancestor.
    assert positions.locate(("spec", "where", "all", 1, "missing")).line == 10
    assert second.index == 1 and second.data == {"kind": "Model", "day": dt.date(2026, 1, 31)}
    assert second.positions.locate(("day",)).line == 14


def test_yaml_syntax_error_is_a_positioned_diagnostic(tmp_path: Path) -> None:
    # Scenario: an unclosed flow mapping is reported with its line, not raised.
    file = tmp_path / "bad.yaml"
    file.write_text("kind: Model\nspec: {a: 1\nother: 2\n")
    diagnostics: list[Diagnostic] = []
    assert read_documents(file, diagnostics) == []
    assert len(diagnostics) == 1
    assert "invalid YAML" in diagnostics[0].message and diagnostics[0].position.line >= 2


def test_duplicate_yaml_keys_are_reported(tmp_path: Path) -> None:
    # Scenario: the same key twice in one mapping is an error, not a silent overwrite.
    file = tmp_path / "dup.yaml"
    file.write_text("kind: Model\nkind: Segment\n")
    diagnostics: list[Diagnostic] = []
    read_documents(file, diagnostics)
    assert len(diagnostics) == 1 and diagnostics[0].position.line == 2


def test_discovers_yaml_files_in_a_tree_skipping_hidden_folders(tmp_path: Path) -> None:
    # Scenario: a directory tree with nested, hidden and non-YAML files.
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("a.yaml", "b/c.yml", ".git/x.yaml", "notes.txt"):
        (tmp_path / name).write_text("kind: Model\n")
    assert [p.relative_to(tmp_path).as_posix() for p in discover_files(tmp_path)] == [
        "a.yaml", "b/c.yml"]


def test_missing_path_is_a_diagnostic(tmp_path: Path) -> None:
    # Scenario: a user points validate at a path that does not exist.
    diagnostics: list[Diagnostic] = []
    assert read_documents(tmp_path / "nope", diagnostics) == []
    assert "no such file" in diagnostics[0].message


def test_walk_path_drops_union_tags() -> None:
    # Scenario: pydantic's location carries union tags that are not in the YAML.
    data = {"spec": {"type": "selligent", "where": {"all": [{"column": "x"}]}}}
    loc = ("spec", "selligent", "where", "all", "all", 0, "predicate", "column")
    assert tuple(walk_path(data, loc)) == ("spec", "where", "all", 0, "column")


def _errors_of(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "bad.yaml").write_text(text, "utf-8")
    diagnostics: list[Diagnostic] = []
    documents = read_documents(tmp_path / "bad.yaml", diagnostics)
    assert documents == []
    return [f"{d.position.line}: {d.message}" for d in diagnostics]


def test_an_alias_bomb_is_an_error_not_a_hang(tmp_path: Path) -> None:
    # Scenario: ten levels of anchors each used nine times: 9^10 values once expanded.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 11)]
    [error] = _errors_of(tmp_path, "\n".join(lines) + "\n")
    assert "expands to more than 100,000 values" in error


def test_deep_nesting_in_brackets_or_blocks_is_a_located_error(tmp_path: Path) -> None:
    assert _errors_of(tmp_path, "a: " + "[" * 1000 + "]" * 1000 + "\n") == [
        "1: brackets nested 1000 deep from line 1 (at most 64)"]
    [error] = _errors_of(tmp_path, "".join(" " * i + "k:\n" for i in range(300)))
    assert "nested" in error and "64" in error


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    [error] = _errors_of(tmp_path, "a: '" + "x" * 1_000_001 + "'\n")
    assert "larger than 1,000,000 bytes" in error


def test_ordinary_anchors_brackets_and_apostrophes_still_load(tmp_path: Path) -> None:
    # Scenario: defaults shared by an anchor, flow lists, an apostrophe in a plain value.
    (tmp_path / "ok.yaml").write_text(
        "defaults: &d {notify: [ops, crm]}\nspec:\n  warnings: *d\n  note: it's fine\n"
        "more: [[1, [2, [3]]]]\n", "utf-8")
    diagnostics: list[Diagnostic] = []
    [document] = read_documents(tmp_path / "ok.yaml", diagnostics)
    assert diagnostics == []
    assert document.data["spec"]["warnings"] == {"notify": ["ops", "crm"]}


@pytest.mark.parametrize(("text", "line", "expected"), [
    ("a: 1\nb: 2026-02-30\n", 2, "day is out of range for month"),
    ("a: 2026-01-01T25:00:00\n", 1, "hour must be in 0..23"),
    ("a: [1, !!int abc]\n", 1, "invalid literal for int()"),
    ("a: !!float abc\n", 1, "could not convert string to float"),
    ("a: !!bool maybe\n", 1, "cannot read tag:yaml.org,2002:bool value"),
    ("a:\n  b: !!set reconciler/v1\n", 2, "cannot read tag:yaml.org,2002:set value"),
])
def test_a_value_ruamel_cannot_build_is_a_located_error(tmp_path: Path, text: str, line: int,
                                                        expected: str) -> None:
    # Scenario (found by tests/fuzz): an impossible date or a tag that does not fit its value
    # raised ValueError, KeyError or AttributeError out of `reconciler validate`.
    [error] = _errors_of(tmp_path, text)
    assert error.startswith(f"{line}: invalid YAML: ") and expected in error


@pytest.mark.parametrize(("text", "expected"), [
    ("a: " + "9" * 5000 + "\n", "1: invalid YAML: cannot read tag:yaml.org,2002:int value"),
    ("a: 1\nb: [0x" + "f" * 5000 + "]\n", "2: an integer of more than 1,000 digits"),
    ("a: 1\nb:\n  ? " + "9" * 1500 + "\n  : 1\n", "3: an integer of more than 1,000 digits"),
])
def test_an_integer_of_thousands_of_digits_is_a_located_error(tmp_path: Path, text: str,
                                                              expected: str) -> None:
    # Scenario (found by tests/fuzz): Python cannot print an integer past 4,300 digits, so a
    # huge one (decimal, hex, or a mapping key) broke every message that named it.
    [error] = _errors_of(tmp_path, text)
    assert error.startswith(expected)
