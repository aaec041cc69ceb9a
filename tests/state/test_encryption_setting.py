"""The project file's `state.encryption` setting: read, checked, and resolved to a key."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from reconciler.manifests.projectfile import ProjectFileError, read_project_file
from reconciler.operations.plans import state_location
from reconciler.state.encryption import EncryptionError, configured_key

KEY = base64.b64encode(b"s" * 32).decode()


def _project(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "reconciler.yaml"
    file.write_text(text, "utf-8")
    return file


def test_state_as_a_mapping_names_the_url_and_the_key_variable(tmp_path: Path) -> None:
    # Scenario: `state: {url, encryption: {key: ${env:NAME}}}`, and without `url`.
    found = read_project_file(_project(tmp_path, "state:\n  url: s.duckdb\n  encryption:\n"
                                                 "    key: ${env:TEAM_KEY}\n"))
    assert (found.state, found.state_key_env) == ("s.duckdb", "TEAM_KEY")
    bare = read_project_file(_project(tmp_path, "state: {encryption: {key: '${env:K}'}}\n"))
    assert (bare.state, bare.state_key_env) == (None, "K")
    plain = read_project_file(_project(tmp_path, "state: s.duckdb\n"))
    assert (plain.state, plain.state_key_env) == ("s.duckdb", None)


@pytest.mark.parametrize("text", [
    f"state: {{encryption: {{key: {KEY}}}}}\n",
    "state: {encryption: {key: '${env:K}', cipher: aes}}\n",
    "state: {encryption: yes}\n",
])
def test_a_literal_key_or_another_shape_is_refused_without_echoing_it(
        tmp_path: Path, text: str) -> None:
    # Scenario: a key pasted into the committed file, an unknown option, a boolean.
    with pytest.raises(ProjectFileError, match=r"reconciler.yaml:1:8: `state.encryption` "
                                               "takes one key") as caught:
        read_project_file(_project(tmp_path, text))
    assert KEY not in str(caught.value)


def test_an_unknown_key_of_state_is_located(tmp_path: Path) -> None:
    # Scenario: `state: {path: …}` instead of `url`.
    with pytest.raises(ProjectFileError, match="unknown key 'path' in `state`"):
        read_project_file(_project(tmp_path, "state: {path: s.duckdb}\n"))


def test_the_location_is_opened_with_the_project_key_or_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: a command resolves its state: the key variable set, then unset.
    monkeypatch.delenv("RECONCILER_STATE_URL", raising=False)
    found = read_project_file(_project(tmp_path, "state:\n  url: s.duckdb\n  encryption:\n"
                                                 "    key: ${env:TEAM_KEY}\n"))
    monkeypatch.setenv("TEAM_KEY", KEY)
    location = state_location(None, tmp_path / "manifests", found)
    key = configured_key(location)
    assert key is not None and key.env == "TEAM_KEY"
    monkeypatch.delenv("TEAM_KEY")
    with pytest.raises(EncryptionError, match=r"\$TEAM_KEY \(named by .*reconciler.yaml:2:"):
        state_location(None, tmp_path / "manifests", found)
