"""The project file (reconciler.yaml or [tool.reconciler]): found upward, checked, located."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifests.projectfile import (
    ProjectFileError,
    find_project_file,
    read_project_file,
)
from reconciler.manifests.values import MissingEnvironmentVariable


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_found_from_a_subdirectory_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "reconciler.yaml", "manifests: conf/manifests\nstate: var/state.duckdb\n")
    deep = tmp_path / "conf" / "manifests" / "activations"
    deep.mkdir(parents=True)
    found = find_project_file(deep)
    assert found is not None
    assert found.file == (tmp_path / "reconciler.yaml").resolve()
    assert found.manifests_path() == (tmp_path / "conf" / "manifests").resolve()
    assert found.state_location() == str((tmp_path / "var" / "state.duckdb").resolve())


def test_a_state_folder_inside_the_repository_is_made_one_outside_must_exist(
        tmp_path: Path) -> None:
    # A fresh clone has no .reconciler/ (git ignores it): the file's state must still work;
    # a directory outside the project is not created (a typo there is an error later).
    _write(tmp_path / "repo" / "reconciler.yaml", "state: .reconciler/team.duckdb\n")
    found = find_project_file(tmp_path / "repo")
    assert found is not None and found.state_location() is not None
    assert (tmp_path / "repo" / ".reconciler").is_dir()
    _write(tmp_path / "repo" / "reconciler.yaml", "state: ../elsewhere/team.duckdb\n")
    found = find_project_file(tmp_path / "repo")
    assert found is not None and found.state_location() is not None
    assert not (tmp_path / "elsewhere").exists()


def test_an_empty_file_marks_the_root_and_every_default_applies(tmp_path: Path) -> None:
    _write(tmp_path / "reconciler.yaml", "# nothing set\n")
    found = find_project_file(tmp_path)
    assert found is not None
    assert found.manifests_path() == tmp_path.resolve() / "manifests"
    assert found.state_location() is None


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    # A reconciler.yaml above the repository (say in $HOME) belongs to something else.
    _write(tmp_path / "reconciler.yaml", "state: elsewhere.duckdb\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert find_project_file(tmp_path / "repo") is None


def test_pyproject_counts_only_with_a_tool_reconciler_table(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.reconciler]\nstate = "postgresql://ci@db/mk"\n')
    inner = _write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n').parent
    found = find_project_file(inner)
    assert found is not None and found.file == (tmp_path / "pyproject.toml").resolve()
    assert found.state_location() == "postgresql://ci@db/mk"


def test_the_yaml_file_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[tool.reconciler]\nstate = "a.duckdb"\n')
    _write(tmp_path / "reconciler.yaml", "state: b.duckdb\n")
    found = find_project_file(tmp_path)
    assert found is not None and found.state_location() == str(tmp_path.resolve() / "b.duckdb")


def test_an_unknown_key_is_an_error_at_its_line(tmp_path: Path) -> None:
    file = _write(tmp_path / "reconciler.yaml", "manifests: m\nstates: x.duckdb\n")
    with pytest.raises(ProjectFileError) as caught:
        read_project_file(file)
    assert f"{file.resolve()}:2:1: unknown key" in str(caught.value)
    assert "unknown key 'states'" in str(caught.value) and "manifests, state" in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("state: [a, b]\n", ":1:8: `state` must be a non-empty string"),
    ("- a\n- b\n", ":1:1: the project file must be a mapping"),
    ("state: 'open\n", "invalid YAML"),
])
def test_a_malformed_file_names_file_line_and_column(tmp_path: Path, text: str,
                                                     expected: str) -> None:
    file = _write(tmp_path / "reconciler.yaml", text)
    with pytest.raises(ProjectFileError, match="reconciler.yaml") as caught:
        read_project_file(file)
    assert expected in str(caught.value)


def test_a_password_in_the_committed_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    file = _write(tmp_path / "reconciler.yaml", "state: postgresql://ci:hunter2@db/mk\n")
    with pytest.raises(ProjectFileError) as caught:
        read_project_file(file)
    assert "holds a password" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "PGPASSWORD" in caught.value.hint


def test_an_environment_reference_is_resolved_when_used(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    file = _write(tmp_path / "reconciler.yaml", "state: ${env:TEAM_STATE_URL}\n")
    found = read_project_file(file)  # reading needs no variable
    monkeypatch.delenv("TEAM_STATE_URL", raising=False)
    with pytest.raises(MissingEnvironmentVariable, match="reconciler.yaml:1:8"):
        found.state_location()
    monkeypatch.setenv("TEAM_STATE_URL", "postgresql://ci:pw@db/mk")  # a secret may live there
    assert found.state_location() == "postgresql://ci:pw@db/mk"


def test_the_repository_s_own_project_file_names_the_example_and_the_default_state() -> None:
    repository = Path(__file__).resolve().parents[2]
    found = find_project_file(repository / "manifests")
    assert found is not None and found.file == repository / "reconciler.yaml"
    assert found.manifests_path() == repository / "manifests"
    assert found.state_location() == str(repository / ".reconciler" / "state.duckdb")
