"""Lock files (uv.lock, poetry.lock, Pipfile.lock, pylock.toml): pinned, never re-resolved."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from mphunter_gate.errors import InputError
from mphunter_gate.resolve import resolve
from mphunter_gate.sources import source_for
from mphunter_gate.sources.pipfilelock import PipfileLockSource
from mphunter_gate.sources.poetrylock import PoetryLockSource
from mphunter_gate.sources.pylock import PylockSource
from mphunter_gate.sources.uvlock import UvLockSource
from mphunter_gate.types import Dependency, DistFile, FileKind, LocalProject, Origin, Unresolvable

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
    ]  # the editable project is the user's code; `stale` is reached from nothing
    assert deps[0].hashes == frozenset({A, B}) and deps[1].hashes == frozenset({C})
    # gitdep is reached through the project's dev group, so it is reported
    assert [(u.origin, "git" in u.reason) for u in unres] == [(Origin(str(path), 37), True)]
    assert source.extra_index_urls == ["https://private.example/simple"]  # not stale's
    assert source.index_urls == []  # PyPI itself is not forced on the user


PLATFORMS = FIXTURES / "uv-platforms" / "uv.lock"


def test_uv_lock_follows_the_graph_with_markers_and_all_extras_and_groups() -> None:
    deps, unres = _split(list(source_for(PLATFORMS).collect()))
    assert unres == []
    assert [d.requirement for d in deps] == [
        "click==8.1.7",
        # two paths: click's marker OR pytest's
        'colorama==0.4.6; platform_system == "Windows" or sys_platform == "win32"',
        "httpx==0.27.0",  # the project's `http` extra
        "socksio==1.0.0",  # httpx[socks], asked for by that extra
        # brotli: an extra of httpx nobody asks for is not installed
        "pytest==8.2.0",  # the project's `test` group
        'exceptiongroup==1.2.1; python_full_version < "3.11"',
        'pywin32==306; sys_platform == "win32"',
        'tomli==2.0.1; python_full_version < "3.11"',
    ]


class _OneWheelIndex:
    """Duck-types `index.Index` for pinned lookups: every project has one
    universal wheel of every version asked for."""

    def __init__(self, versions: dict[str, str]) -> None:
        self.versions = versions

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        version = self.versions[name]
        fn = f"{name}-{version}-py3-none-any.whl"
        return (DistFile(fn, f"https://fake.invalid/{fn}", None, FileKind.WHEEL),)


@pytest.mark.parametrize(
    ("python", "platform", "extra"),
    [
        ("3.12", "manylinux_2_17_x86_64", set()),
        ("3.12", "win_amd64", {"colorama", "pywin32"}),
        ("3.10", "macosx_11_0_arm64", {"exceptiongroup", "tomli"}),
        ("3.10", "win32", {"colorama", "pywin32", "exceptiongroup", "tomli"}),
    ],
)
def test_uv_lock_markers_select_what_the_target_installs(
    python: str, platform: str, extra: set[str]
) -> None:
    deps, _ = _split(list(source_for(PLATFORMS).collect()))
    versions = {Requirement(d.requirement).name: d.requirement.split("==")[1] for d in deps}
    index = _OneWheelIndex({n: v.split(";")[0] for n, v in versions.items()})
    dists, unres = resolve(deps, index, python_version=python, platform=platform)
    assert unres == []
    assert {d.name for d in dists} == {"click", "httpx", "socksio", "pytest"} | extra


def _uv_lock(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "uv.lock"
    path.write_text(text)
    return [
        d.requirement
        if isinstance(d, Dependency)
        else f"local {d.name}"
        if isinstance(d, LocalProject)
        else f"unresolvable {d.text}"
        for d in UvLockSource(path).collect()
    ]


def _pkg(name: str, deps: str = "", source: str = 'registry = "https://pypi.org/simple"') -> str:
    version = "" if "editable" in source or "virtual" in source else 'version = "1.0"\n'
    body = f"dependencies = [{deps}]\n" if deps else ""
    return f'[[package]]\nname = "{name}"\n{version}source = {{ {source} }}\n{body}\n'


def test_uv_lock_cycles_end_and_conditions_combine_along_paths(tmp_path: Path) -> None:
    text = (
        _pkg("root", '{ name = "a", marker = "python_full_version < \'3.12\'" }', 'editable = "."')
        + _pkg("a", '{ name = "b", marker = "sys_platform == \'linux\'" }')
        + _pkg(
            "b", '{ name = "a" }, { name = "c", marker = "os_name == \'nt\' or os_name == \'x\'" }'
        )
        + _pkg("c")
    )
    assert _uv_lock(tmp_path, text) == [
        "local root",
        'a==1.0; python_full_version < "3.12"',
        'b==1.0; python_full_version < "3.12" and sys_platform == "linux"',
        'c==1.0; (os_name == "nt" or os_name == "x") and python_full_version < "3.12" and '
        'sys_platform == "linux"',
    ]


def test_uv_lock_an_unconditional_path_absorbs_conditional_ones(tmp_path: Path) -> None:
    text = (
        _pkg(
            "root",
            '{ name = "a", marker = "sys_platform == \'win32\'" }, { name = "b" }',
            'virtual = "."',
        )
        + _pkg("a", '{ name = "c" }')
        + _pkg("b", '{ name = "c" }')
        + _pkg("c")
    )
    assert _uv_lock(tmp_path, text) == [
        "local root",
        'a==1.0; sys_platform == "win32"',
        "b==1.0",
        "c==1.0",
    ]


def test_uv_lock_forked_names_follow_version_and_source(tmp_path: Path) -> None:
    text = (
        _pkg(
            "root",
            '{ name = "numpy", version = "1.0", source = { registry = "https://pypi.org/simple" },'
            " marker = \"python_full_version < '3.10'\" }",
            'editable = "."',
        )
        + _pkg("numpy")
        + '[[package]]\nname = "numpy"\nversion = "2.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    )
    # numpy 2.0 is locked for nobody here: only the fork the edge names is reached
    assert _uv_lock(tmp_path, text) == ["local root", 'numpy==1.0; python_full_version < "3.10"']


def test_uv_lock_conflict_markers_count_as_true(tmp_path: Path) -> None:
    text = (
        _pkg(
            "root",
            '{ name = "torch", marker = "extra == \'extra-7-project-cpu\'" }, '
            '{ name = "triton", marker = "sys_platform == \'linux\' and '
            "extra != 'extra-7-project-cpu'\" }",
            'virtual = "."',
        )
        + _pkg("torch")
        + _pkg("triton")
    )
    # each branch of a conflict may be installed: both are scanned, and the
    # platform part of the marker still applies
    assert _uv_lock(tmp_path, text) == [
        "local root",
        "torch==1.0",
        'triton==1.0; sys_platform == "linux" and python_version >= "0"',
    ]


def test_uv_lock_manifest_requirements_are_roots(tmp_path: Path) -> None:
    text = (
        "version = 1\n[manifest]\nmembers = []\n"
        '[manifest.dependency-groups]\ndev = [{ name = "iniconfig", specifier = ">=2" }]\n\n'
        + _pkg("iniconfig", '{ name = "helper", extras = ["x"] }')
        + _pkg("helper")
        + _pkg("unused")
    )
    assert _uv_lock(tmp_path, text) == ["iniconfig==1.0", "helper==1.0"]


def test_uv_lock_top_level_directory_package_is_the_project(tmp_path: Path) -> None:
    text = (
        _pkg("proj", '{ name = "lib" }, { name = "dep" }', 'directory = "."')
        + _pkg("lib", '{ name = "libdep" }', 'directory = "../lib"')
        + _pkg("dep")
        + _pkg("libdep")
        + _pkg("unused")
    )
    # the project and a path dependency are the user's code (local project rows);
    # what they pull in from the index is installed, so it is scanned
    assert _uv_lock(tmp_path, text) == ["local proj", "local lib", "dep==1.0", "libdep==1.0"]


def test_uv_lock_without_a_root_is_read_whole(tmp_path: Path) -> None:
    text = _pkg("a", '{ name = "b", marker = "sys_platform == \'win32\'" }') + _pkg("b") + _pkg("c")
    assert _uv_lock(tmp_path, text) == ["a==1.0", "b==1.0", "c==1.0"]


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
    assert unres == []
    (local,) = [i for i in source.collect() if isinstance(i, LocalProject)]
    assert (local.name, local.origin.line) == ("localthing", 27)
    assert local.complete and local.reason.startswith("local project (your own code")
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


@pytest.mark.parametrize(
    ("filename", "text", "message"),
    [
        (
            "Pipfile.lock",
            '{"default": {"six": {"version": "==1.16.0", "hashes": "sha256:ab"}}}',
            "six: `hashes` must be an array",
        ),
        (
            "Pipfile.lock",
            '{"default": {"six": {"version": "==1.16.0", "hashes": [7]}}}',
            "six: a hash must be a string",
        ),
        (
            "pylock.toml",
            'lock-version = "1.0"\n[[packages]]\nname = "six"\nversion = 3\n',
            "six: `version` must be a string",
        ),
        (
            "pylock.toml",
            'lock-version = "1.0"\n[[packages]]\nname = "six"\nversion = "1"\nwheels = "x"\n',
            "six: `wheels` must be an array",
        ),
        (
            "poetry.lock",
            '[[package]]\nname = "six"\nversion = "1.16.0"\nfiles = 3\n',
            "six: `files` must be an array",
        ),
        (
            "poetry.lock",
            '[[package]]\nname = "six"\nversion = "1.16.0"\nfiles = [{hash = 5}]\n',
            "six: a hash must be a string",
        ),
    ],
)
def test_wrong_field_types_are_an_input_error_with_file_and_line(
    tmp_path: Path, filename: str, text: str, message: str
) -> None:
    """A string of hashes iterated as a list drops every hash without a word."""
    path = tmp_path / filename
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        list(source_for(path).collect())
    assert str(err.value).startswith(f"{path}:")
    assert str(err.value).split(":")[1].isdigit()  # the line
