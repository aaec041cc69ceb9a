"""What a saved plan's fingerprint says changed, and that it does not depend on where it runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.loading import load_project
from reconciler.planning.fingerprint import MISSING, Fingerprint, fingerprint_of

SAVED = Fingerprint(
    manifests={"segments.yaml": "a", "sources.yaml": "b"},
    state_serials={"vip": 3},
    sources={"warehouse": {"data/customers.csv": "c"}, "pg": {"*": "unknown"}},
    remote={"vip": {"resources": "r", "list": "l", "fields": "f", "errors": "e"}},
)


@pytest.mark.parametrize(("now", "reasons"), [
    (SAVED, []),
    (Fingerprint({"segments.yaml": "A", "sources.yaml": "b", "new.yaml": "n"}, {"vip": 3},
                 SAVED.sources, SAVED.remote),
     ["manifest new.yaml was added", "manifest segments.yaml changed"]),
    (Fingerprint({"sources.yaml": "b"}, {"vip": 5}, SAVED.sources, SAVED.remote),
     ["manifest segments.yaml was removed",
      "the state of activation 'vip' moved from serial 3 to 5 (an apply ran since)"]),
    (Fingerprint(SAVED.manifests, {"vip": 3},
                 {"warehouse": {"data/customers.csv": MISSING}, "pg": {"*": "unknown"}},
                 {"vip": {"resources": "R", "list": "L", "fields": "f", "errors": "e"}}),
     ["source 'warehouse': file data/customers.csv was removed",
      "the destination of activation 'vip' changed: what has to be created there (list, "
      "segment, fields); whether its list exists"]),
])
def test_each_difference_is_named(now: Fingerprint, reasons: list[str]) -> None:
    # Scenario: a manifest edited, added or removed, an apply since, a source file deleted,
    # a list created by hand: each is one reason, naming the file or the activation.
    assert SAVED.differences(now) == reasons


def test_the_same_project_gives_the_same_fingerprint_from_any_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: the example project loaded as `manifests` from its parent and by its
    # absolute path from elsewhere (what `apply PLANFILE` does): identical fingerprints.
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    relative, _ = load_project(Path("manifests"))
    here = fingerprint_of(relative, {}, {})
    monkeypatch.chdir(tmp_path)
    absolute, _ = load_project(repo / "manifests")
    there = fingerprint_of(absolute, {}, {})
    assert here == there and here.differences(there) == []
    assert set(here.sources["warehouse"]) == {"data/customers.csv", "data/orders.csv"}
