"""Known-malware advisories: OSV records of malicious releases, read offline.

OpenSSF's malicious-packages project publishes every confirmed malicious
PyPI release as an OSV record (`MAL-YYYY-NNNN`), and osv.dev ships every
PyPI record in one zip. A release with such a record fails whatever its
score: the question "is this malware?" has already been answered by people
who looked. Records other than malware (PYSEC, GHSA vulnerabilities) are
left to `--audit-vulns`, and withdrawn records are ignored.

Matching follows the OSV schema: `affected[].package` (ecosystem `PyPI`,
names compared after PEP 503 normalisation), its `versions` list, and its
`ranges` of type ECOSYSTEM (PEP 440 ordering of `introduced`, `fixed`,
`last_affected` and `limit` events). Where a record cannot be read
precisely (a version PEP 440 cannot parse) it is read the way that matches
more releases, never fewer: a gate fails closed.

Records come from a directory tree of `*.json` files (a checkout of
ossf/malicious-packages) or an osv.dev ecosystem zip. `update` downloads
the zip into the user cache with an atomic replace and records when it was
fetched, so every report can say how old its advisory data is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mphunter_gate import __version__
from mphunter_gate.errors import InfraError, InputError
from mphunter_gate.types import AdvisoryData, HitLevel, PolicyHit

log = logging.getLogger(__name__)

RULE = "known-malware"
#: osv.dev's every-record zip for PyPI; any mirror of it works with `--url`.
DEFAULT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
CACHE_NAME = "pypi-all.zip"
#: Reports warn when the advisory data is older than this.
STALE_AFTER_DAYS = 7.0
#: An OSV record is a few KiB; a member past this is not one.
MAX_RECORD = 16 * 1024 * 1024
#: Largest advisory zip downloaded (osv.dev's PyPI zip is tens of MiB).
MAX_DOWNLOAD = 1024 * 1024 * 1024
_ECOSYSTEM = "PyPI"
_MALWARE_PREFIX = "MAL-"
_EVENTS = ("introduced", "fixed", "last_affected", "limit")


def default_dir() -> Path:
    """Where `advisories update` keeps the zip: `advisories/` in the gate's cache."""
    from mphunter_gate.fetch.index import default_cache_dir

    return default_cache_dir() / "advisories"


def cache_file(directory: Path | None = None) -> Path:
    """The cached zip's path (it may not exist)."""
    return (directory or default_dir()) / CACHE_NAME


def _meta_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


# -- the records ---------------------------------------------------------------


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class Range:
    """One ECOSYSTEM range: its events in the record's order, `(kind, version)`."""

    events: tuple[tuple[str, str], ...]

    def affects(self, version: Version | None) -> bool:
        """The OSV evaluation: walk the events in version order; `introduced` opens,
        `fixed` (at or past it) and `last_affected` (past it) close, `limit` bounds.

        An event version PEP 440 cannot read is taken the way that affects more:
        an `introduced` as `0`, an upper bound as absent. A release version that
        cannot be read is affected only by a range open from `0` with no bound.
        """
        if version is None:
            return all(k == "introduced" for k, _ in self.events)
        for kind, text in self.events:
            bound = _version(text)
            if kind == "limit" and bound is not None and version >= bound:
                return False
        ordered: list[tuple[Version | None, str]] = []
        for kind, text in self.events:
            if kind == "limit":
                continue
            bound = None if text == "0" else _version(text)
            if bound is None and kind != "introduced":
                continue  # an unreadable upper bound closes nothing
            ordered.append((bound, kind))
        ordered.sort(key=lambda e: (e[0] is not None, e[0] or Version("0")))
        affected = False
        for bound, kind in ordered:
            if kind == "introduced" and (bound is None or version >= bound):
                affected = True
            elif bound is not None and (
                (kind == "fixed" and version >= bound)
                or (kind == "last_affected" and version > bound)
            ):
                affected = False
        return affected


@dataclass(frozen=True)
class Affected:
    """One `affected[]` entry for a PyPI package."""

    name: str  # PEP 503 normalised
    versions: tuple[str, ...]
    ranges: tuple[Range, ...]

    def affects(self, version: str) -> bool:
        parsed = _version(version)
        for listed in self.versions:
            if listed == version or (parsed is not None and _version(listed) == parsed):
                return True
        return any(r.affects(parsed) for r in self.ranges)


@dataclass(frozen=True)
class Advisory:
    """One malware record."""

    id: str
    summary: str
    affected: tuple[Affected, ...]
    aliases: tuple[str, ...] = ()
    modified: datetime | None = None
    where: str = ""

    def affects(self, name: str, version: str) -> bool:
        key = canonicalize_name(name)
        return any(a.name == key and a.affects(version) for a in self.affected)


def _line_of(text: str, key: str) -> int | None:
    """The first line that names `key`: OSV files are JSON, and JSON keeps no positions."""
    needle = f'"{key}"'
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _strings(doc: Mapping[str, Any], key: str, text: str, where: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(
            f"OSV record: {key!r} must be a list of strings", where, _line_of(text, key)
        )
    return tuple(value)


def _affected(entry: object, text: str, where: str) -> Affected | None:
    """One `affected[]` entry; None for another ecosystem's package."""
    if not isinstance(entry, dict):
        raise InputError(
            "OSV record: each 'affected' entry must be an object", where, _line_of(text, "affected")
        )
    package = entry.get("package")
    if not isinstance(package, dict) or not all(
        isinstance(package.get(k), str) for k in ("ecosystem", "name")
    ):
        raise InputError(
            "OSV record: 'package' needs an ecosystem and a name", where, _line_of(text, "package")
        )
    # "PyPI" or "PyPI:<suffix>" (the schema's ecosystem:variant form)
    if package["ecosystem"].split(":", 1)[0] != _ECOSYSTEM:
        return None
    versions = _strings(entry, "versions", text, where)
    ranges_raw = entry.get("ranges", [])
    if not isinstance(ranges_raw, list):
        raise InputError("OSV record: 'ranges' must be a list", where, _line_of(text, "ranges"))
    ranges = []
    for r in ranges_raw:
        if not isinstance(r, dict) or not isinstance(r.get("type"), str):
            raise InputError(
                "OSV record: each range needs a 'type'", where, _line_of(text, "ranges")
            )
        events_raw = r.get("events")
        if not isinstance(events_raw, list) or not events_raw:
            raise InputError(
                "OSV record: each range needs a list of 'events'", where, _line_of(text, "events")
            )
        events = []
        for e in events_raw:
            pairs = list(e.items()) if isinstance(e, dict) else []
            if len(pairs) != 1 or pairs[0][0] not in _EVENTS or not isinstance(pairs[0][1], str):
                raise InputError(
                    "OSV record: an event must be one of introduced, fixed, last_affected or "
                    "limit with a version string",
                    where,
                    _line_of(text, "events"),
                )
            events.append((pairs[0][0], pairs[0][1]))
        if r["type"] == "ECOSYSTEM":  # SEMVER and GIT ranges do not order PyPI versions
            ranges.append(Range(tuple(events)))
    return Affected(str(canonicalize_name(package["name"])), versions, tuple(ranges))


def _malware_id(doc: Mapping[str, Any]) -> str | None:
    ident = doc.get("id")
    if isinstance(ident, str) and ident.startswith(_MALWARE_PREFIX):
        return ident
    aliases = doc.get("aliases")
    if isinstance(aliases, list):
        return next(
            (a for a in aliases if isinstance(a, str) and a.startswith(_MALWARE_PREFIX)), None
        )
    return None


def parse_record(text: str, where: str) -> Advisory | None:
    """A malware record for PyPI from one OSV file's text; None for a vulnerability,
    a withdrawn record, or one with no PyPI package. InputError (file and line) when
    the file is not a readable OSV record."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", where, exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise InputError("not an OSV record (no 'id')", where, _line_of(text, "id") or 1)
    ident = _malware_id(doc)
    if ident is None:
        return None  # a vulnerability: --audit-vulns reports those
    if doc.get("withdrawn"):
        return None
    affected_raw = doc.get("affected", [])
    if not isinstance(affected_raw, list):
        raise InputError("OSV record: 'affected' must be a list", where, _line_of(text, "affected"))
    affected = tuple(a for a in (_affected(e, text, where) for e in affected_raw) if a is not None)
    if not affected:
        return None
    summary = doc.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        details = doc.get("details")
        summary = details.strip().splitlines()[0] if isinstance(details, str) and details else ""
    return Advisory(
        id=ident,
        summary=" ".join(summary.split())[:300] or "malicious package",
        affected=affected,
        aliases=_strings(doc, "aliases", text, where),
        modified=_timestamp(doc.get("modified")),
        where=where,
    )


# -- a database of them ----------------------------------------------------------


@dataclass(frozen=True)
class AdvisoryDB:
    """Every malware record of one source, indexed by package name."""

    source: str
    advisories: tuple[Advisory, ...]
    #: When the data was downloaded (recorded by `update`); None when unknown.
    fetched: datetime | None = None
    stale_after_days: float = STALE_AFTER_DAYS

    @cached_property
    def by_name(self) -> Mapping[str, tuple[Advisory, ...]]:
        found: dict[str, list[Advisory]] = {}
        for advisory in self.advisories:
            for name in dict.fromkeys(a.name for a in advisory.affected):
                found.setdefault(name, []).append(advisory)
        return {k: tuple(v) for k, v in found.items()}

    def matches(self, name: str, version: str) -> tuple[Advisory, ...]:
        """The records that list this release."""
        if not version:
            return ()
        candidates = self.by_name.get(str(canonicalize_name(name)), ())
        return tuple(a for a in candidates if a.affects(name, version))

    def hits(self, name: str, version: str) -> tuple[PolicyHit, ...]:
        """One failing hit per matching record: `MAL-2026-1234: <summary>`."""
        return tuple(
            PolicyHit(RULE, HitLevel.FAIL, f"{a.id}: {a.summary}", advisory=a.id)
            for a in self.matches(name, version)
        )

    @property
    def as_of(self) -> tuple[datetime | None, str]:
        """How current the data is: when fetched, else the newest record's `modified`."""
        if self.fetched is not None:
            return self.fetched, "fetched"
        times = [a.modified for a in self.advisories if a.modified is not None]
        return (max(times) if times else None), "newest record"

    def data(self, now: datetime) -> AdvisoryData:
        """What the report says about this data at `now`."""
        when, basis = self.as_of
        age = (now - when).total_seconds() / 86400 if when is not None else None
        return AdvisoryData(
            source=self.source,
            records=len(self.advisories),
            as_of=when.isoformat(timespec="seconds") if when else None,
            basis=basis,
            age_days=age,
            stale_after_days=self.stale_after_days,
        )


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    """(where, text) of every JSON file that could be a malware record.

    Files that never mention `MAL-` are vulnerabilities or other data and are
    not parsed at all: osv.dev's PyPI zip holds tens of thousands of them.
    """
    needle = b'"' + _MALWARE_PREFIX.encode()
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            if not file.is_file() or any(p.startswith(".") for p in file.relative_to(path).parts):
                continue
            if file.stat().st_size > MAX_RECORD:
                raise InputError(f"larger than {MAX_RECORD} bytes: not an OSV record", str(file))
            data = file.read_bytes()
            if needle in data:
                yield str(file), _decode(data, str(file))
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"not a directory of OSV records nor a readable zip: {exc}", str(path)
        ) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            where = f"{path}!{info.filename}"
            if info.file_size > MAX_RECORD:
                raise InputError(f"larger than {MAX_RECORD} bytes: not an OSV record", where)
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise InputError(f"unreadable zip member: {exc}", where) from None
            if needle in data:
                yield where, _decode(data, where)


def _decode(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", where) from None


def _read_fetched(path: Path) -> datetime | None:
    """The fetch time `update` recorded beside a zip (None: none recorded)."""
    meta = _meta_file(path)
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable fetch record: {exc}", str(meta)) from None
    when = _timestamp(doc.get("fetched_at")) if isinstance(doc, dict) else None
    if when is None:
        raise InputError("fetch record has no readable 'fetched_at'", str(meta))
    return when


def load(path: Path) -> AdvisoryDB:
    """Every PyPI malware record under `path` (a tree of `*.json`, or an OSV zip).

    InputError (exit 2) for a path that does not exist, a malformed record, or
    a source with no malware record at all: advisories that were asked for and
    silently missing would pass everything.
    """
    if not path.exists():
        raise InputError("no such advisory file or directory", str(path))
    found: dict[str, Advisory] = {}
    for where, text in _texts(path):
        advisory = parse_record(text, where)
        if advisory is None:
            continue
        # a GHSA record aliasing a MAL id repeats it: the MAL record itself wins
        if advisory.id not in found or Path(where).stem == advisory.id:
            found[advisory.id] = advisory
    if not found:
        raise InputError("no PyPI malware record (MAL-...) found", str(path))
    fetched = None if path.is_dir() else _read_fetched(path)
    return AdvisoryDB(str(path), tuple(found[k] for k in sorted(found)), fetched)


# -- updating the cache ------------------------------------------------------------


@dataclass(frozen=True)
class Updated:
    """What `update` stored."""

    path: Path
    records: int
    fetched: datetime
    sha256: str


def update(
    url: str = DEFAULT_URL,
    directory: Path | None = None,
    *,
    session: requests.Session | None = None,
    now: datetime | None = None,
    timeout: float = 60.0,
) -> Updated:
    """Download the advisory zip from `url` into `directory` and replace the cache.

    The download goes to a temporary file beside the cache, is read whole as
    advisories (a broken or empty download never replaces good data), and is
    then renamed over the old zip, followed by its fetch record. Were a run
    stopped between the two renames, the old, earlier fetch time would remain:
    the data would look older than it is, never newer.
    """
    target = cache_file(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    session = session or requests.Session()
    session.headers.setdefault("User-Agent", f"mphunter-gate/{__version__}")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".zip")
    tmp = Path(tmp_name)
    meta_tmp: Path | None = None
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            try:
                with session.get(url, stream=True, timeout=timeout) as resp:
                    if resp.status_code != 200:
                        raise InfraError(
                            f"cannot download advisories: {url} answered {resp.status_code}"
                        )
                    for chunk in resp.iter_content(1 << 20):
                        size += len(chunk)
                        if size > MAX_DOWNLOAD:
                            raise InfraError(f"advisories at {url} exceed {MAX_DOWNLOAD} bytes")
                        digest.update(chunk)
                        out.write(chunk)
            except requests.RequestException as exc:
                raise InfraError(f"cannot download advisories from {url}: {exc}") from None
        try:
            db = load(tmp)
        except InputError as exc:
            raise InfraError(f"{url} did not serve usable advisories: {exc}") from None
        fetched = now or datetime.now(timezone.utc)
        record = {
            "url": url,
            "fetched_at": fetched.isoformat(timespec="seconds"),
            "sha256": digest.hexdigest(),
            "size": size,
            "records": len(db.advisories),
        }
        mfd, meta_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        meta_tmp = Path(meta_name)
        with os.fdopen(mfd, "w", encoding="utf-8") as out:
            json.dump(record, out, indent=2)
        os.replace(tmp, target)
        os.replace(meta_tmp, _meta_file(target))
        return Updated(target, len(db.advisories), fetched, digest.hexdigest())
    except OSError as exc:
        raise InfraError(
            f"cannot write the advisory cache {target.parent}: {exc.strerror}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
        if meta_tmp is not None:
            meta_tmp.unlink(missing_ok=True)
