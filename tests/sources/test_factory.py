"""source_for chooses a reader by file name; discover finds a project's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.sources import discover, source_for
from mphunter_gate.sources.pipfilelock import PipfileLockSource
from mphunter_gate.sources.poetrylock import PoetryLockSource
from mphunter_gate.sources.pylock import PylockSource
from mphunter_gate.sources.pyproject import PyprojectSource
from mphunter_gate.sources.requirements import RequirementsSource
from mphunter_gate.sources.uvlock import UvLockSource


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("requirements.txt", RequirementsSource),
        ("requirements-dev.txt", RequirementsSource),
        ("dev-requirements.txt", RequirementsSource),
        ("constraints.txt", RequirementsSource),
        ("requirements.in", RequirementsSource),
        ("web-django.txt", RequirementsSource),
        ("pyproject.toml", PyprojectSource),
        ("uv.lock", UvLockSource),
        ("poetry.lock", PoetryLockSource),
        ("Pipfile.lock", PipfileLockSource),
        ("pylock.toml", PylockSource),
        ("pylock.dev.toml", PylockSource),
    ],
)
def test_source_for(name: str, cls: type) -> None:
    source = source_for(Path("some/dir") / name)
    assert type(source) is cls
    assert source.path == Path("some/dir") / name


@pytest.mark.parametrize("name", ["setup.py", "Pipfile", "package.json", "pylock.json"])
def test_unknown_file_is_input_error(name: str) -> None:
    with pytest.raises(InputError) as info:
        source_for(Path(name))
    assert str(info.value).startswith(f"{name}: ")
    assert info.value.exit_code == 2


def test_discover_prefers_lock_files_over_pyproject(tmp_path: Path) -> None:
    for name in (
        "pyproject.toml",
        "uv.lock",
        "requirements.txt",
        "requirements-docs.txt",
        "requirements.in",
        "dev-requirements.in",
        "constraints.txt",
        "README.md",
    ):
        (tmp_path / name).write_text("")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)]
    assert found == [
        "uv.lock",
        "requirements-docs.txt",
        "requirements.txt",
        "requirements/base.txt",
        "dev-requirements.in",  # requirements.in is skipped: its compiled .txt is there
    ]


def test_discover_falls_back_to_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    assert discover(tmp_path) == [tmp_path / "pyproject.toml"]
    assert discover(tmp_path / "empty-nonexistent") == []


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "requirements.txt"  # even one named like a dependency file
    folder.mkdir()
    with pytest.raises(InputError, match="is a directory") as info:
        source_for(folder)
    assert str(info.value).startswith(f"{folder}: ") and info.value.exit_code == 2
