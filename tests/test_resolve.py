"""Resolution over a fake index: chains, extras, markers, conflicts, yanked, pins, gaps."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass

import pytest

from mphunter_gate.errors import PackageIndexError
from mphunter_gate.fetch.metadata import DYNAMIC_NOTE
from mphunter_gate.resolve import Target, resolve
from mphunter_gate.types import Dependency, DistFile, Distribution, FileKind, Origin, Unresolvable

REQS = Origin("requirements.txt", 1)


@dataclass(frozen=True)
class Rel:
    """One fake release: its dependencies and what files the index lists."""

    version: str
    requires: tuple[str, ...] = ()
    wheel: bool = True
    sdist: bool = False
    yanked: bool = False
    requires_python: str | None = None
    setup_py: str | None = None  # sdist-only releases: the setup.py text (never run)
    wheel_tag: str = "py3-none-any"


class FakeIndex:
    """Duck-types `index.Index`: file lists and PEP 658 metadata from memory."""

    def __init__(self, projects: dict[str, list[Rel]]) -> None:
        self.projects = projects
        self.metadata_calls: list[str] = []
        self.blobs: dict[str, bytes] = {}
        self.meta: dict[str, bytes] = {}

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        files = []
        for rel in self.projects.get(name, []):
            meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {rel.version}\n"
            meta += "".join(f"Requires-Dist: {r}\n" for r in rel.requires)
            if rel.wheel:
                fn = f"{name.replace('-', '_')}-{rel.version}-{rel.wheel_tag}.whl"
                self.meta[fn] = meta.encode()
                files.append(self._file(fn, FileKind.WHEEL, fn.encode(), rel, has_metadata=True))
            if rel.sdist:
                fn = f"{name}-{rel.version}.tar.gz"
                setup = (
                    rel.setup_py
                    or f"from setuptools import setup\nsetup(install_requires={rel.requires})\n"
                )
                data = _sdist(
                    f"{name}-{rel.version}",
                    {"PKG-INFO": meta.split("Requires-Dist")[0], "setup.py": setup},
                )
                self.blobs[fn] = data
                files.append(self._file(fn, FileKind.SDIST, data, rel))
        return tuple(files)

    @staticmethod
    def _file(
        fn: str, kind: FileKind, data: bytes, rel: Rel, has_metadata: bool = False
    ) -> DistFile:
        return DistFile(
            filename=fn,
            url=f"https://fake.invalid/{fn}",
            sha256=hashlib.sha256(data).hexdigest(),
            kind=kind,
            size=len(data),
            requires_python=rel.requires_python,
            yanked=rel.yanked,
            has_metadata=has_metadata,
        )

    def fetch(self, file: DistFile) -> bytes:
        return self.blobs[file.filename]

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes:
        raise PackageIndexError("the fake index serves no ranges")

    def fetch_metadata(self, file: DistFile) -> bytes | None:
        self.metadata_calls.append(file.filename)
        return self.meta.get(file.filename)


def _sdist(root: str, files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _dep(text: str, line: int = 1, **kw: object) -> Dependency:
    return Dependency(text, Origin("requirements.txt", line), **kw)  # type: ignore[arg-type]


def _by_name(dists: list[Distribution]) -> dict[str, Distribution]:
    return {d.name: d for d in dists}


def test_chain_three_deep_takes_newest_and_keeps_origin() -> None:
    index = FakeIndex(
        {
            "top": [Rel("1.0", ("middle>=2",)), Rel("1.1", ("middle>=2",))],
            "middle": [Rel("1.0"), Rel("2.0", ("bottom<3",)), Rel("2.5", ("bottom<3",))],
            "bottom": [Rel("2.1"), Rel("2.9"), Rel("3.0")],
            "other": [Rel("0.1")],
        }
    )
    dists, unres = resolve([_dep("top>=1", 3), _dep("other", 7)], index)
    assert unres == []
    got = {d.name: (d.version, d.origin) for d in dists}
    line3 = Origin("requirements.txt", 3)
    assert got == {
        "top": ("1.1", line3),
        "middle": ("2.5", line3),
        "bottom": ("2.9", line3),  # introduced by top: annotations point at line 3
        "other": ("0.1", Origin("requirements.txt", 7)),
    }
    assert all(len(d.files) == 1 and d.files[0].kind is FileKind.WHEEL for d in dists)


def test_extras_pull_their_dependencies_only_when_asked() -> None:
    projects = {
        "celery": [Rel("5.0", ("kombu", 'redis>=4; extra == "redis"'))],
        "kombu": [Rel("1.0")],
        "redis": [Rel("4.5"), Rel("5.0")],
    }
    with_extra, _ = resolve([_dep("celery[redis]")], FakeIndex(projects))
    without, _ = resolve([_dep("celery")], FakeIndex(projects))
    assert {d.name: d.version for d in with_extra} == {
        "celery": "5.0",
        "kombu": "1.0",
        "redis": "5.0",
    }
    assert {d.name for d in without} == {"celery", "kombu"}


def test_markers_are_evaluated_for_the_target() -> None:
    projects = {
        "app": [
            Rel("1.0", ('pywin32; sys_platform == "win32"', 'backport; python_version < "3.9"'))
        ],
        "pywin32": [Rel("306", wheel_tag="cp311-cp311-win_amd64")],
        "backport": [Rel("1.0")],
    }
    linux, _ = resolve(
        [_dep("app")], FakeIndex(projects), python_version="3.11", platform="manylinux_2_17_x86_64"
    )
    windows, _ = resolve(
        [_dep("app")], FakeIndex(projects), python_version="3.11", platform="win_amd64"
    )
    old, _ = resolve(
        [_dep("app")], FakeIndex(projects), python_version="3.8", platform="manylinux_2_17_x86_64"
    )
    assert {d.name for d in linux} == {"app"}
    assert {d.name for d in windows} == {"app", "pywin32"}
    assert {d.name for d in old} == {"app", "backport"}


def test_direct_marker_false_on_target_is_not_installed() -> None:
    index = FakeIndex({"winonly": [Rel("1.0")]})
    dists, unres = resolve(
        [_dep('winonly; sys_platform == "win32"')], index, platform="manylinux_2_17_x86_64"
    )
    assert dists == [] and unres == []


def test_conflict_becomes_unresolvable_and_the_rest_still_resolves() -> None:
    index = FakeIndex(
        {
            "a": [Rel("1.0", ("shared<2",))],
            "b": [Rel("1.0", ("shared>=2",))],
            "shared": [Rel("1.0"), Rel("2.0")],
            "fine": [Rel("3.0")],
        }
    )
    dists, unres = resolve([_dep("a", 1), _dep("b", 2), _dep("fine", 3)], index)
    assert {d.name for d in dists} == {"fine"}
    assert {(u.text, u.origin.line) for u in unres} == {("a", 1), ("b", 2)}
    assert all("shared" in u.reason for u in unres)


def test_missing_package_is_unresolvable() -> None:
    dists, unres = resolve(
        [_dep("nosuchpkg>=1", 4), _dep("real")], FakeIndex({"real": [Rel("1.0")]})
    )
    assert [d.name for d in dists] == ["real"]
    assert len(unres) == 1 and unres[0].origin.line == 4
    assert "nosuchpkg not found on the index" in unres[0].reason


def test_yanked_release_skipped_unless_pinned_exactly() -> None:
    projects = {"lib": [Rel("1.0"), Rel("2.0", yanked=True)]}
    loose, _ = resolve([_dep("lib>=1")], FakeIndex(projects))
    pinned, _ = resolve([_dep("lib==2.0")], FakeIndex(projects))
    assert [(d.version, d.notes) for d in loose] == [("1.0", ())]
    assert [(d.version, d.notes) for d in pinned] == [("2.0", ("release is yanked",))]


def test_requires_python_excludes_releases() -> None:
    projects = {"lib": [Rel("1.0"), Rel("2.0", requires_python=">=3.99")]}
    dists, _ = resolve([_dep("lib")], FakeIndex(projects), python_version="3.11")
    assert [d.version for d in dists] == ["1.0"]


def test_no_installable_file_is_explained() -> None:
    projects = {"py2": [Rel("1.0", requires_python="<3")]}
    dists, unres = resolve([_dep("py2==1.0")], FakeIndex(projects), python_version="3.11")
    assert dists == []
    assert len(unres) == 1 and "no file installable on Python 3.11.0" in unres[0].reason


def test_sdist_only_with_dynamic_dependencies_gets_a_note() -> None:
    dynamic = (
        "from setuptools import setup\nsetup(install_requires=open('reqs.txt').read().split())\n"
    )
    static = "from setuptools import setup\nsetup(install_requires=['leaf'])\n"
    index = FakeIndex(
        {
            "dyn": [Rel("1.0", wheel=False, sdist=True, setup_py=dynamic)],
            "stat": [Rel("1.0", wheel=False, sdist=True, setup_py=static)],
            "leaf": [Rel("1.0")],
        }
    )
    dists, unres = resolve([_dep("dyn"), _dep("stat")], index)
    got = _by_name(dists)
    assert unres == []
    assert got["dyn"].notes == (DYNAMIC_NOTE,)
    assert got["dyn"].files[0].kind is FileKind.SDIST
    assert got["stat"].notes == () and "leaf" in got  # literal install_requires followed


def test_constraints_limit_versions_but_add_nothing() -> None:
    projects = {"lib": [Rel("1.0"), Rel("2.0")], "unused": [Rel("1.0")]}
    deps = [_dep("lib"), _dep("lib<2", constraint=True), _dep("unused==1.0", constraint=True)]
    dists, unres = resolve(deps, FakeIndex(projects))
    assert [(d.name, d.version) for d in dists] == [("lib", "1.0")] and unres == []


def test_hash_pins_filter_files_and_mismatch_is_unresolvable() -> None:
    projects = {"lib": [Rel("1.0", sdist=True)]}
    index = FakeIndex(projects)
    files = index.project_files("lib")
    wheel_sha = next(f.sha256 for f in files if f.kind is FileKind.WHEEL)
    assert wheel_sha is not None
    dists, _ = resolve([_dep("lib==1.0", hashes=frozenset({wheel_sha}))], index)
    assert [f.sha256 for f in dists[0].files] == [wheel_sha]
    assert dists[0].hashes == frozenset({wheel_sha})

    dists, unres = resolve([_dep("lib==1.0", 5, hashes=frozenset({"0" * 64}))], FakeIndex(projects))
    assert dists == [] and unres[0].origin.line == 5 and "--hash" in unres[0].reason


def test_pinned_lock_entries_bypass_resolution() -> None:
    projects = {"lib": [Rel("1.0", ("never-looked-up",), sdist=True)], "gone": [Rel("1.0")]}
    index = FakeIndex(projects)
    sdist_sha = next(f.sha256 for f in index.project_files("lib") if f.kind is FileKind.SDIST)
    assert sdist_sha is not None
    lock = Origin("uv.lock", 9)
    deps = [
        Dependency("lib==1.0", lock, hashes=frozenset({sdist_sha}), pinned=True),
        Dependency("gone==9.9", Origin("uv.lock", 20), pinned=True),
        Dependency("lib==1.0", Origin("uv.lock", 30), hashes=frozenset({"1" * 64}), pinned=True),
        Dependency('winlib==1.0; sys_platform == "win32"', Origin("uv.lock", 40), pinned=True),
    ]
    index.metadata_calls.clear()
    dists, unres = resolve(deps, index, platform="manylinux_2_17_x86_64")
    assert [(d.name, d.version, d.origin) for d in dists] == [("lib", "1.0", lock)]
    assert [f.kind for f in dists[0].files] == [FileKind.SDIST]  # only the locked file
    assert index.metadata_calls == []  # no metadata read: lock files are not re-resolved
    assert {u.origin.line: u.reason for u in unres} == {
        20: "gone 9.9 is not on the index",
        30: "no file on the index matches the locked hashes",
    }


def test_target_tags_follow_platform() -> None:
    linux = Target.create("3.10", "manylinux_2_28_aarch64")
    assert (
        linux.markers["platform_machine"] == "aarch64" and linux.markers["python_version"] == "3.10"
    )

    def wheel(tag: str) -> DistFile:
        return DistFile(f"x-1.0-{tag}.whl", "u", None, FileKind.WHEEL)

    assert linux.supports_file(wheel("cp310-cp310-manylinux2014_aarch64"))
    assert not linux.supports_file(wheel("cp310-cp310-manylinux_2_34_aarch64"))  # glibc too new
    assert not linux.supports_file(wheel("cp311-cp311-manylinux2014_aarch64"))
    assert not linux.supports_file(wheel("cp310-cp310-win_amd64"))
    mac = Target.create("3.12", "macosx_11_0_arm64")
    assert mac.markers["sys_platform"] == "darwin"
    assert mac.supports_file(wheel("cp312-cp312-macosx_10_9_universal2"))
    with pytest.raises(ValueError):
        Target.create("three", None)


def test_invalid_requirement_in_metadata_is_noted_not_fatal() -> None:
    index = FakeIndex({"app": [Rel("1.0", ("ok", "bad ==="))], "ok": [Rel("1.0")]})
    dists, unres = resolve([_dep("app")], index)
    app = _by_name(dists)["app"]
    assert "ok" in _by_name(dists) and unres == []
    assert any("bad ===" in n for n in app.notes)


def test_unreadable_metadata_is_noted() -> None:
    index = FakeIndex({"app": [Rel("1.0")]})

    def no_metadata(file: DistFile) -> bytes | None:
        return None  # so the reader must range-read (refused) and then download

    def broken(file: DistFile) -> bytes:
        raise PackageIndexError("connection reset")

    index.fetch_metadata = no_metadata  # type: ignore[method-assign]
    index.fetch = broken  # type: ignore[method-assign]
    dists, unres = resolve([_dep("app")], index)
    assert (
        unres == [] and dists[0].notes and dists[0].notes[0].startswith("dependencies unresolved")
    )


def test_unresolvable_inputs_pass_through_as_reasons() -> None:
    dists, unres = resolve([_dep("thing @ https://example.com/thing.whl", 2)], FakeIndex({}))
    assert dists == [] and unres == [
        Unresolvable(
            "thing @ https://example.com/thing.whl",
            Origin("requirements.txt", 2),
            "direct URL reference",
        )
    ]


def test_offline_cache_miss_is_reported_per_requirement() -> None:
    class OfflineIndex(FakeIndex):
        offline = True

        def project_files(self, name: str) -> tuple[DistFile, ...]:
            if name == "uncached":
                raise PackageIndexError("--offline: no cached index page for 'uncached'")
            return super().project_files(name)

    index = OfflineIndex({"cached": [Rel("1.0")]})
    deps = [_dep("cached"), _dep("uncached", 2), Dependency("uncached==1.0", REQS, pinned=True)]
    dists, unres = resolve(deps, index)
    assert [d.name for d in dists] == ["cached"]
    assert [u.text for u in unres] == ["uncached==1.0", "uncached"]
    assert all("--offline" in u.reason for u in unres)


def test_online_index_failure_propagates() -> None:
    class DownIndex(FakeIndex):
        def project_files(self, name: str) -> tuple[DistFile, ...]:
            raise PackageIndexError("cannot reach index")

    with pytest.raises(PackageIndexError):
        resolve([_dep("anything")], DownIndex({}))


def test_prefetch_warms_the_newest_matching_release_in_the_background() -> None:
    from packaging.specifiers import SpecifierSet

    from mphunter_gate.fetch.metadata import MetadataReader
    from mphunter_gate.resolve import _Prefetch, _Req

    index = FakeIndex(
        {
            "lib": [Rel("1.0"), Rel("1.4"), Rel("1.5", yanked=True), Rel("2.0"), Rel("1.9b1")],
            "gone": [],
        }
    )
    reader = MetadataReader(index)
    with _Prefetch(index, reader, Target.create()) as prefetch:
        prefetch.warm(_Req("lib", frozenset(), SpecifierSet("<2"), "lib<2"))
        prefetch.warm(_Req("lib", frozenset(), SpecifierSet("<2"), "lib<2"))  # once per name
        prefetch.warm(_Req("gone", frozenset(), SpecifierSet(), "gone"))  # nothing to warm
    assert index.metadata_calls == ["lib-1.4-py3-none-any.whl"]
    dists, _ = resolve([_dep("lib<2")], index, reader=reader)
    assert [d.version for d in dists] == ["1.4"]
    assert index.metadata_calls == ["lib-1.4-py3-none-any.whl"]  # the resolver hit the cache


def test_the_user_s_own_conflicting_lines_are_an_input_error_naming_both() -> None:
    from mphunter_gate.errors import InputError

    index = FakeIndex({"httpx": [Rel("0.23.0"), Rel("0.24.1"), Rel("0.27.2"), Rel("0.28.0")]})
    deps = [
        Dependency("httpx>=0.27,<0.28", Origin("a.txt", 1)),
        Dependency("httpx>=0.23,<0.25", Origin("b.txt", 4)),
    ]
    with pytest.raises(InputError, match="conflicting requirements for httpx") as err:
        resolve(deps, index)
    text = str(err.value)
    assert "a.txt:1 `httpx>=0.27,<0.28`" in text and "b.txt:4 `httpx>=0.23,<0.25`" in text
    assert err.value.exit_code == 2


def test_two_lines_that_agree_on_a_release_are_no_conflict() -> None:
    index = FakeIndex({"httpx": [Rel("0.24.1"), Rel("0.27.2")]})
    deps = [
        Dependency("httpx>=0.24", Origin("a.txt", 1)),
        Dependency("httpx<0.25", Origin("b.txt", 2)),
    ]
    dists, unres = resolve(deps, index)
    assert [(d.name, d.version) for d in dists] == [("httpx", "0.24.1")] and not unres


def test_a_local_project_s_extra_requirements_hold_for_the_extras_it_asked_for() -> None:
    index = FakeIndex({"h2": [Rel("4.0")], "brotli": [Rel("1.0")]})
    deps = [
        Dependency('h2>=3; extra == "http2"', Origin("r.txt", 1), extras=frozenset({"http2"})),
        Dependency('brotli; extra == "brotli"', Origin("r.txt", 1), extras=frozenset({"http2"})),
    ]
    dists, unres = resolve(deps, index)
    assert [d.name for d in dists] == ["h2"] and not unres
