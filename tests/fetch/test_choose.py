"""The file pip would install from a release, per target (mphunter_gate.fetch.choose)."""

from __future__ import annotations

from mphunter_gate.fetch.choose import installer_file, picks
from mphunter_gate.target import Target
from mphunter_gate.types import DistFile, Distribution, FileKind


def _f(filename: str, *, yanked: bool = False, sha: str | None = None) -> DistFile:
    kind = FileKind.WHEEL if filename.endswith(".whl") else FileKind.SDIST
    return DistFile(filename, f"https://x/{filename}", sha or filename, kind, yanked=yanked)


LINUX = Target.create("3.11", "manylinux_2_17_x86_64")
WINDOWS = Target.create("3.11", "win_amd64")
SDIST = _f("demo-1.0.tar.gz")
PURE = _f("demo-1.0-py3-none-any.whl")
CP311_LINUX = _f("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
ABI3_LINUX = _f("demo-1.0-cp38-abi3-manylinux_2_17_x86_64.whl")
CP311_WIN = _f("demo-1.0-cp311-cp311-win_amd64.whl")


def test_a_fitting_wheel_beats_the_sdist() -> None:
    assert installer_file([SDIST, PURE], LINUX) == PURE


def test_the_most_specific_tag_wins_whatever_the_index_order() -> None:
    files = [SDIST, PURE, ABI3_LINUX, CP311_WIN, CP311_LINUX]
    assert installer_file(files, LINUX) == CP311_LINUX
    assert installer_file([SDIST, PURE, ABI3_LINUX], LINUX) == ABI3_LINUX
    assert installer_file(files, WINDOWS) == CP311_WIN


def test_no_fitting_wheel_means_the_sdist() -> None:
    assert installer_file([SDIST, CP311_WIN], LINUX) == SDIST
    assert installer_file([CP311_WIN], LINUX) is None


def test_the_higher_build_tag_wins() -> None:
    b1 = _f("demo-1.0-1-py3-none-any.whl")
    b2 = _f("demo-1.0-2-py3-none-any.whl")
    assert installer_file([PURE, b2, b1], LINUX) == b2


def test_requires_python_and_yanked_files_are_passed_over() -> None:
    old = DistFile(PURE.filename, PURE.url, "x", FileKind.WHEEL, requires_python="<3")
    assert installer_file([SDIST, old], LINUX) == SDIST
    yanked = _f("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", yanked=True)
    assert installer_file([PURE, yanked], LINUX) == PURE
    assert installer_file([yanked], LINUX) == yanked  # only a yanked file: still judged


def test_picks_cover_every_target_and_the_sdist_once() -> None:
    dist = Distribution("demo", "1.0", None, (SDIST, PURE, CP311_LINUX, CP311_WIN))
    got = [(p.file.filename, p.installs_on) for p in picks(dist, [LINUX, WINDOWS])]
    assert got == [
        (CP311_LINUX.filename, ("py3.11 manylinux_2_17_x86_64",)),
        (CP311_WIN.filename, ("py3.11 win_amd64",)),
        (SDIST.filename, ()),
    ]
    pure = Distribution("demo", "1.0", None, (PURE,))
    assert [(p.file, p.installs_on) for p in picks(pure, [LINUX, WINDOWS])] == [
        (PURE, ("py3.11 manylinux_2_17_x86_64", "py3.11 win_amd64"))
    ]


def test_picks_never_leave_the_pinned_hashes() -> None:
    dist = Distribution("demo", "1.0", None, (SDIST, PURE), hashes=frozenset({SDIST.sha256 or ""}))
    assert [p.file for p in picks(dist, [LINUX])] == [SDIST]
