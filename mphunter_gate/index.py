"""A client for the simple repository API (PEP 691 JSON, PEP 503 HTML).

Everything the gate knows about a package comes through here: the list of
files a project offers, their bytes (checked against the index's sha256
before anyone reads them), byte ranges of remote wheels (so metadata can be
read without downloading whole files) and PEP 658 metadata files.

Downloads are stored content-addressed in the user cache, so a second run
downloads nothing and `--offline` can answer from the cache alone. Project
pages are cached too, with a short freshness window, so a warm run makes no
request at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from packaging.utils import canonicalize_name
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mphunter_gate import __version__
from mphunter_gate.errors import PackageIndexError
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


def default_cache_dir() -> Path:
    """The gate's cache root; `MPHUNTER_GATE_CACHE` overrides platformdirs."""
    env = os.environ.get("MPHUNTER_GATE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("mphunter-gate"))


def pip_index_urls() -> tuple[str | None, tuple[str, ...]]:
    """The index URLs pip would use: PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, then pip's config files.

    Read as plain INI so that pip need not be importable (and is never run).
    """
    index = os.environ.get("PIP_INDEX_URL")
    extra = tuple(os.environ.get("PIP_EXTRA_INDEX_URL", "").split())
    if index and extra:
        return index, extra
    import configparser

    files = [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")]
    home = Path.home()
    files += [home / ".pip" / "pip.conf", home / ".config" / "pip" / "pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    parser = configparser.ConfigParser()
    for f in files:
        try:
            parser.read(f)
        except configparser.Error as exc:
            log.warning("ignoring unreadable pip config %s: %s", f, exc)
    for section in ("global", "install", "download"):
        if not parser.has_section(section):
            continue
        if not index and parser.has_option(section, "index-url"):
            index = parser.get(section, "index-url").strip()
        if not extra and parser.has_option(section, "extra-index-url"):
            extra = tuple(u for u in parser.get(section, "extra-index-url").split() if u)
    # file:// indexes are pip's local mirrors; the gate reads HTTP(S) indexes only.
    extra = tuple(u for u in extra if not u.startswith("file:"))
    if index and index.startswith("file:"):
        index = None
    return index, extra


def _redact(url: str) -> str:
    """Drop credentials from a URL before it reaches a log line or an error."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    return url


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


class Index:
    """The package index (plus extra indexes), with a local cache.

    Thread-safe: `fetch_many` downloads concurrently through one session.
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
        page_ttl: float = PAGE_TTL,
    ) -> None:
        self.index_urls = [u.rstrip("/") for u in [index_url or PYPI_SIMPLE, *extra_index_urls]]
        self.cache_dir = cache_dir or default_cache_dir()
        self.offline = offline
        self.timeout = timeout
        self.page_ttl = page_ttl
        self.session = session or self._new_session()
        self._pages: dict[str, tuple[DistFile, ...]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        retry = Retry(
            total=4,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=16, pool_maxsize=16)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = f"mphunter-gate/{__version__}"
        return session  # credentials: from the URL or ~/.netrc, which requests reads itself

    # -- project pages ---------------------------------------------------------

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        """Every file of every version of `name`, across all configured indexes."""
        key = str(canonicalize_name(name))
        with self._lock:
            if key in self._pages:
                return self._pages[key]
        files: list[DistFile] = []
        for base in self.index_urls:
            files.extend(self._page(base, key))
        result = tuple(files)
        with self._lock:
            self._pages[key] = result
        return result

    def _page_cache(self, base: str, name: str) -> Path:
        digest = hashlib.sha256(_redact(base).encode()).hexdigest()[:16]
        return self.cache_dir / "pages" / digest / f"{name}.json"

    def _page(self, base: str, name: str) -> list[DistFile]:
        cached = self._page_cache(base, name)
        if cached.exists() and (self.offline or time.time() - cached.stat().st_mtime < self.page_ttl):
            return [self._file_from_json(d) for d in json.loads(cached.read_text())]
        if self.offline:
            raise PackageIndexError(f"--offline: no cached index page for {name!r}")
        url = f"{base}/{name}/"
        try:
            resp = self.session.get(url, headers={"Accept": _ACCEPT}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot reach index {_redact(base)}: {exc}") from exc
        if resp.status_code == 404:
            files: list[DistFile] = []
        elif resp.status_code != 200:
            raise PackageIndexError(f"index {_redact(base)} answered {resp.status_code} for {name}")
        elif resp.headers.get("Content-Type", "").split(";")[0].strip() == _JSON:
            files = self._parse_json(resp.json(), resp.url)
        else:
            files = self._parse_html(resp.text, resp.url)
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
        )

    @staticmethod
    def _parse_json(doc: dict[str, Any], page_url: str) -> list[DistFile]:
        files = []
        for f in doc.get("files", []):
            kind = _kind(f["filename"])
            if kind is None:
                continue
            meta = f.get("core-metadata", f.get("dist-info-metadata", False))
            files.append(
                DistFile(
                    filename=f["filename"],
                    url=urljoin(page_url, f["url"]),
                    sha256=f.get("hashes", {}).get("sha256"),
                    kind=kind,
                    size=f.get("size"),
                    requires_python=f.get("requires-python") or None,
                    yanked=_yanked(f.get("yanked")),
                    metadata_sha256=meta.get("sha256") if isinstance(meta, dict) else None,
                    has_metadata=bool(meta),
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
            sha256 = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
            meta = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
            meta_sha = meta[len("sha256=") :] if meta and meta.startswith("sha256=") else None
            files.append(
                DistFile(
                    filename=filename,
                    url=url,
                    sha256=sha256,
                    kind=kind,
                    requires_python=attrs.get("data-requires-python") or None,
                    yanked="data-yanked" in attrs,
                    metadata_sha256=meta_sha,
                    has_metadata=meta is not None,
                )
            )
        return files

    # -- file contents ---------------------------------------------------------

    def _blob(self, sha256: str) -> Path:
        return self.cache_dir / "blobs" / sha256[:2] / sha256

    def cached(self, file: DistFile) -> bytes | None:
        """The file's bytes if the cache has them (verified on read)."""
        if not file.sha256:
            return None
        path = self._blob(file.sha256)
        if not path.exists():
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != file.sha256:
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
            raise PackageIndexError(f"{file.filename} is {file.size} bytes, over the download limit")
        try:
            resp = self.session.get(file.url, timeout=self.timeout, stream=True)
            resp.raise_for_status()
            chunks, total = [], 0
            for chunk in resp.iter_content(1 << 16):
                total += len(chunk)
                if total > MAX_DOWNLOAD:
                    raise PackageIndexError(f"{file.filename} exceeds the download limit")
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot download {file.filename}: {exc}") from exc
        data = b"".join(chunks)
        digest = hashlib.sha256(data).hexdigest()
        if file.sha256 and digest != file.sha256:
            raise PackageIndexError(
                f"hash mismatch for {file.filename}: index says {file.sha256}, got {digest}"
            )
        if cache:
            _atomic_write(self._blob(digest), data)
        return data

    def fetch_many(
        self, files: Sequence[DistFile], workers: int = 8
    ) -> list[bytes | PackageIndexError]:
        """Download several files concurrently; a failure is returned in place, not raised."""

        def one(f: DistFile) -> bytes | PackageIndexError:
            try:
                return self.fetch(f)
            except PackageIndexError as exc:
                return exc

        if len(files) <= 1:
            return [one(f) for f in files]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, files))

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes:
        """Bytes `start..end` (inclusive) of a remote file; `end=None` asks for the
        last `start` bytes (a suffix range), which is how a zip is read from its tail."""
        if self.offline:
            raise PackageIndexError("--offline: range requests need the network")
        rng = f"bytes=-{start}" if end is None else f"bytes={start}-{end}"
        try:
            resp = self.session.get(url, headers={"Range": rng}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot read {_redact(url)}: {exc}") from exc
        if resp.status_code not in (200, 206):
            raise PackageIndexError(f"range request to {_redact(url)} answered {resp.status_code}")
        if resp.status_code == 200:  # server ignored Range: slice ourselves
            body = resp.content
            return body[-start:] if end is None else body[start : end + 1]
        return resp.content

    def fetch_metadata(self, file: DistFile) -> bytes | None:
        """The PEP 658 metadata file for `file`, when the index advertises one."""
        if not file.has_metadata:
            return None
        if file.metadata_sha256:
            path = self._blob(file.metadata_sha256)
            if path.exists():
                return path.read_bytes()
        if self.offline:
            return None
        try:
            resp = self.session.get(file.url + ".metadata", timeout=self.timeout)
        except requests.RequestException as exc:
            raise PackageIndexError(f"cannot read metadata of {file.filename}: {exc}") from exc
        if resp.status_code != 200:
            return None
        data = resp.content
        digest = hashlib.sha256(data).hexdigest()
        if file.metadata_sha256 and digest != file.metadata_sha256:
            raise PackageIndexError(f"metadata hash mismatch for {file.filename}")
        _atomic_write(self._blob(digest), data)
        return data


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a killed run never leaves half a blob."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
