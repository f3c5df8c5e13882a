"""Time limits of the index client (mphunter_gate.fetch.deadline), against the fake
index on 127.0.0.1 with tiny limits.

Each test asserts what happened (which error, naming what timed out; how many
requests were made; that no data came back), never how long it took: a
broken limit shows as a hang or a different error, not a slow pass.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from mphunter_gate.cli import main
from mphunter_gate.errors import PackageIndexError
from mphunter_gate.fetch import deadline as deadline_mod
from mphunter_gate.fetch.deadline import DeadlineExceeded, RequestTimeout
from mphunter_gate.fetch.index import MAX_RETRY_AFTER, Index
from mphunter_gate.fetch.metadata import MetadataReader
from mphunter_gate.types import DistFile, FileKind
from tests.fetch.conftest import FakeIndex

BODY = b"file bytes " * 40


def _index(url: str, tmp_path: Path, **kw: Any) -> Index:
    """An index whose read timeout (30 s) is far above the limit under test, so only
    that limit can end the request."""
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0)
    return Index(url, cache_dir=tmp_path / "cache", timeout=30, **kw)


def _page(fake: FakeIndex, name: str = "demo", **route: Any) -> None:
    fake.add(f"/files/{name}-1.0.tar.gz", BODY, **route)
    fake.json_page(
        name,
        [
            {
                "filename": f"{name}-1.0.tar.gz",
                "url": f"/files/{name}-1.0.tar.gz",
                "hashes": {"sha256": hashlib.sha256(BODY).hexdigest()},
            }
        ],
    )


def _file(fake: FakeIndex, path: str, sha256: str | None = None) -> DistFile:
    return DistFile(
        filename=path.rsplit("/", 1)[-1],
        url=fake.url + path,
        sha256=sha256,
        kind=FileKind.SDIST if path.endswith(".tar.gz") else FileKind.WHEEL,
    )


# -- one request ------------------------------------------------------------------------


@pytest.mark.parametrize("stall", ["request", "headers", "body"])
def test_a_request_that_never_finishes_is_cut_at_its_own_limit(
    fake: FakeIndex, tmp_path: Path, stall: str
) -> None:
    """No answer, headers a line at a time, or headers and then silence: every read
    is inside the 30 s read timeout or never returns, and the request still ends."""
    fake.json_page("demo", [], stall=stall)
    with pytest.raises(RequestTimeout, match=r"the index page of demo from .* timed out"):
        _index(fake.simple, tmp_path, request_timeout=0.3).project_files("demo")


def test_a_dripping_body_is_cut_and_never_returned(fake: FakeIndex, tmp_path: Path) -> None:
    """A body without Content-Length ends when the connection closes: the cut must not
    look like its end. The file has no index hash, so nothing else would notice."""
    fake.add("/files/demo-1.0.tar.gz", BODY, drip=0.02, content_length=False)
    idx = _index(fake.simple, tmp_path, request_timeout=0.3)
    with pytest.raises(RequestTimeout, match=r"the download of demo-1\.0\.tar\.gz"):
        idx.fetch(_file(fake, "/files/demo-1.0.tar.gz"))
    assert not list((tmp_path / "cache").rglob("blobs/*/*"))  # nothing cached


def test_a_retry_that_would_end_past_the_limit_is_not_made(fake: FakeIndex, tmp_path: Path) -> None:
    """Retry-After 20 s is within the cap, but not within a 0.3 s request: fail now."""
    fake.json_page("demo", [], fail_first=3, retry_after="20")
    with pytest.raises(RequestTimeout, match="the index page of demo"):
        _index(fake.simple, tmp_path, retries=3, request_timeout=0.3).project_files("demo")
    assert fake.requests_to("/simple/demo/") == 1


# -- Retry-After ------------------------------------------------------------------------


def test_retry_after_is_honoured_up_to_the_cap(fake: FakeIndex, tmp_path: Path) -> None:
    assert MAX_RETRY_AFTER == deadline_mod.MAX_RETRY_AFTER == 30
    fake.json_page("demo", [], fail_first=1, retry_after="0")
    assert _index(fake.simple, tmp_path, retries=2).project_files("demo") == ()
    assert fake.requests_to("/simple/demo/") == 2  # waited as asked, then served


@pytest.mark.parametrize("after", ["100000", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_retry_after_beyond_the_cap_fails_at_once(
    fake: FakeIndex, tmp_path: Path, after: str
) -> None:
    fake.json_page("demo", [], fail_first=5, retry_after=after)
    with pytest.raises(PackageIndexError, match=r"asked to retry after \d+ s, longer than the 30"):
        _index(fake.simple, tmp_path, retries=4).project_files("demo")
    assert fake.requests_to("/simple/demo/") == 1  # no retry, no day-long sleep


def test_the_cap_is_the_one_the_retry_reads(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline_mod, "MAX_RETRY_AFTER", 1)
    fake.json_page("demo", [], fail_first=5, retry_after="2")
    with pytest.raises(PackageIndexError, match="retry after 2 s, longer than the 1 s"):
        _index(fake.simple, tmp_path, retries=4).project_files("demo")


# -- the run's deadline -----------------------------------------------------------------


def test_the_run_deadline_cuts_a_request_and_stops_every_later_one(
    fake: FakeIndex, tmp_path: Path
) -> None:
    fake.json_page("slow", [], stall="body")
    _page(fake, "quick")
    idx = _index(fake.simple, tmp_path, deadline=0.3)
    with pytest.raises(DeadlineExceeded, match=r"the index page of slow from .* timed out"):
        idx.project_files("slow")
    with pytest.raises(DeadlineExceeded, match="was not started: the run's index deadline"):
        idx.project_files("quick")
    assert fake.requests_to("/simple/quick/") == 0
    with pytest.raises(DeadlineExceeded, match="--index-deadline"):
        idx.clock.raise_if_passed()  # remembered, for a caller that swallowed it


def test_fetch_many_stops_at_the_deadline_but_yields_a_slow_file_in_place(
    fake: FakeIndex, tmp_path: Path
) -> None:
    fake.add("/files/a-1.0.tar.gz", BODY)
    fake.add("/files/b-1.0.tar.gz", BODY, stall="body")
    files = [_file(fake, "/files/a-1.0.tar.gz"), _file(fake, "/files/b-1.0.tar.gz")]
    # Over its own limit: that file is unreadable (unscanned), the others are read.
    got = list(_index(fake.simple, tmp_path, request_timeout=0.3).fetch_many(files))
    assert got[0] == BODY and isinstance(got[1], RequestTimeout)
    # Over the run's deadline: the run is over, nothing is yielded as if it were a file.
    idx = _index(fake.simple, tmp_path / "two", deadline=0.3)
    with pytest.raises(DeadlineExceeded):
        list(idx.fetch_many(files[::-1]))


def test_metadata_that_times_out_stops_resolution_instead_of_dropping_dependencies(
    fake: FakeIndex, tmp_path: Path
) -> None:
    """A release whose metadata never arrives is not a release without dependencies."""
    fake.add("/files/demo-1.0-py3-none-any.whl.metadata", b"Name: demo\n", stall="body")
    wheel = DistFile(
        filename="demo-1.0-py3-none-any.whl",
        url=fake.url + "/files/demo-1.0-py3-none-any.whl",
        sha256="0" * 64,
        kind=FileKind.WHEEL,
        has_metadata=True,
    )
    reader = MetadataReader(_index(fake.simple, tmp_path, request_timeout=0.3))
    with pytest.raises(RequestTimeout, match=r"the metadata of demo-1\.0-py3-none-any\.whl"):
        reader.for_release([wheel])


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "requirements.txt").write_text("demo==1.0\n")
    monkeypatch.chdir(proj)
    monkeypatch.setenv("MPHUNTER_GATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    return proj


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mphunter-gate: error: "), err
    return lines[0]


@pytest.mark.parametrize("where", ["page", "download"])
def test_check_exits_3_with_one_line_when_the_deadline_passes(
    fake: FakeIndex, project: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Stalled on the page (resolution) or on the file (judging): exit 3, no report,
    never a pass."""
    if where == "page":
        fake.json_page("demo", [], stall="body")
    else:
        _page(fake, "demo", stall="body")
    code = main(["check", "--index-url", fake.simple, "--index-deadline", "0.5s"])
    out, err = capsys.readouterr()
    assert code == 3, out + err
    line = _one_error_line(err)
    what = "the index page of demo" if where == "page" else "the download of demo-1.0.tar.gz"
    assert what in line and "index deadline of 0.5 s passed" in line
    assert "PASS" not in out


def test_the_deadline_is_a_pyproject_key_and_a_bad_one_names_file_and_line(
    fake: FakeIndex, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.json_page("demo", [], stall="body")
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[tool.mphunter-gate]\nindex-deadline = "0.5s"\n')
    assert main(["check", "requirements.txt", "--index-url", fake.simple]) == 3
    assert "index deadline of 0.5 s" in _one_error_line(capsys.readouterr().err)

    pyproject.write_text('[tool.mphunter-gate]\n\nindex-deadline = "soon"\n')
    assert main(["check", "requirements.txt", "--index-url", fake.simple]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "pyproject.toml:3:" in line and "index-deadline" in line
