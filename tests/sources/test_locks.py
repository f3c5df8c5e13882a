"""Lock files (uv.lock, poetry.lock, Pipfile.lock, pylock.toml): pinned, never re-resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate.errors import InputError
from mphunter_gate.sources import source_for
from mphunter_gate.sources.pipfilelock import PipfileLockSource
from mphunter_gate.sources.poetrylock import PoetryLockSource
from mphunter_gate.sources.pylock import PylockSource
from mphunter_gate.sources.uvlock import UvLockSource
from mphunter_gate.types import Dependency, Origin, Unresolvable

FIXTURES = Path(__file__).parent / "fixtures"
A, B, C = "a" * 64, "b" * 64, "c" * 64


def _split(items: list[Dependency | Unresolvable]) -> tuple[list[Dependency], list[Unresolvable]]:
    return [i for i in items if isinstance(i, Dependency)], [
        i for i in items if isinstance(i, Unresolvable)
    ]


def test_uv_lock() -> None:
    path = FIXTURES / "uv.lock"
    source = source_for(path)
    assert isinstance(source, UvLockSource)
    deps, unres = _split(list(source.collect()))
    assert [(d.requirement, d.origin.line, d.pinned) for d in deps] == [
        ("anyio==4.3.0", 4, True),
        ("idna==3.7", 16, True),
    ]  # the editable project itself is the user's code, not a dependency
    assert deps[0].hashes == frozenset({A, B}) and deps[1].hashes == frozenset({C})
    assert [(u.origin, "git" in u.reason) for u in unres] == [(Origin(str(path), 32), True)]
    assert source.extra_index_urls == ["https://private.example/simple"]
    assert source.index_urls == []  # PyPI itself is not forced on the user


def test_poetry_lock() -> None:
    path = FIXTURES / "poetry.lock"
    source = source_for(path)
    assert isinstance(source, PoetryLockSource)
    deps, unres = _split(list(source.collect()))
    assert [(d.requirement, d.origin.line) for d in deps] == [
        ("certifi==2024.2.2", 3),
        ("internal-lib==2.0.0", 14),
    ]
    assert deps[0].hashes == frozenset({A, B}) and all(d.pinned for d in deps)
    assert len(unres) == 1 and unres[0].origin.line == 27 and "directory" in unres[0].reason
    assert source.extra_index_urls == ["https://private.example/simple"]


def test_poetry_lock_old_metadata_files(tmp_path: Path) -> None:
    path = tmp_path / "poetry.lock"
    path.write_text(
        '[[package]]\nname = "Six"\nversion = "1.16.0"\n\n'
        f'[metadata.files]\nsix = [\n  {{file = "six-1.16.0.tar.gz", hash = "sha256:{A}"}},\n]\n'
    )
    (dep,) = PoetryLockSource(path).collect()
    assert isinstance(dep, Dependency)
    assert dep.requirement == "Six==1.16.0" and dep.hashes == frozenset({A})


def test_pipfile_lock() -> None:
    path = FIXTURES / "Pipfile.lock"
    source = source_for(path)
    assert isinstance(source, PipfileLockSource)
    deps, unres = _split(list(source.collect()))
    assert [(d.requirement, d.origin.line) for d in deps] == [
        ("requests==2.31.0; python_version >= '3.7'", 12),
        ("pytest==8.0.0", 27),
    ]
    assert deps[0].hashes == frozenset({A, B})
    assert len(unres) == 1 and unres[0].origin.line == 21
    assert source.index_urls == ["https://pypi.org/simple"]
    assert source.extra_index_urls == ["https://private.example/simple"]


def test_pylock() -> None:
    path = FIXTURES / "pylock.toml"
    source = source_for(path)
    assert isinstance(source, PylockSource)
    deps, unres = _split(list(source.collect()))
    assert [(d.requirement, d.origin.line) for d in deps] == [
        ("attrs==25.1.0", 5),
        ("colorama==0.4.6; sys_platform == 'win32'", 14),
    ]
    assert deps[0].hashes == frozenset({A, B})
    assert len(unres) == 1 and unres[0].origin.line == 23 and "vcs" in unres[0].reason
    assert source.extra_index_urls == ["https://private.example/simple"]


def test_legacy_version_is_pinned_with_arbitrary_equality(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(
        '[[package]]\nname = "old"\nversion = "1.0-beta-x"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    (dep,) = UvLockSource(path).collect()
    assert isinstance(dep, Dependency) and dep.requirement == "old===1.0-beta-x"


@pytest.mark.parametrize(
    ("name", "text", "line", "fragment"),
    [
        ("uv.lock", 'version = 1\n[[package]]\nname = "x"\nversion = \n', 4, "invalid TOML"),
        (
            "uv.lock",
            '[[package]]\nname = "x"\nsource = { registry = "r" }\n',
            1,
            "without a version",
        ),
        ("poetry.lock", '[[package]]\nname = "x"\n', 1, "needs a name and a version"),
        ("Pipfile.lock", '{"default": {\n  "x": {"version": ">=1"}\n}}', 2, "pinned version"),
        ("Pipfile.lock", '{"default": {\n  "x": \n}}', 3, "invalid JSON"),
        ("pylock.toml", 'lock-version = "2.0"\n', 1, "unsupported lock-version"),
        (
            "pylock.toml",
            'lock-version = "1.0"\n\n[[packages]]\nname = "x"\nindex = "i"\n',
            3,
            "without a version",
        ),
    ],
)
def test_malformed_lock_files(
    tmp_path: Path, name: str, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as info:
        list(source_for(path).collect())
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert fragment in str(info.value)
