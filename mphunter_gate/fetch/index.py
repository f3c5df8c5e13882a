"""A client for the simple repository API (PEP 691 JSON, PEP 503 HTML).

Everything the gate knows about a package comes through here: the list of
files a project offers, their bytes (checked against the index's sha256
before anyone reads them), byte ranges of remote wheels (so metadata can be
read without downloading whole files) and PEP 658 metadata files.

Downloads are stored content-addressed in the user cache, so a second run
downloads nothing and `--offline` can answer from the cache alone. Project
pages are cached too, with a short freshness window, so a warm run makes no
request at all. Credentials in an index URL are kept per host and sent as
basic auth; they never appear in a stored URL, a cache file, a log line or
an error (without them, requests falls back to ~/.netrc).

Every request is bounded in time as a whole, not only per read, and the run
can be given a deadline for all of them (`fetch/deadline.py`): a hostile or
broken index can stop a run, never hold it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from packaging.utils import canonicalize_name

from mphunter_gate import __version__
from mphunter_gate.errors import PackageIndexError
from mphunter_gate.fetch.deadline import (
    MAX_RETRY_AFTER,
    REQUEST_TIMEOUT,
    Clock,
    DeadlineExceeded,
    Guard,
    GuardedAdapter,
    GuardedRetry,
)
from mphunter_gate.memo import Memo
from mphunter_gate.types import DistFile, FileKind

log = logging.getLogger(__name__)

PYPI_SIMPLE = "https://pypi.org/simple"
_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
#: Seconds a cached project page stays fresh. Short enough that a new release
#: shows up within the hour, long enough that a warm CI re-run is offline.
PAGE_TTL = 3600.0
#: Largest distribution file we download. Bigger files are reported, not read.
MAX_DOWNLOAD = 200 * 1024 * 1024
#: A response body must average at least MIN_RATE bytes/s once SLOW_GRACE_S have passed.
MIN_RATE = 20_000
SLOW_GRACE_S = 30.0
#: Largest project page read (PyPI's largest, ddtrace's, is tens of MB as JSON); a
#: hostile 1 GB page parsed whole peaked at 3.1 GB.
MAX_PAGE = 128 * 1024 * 1024
#: Bytes of downloaded artifacts `fetch_many` holds ahead of its caller (by index sizes).
MAX_WINDOW_BYTES = 64 * 1024 * 1024
__all__ = ["MAX_RETRY_AFTER", "Index"]  # MAX_RETRY_AFTER lives in deadline.py
#: A file's bytes are hashed as served: never let a transfer encoding rewrite them.
_IDENTITY = {"Accept-Encoding": "identity"}
#: A canonical project name (PEP 503 normalised); anything else never reaches a URL.
_PROJECT = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def default_cache_dir() -> Path:
    """The gate's cache root; `MPHUNTER_GATE_CACHE` overrides platformdirs."""
    env = os.environ.get("MPHUNTER_GATE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mphunter-gate"))


#: pip's last global configuration file on POSIX (after XDG_CONFIG_DIRS).
_ETC_PIP_CONF = Path("/etc/pip.conf")


def _pip_config_files() -> list[Path]:
    """pip's configuration files on POSIX, lowest precedence first.

    Mirrors pip's `Configuration.iter_config_files`: global (XDG_CONFIG_DIRS,
    then /etc), user (legacy ~/.pip, then XDG_CONFIG_HOME), the environment's
    own (sys.prefix), then PIP_CONFIG_FILE. A PIP_CONFIG_FILE that exists
    replaces the user files; PIP_CONFIG_FILE=os.devnull disables them all.
    """
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files.append(_ETC_PIP_CONF)
    if not (env_file and os.path.exists(env_file)):
        home = Path.home()
        xdg_home = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        files += [home / ".pip" / "pip.conf", Path(xdg_home) / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def _pip_option(parser: Any, key: str) -> str | None:
    """`key` as pip reads it: the [install] section beats [global]; `_` equals `-`."""
    for section in ("install", "global"):
        for spelling in (key, key.replace("-", "_")):
            if parser.has_option(section, spelling):
                return str(parser.get(section, spelling))
    return None


def pip_index_urls() -> tuple[str | None, tuple[str, ...]]:
    """The index URLs pip would use: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, then pip's config files.

    Read as plain INI (no interpolation: a `%` in a password is literal, as
    in pip) so that pip need not be importable, and is never run.
    """
    index = os.environ.get("PIP_INDEX_URL") or None
    extra = tuple(os.environ.get("PIP_EXTRA_INDEX_URL", "").split())
    if index and extra:
        return index, extra
    import configparser

    parser = configparser.RawConfigParser()
    for f in _pip_config_files():
        try:
            parser.read(f, encoding="utf-8")  # later files override earlier ones
        except (configparser.Error, UnicodeDecodeError) as exc:
            log.warning("ignoring unreadable pip config %s: %s", f, exc)
    if not index:
        index = (_pip_option(parser, "index-url") or "").strip() or None
    if not extra:
        extra = tuple((_pip_option(parser, "extra-index-url") or "").split())
    # file:// indexes are pip's local mirrors; the gate reads HTTP(S) indexes only.
    extra = tuple(u for u in extra if not u.startswith("file:"))
    if index and index.startswith("file:"):
        index = None
    return index, extra


def _redact(url: str) -> str:
    """Drop credentials from a URL before it reaches a log line, an error or the cache."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url


def _host(url: str) -> str:
    """The host[:port] a credential belongs to (pip matches credentials by netloc)."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def _credentials(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return None
    user, _, password = parts.netloc.rpartition("@")[0].partition(":")
    return unquote(user), unquote(password)


class _LinkParser(HTMLParser):
    """PEP 503 page: every <a> is a file; its fragment carries the hash."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def _kind(filename: str) -> FileKind | None:
    if filename.endswith(".whl"):
        return FileKind.WHEEL
    if filename.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")):
        return FileKind.SDIST
    return None  # .egg, .exe, .msi: nothing pip would install today


def _yanked(value: object) -> bool:
    return value is not None and value is not False


def _yank_reason(value: object) -> str | None:
    """PEP 592's reason: the string the index gave (`"yanked": true` gives none)."""
    return (value.strip() or None) if isinstance(value, str) else None


class Index:
    """The package index (plus extra indexes), with a local cache.

    Thread-safe: `fetch_many` downloads concurrently through one session.
    `timeout` is the socket read timeout, `request_timeout` bounds each request
    whole (retries included), `deadline` (seconds from now; None: none) every
    request of the run: past it nothing is fetched (`deadline.py`).
    """

    def __init__(
        self,
        index_url: str | None = None,
        extra_index_urls: Sequence[str] = (),
        *,
        cache_dir: Path | None = None,
        offline: bool = False,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        request_timeout: float = REQUEST_TIMEOUT,
        deadline: float | None = None,
        page_ttl: float = PAGE_TTL,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        urls = [u.rstrip("/") for u in [index_url or PYPI_SIMPLE, *extra_index_urls]]
        # Credentials in an index URL are kept per host, out of every URL we
        # store, log or hand on: the page cache and DistFile.url stay clean.
        self._auth: dict[str, tuple[str, str]] = {}
        for u in urls:
            creds = _credentials(u)
            if creds is not None:
                self._auth.setdefault(_host(u), creds)
        self.index_urls = [_redact(u) for u in urls]
        self.cache_dir = cache_dir or default_cache_dir()
        self.offline = offline
        self.timeout = timeout
        self.clock = Clock(deadline, read=timeout, request=request_timeout)
        self.page_ttl = page_ttl
        self.session = session or self._new_session(retries, backoff)
        self._pages: Memo[str, tuple[DistFile, ...]] = Memo()

    @staticmethod
    def _new_session(retries: int = 4, backoff: float = 0.5) -> requests.Session:
        session = requests.Session()
        retry = GuardedRetry(
            total=retries,
            backoff_factor=backoff,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
        )
        adapter = GuardedAdapter(max_retries=retry, pool_connections=16, pool_maxsize=16)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = f"mphunter-gate/{__version__}"
        return session

    @contextmanager
    def _get(self, url: str, what: str, **kw: Any) -> Iterator[tuple[requests.Response, Guard]]:
        """A streamed GET with the credentials of the URL's host (with none, requests
        reads ~/.netrc), bounded as one request named `what`; the body must be read
        inside the `with` (through `_read_capped` with the guard)."""
        creds = self._auth.get(_host(url))
        if "://" not in what:
            what = f"{what} from {_host(url)}"
        with self.clock.guard(what) as guard:
            kw.setdefault("stream", True)
            resp = self.session.get(_redact(url), auth=creds, timeout=guard.timeouts(), **kw)
            with resp:
                yield resp, guard

    # -- project pages ---------------------------------------------------------

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        """Every file of every version of `name`, across all configured indexes."""
        key = str(canonicalize_name(name))
        if not _PROJECT.match(key):
            raise PackageIndexError(f"{name!r} is not a valid project name")
        return self._pages.get(
            key, lambda: tuple(f for base in self.index_urls for f in self._page(base, key))
        )

    def _page_cache(self, base: str, name: str) -> Path:
        digest = hashlib.sha256(_redact(base).encode()).hexdigest()[:16]
        return self.cache_dir / "pages" / digest / f"{name}.json"

    def _read_page_cache(self, path: Path) -> list[DistFile] | None:
        """A cached page, or None when it is missing or unreadable (then it is refetched)."""
        try:
            fresh = time.time() - path.stat().st_mtime < self.page_ttl
            if not (fresh or self.offline):
                return None
            rows = json.loads(path.read_text())
            # A page cached before upload times were kept would read as "no upload
            # time" (unscanned under a cooldown): fetch it again while online.
            if not self.offline and any("upload_time" not in row for row in rows):
                return None
            return [self._file_from_json(d) for d in rows]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring corrupt cached index page %s: %s", path, exc)
            return None

    def _page(self, base: str, name: str) -> list[DistFile]:
        cached = self._page_cache(base, name)
        hit = self._read_page_cache(cached)
        if hit is not None:
            return hit
        if self.offline:
            raise PackageIndexError(f"--offline: no cached index page for {name!r}")
        try:
            with self._get(
                f"{base}/{name}/",
                f"the index page of {name} from {base}",
                headers={"Accept": _ACCEPT},
            ) as (resp, guard):
                body = (
                    _read_capped(resp, MAX_PAGE, f"index page of {name}", guard) if resp.ok else b""
                )
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot reach index {base}: {_scrub(exc)}") from exc
        if resp.status_code == 404:
            files: list[DistFile] = []
        elif resp.status_code != 200:
            raise PackageIndexError(f"index {base} answered {resp.status_code} for {name}")
        else:
            page_url = _redact(resp.url)
            try:
                if resp.headers.get("Content-Type", "").split(";")[0].strip() == _JSON:
                    files = self._parse_json(json.loads(body), page_url)
                else:
                    files = self._parse_html(
                        body.decode(resp.encoding or "utf-8", "replace"), page_url
                    )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise PackageIndexError(
                    f"index {base} sent an unreadable page for {name}: {exc!r}"
                ) from exc
        self._store_page(cached, files)
        return files

    def _store_page(self, path: Path, files: Iterable[DistFile]) -> None:
        rows = [
            {
                "filename": f.filename,
                "url": f.url,
                "sha256": f.sha256,
                "kind": f.kind.value,
                "size": f.size,
                "requires_python": f.requires_python,
                "yanked": f.yanked,
                "metadata_sha256": f.metadata_sha256,
                "has_metadata": f.has_metadata,
                "upload_time": f.upload_time,
                "yanked_reason": f.yanked_reason,
            }
            for f in files
        ]
        _atomic_write(path, json.dumps(rows).encode())

    @staticmethod
    def _file_from_json(row: dict[str, Any]) -> DistFile:
        return DistFile(
            filename=row["filename"],
            url=row["url"],
            sha256=row["sha256"],
            kind=FileKind(row["kind"]),
            size=row["size"],
            requires_python=row["requires_python"],
            yanked=row["yanked"],
            metadata_sha256=row.get("metadata_sha256"),
            has_metadata=row.get("has_metadata", False),
            upload_time=row.get("upload_time"),
            yanked_reason=row.get("yanked_reason"),
        )

    @staticmethod
    def _parse_json(doc: dict[str, Any], page_url: str) -> list[DistFile]:
        """PEP 691 JSON. Raises ValueError/KeyError/TypeError on a malformed page."""
        files = []
        for f in doc["files"]:
            _expect_types(f)
            kind = _kind(f["filename"])
            if kind is None:
                continue
            meta = f.get("core-metadata", f.get("dist-info-metadata", False))
            url, _, fragment = urljoin(page_url, f["url"]).partition("#")
            hashes = f.get("hashes") or {}
            sha256 = hashes.get("sha256") or _fragment_sha256(fragment)
            files.append(
                DistFile(
                    filename=f["filename"],
                    url=_redact(url),
                    sha256=sha256.lower() if isinstance(sha256, str) else None,
                    kind=kind,
                    size=f.get("size"),
                    requires_python=f.get("requires-python") or None,
                    yanked=_yanked(f.get("yanked")),
                    metadata_sha256=meta.get("sha256") if isinstance(meta, dict) else None,
                    has_metadata=bool(meta),
                    upload_time=f.get("upload-time") or None,
                    yanked_reason=_yank_reason(f.get("yanked")),
                )
            )
        return files

    @staticmethod
    def _parse_html(text: str, page_url: str) -> list[DistFile]:
        parser = _LinkParser()
        parser.feed(text)
        files = []
        for attrs in parser.links:
            href = attrs.get("href")
            if not href:
                continue
            url, _, fragment = urljoin(page_url, href).partition("#")
            filename = urlsplit(url).path.rsplit("/", 1)[-1]
            kind = _kind(filename)
            if kind is None:
                continue
            sha256 = _fragment_sha256(fragment)
            meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
            meta_sha = _fragment_sha256(meta or "")
            files.append(
                DistFile(
                    filename=filename,
                    url=_redact(url),
                    sha256=sha256,
                    kind=kind,
                    requires_python=attrs.get("data-requires-python") or None,
                    yanked="data-yanked" in attrs,
                    metadata_sha256=meta_sha,
                    has_metadata=meta is not None,
                    yanked_reason=_yank_reason(attrs.get("data-yanked")),
                )
            )
        return files

    # -- file contents ---------------------------------------------------------

    def _blob(self, sha256: str) -> Path:
        return self.cache_dir / "blobs" / sha256[:2] / sha256

    def cached(self, file: DistFile) -> bytes | None:
        """The file's bytes if the cache has them (verified on read)."""
        return self._cached_blob(file.sha256)

    def _cached_blob(self, sha256: str | None) -> bytes | None:
        sha256 = sha256.lower() if sha256 else None
        if not sha256 or not _SHA256.match(sha256):
            return None
        path = self._blob(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read cache entry %s: %s", path, exc)
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            log.warning("cache entry %s is corrupt; discarding", path)
            path.unlink(missing_ok=True)
            return None
        return data

    def fetch(self, file: DistFile, *, cache: bool = True) -> bytes:
        """Download `file`, verify its sha256 against the index, and cache it.

        A file the index gives no sha256 for is downloaded but still hashed,
        so the report can name exactly what was scanned. `cache=False` is for
        bulk corpus downloads that keep only the scripts they extract.
        """
        data = self.cached(file)
        if data is not None:
            return data
        if self.offline:
            raise PackageIndexError(f"--offline: {file.filename} is not in the cache")
        if file.size is not None and file.size > MAX_DOWNLOAD:
            raise PackageIndexError(
                f"{file.filename} is {file.size} bytes, over the download limit"
            )
        try:
            with self._get(file.url, f"the download of {file.filename}", headers=_IDENTITY) as (
                resp,
                guard,
            ):
                if resp.status_code != 200:
                    raise PackageIndexError(
                        f"cannot download {file.filename}: the server answered {resp.status_code}"
                    )
                data = _read_capped(resp, MAX_DOWNLOAD, file.filename, guard)
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot download {file.filename}: {_scrub(exc)}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if file.sha256 and digest != file.sha256.lower():
            raise PackageIndexError(
                f"hash mismatch for {file.filename}: index says {file.sha256}, got {digest}"
            )
        if cache:
            _atomic_write(self._blob(digest), data)
        return data

    def fetch_many(
        self, files: Sequence[DistFile], workers: int = 8
    ) -> Iterator[bytes | PackageIndexError]:
        """Download several files concurrently, yielding each in order; a failure
        is yielded in place, not raised, except the run's deadline, which stops it.

        The caller scores one artifact while the next ones arrive, but a
        project with a hundred large wheels must never have them all in memory
        together: at most `2 * workers` files and, by the index's sizes, at
        most MAX_WINDOW_BYTES are held ahead of the caller (always at least one).
        """

        def one(f: DistFile) -> bytes | PackageIndexError:
            try:
                return self.fetch(f)
            except DeadlineExceeded:
                raise  # the run is over: no later file can be fetched either
            except PackageIndexError as exc:
                return exc

        if len(files) <= 1:
            yield from (one(f) for f in files)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[tuple[int, Future[bytes | PackageIndexError]]] = deque()
            todo = deque(files)
            held = 0

            def refill() -> None:
                nonlocal held
                while todo and len(pending) < 2 * workers:
                    size = todo[0].size or 0
                    if pending and held + size > MAX_WINDOW_BYTES:
                        return
                    f = todo.popleft()
                    held += size
                    pending.append((size, pool.submit(one, f)))

            try:
                refill()
                while pending:
                    size, future = pending.popleft()
                    result = future.result()
                    held -= size
                    refill()
                    yield result
            finally:
                for _, future in pending:
                    future.cancel()

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes:
        """Bytes `start..end` (inclusive) of a remote file; `end=None` asks for the
        last `start` bytes (a suffix range), which is how a zip is read from its tail."""
        if self.offline:
            raise PackageIndexError("--offline: range requests need the network")
        if start < 0 or (end is not None and end < start) or (end is None and start == 0):
            raise ValueError(f"bad byte range {start}..{end}")
        rng = f"bytes=-{start}" if end is None else f"bytes={start}-{end}"
        where = _redact(url)
        try:
            with self._get(
                url, f"a range request to {where}", headers={"Range": rng, **_IDENTITY}
            ) as (resp, guard):
                if resp.status_code not in (200, 206):
                    raise PackageIndexError(f"range request to {where} answered {resp.status_code}")
                if resp.status_code == 206:
                    want = start if end is None else end - start + 1
                    body = _read_capped(resp, want, where, guard)
                else:  # the server ignored Range and sends the whole file: slice ourselves
                    body = _read_capped(resp, MAX_DOWNLOAD, where, guard)
            if resp.status_code == 206:
                _check_content_range(resp.headers.get("Content-Range"), start, end, body, where)
                return body
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot read {where}: {_scrub(exc)}") from exc
        return body[-start:] if end is None else body[start : end + 1]

    def fetch_metadata(self, file: DistFile) -> bytes | None:
        """The PEP 658 metadata file for `file`, when the index advertises one."""
        if not file.has_metadata:
            return None
        hit = self._cached_blob(file.metadata_sha256)
        if hit is not None:
            return hit
        if self.offline:
            return None
        try:
            with self._get(
                file.url + ".metadata", f"the metadata of {file.filename}", headers=_IDENTITY
            ) as (resp, guard):
                if resp.status_code != 200:
                    return None
                data = _read_capped(resp, MAX_METADATA, file.filename + ".metadata", guard)
        except requests.RequestException as exc:
            raise PackageIndexError(
                f"cannot read metadata of {file.filename}: {_scrub(exc)}"
            ) from exc
        digest = hashlib.sha256(data).hexdigest()
        if file.metadata_sha256 and digest != file.metadata_sha256.lower():
            raise PackageIndexError(f"metadata hash mismatch for {file.filename}")
        _atomic_write(self._blob(digest), data)
        return data


#: A PEP 658 metadata file is a few KiB; a megabyte means something is wrong.
MAX_METADATA = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _fragment_sha256(fragment: str) -> str | None:
    """The hex digest from a `sha256=<hex>` URL fragment or metadata attribute."""
    if fragment.startswith("sha256="):
        value = fragment[len("sha256=") :].lower()
        return value if _SHA256.match(value) else None
    return None


def _scrub(exc: BaseException) -> str:
    """An exception's text with any `user:password@` in a URL removed."""
    return re.sub(r"(?<=//)[^/@\s]*@", "", str(exc))


def _chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: urllib3's `read1` returns what one read got, where
    `iter_content` waits for a full chunk (or the end), so a dripping server would
    never let the caller look at the clock."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # not urllib3 2 (a test double)
        yield from resp.iter_content(1 << 16)
        return
    try:
        while chunk := read1(1 << 16, decode_content=True):
            yield chunk
    except urllib3.exceptions.HTTPError as exc:  # what iter_content turns into requests' own
        raise requests.exceptions.ChunkedEncodingError(exc) from exc


def _read_capped(
    resp: requests.Response, limit: int, what: str, guard: Guard | None = None
) -> bytes:
    """A streamed body, refused as soon as it grows past `limit` bytes, arrives too
    slowly, or runs past the request's end (`guard`)."""
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PackageIndexError(f"{what} is {declared} bytes, over the limit of {limit}")
    chunks, total = [], 0
    started = time.monotonic()
    for chunk in _chunks(resp):
        total += len(chunk)
        if total > limit:
            raise PackageIndexError(f"{what} exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        if guard is not None:
            guard.check()
        # The socket timeout bounds each read, not the body: a server that drips a byte
        # every few seconds would hold the run for hours.
        elapsed = time.monotonic() - started
        if elapsed > SLOW_GRACE_S and total < MIN_RATE * elapsed:
            raise PackageIndexError(
                f"{what}: {total} bytes in {elapsed:.0f} s, slower than {MIN_RATE // 1000} kB/s"
            )
    return b"".join(chunks)


def _check_content_range(
    header: str | None, start: int, end: int | None, body: bytes, where: str
) -> None:
    """A 206 must be the range we asked for: a wrong one would be parsed as the wrong bytes."""
    m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", (header or "").strip())
    if m is None:
        raise PackageIndexError(f"range request to {where}: unusable Content-Range {header!r}")
    first, last = int(m.group(1)), int(m.group(2))
    if last - first + 1 != len(body):
        raise PackageIndexError(f"range request to {where}: body does not match Content-Range")
    if end is None:  # suffix range: must end at the end of the file
        if m.group(3) != "*" and last != int(m.group(3)) - 1:
            raise PackageIndexError(f"range request to {where}: not the file's tail")
    elif first != start or last > end:
        raise PackageIndexError(f"range request to {where}: got bytes {first}-{last}")


_unwritable: set[Path] = set()  # cache folders already warned about


def _atomic_write(path: Path, data: bytes) -> None:
    """Write a cache entry via a temporary file and rename, so a killed run never
    leaves half a blob. A cache that cannot be written (read-only, full, a file where
    a folder belongs) only costs speed: one warning per folder, and the run goes on
    uncached."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        folder = path.parent.parent
        if folder not in _unwritable:
            _unwritable.add(folder)
            log.warning("cache %s is not writable (%s); going on without it", folder, exc.strerror)


#: The types PEP 691 gives a file's fields (None: the field may be absent or null).
_FILE_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "filename": (str,),
    "url": (str,),
    "size": (int, type(None)),
    "requires-python": (str, type(None)),
    "hashes": (dict, type(None)),
    "yanked": (bool, str, type(None)),
    "upload-time": (str, type(None)),
}


def _expect_types(f: Any) -> None:
    """Raise TypeError for a file entry whose fields have other types than PEP 691
    gives (`"size": "huge"`): a broken index, reported as one, not a traceback later."""
    if not isinstance(f, dict):
        raise TypeError(f"a file entry is {type(f).__name__}, not an object")
    for field, types in _FILE_FIELD_TYPES.items():
        value = f.get(field)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise TypeError(f"{f.get('filename')!r}: {field} is {value!r:.40}")
