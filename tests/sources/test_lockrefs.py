"""Lock files' non-index sources (mphunter_gate.sources.lockrefs): git, editable,
directory, path and URL sources of uv.lock and poetry.lock become rows that say
what they are, and a git row is allowed by exactly the `url` snippet the report
prints for it."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from mphunter_gate.cli import main
from mphunter_gate.sources import source_for
from mphunter_gate.types import Dependency, LocalProject, Unresolvable

FIXTURES = Path(__file__).parent / "fixtures"
UV = FIXTURES / "uv-sources" / "uv.lock"
POETRY = FIXTURES / "poetry-sources" / "poetry.lock"
TOOLKIT = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"
FASTTHING = "9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d"


def _rows(path: Path) -> list[tuple[str, str, int]]:
    kinds = {Dependency: "dep", LocalProject: "local", Unresolvable: "unscanned"}
    return [
        (kinds[type(i)], i.requirement if isinstance(i, Dependency) else i.text, i.origin.line)
        for i in source_for(path).collect()
    ]


def test_uv_lock_sources() -> None:
    assert _rows(UV) == [
        ("local", "app (editable = .)", 8),  # the project itself
        ("local", "shared (editable = packages/shared)", 31),  # a workspace member
        ("local", "sublib (directory = packages/sublib)", 39),  # a path dependency
        (
            "unscanned",
            f"toolkit @ git+https://github.com/example/toolkit@{TOOLKIT}#subdirectory=python",
            44,
        ),
        ("unscanned", "vendored @ vendor/vendored-1.0-py3-none-any.whl", 49),
        ("unscanned", "plugin-sdk @ https://downloads.example/plugin_sdk-0.9.tar.gz", 57),
    ]
    by_name = {i.text.split()[0]: i for i in source_for(UV).collect()}
    git = by_name["toolkit"]
    assert isinstance(git, Unresolvable)
    assert git.reason == (
        f"git source: toolkit 2.1.0 from https://github.com/example/toolkit at commit {TOOLKIT}, "
        "not from an index, so its files were not scanned"
    )
    app = by_name["app"]
    assert isinstance(app, LocalProject) and app.complete and app.name == "app"
    assert "dependencies are locked in uv.lock and judged in their own rows" in app.reason
    assert "mphunter-gate scan" in by_name["vendored"].reason


def test_poetry_lock_sources() -> None:
    assert _rows(POETRY) == [
        ("local", "corelib (directory = ../corelib)", 3),
        (
            "unscanned",
            f"fastthing @ git+https://github.com/example/fastthing.git@{FASTTHING}#subdirectory=py",
            16,
        ),
        ("unscanned", "unpinned @ git+https://gitlab.example/group/unpinned.git@HEAD", 32),
        ("unscanned", "wheelhouse-pkg @ wheels/wheelhouse_pkg-1.0-py3-none-any.whl", 46),
    ]
    reasons = {i.text.split()[0]: i.reason for i in source_for(POETRY).collect()}
    assert (
        f"fastthing 3.2.1.dev0 from https://github.com/example/fastthing.git at commit "
        f"{FASTTHING}" in reasons["fastthing"]
    )
    assert "at HEAD (no commit locked)" in reasons["unpinned"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("source = { git = 3 }", "toolkit: `source.git` must be a string"),
    ],
)
def test_a_uv_git_source_of_the_wrong_type_names_file_and_line(
    tmp_path: Path, body: str, message: str
) -> None:
    from mphunter_gate.errors import InputError

    lock = tmp_path / "uv.lock"
    lock.write_text(
        '[[package]]\nname = "app"\nversion = "1"\nsource = { editable = "." }\n'
        'dependencies = [{ name = "toolkit" }]\n\n'
        f'[[package]]\nname = "toolkit"\nversion = "1"\n{body}\n'
    )
    with pytest.raises(InputError, match=re.escape(f"uv.lock:7: {message}")):
        list(source_for(lock).collect())


def test_poetry_git_source_without_a_url_names_file_and_line(tmp_path: Path) -> None:
    from mphunter_gate.errors import InputError

    lock = tmp_path / "poetry.lock"
    lock.write_text(
        '[[package]]\nname = "x"\nversion = "1"\nfiles = []\n\n[package.source]\ntype = "git"\n'
    )
    with pytest.raises(
        InputError, match=re.escape("poetry.lock:1: x: `source.url` must be a string")
    ):
        list(source_for(lock).collect())


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    monkeypatch.chdir(proj)
    monkeypatch.setenv("MPHUNTER_GATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return proj


@pytest.mark.parametrize("lock", [UV, POETRY])
def test_the_printed_allow_snippets_pass_every_unscanned_row_and_nothing_else(
    project: Path, capsys: pytest.CaptureFixture[str], lock: Path
) -> None:
    """No registry package in these locks: nothing is fetched (--offline proves it)."""
    shutil.copy(lock, project / lock.name)
    args = ["check", lock.name, "--offline", "--format", "json"]
    assert main(args) == 1
    doc = json.loads(capsys.readouterr().out)
    rows = doc["results"]
    local = [r for r in rows if r["version"] == "local"]
    unscanned = [r for r in rows if r["verdict"] == "unscanned"]
    assert local and all(r["verdict"] == "pass" for r in local)
    assert len(local) + len(unscanned) == len(rows)
    snippets = [r["explanation"]["allow"] for r in unscanned]
    assert all(s.startswith("{ url = ") for s in snippets)
    filled = [s.replace("<why this is safe, and who reviewed it>", "reviewed") for s in snippets]

    # allowing all but the first leaves exactly that one failing
    (project / "pyproject.toml").write_text(
        "[tool.mphunter-gate]\nallow = [\n" + ",\n".join(filled[1:]) + "\n]\n"
    )
    assert main(args) == 1
    left = [r for r in json.loads(capsys.readouterr().out)["results"] if r["verdict"] != "pass"]
    assert [r["name"] for r in left] == [unscanned[0]["name"]]

    (project / "pyproject.toml").write_text(
        "[tool.mphunter-gate]\nallow = [\n" + ",\n".join(filled) + "\n]\n"
    )
    assert main(args) == 0, capsys.readouterr().err
