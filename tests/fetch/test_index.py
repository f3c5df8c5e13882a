"""The simple-API client (mphunter_gate.fetch.index), against servers on 127.0.0.1 only.

The `fake` index (tests/fetch/conftest.py) serves PEP 691 JSON and PEP 503
HTML pages, files with or without Range support, errors, and wrong hashes,
and records every request so a test can assert that a warm run made none.
The integration tests run the same paths against a real pypiserver.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from mphunter_gate.errors import PackageIndexError
from mphunter_gate.fetch import index as index_mod
from mphunter_gate.fetch.index import Index, default_cache_dir, pip_index_urls
from mphunter_gate.types import DistFile, FileKind
from tests.conftest import LocalIndex
from tests.fetch.conftest import FakeIndex

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
SDIST = b"sdist bytes " * 50
WHEEL = b"wheel bytes " * 40
METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: attrs\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _index(url: str, tmp_path: Path, **kw: Any) -> Index:
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0)
    return Index(url, cache_dir=tmp_path / "cache", timeout=5, **kw)


def _demo_json(fake: FakeIndex) -> None:
    fake.add("/files/demo-1.0.tar.gz", SDIST)
    fake.add("/files/demo-1.0-py3-none-any.whl", WHEEL)
    fake.add("/files/demo-1.0-py3-none-any.whl.metadata", METADATA)
    fake.json_page(
        "demo",
        [
            {
                "filename": "demo-1.0.tar.gz",
                "url": "../../files/demo-1.0.tar.gz",
                "hashes": {"sha256": sha(SDIST)},
                "requires-python": ">=3.8",
                "size": len(SDIST),
            },
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "/files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": sha(WHEEL).upper()},
                "core-metadata": {"sha256": sha(METADATA)},
            },
            {
                "filename": "demo-0.9.tar.gz",
                "url": f"/files/demo-0.9.tar.gz#sha256={sha(b'old')}",
                "hashes": {},
                "yanked": "broken build",
                "dist-info-metadata": True,
            },
            {"filename": "demo-0.1.win32.exe", "url": "/files/x.exe", "hashes": {}},
        ],
    )


class NoNetwork(requests.Session):
    """A session that fails the test if anything is requested."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        raise AssertionError(f"unexpected request: {args} {kwargs}")


# -- project pages -------------------------------------------------------------------


def test_pep691_json_page(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    files = _index(fake.simple, tmp_path).project_files("Demo")
    assert [f.filename for f in files] == [
        "demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        "demo-0.9.tar.gz",
    ]
    sdist, wheel, old = files
    assert sdist == DistFile(
        filename="demo-1.0.tar.gz",
        url=fake.url + "/files/demo-1.0.tar.gz",
        sha256=sha(SDIST),
        kind=FileKind.SDIST,
        size=len(SDIST),
        requires_python=">=3.8",
    )
    assert wheel.kind is FileKind.WHEEL and wheel.sha256 == sha(WHEEL)  # lower-cased
    assert wheel.has_metadata and wheel.metadata_sha256 == sha(METADATA)
    assert old.yanked and old.has_metadata and old.metadata_sha256 is None
    assert old.url == fake.url + "/files/demo-0.9.tar.gz"  # fragment stripped...
    assert old.sha256 == sha(b"old")  # ...and used as the hash when `hashes` is empty
    (seen,) = fake.seen
    assert seen.path == "/simple/demo/"  # canonical name
    assert seen.headers["Accept"].startswith(JSON_TYPE)


def test_pep503_html_page(fake: FakeIndex, tmp_path: Path) -> None:
    digest, meta = sha(SDIST), sha(METADATA)
    html = f"""<!DOCTYPE html><html><body>
    <a href="../../files/demo-1.0.tar.gz#sha256={digest}" data-requires-python="&gt;=3.9"
       data-core-metadata="sha256={meta}">demo-1.0.tar.gz</a>
    <a href="https://files.example/demo-0.9.zip" data-yanked="">demo-0.9.zip</a>
    <a href="/files/demo-0.8-py2-none-any.whl" data-dist-info-metadata="true">w</a>
    <a href="/files/demo-0.1.egg">egg</a><a>no href</a>
    </body></html>"""
    fake.add("/simple/demo/", html.encode(), content_type="text/html")
    sdist, zipped, wheel = _index(fake.simple, tmp_path).project_files("demo")
    assert (sdist.url, sdist.sha256, sdist.requires_python) == (
        fake.url + "/files/demo-1.0.tar.gz",
        digest,
        ">=3.9",
    )
    assert sdist.has_metadata and sdist.metadata_sha256 == meta and not sdist.yanked
    assert zipped.kind is FileKind.SDIST and zipped.yanked and zipped.sha256 is None
    assert wheel.kind is FileKind.WHEEL and wheel.has_metadata and wheel.metadata_sha256 is None


def test_unknown_project_is_empty_and_extra_index_is_searched(
    fake: FakeIndex, tmp_path: Path
) -> None:
    fake.json_page("demo", [{"filename": "demo-1.0.tar.gz", "url": "/f/demo-1.0.tar.gz"}])
    idx = _index(fake.url + "/primary", tmp_path, extra_index_urls=[fake.simple])
    assert [f.filename for f in idx.project_files("demo")] == ["demo-1.0.tar.gz"]
    assert idx.project_files("nothing-here") == ()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"meta": {}}',
        b'{"files": [{"url": "/x"}]}',
        b'{"files": 3}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "url": "/f", "size": "huge"}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "url": "/f", "requires-python": 3}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "url": "/f", "hashes": "sha256:ab"}]}',
        b'{"files": [{"filename": "demo-1.0.tar.gz", "url": "/f", "size": true}]}',
        b'{"files": ["demo-1.0.tar.gz"]}',
    ],
)
def test_unreadable_json_page_is_an_index_error(
    fake: FakeIndex, tmp_path: Path, body: bytes
) -> None:
    fake.add("/simple/demo/", body, content_type=JSON_TYPE)
    with pytest.raises(PackageIndexError, match="unreadable page"):
        _index(fake.simple, tmp_path).project_files("demo")


def test_server_error_is_retried_then_reported(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    fake.routes["/simple/demo/"].fail_first = 1
    idx = _index(fake.simple, tmp_path, retries=2)
    assert len(idx.project_files("demo")) == 3
    assert fake.requests_to("/simple/demo/") == 2

    fake.add("/simple/down/", b"oops", status=500)
    with pytest.raises(PackageIndexError):
        _index(fake.simple, tmp_path, retries=1).project_files("down")
    assert fake.requests_to("/simple/down/") == 2  # one try plus one retry


def test_unreachable_index_is_an_index_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PackageIndexError, match="cannot reach"):
        _index(f"http://127.0.0.1:{port}/simple", tmp_path).project_files("demo")


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "", "-x-", "demo?x=1"])
def test_invalid_project_name_never_reaches_a_url(
    fake: FakeIndex, tmp_path: Path, name: str
) -> None:
    with pytest.raises(PackageIndexError, match="not a valid project name"):
        _index(fake.simple, tmp_path).project_files(name)
    assert fake.seen == []


# -- page cache ---------------------------------------------------------------------------


def test_page_cache_serves_a_warm_run_without_network(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    first = _index(fake.simple, tmp_path).project_files("demo")
    warm = Index(fake.simple, cache_dir=tmp_path / "cache", session=NoNetwork())
    assert warm.project_files("demo") == first


def test_stale_page_is_refetched_online_and_used_offline(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    first = _index(fake.simple, tmp_path, page_ttl=0).project_files("demo")
    _index(fake.simple, tmp_path, page_ttl=0).project_files("demo")
    assert fake.requests_to("/simple/demo/") == 2
    offline = _index(fake.simple, tmp_path, page_ttl=0, offline=True, session=NoNetwork())
    assert offline.project_files("demo") == first


def test_offline_without_cache_reports_what_is_missing(tmp_path: Path) -> None:
    idx = _index("http://127.0.0.1:9/simple", tmp_path, offline=True, session=NoNetwork())
    with pytest.raises(PackageIndexError, match=r"--offline.*demo"):
        idx.project_files("demo")
    file = DistFile("demo-1.0.tar.gz", "http://127.0.0.1:9/f", sha(SDIST), FileKind.SDIST)
    with pytest.raises(PackageIndexError, match=r"--offline.*not in the cache"):
        idx.fetch(file)
    with pytest.raises(PackageIndexError, match="--offline"):
        idx.fetch_range(file.url, 10)
    assert (
        idx.fetch_metadata(DistFile("w.whl", "u", None, FileKind.WHEEL, has_metadata=True)) is None
    )


def test_corrupt_page_cache_is_refetched(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    _index(fake.simple, tmp_path).project_files("demo")
    (page,) = (tmp_path / "cache" / "pages").rglob("demo.json")
    page.write_text('[{"filename": ')
    assert len(_index(fake.simple, tmp_path).project_files("demo")) == 3
    assert fake.requests_to("/simple/demo/") == 2


# -- downloads ------------------------------------------------------------------------------


def test_fetch_verifies_caches_and_reuses(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    idx = _index(fake.simple, tmp_path)
    sdist, wheel, _ = idx.project_files("demo")
    assert idx.fetch(sdist) == SDIST
    assert idx.fetch(wheel) == WHEEL  # upper-case hex from the index still matches
    blob = tmp_path / "cache" / "blobs" / sha(SDIST)[:2] / sha(SDIST)
    assert blob.read_bytes() == SDIST
    (download,) = [s for s in fake.seen if s.path == "/files/demo-1.0.tar.gz"]
    assert download.headers["Accept-Encoding"] == "identity"
    offline = _index(fake.simple, tmp_path, offline=True, session=NoNetwork())
    assert offline.fetch(sdist) == SDIST
    assert offline.cached(sdist) == SDIST


def test_fetch_refuses_a_hash_mismatch_and_caches_nothing(fake: FakeIndex, tmp_path: Path) -> None:
    fake.add("/files/demo-1.0.tar.gz", b"tampered")
    fake.json_page(
        "demo",
        [
            {
                "filename": "demo-1.0.tar.gz",
                "url": "/files/demo-1.0.tar.gz",
                "hashes": {"sha256": sha(SDIST)},
            }
        ],
    )
    idx = _index(fake.simple, tmp_path)
    (sdist,) = idx.project_files("demo")
    with pytest.raises(PackageIndexError, match="hash mismatch"):
        idx.fetch(sdist)
    assert not (tmp_path / "cache" / "blobs").exists()


def test_corrupt_cache_entry_is_discarded_and_refetched(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    idx = _index(fake.simple, tmp_path)
    sdist = idx.project_files("demo")[0]
    idx.fetch(sdist)
    blob = tmp_path / "cache" / "blobs" / sha(SDIST)[:2] / sha(SDIST)
    blob.write_bytes(b"bit rot")
    assert idx.cached(sdist) is None
    assert idx.fetch(sdist) == SDIST
    assert fake.requests_to("/files/demo-1.0.tar.gz") == 2
    assert blob.read_bytes() == SDIST


def test_fetch_without_cache_and_without_index_hash(fake: FakeIndex, tmp_path: Path) -> None:
    url = fake.add("/files/x-1.0.tar.gz", SDIST)
    idx = _index(fake.simple, tmp_path)
    pinned = DistFile("x-1.0.tar.gz", url, sha(SDIST), FileKind.SDIST)
    assert idx.fetch(pinned, cache=False) == SDIST
    assert idx.cached(pinned) is None
    assert not (tmp_path / "cache").exists()
    # No hash from the index: downloaded anyway, and stored under the hash it has.
    assert idx.fetch(DistFile("x-1.0.tar.gz", url, None, FileKind.SDIST)) == SDIST
    assert idx.cached(pinned) == SDIST


def test_download_limits(fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fake.add("/files/big-1.0.tar.gz", b"x" * 1000)
    idx = _index(fake.simple, tmp_path)
    declared = DistFile("big-1.0.tar.gz", url, None, FileKind.SDIST, size=10**12)
    with pytest.raises(PackageIndexError, match="over the download limit"):
        idx.fetch(declared)
    assert fake.seen == []  # refused from the index's size, before any request
    monkeypatch.setattr(index_mod, "MAX_DOWNLOAD", 100)
    with pytest.raises(PackageIndexError, match="limit"):
        idx.fetch(DistFile("big-1.0.tar.gz", url, None, FileKind.SDIST))


def test_fetch_of_missing_file_is_an_index_error(fake: FakeIndex, tmp_path: Path) -> None:
    gone = DistFile("gone-1.0.tar.gz", fake.url + "/files/gone", None, FileKind.SDIST)
    with pytest.raises(PackageIndexError, match="404"):
        _index(fake.simple, tmp_path).fetch(gone)


def test_fetch_many_returns_failures_in_place(fake: FakeIndex, tmp_path: Path) -> None:
    a = DistFile("a-1.tar.gz", fake.add("/f/a", b"A"), sha(b"A"), FileKind.SDIST)
    b = DistFile("b-1.tar.gz", fake.url + "/f/b", None, FileKind.SDIST)
    c = DistFile("c-1.tar.gz", fake.add("/f/c", b"C"), sha(b"X"), FileKind.SDIST)
    d = DistFile("d-1.tar.gz", fake.add("/f/d", b"D"), None, FileKind.SDIST)
    out = list(_index(fake.simple, tmp_path).fetch_many([a, b, c, d], workers=4))
    assert out[0] == b"A" and out[3] == b"D"
    assert isinstance(out[1], PackageIndexError) and isinstance(out[2], PackageIndexError)
    assert "hash mismatch" in str(out[2])


def _counting_index(fake: FakeIndex, tmp_path: Path) -> tuple[Index, list[str]]:
    """An index that records the name of every file it downloads."""
    index = _index(fake.simple, tmp_path)
    fetched: list[str] = []
    real_fetch = index.fetch

    def counting(f: DistFile, **kw: Any) -> bytes:
        fetched.append(f.filename)
        return real_fetch(f, **kw)

    index.fetch = counting  # type: ignore[method-assign]
    return index, fetched


def test_fetch_many_holds_a_bounded_window(fake: FakeIndex, tmp_path: Path) -> None:
    files = [
        DistFile(f"p{i}-1.tar.gz", fake.add(f"/f/p{i}", b"%d" % i), None, FileKind.SDIST)
        for i in range(20)
    ]
    index, fetched = _counting_index(fake, tmp_path)
    stream = index.fetch_many(files, workers=2)
    first = next(stream)
    assert first == b"0"
    assert len(fetched) <= 5  # 2 * workers in flight, plus the one refilled
    assert list(stream) == [b"%d" % i for i in range(1, 20)]
    assert len(fetched) == 20


def test_fetch_many_window_is_bounded_by_bytes(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mphunter_gate.fetch import index as index_module

    monkeypatch.setattr(index_module, "MAX_WINDOW_BYTES", 100)
    files = [
        DistFile(f"b{i}-1.tar.gz", fake.add(f"/f/b{i}", b"x" * 60), None, FileKind.SDIST, size=60)
        for i in range(6)
    ]
    index, fetched = _counting_index(fake, tmp_path)
    stream = index.fetch_many(files, workers=4)
    assert next(stream) == b"x" * 60
    assert len(fetched) <= 2  # 60 + 60 > 100: one ahead at most, not 2 * workers
    assert len(list(stream)) == 5


# -- range requests -----------------------------------------------------------------------


BODY = bytes(range(256)) * 4


def test_range_requests(fake: FakeIndex, tmp_path: Path) -> None:
    url = fake.add("/files/w.whl", BODY)
    idx = _index(fake.simple, tmp_path)
    assert idx.fetch_range(url, 10, 19) == BODY[10:20]
    assert idx.fetch_range(url, 30) == BODY[-30:]
    assert idx.fetch_range(url, 5000) == BODY  # a suffix longer than the file
    assert [s.headers["Range"] for s in fake.seen] == ["bytes=10-19", "bytes=-30", "bytes=-5000"]


def test_range_ignored_by_server_is_sliced_locally(fake: FakeIndex, tmp_path: Path) -> None:
    url = fake.add("/files/w.whl", BODY, honour_range=False)
    idx = _index(fake.simple, tmp_path)
    assert idx.fetch_range(url, 10, 19) == BODY[10:20]
    assert idx.fetch_range(url, 30) == BODY[-30:]


@pytest.mark.parametrize("lie", ["bytes 0-9/1024", "bytes 10-19", "garbage"])
def test_range_with_wrong_content_range_is_refused(
    fake: FakeIndex, tmp_path: Path, lie: str
) -> None:
    url = fake.add("/files/w.whl", BODY, content_range=lie)
    with pytest.raises(PackageIndexError, match="range request"):
        _index(fake.simple, tmp_path).fetch_range(url, 10, 19)


def test_range_errors(fake: FakeIndex, tmp_path: Path) -> None:
    url = fake.add("/files/w.whl", BODY)
    idx = _index(fake.simple, tmp_path)
    with pytest.raises(PackageIndexError, match="416"):
        idx.fetch_range(url, 5000, 5010)
    with pytest.raises(PackageIndexError, match="404"):
        idx.fetch_range(fake.url + "/files/none.whl", 0, 9)
    with pytest.raises(ValueError):
        idx.fetch_range(url, 20, 10)


# -- PEP 658 metadata ----------------------------------------------------------------------


def test_pep658_metadata_fetched_verified_and_cached(fake: FakeIndex, tmp_path: Path) -> None:
    _demo_json(fake)
    idx = _index(fake.simple, tmp_path)
    sdist, wheel, _ = idx.project_files("demo")
    assert idx.fetch_metadata(sdist) is None  # not advertised: not even asked for
    assert idx.fetch_metadata(wheel) == METADATA
    assert fake.requests_to("/files/demo-1.0.tar.gz.metadata") == 0
    offline = _index(fake.simple, tmp_path, offline=True, session=NoNetwork())
    assert offline.fetch_metadata(wheel) == METADATA


def test_pep658_metadata_mismatch_and_absence(fake: FakeIndex, tmp_path: Path) -> None:
    url = fake.add("/files/x-1-py3-none-any.whl", WHEEL)
    fake.add("/files/x-1-py3-none-any.whl.metadata", b"Name: evil\n")
    idx = _index(fake.simple, tmp_path)
    wrong = DistFile(
        "x-1-py3-none-any.whl",
        url,
        None,
        FileKind.WHEEL,
        has_metadata=True,
        metadata_sha256=sha(METADATA),
    )
    with pytest.raises(PackageIndexError, match="metadata hash mismatch"):
        idx.fetch_metadata(wrong)
    missing = DistFile("y.whl", fake.url + "/files/y.whl", None, FileKind.WHEEL, has_metadata=True)
    assert idx.fetch_metadata(missing) is None


# -- credentials ----------------------------------------------------------------------------


def test_credentials_from_the_url_are_sent_but_never_stored(
    fake: FakeIndex, tmp_path: Path
) -> None:
    _demo_json(fake)
    fake.add("/simple/down/", b"", status=500)
    authed = fake.simple.replace("http://", "http://alice:s3cr%40t@")
    idx = _index(authed, tmp_path)
    files = idx.project_files("demo")
    idx.fetch(files[0])
    idx.fetch_range(files[1].url, 0, 9)
    expected = "Basic " + base64.b64encode(b"alice:s3cr@t").decode()
    assert [s.headers.get("Authorization") for s in fake.seen] == [expected] * 3
    assert all("s3cr" not in f.url and "alice" not in f.url for f in files)
    assert idx.index_urls == [fake.simple]
    for cached in (tmp_path / "cache").rglob("*"):
        if cached.is_file():
            assert b"s3cr" not in cached.read_bytes()
    with pytest.raises(PackageIndexError) as err:
        idx.project_files("down")
    assert "s3cr" not in str(err.value) and "alice" not in str(err.value)


def test_netrc_is_used_when_the_url_has_no_credentials(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    _demo_json(fake)
    _index(fake.simple, tmp_path).project_files("demo")
    assert (
        fake.seen[0].headers["Authorization"]
        == "Basic " + base64.b64encode(b"bob:hunter2").decode()
    )


# -- pip configuration --------------------------------------------------------------------


@pytest.fixture
def pip_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated HOME/XDG/sys.prefix, so the machine's own pip config is not read."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(index_mod, "_ETC_PIP_CONF", tmp_path / "etc" / "pip.conf")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    return home


def _conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_pip_env_vars(pip_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pip_index_urls() == (None, ())
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://a.example/simple https://b.example/simple")
    assert pip_index_urls() == (
        "https://mirror.example/simple",
        ("https://a.example/simple", "https://b.example/simple"),
    )


def test_pip_config_files_and_precedence(pip_home: Path, tmp_path: Path) -> None:
    _conf(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://etc.example/simple\n")
    assert pip_index_urls() == ("https://etc.example/simple", ())
    _conf(
        pip_home / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://user.example/simple\n"
        "extra-index-url =\n    https://x.example/simple\n    https://y.example/simple\n",
    )
    assert pip_index_urls() == (
        "https://user.example/simple",
        ("https://x.example/simple", "https://y.example/simple"),
    )
    _conf(tmp_path / "venv" / "pip.conf", "[install]\nindex_url = https://venv.example/simple\n")
    assert pip_index_urls()[0] == "https://venv.example/simple"  # [install] and later file win


def test_pip_config_file_env_replaces_user_config(
    pip_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _conf(pip_home / ".pip" / "pip.conf", "[global]\nextra-index-url = https://user.example/s\n")
    env = _conf(
        tmp_path / "pip-env.conf",
        "[global]\nindex-url = https://global.example/simple\n"
        "[install]\nindex-url = https://u:p%40ss@install.example/simple\n",
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(env))
    # `%` is literal (pip reads raw INI); [install] beats [global]; user config skipped.
    assert pip_index_urls() == ("https://u:p%40ss@install.example/simple", ())


def test_pip_config_file_devnull_disables_every_config_file(
    pip_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _conf(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://etc.example/simple\n")
    _conf(pip_home / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://u.example/s\n")
    _conf(tmp_path / "venv" / "pip.conf", "[global]\nindex-url = https://venv.example/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert pip_index_urls() == (None, ())
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")
    assert pip_index_urls() == ("https://env.example/simple", ())


def test_pip_config_file_urls_and_broken_files_are_skipped(pip_home: Path, tmp_path: Path) -> None:
    _conf(tmp_path / "etc" / "pip.conf", "this is not ini\n")
    _conf(
        pip_home / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = file:///srv/mirror\n"
        "extra-index-url = file:///srv/x https://ok.example/simple\n",
    )
    assert pip_index_urls() == (None, ("https://ok.example/simple",))


def test_default_cache_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MPHUNTER_GATE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("MPHUNTER_GATE_CACHE")
    assert "mphunter-gate" in str(default_cache_dir())


# -- a real index ----------------------------------------------------------------------------


@pytest.mark.integration
def test_pypiserver_list_fetch_warm_and_tampered(local_index: LocalIndex, tmp_path: Path) -> None:
    sdist_path = local_index.add_sdist("tidy-widgets", "1.2.0", "from setuptools import setup\n")
    wheel_path = local_index.add_wheel("tidy-widgets", "1.2.0", {"tidy_widgets/__init__.py": ""})
    idx = _index(local_index.url, tmp_path)
    files = {f.filename: f for f in idx.project_files("Tidy_Widgets")}
    assert set(files) == {sdist_path.name, wheel_path.name}
    for path in (sdist_path, wheel_path):
        f = files[path.name]
        assert f.sha256 == sha(path.read_bytes())
        assert idx.fetch(f) == path.read_bytes()
    assert files[sdist_path.name].kind is FileKind.SDIST
    assert files[wheel_path.name].kind is FileKind.WHEEL

    warm = Index(local_index.url, cache_dir=tmp_path / "cache", session=NoNetwork())
    assert {f.filename: warm.fetch(f) for f in warm.project_files("tidy-widgets")} == {
        p.name: p.read_bytes() for p in (sdist_path, wheel_path)
    }

    # The file changes on the server after the page was read: the download is refused.
    fresh = _index(local_index.url, tmp_path / "fresh")
    listed = {f.filename: f for f in fresh.project_files("tidy-widgets")}
    sdist_path.write_bytes(sdist_path.read_bytes() + b"\0" * 1024)
    with pytest.raises(PackageIndexError, match="hash mismatch"):
        fresh.fetch(listed[sdist_path.name])


def test_a_page_over_the_cap_is_refused_while_it_streams(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mphunter_gate.fetch.index as index_module

    monkeypatch.setattr(index_module, "MAX_PAGE", 1000)
    rows = [{"filename": f"demo-1.{i}.tar.gz", "url": f"/f/demo-1.{i}.tar.gz"} for i in range(50)]
    fake.json_page("demo", rows)
    with pytest.raises(PackageIndexError, match="limit of 1000"):
        _index(fake.simple, tmp_path).project_files("demo")


@pytest.mark.parametrize("content_length", [True, False])
def test_a_metadata_file_over_the_cap_is_refused(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content_length: bool
) -> None:
    """Declared too big (refused before reading) or streamed without a length (refused
    at the cap): a PEP 658 file is a few KiB, never megabytes held in memory."""
    assert index_mod.MAX_METADATA == 1024 * 1024
    monkeypatch.setattr(index_mod, "MAX_METADATA", 100)
    fake.add(
        "/files/demo-1.0-py3-none-any.whl.metadata", METADATA * 10, content_length=content_length
    )
    wheel = DistFile(
        filename="demo-1.0-py3-none-any.whl",
        url=fake.url + "/files/demo-1.0-py3-none-any.whl",
        sha256=None,
        kind=FileKind.WHEEL,
        has_metadata=True,
    )
    with pytest.raises(PackageIndexError, match="limit of 100"):
        _index(fake.simple, tmp_path).fetch_metadata(wheel)


def test_a_page_declared_over_the_cap_is_refused_before_reading(
    fake: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert index_mod.MAX_PAGE == 128 * 1024 * 1024
    monkeypatch.setattr(index_mod, "MAX_PAGE", 10)
    fake.json_page("demo", [])
    with pytest.raises(PackageIndexError, match=r"index page of demo is \d+ bytes, over the limit"):
        _index(fake.simple, tmp_path).project_files("demo")


def test_a_server_that_drips_is_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each byte arrives within the socket timeout; the body as a whole never would."""
    import socket
    import time

    import mphunter_gate.fetch.index as index_module

    monkeypatch.setattr(index_module, "SLOW_GRACE_S", 0.5)
    monkeypatch.setattr(index_module, "MIN_RATE", 1000)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\n"
            b"Content-Length: 100000\r\n\r\n"
        )
        while not stop.wait(0.1):
            try:
                conn.sendall(b" ")
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/simple"
    started = time.monotonic()
    try:
        with pytest.raises(PackageIndexError, match="slower than 1 kB/s"):
            _index(url, tmp_path, retries=0).project_files("demo")
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 10
