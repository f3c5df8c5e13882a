"""The benign corpus downloader (mphunter_gate.corpus) against a local pypiserver.

The packages are fixture sdists and wheels written by the tests; nothing
is fetched from the internet and no package file is ever run.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import asdict
from pathlib import Path

import pytest

from mphunter_gate import corpus
from mphunter_gate.corpus import (
    Candidate,
    Entry,
    _fetch_one,
    latest_sdist,
    read_manifest,
    series_sdists,
)
from mphunter_gate.fetch.index import Index
from mphunter_gate.types import DistFile, FileKind
from tests.conftest import LocalIndex

SETUP = "from setuptools import setup\nsetup(name='tidy-widgets')\n"


def _file(filename: str, yanked: bool = False) -> DistFile:
    kind = FileKind.WHEEL if filename.endswith(".whl") else FileKind.SDIST
    return DistFile(filename, f"http://127.0.0.1:1/{filename}", None, kind, yanked=yanked)


def test_latest_sdist_picks_the_newest_final_release() -> None:
    files = (
        _file("demo-1.9.tar.gz"),
        _file("demo-1.10.tar.gz"),  # 1.10 > 1.9: compared as versions, not strings
        _file("demo-1.10.zip"),
        _file("demo-1.11.tar.gz", yanked=True),
        _file("demo-2.0rc1.tar.gz"),
        _file("demo-2.1.dev0.tar.gz"),
        _file("demo-3.0-py3-none-any.whl"),
        _file("demo-latest.tar.gz"),  # not a valid sdist filename
    )
    best = latest_sdist(files)
    assert best is not None and best.filename == "demo-1.10.tar.gz"


def test_latest_sdist_none_when_nothing_qualifies() -> None:
    assert latest_sdist(()) is None
    assert (
        latest_sdist((_file("demo-1.0.tar.gz", yanked=True), _file("demo-1.0-py3-none-any.whl")))
        is None
    )
    assert latest_sdist((_file("demo-1.0b1.tar.gz"),)) is None


def test_series_sdists_takes_the_newest_release_of_each_series() -> None:
    files = (
        _file("demo-2.32.3.tar.gz"),
        _file("demo-2.32.5.tar.gz"),
        _file("demo-2.31.0.tar.gz"),
        _file("demo-2.34.2.tar.gz"),
        _file("demo-2.34.3.tar.gz", yanked=True),
        _file("demo-2.35.0rc1.tar.gz"),
        _file("demo-3.tar.gz"),  # one-part versions are series (3, 0)
        _file("demo-1.0.0-py3-none-any.whl"),
    )
    assert [f.filename for f in series_sdists(files, 4)] == [
        "demo-3.tar.gz",
        "demo-2.34.2.tar.gz",
        "demo-2.32.5.tar.gz",
        "demo-2.31.0.tar.gz",
    ]
    assert [f.filename for f in series_sdists(files, 2)] == ["demo-3.tar.gz", "demo-2.34.2.tar.gz"]


def test_candidates_mix_top_random_and_history() -> None:
    picked = corpus.candidates(3, 2, 2)
    assert [c.sample for c in picked] == ["top"] * 3 + ["random"] * 2 + ["history"] * 2
    assert all(c.rank is not None for c in picked[:3])
    assert all(c.rank is None for c in picked[3:5])
    assert [c.name for c in picked[5:]] == [c.name for c in picked[:2]]


def test_read_manifest_skips_lines_a_killed_run_left(tmp_path: Path) -> None:
    good = Entry("a", "1.0", "a-1.0.tar.gz", "ab" * 32, 1, "top", ["a-1.0/setup.py"], "ok")
    lines = [json.dumps(asdict(good)), '{"name": "b", "unknown_field": 1}', '{"name": "c", "ver']
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    assert list(read_manifest(tmp_path)) == [good]
    assert list(read_manifest(tmp_path / "missing")) == []


def _symlinked_setup(directory: Path) -> Path:
    path = directory / "linky-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = b"import os\n"
        ti = tarfile.TarInfo("linky-1.0/real.py")
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
        link = tarfile.TarInfo("linky-1.0/setup.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../outside.py"  # leaves the package: never read
        tar.addfile(link)
    return path


@pytest.mark.integration
def test_fetch_one_against_a_local_index(local_index: LocalIndex, tmp_path: Path) -> None:
    local_index.add_sdist("tidy-widgets", "1.0", "old = True\n")
    newest = local_index.add_sdist(
        "tidy-widgets",
        "1.2",
        SETUP,
        files={
            "tidy_widgets/__init__.py": "from . import core\n",
            "tidy_widgets/core.py": "X = 1\n",
        },
    )
    local_index.add_sdist("tidy-widgets", "2.0b1", "beta = True\n")
    local_index.add_wheel("wheel-only", "1.0", {"wheel_only/__init__.py": ""})
    local_index.add_sdist("plain", "1.0", files={"README.md": "no code here\n"})
    (local_index.directory / "broken-1.0.tar.gz").write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    _symlinked_setup(local_index.directory)

    index = Index(local_index.url, cache_dir=tmp_path / "cache", retries=0, timeout=10)
    files_dir = tmp_path / "corpus" / "files"

    def fetch(name: str) -> Entry:
        (only,) = _fetch_one(index, Candidate(name, 7, "random"), files_dir)
        return only

    ok = fetch("tidy-widgets")
    assert ok.status == "ok", ok.detail
    assert (ok.version, ok.filename, ok.rank, ok.sample) == ("1.2", newest.name, 7, "random")
    assert ok.sha256 == hashlib.sha256(newest.read_bytes()).hexdigest()
    assert ok.files == [
        "tidy-widgets-1.2/setup.py",
        "tidy-widgets-1.2/tidy_widgets/__init__.py",
        "tidy-widgets-1.2/tidy_widgets/core.py",
    ]
    stored = files_dir / "tidy-widgets-1.2"
    assert (stored / "tidy-widgets-1.2" / "setup.py").read_text() == SETUP
    assert not (tmp_path / "cache" / "blobs").exists()  # corpus downloads are not cached

    assert fetch("wheel-only").status == "no-sdist"
    assert fetch("not-on-the-index").status == "no-sdist"
    plain = fetch("plain")
    assert (plain.status, plain.files, plain.version) == ("no-script", [], "1.0")
    broken = fetch("broken")
    assert broken.status == "error" and broken.detail and "broken-1.0.tar.gz" in broken.detail
    linky = fetch("linky")
    assert linky.status == "error" and linky.detail and "link" in linky.detail
    assert not (files_dir / "linky-1.0").exists()

    older = _fetch_one(index, Candidate("tidy-widgets", 7, "history"), files_dir)
    assert [(e.version, e.sample, e.status) for e in older] == [("1.0", "history", "ok")]
    assert (files_dir / "tidy-widgets-1.0" / "tidy-widgets-1.0" / "setup.py").is_file()
    (none,) = _fetch_one(index, Candidate("plain", 7, "history"), files_dir)
    assert (none.status, none.sample) == ("no-sdist", "history")


@pytest.mark.integration
def test_download_is_resumable(
    local_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_index.add_sdist("alpha", "0.9", SETUP)
    local_index.add_sdist("alpha", "1.0", SETUP)
    local_index.add_sdist("beta", "2.0", files={"beta/__init__.py": "import os\n"})
    tops, history = (
        [Candidate("alpha", 1, "top"), Candidate("beta", None, "random")],
        [Candidate("alpha", 1, "history")],
    )
    monkeypatch.setattr(
        corpus, "candidates", lambda top, random, old: tops[: top + random] + history[:old]
    )
    index = Index(local_index.url, cache_dir=tmp_path / "cache", retries=0, timeout=10)
    out = tmp_path / "corpus"

    assert corpus.download(out, index, 1, 0, workers=2, progress=False) == {"ok": 1}
    assert corpus.download(out, index, 1, 1, workers=2, progress=False) == {"ok": 1}
    assert corpus.download(out, index, 1, 1, workers=2, progress=False) == {}
    assert corpus.download(out, index, 1, 1, 1, workers=2, progress=False) == {"ok": 1}
    assert corpus.download(out, index, 1, 1, 1, workers=2, progress=False) == {}
    entries = {(e.name, e.version): e for e in read_manifest(out)}
    assert set(entries) == {("alpha", "1.0"), ("alpha", "0.9"), ("beta", "2.0")}
    assert entries[("beta", "2.0")].files == ["beta-2.0/beta/__init__.py"]


@pytest.mark.integration
def test_entries_picked_under_older_selection_rules_are_fetched_again(
    local_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    py_modules = "from setuptools import setup\nsetup(name='alpha', py_modules=['alpha'])\n"
    local_index.add_sdist("alpha", "1.0", files={"setup.py": py_modules, "alpha.py": "x = 1\n"})
    monkeypatch.setattr(
        corpus,
        "candidates",
        lambda top, random, old: [Candidate("alpha", 1, "top"), Candidate("gone", 2, "top")],
    )
    out = tmp_path / "corpus"
    out.mkdir()
    stale = Entry("alpha", "1.0", "alpha-1.0.tar.gz", None, 1, "top", ["alpha-1.0/setup.py"], "ok")
    failed = Entry("gone", None, None, None, 2, "top", [], "no-sdist")
    lines = [{k: v for k, v in asdict(e).items() if k != "selection"} for e in (stale, failed)]
    (out / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    index = Index(local_index.url, cache_dir=tmp_path / "cache", retries=0, timeout=10)

    assert not stale.current and failed.current  # an old line reads as selection 1
    assert corpus.download(out, index, 2, 0, workers=2, progress=False) == {"ok": 1}
    assert corpus.download(out, index, 2, 0, workers=2, progress=False) == {}
    (alpha,) = [e for e in corpus.latest_entries(out) if e.name == "alpha"]
    assert alpha.files == ["alpha-1.0/setup.py", "alpha-1.0/alpha.py"]
    assert len(corpus.latest_entries(out)) == 2 and len(list(read_manifest(out))) == 3
