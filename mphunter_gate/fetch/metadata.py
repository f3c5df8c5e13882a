"""A release's dependencies, learnt without running any of its code.

pip, `pip download` and pip-audit all run an sdist's setup.py to ask it
for its dependencies; a gate that did the same would have executed the
package it is meant to judge. We only ever read:

1. the PEP 658 metadata file, when the index serves one;
2. a wheel's `*.dist-info/METADATA`, read with HTTP range requests: the
   zip's tail (end-of-central-directory record and central directory), then
   only the METADATA member, so a 100 MB wheel costs two or three small reads;
3. for sdist-only releases, static declarations in this order: PKG-INFO
   (Metadata-Version 2.2+ without `Dynamic: Requires-Dist`), a
   pyproject.toml `[project]` table, literal `install_requires` /
   `extras_require` in setup.py's `setup(...)` call (read with `ast`,
   evaluated only with `ast.literal_eval`), `[options]` in setup.cfg.

When none of these says, the result is explicitly incomplete (`complete`
False with a note) so the report shows the gap; it is never an empty list
that would look like "no dependencies". Results are cached by the file's
sha256 in memory and on disk, so a warm run reads no archive at all.
"""

from __future__ import annotations

import ast
import configparser
import json
import logging
import re
import struct
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from packaging.metadata import parse_email
from packaging.version import InvalidVersion, Version

from mphunter_gate.errors import ArchiveError, PackageIndexError
from mphunter_gate.fetch import archive
from mphunter_gate.fetch.deadline import DeadlineExceeded, RequestTimeout
from mphunter_gate.memo import Memo
from mphunter_gate.types import DistFile, FileKind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

#: Bump when the cached form or the extraction rules change.
CACHE_VERSION = 2
#: Bytes asked for from a wheel's tail: the EOCD record and, for most wheels,
#: the whole central directory (and for small wheels, the whole file).
TAIL_BYTES = 64 * 1024
#: Largest METADATA we inflate (long descriptions can be big; bombs are bigger).
MAX_METADATA = 16 * 1024 * 1024
#: Local file headers carry their own name/extra fields; read this much slack.
LOCAL_SLACK = 4096

DYNAMIC_NOTE = "dependencies unresolved: sdist declares them dynamically"

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_METADATA_NAME = re.compile(r"^[^/]+\.dist-info/METADATA$")


class MetadataIndex(Protocol):
    """What this module needs from `index.Index` (kept narrow for testing)."""

    def fetch(self, file: DistFile) -> bytes: ...

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes: ...

    def fetch_metadata(self, file: DistFile) -> bytes | None: ...


@dataclass(frozen=True)
class Metadata:
    """The dependency facts of one release file.

    `requires_dist` holds PEP 508 strings, extras as `extra == "x"` markers.
    `complete` is False when the dependencies could not be established
    statically; `notes` then says why (and notes partial gaps otherwise).
    `extras_note` says when only the extras' dependencies are unknown (it
    matters only to a requirement that asks for an extra). `source` names
    where the facts came from: pep658, wheel, pkg-info,
    pyproject, setup.py, setup.cfg or none.
    """

    requires_dist: tuple[str, ...]
    requires_python: str | None
    source: str
    complete: bool = True
    notes: tuple[str, ...] = ()
    extras_note: str | None = None  # set when extras' dependencies could not be read


class _RemoteZipError(Exception):
    """The remote zip could not be read by ranges; fall back to a full download."""


class MetadataReader:
    """Reads and caches `Metadata` for index files. Safe to share between threads."""

    def __init__(self, index: MetadataIndex, *, cache_dir: Path | None = None) -> None:
        self.index = index
        self.cache_dir = cache_dir
        self._memory: Memo[str, Metadata] = Memo()

    # -- choosing a file -------------------------------------------------------

    def for_release(
        self, files: Sequence[DistFile], preferred: Callable[[DistFile], bool] | None = None
    ) -> Metadata:
        """The metadata of a release, from its best file.

        Wheels first (their METADATA is authoritative and cheap to read),
        those `preferred` (e.g. compatible with the target) before the rest;
        then sdists. A file that cannot be read is skipped with a note.
        """
        wheels = [f for f in files if f.kind is FileKind.WHEEL]
        if preferred is not None:
            wheels.sort(key=lambda f: not preferred(f))
        sdists = [f for f in files if f.kind is FileKind.SDIST]
        sdists.sort(key=lambda f: not f.filename.endswith(".tar.gz"))
        problems: list[str] = []
        timed_out: RequestTimeout | None = None
        for file in [*wheels[:3], *sdists[:2]]:
            try:
                return self.of_file(file)
            except DeadlineExceeded:
                raise  # the run is over; no other file will answer either
            except (PackageIndexError, ArchiveError) as exc:
                log.info("cannot read metadata of %s: %s", file.filename, exc)
                problems.append(f"{file.filename}: {exc}")
                if isinstance(exc, RequestTimeout):
                    timed_out = exc
        if timed_out is not None:
            # An index too slow to answer is not a release without dependencies:
            # its dependencies would go unexamined, so resolution stops (exit 3).
            raise timed_out
        reason = "; ".join(problems) if problems else "the release has no files"
        return Metadata(
            (), None, "none", complete=False, notes=(f"dependencies unresolved: {reason}",)
        )

    # -- one file --------------------------------------------------------------

    def of_file(self, file: DistFile) -> Metadata:
        """The metadata of one file. Raises PackageIndexError/ArchiveError when unreadable."""
        return self._memory.get(file.sha256 or file.url, lambda: self._load_or_read(file))

    def _load_or_read(self, file: DistFile) -> Metadata:
        found = self._load(file)
        if found is None:
            found = self._read(file)
            self._store(file, found)
        return found

    def _read(self, file: DistFile) -> Metadata:
        if file.kind is FileKind.WHEEL:
            pep658 = self.index.fetch_metadata(file)
            if pep658 is not None:
                return _from_core_metadata(pep658, "pep658")
            return _from_core_metadata(self._wheel_metadata(file), "wheel")
        return metadata_from_sdist(self.index.fetch(file), file.filename)

    def _wheel_metadata(self, file: DistFile) -> bytes:
        cached = getattr(self.index, "cached", None)
        data = cached(file) if callable(cached) else None
        if isinstance(data, bytes):
            return wheel_metadata_from_bytes(data, file.filename)
        try:
            return RemoteZip(self.index, file.url, file.size).read_metadata()
        except (_RemoteZipError, PackageIndexError) as exc:
            if getattr(self.index, "offline", False) or isinstance(exc, DeadlineExceeded):
                raise
            log.info("range read of %s failed (%s); downloading it", file.filename, exc)
        return wheel_metadata_from_bytes(self.index.fetch(file), file.filename)

    # -- cache -----------------------------------------------------------------

    def _cache_path(self, file: DistFile) -> Path | None:
        if self.cache_dir is None or not file.sha256:
            return None
        return self.cache_dir / "metadata" / file.sha256[:2] / f"{file.sha256}.json"

    def _load(self, file: DistFile) -> Metadata | None:
        path = self._cache_path(file)
        if path is None or not path.is_file():
            return None
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
            if row.pop("v", None) != CACHE_VERSION:
                return None
            return Metadata(
                requires_dist=tuple(row["requires_dist"]),
                requires_python=row["requires_python"],
                source=row["source"],
                complete=row["complete"],
                notes=tuple(row["notes"]),
                extras_note=row.get("extras_note"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable metadata cache entry %s (%s)", path, exc)
            return None

    def _store(self, file: DistFile, meta: Metadata) -> None:
        path = self._cache_path(file)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_text(json.dumps({"v": CACHE_VERSION, **asdict(meta)}), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            log.warning("cannot write metadata cache %s (%s)", path, exc)


# -- core metadata -------------------------------------------------------------


def _from_core_metadata(data: bytes, source: str) -> Metadata:
    raw, _ = parse_email(data)
    return Metadata(
        requires_dist=tuple(raw.get("requires_dist", ())),
        requires_python=raw.get("requires_python"),
        source=source,
    )


# -- wheels by range requests --------------------------------------------------


class RemoteZip:
    """Reads one member of a remote zip with as few range requests as possible.

    Every byte fetched is kept with its absolute offset, so later reads that
    fall inside it (a small wheel is entirely inside its tail) cost nothing.
    """

    def __init__(self, index: MetadataIndex, url: str, size: int | None = None) -> None:
        self.index = index
        self.url = url
        self.size = size
        self._chunks: list[tuple[int, bytes]] = []

    def read_metadata(self) -> bytes:
        """The `*.dist-info/METADATA` member's bytes."""
        entries = self._central_directory()
        names = [e for e in entries if _METADATA_NAME.match(e[0])]
        if not names:
            raise _RemoteZipError("no .dist-info/METADATA in the wheel")
        _, method, comp_size, uncomp_size, crc, local_offset = names[0]
        if uncomp_size > MAX_METADATA or comp_size > MAX_METADATA:
            raise _RemoteZipError(f"METADATA declares {uncomp_size} bytes")
        header = self._read(local_offset, 30)
        if header[:4] != _LOCAL:
            raise _RemoteZipError("bad local file header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = local_offset + 30 + name_len + extra_len
        body = self._read(start, comp_size)
        if method == zipfile.ZIP_STORED:
            data = body
        elif method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            try:
                data = inflater.decompress(body, MAX_METADATA + 1)
            except zlib.error as exc:
                raise _RemoteZipError(f"corrupt METADATA stream: {exc}") from exc
        else:
            raise _RemoteZipError(f"unsupported compression method {method}")
        if len(data) > MAX_METADATA or zlib.crc32(data) != crc:
            raise _RemoteZipError("METADATA failed its size or CRC check")
        return data

    def _central_directory(self) -> list[tuple[str, int, int, int, int, int]]:
        want = TAIL_BYTES if self.size is None else min(TAIL_BYTES, self.size)
        tail = self.index.fetch_range(self.url, want, None)
        pos = tail.rfind(_EOCD)
        if pos < 0 or len(tail) - pos < 22:
            raise _RemoteZipError("no end-of-central-directory record in the tail")
        _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<4sHHHHIIH", tail[pos : pos + 22])
        sentinels = cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF or count == 0xFFFF
        loc = pos - 20
        # A zip64 archive is told by the locator before the EOCD record, not by
        # sentinels alone: CPython's zipfile writes the real offset there when
        # it still fits in 32 bits (a 3 GB wheel), and the zip64 record after
        # the central directory then shifts everything the EOCD implies.
        if loc >= 0 and tail[loc : loc + 4] == _ZIP64_LOCATOR:
            (eocd64_offset,) = struct.unpack("<Q", tail[loc + 8 : loc + 16])
            record = _zip64_record_start(tail, loc)
            tail_start = eocd64_offset - record
            count, cd_size, cd_offset = struct.unpack("<QQQ", tail[record + 32 : record + 56])
        elif sentinels:
            raise _RemoteZipError("zip64 locator missing")
        else:
            # The EOCD record follows the central directory, so the tail's
            # absolute start is known without knowing the file's size.
            tail_start = cd_offset + cd_size - pos
        if tail_start < 0:
            raise _RemoteZipError("inconsistent central directory offsets")
        self._chunks.append((tail_start, tail))
        if cd_size > 64 * 1024 * 1024:
            raise _RemoteZipError(f"central directory of {cd_size} bytes")
        return _parse_central_directory(self._read(cd_offset, cd_size), count)

    def _read(self, start: int, length: int) -> bytes:
        if length == 0:
            return b""
        for offset, chunk in self._chunks:
            if offset <= start and start + length <= offset + len(chunk):
                return chunk[start - offset : start - offset + length]
        for offset, chunk in self._chunks:
            if start < offset < start + length <= offset + len(chunk):
                # The end is already here (a central directory that starts
                # before the tail): fetch only the missing head.
                head = self._fetch(start, offset - start)
                return (head + chunk)[:length]
        return self._fetch(start, length)[:length]

    def _fetch(self, start: int, length: int) -> bytes:
        fetch_len = length + (LOCAL_SLACK if length < LOCAL_SLACK else 0)
        data = self.index.fetch_range(self.url, start, start + fetch_len - 1)
        if len(data) < length:
            raise _RemoteZipError(f"short range read at {start}: {len(data)} of {length} bytes")
        self._chunks.append((start, data))
        return data[:length]


def _zip64_record_start(tail: bytes, loc: int) -> int:
    """Where, in `tail`, the zip64 end-of-central-directory record starts.

    Its locator (at `loc`) follows it directly, and it is 56 bytes plus an
    optional extensible data sector its own size field counts, so the start
    is the signature whose size field ends the record exactly at `loc`.
    """
    start = tail.rfind(_ZIP64_EOCD, 0, loc - 52) if loc >= 56 else -1
    while start >= 0:
        (size,) = struct.unpack("<Q", tail[start + 4 : start + 12])
        if start + 12 + size == loc:
            return start
        start = tail.rfind(_ZIP64_EOCD, 0, start + 3)
    raise _RemoteZipError("bad zip64 end-of-central-directory record")


def _parse_central_directory(cd: bytes, count: int) -> list[tuple[str, int, int, int, int, int]]:
    """(name, method, compressed size, size, crc32, local header offset) per entry."""
    entries = []
    pos = 0
    for _ in range(min(count, 1_000_000)):
        if cd[pos : pos + 4] != _CENTRAL or pos + 46 > len(cd):
            raise _RemoteZipError("bad central directory entry")
        (method, crc, comp, size, n_len, e_len, c_len) = struct.unpack(
            "<H4xIIIHHH", cd[pos + 10 : pos + 34]
        )
        if pos + 46 + n_len + e_len + c_len > len(cd):
            raise _RemoteZipError("central directory entry runs past its end")
        (offset,) = struct.unpack("<I", cd[pos + 42 : pos + 46])
        name = cd[pos + 46 : pos + 46 + n_len].decode("utf-8", "replace")
        extra = cd[pos + 46 + n_len : pos + 46 + n_len + e_len]
        if 0xFFFFFFFF in (comp, size, offset):
            size, comp, offset = _zip64_extra(extra, size, comp, offset)
        entries.append((name, method, comp, size, crc, offset))
        pos += 46 + n_len + e_len + c_len
    return entries


def _zip64_extra(extra: bytes, size: int, comp: int, offset: int) -> tuple[int, int, int]:
    """Replace 0xFFFFFFFF sizes/offset with the values in the zip64 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack("<HH", extra[pos : pos + 4])
        if tag == 1:
            values = extra[pos + 4 : pos + 4 + length]
            i = 0
            out = []
            for value in (size, comp, offset):
                if value == 0xFFFFFFFF:
                    if i + 8 > len(values):
                        raise _RemoteZipError("zip64 extra field too short")
                    (value,) = struct.unpack("<Q", values[i : i + 8])
                    i += 8
                out.append(value)
            return out[0], out[1], out[2]
        pos += 4 + length
    raise _RemoteZipError("zip64 sizes missing")


def wheel_metadata_from_bytes(data: bytes, filename: str) -> bytes:
    """The METADATA member of a whole wheel held in memory (bounded by archive rules)."""
    tree = archive.open_tree(data, filename)
    names = [n for n in tree.names() if _METADATA_NAME.match(n)]
    if not names:
        raise ArchiveError(f"{filename}: no .dist-info/METADATA")
    return tree.read(names[0])


# -- sdists --------------------------------------------------------------------


def _sdist_reader(data: bytes, filename: str) -> Callable[[str], str | None]:
    """How to read one file of an sdist's top folder by its base name (None: absent)."""
    tree = archive.open_tree(data, filename)
    top = _top_level(tree.names())

    def read(name: str) -> str | None:
        return archive.decode(tree.read(top[name])) if name in top else None

    return read


def metadata_from_sdist(data: bytes, filename: str) -> Metadata:
    """Dependencies declared statically in an sdist, or an explicit "unresolved"."""
    return _static_metadata(_sdist_reader(data, filename))


def metadata_from_folder(folder: Path) -> Metadata:
    """Dependencies declared statically by a project folder (the user's own `-e .`):
    pyproject.toml, setup.cfg or the literals of setup.py, read as text, never run."""

    def read(name: str) -> str | None:
        path = folder / name
        return archive.decode(path.read_bytes()) if path.is_file() else None

    return _static_metadata(read)


def _static_metadata(read: Callable[[str], str | None]) -> Metadata:
    """Dependencies from a source tree's top-level files, read by base name."""
    pkg_info = read("PKG-INFO")
    requires_python = None
    if pkg_info is not None:
        raw, _ = parse_email(pkg_info)
        requires_python = raw.get("requires_python")
        if _static_pkg_info(raw):
            return Metadata(tuple(raw.get("requires_dist", ())), requires_python, "pkg-info")

    pyproject = read("pyproject.toml")
    if pyproject is not None:
        found = _from_pyproject(pyproject, requires_python)
        if found is not None:
            return found

    setup_cfg = read("setup.cfg")
    cfg = _from_setup_cfg(setup_cfg) if setup_cfg is not None else None
    setup_py = read("setup.py")
    if setup_py is not None:
        found = _from_setup_py(setup_py, cfg, requires_python)
        if found is not None:
            return found
    elif cfg is not None:
        reqs, notes = cfg
        return Metadata(reqs, requires_python, "setup.cfg", extras_note=_join(notes))
    return Metadata((), requires_python, "none", complete=False, notes=(DYNAMIC_NOTE,))


#: What pip builds an sdist with when it declares no `[build-system] requires`.
LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0",)


def build_requirements(data: bytes, filename: str) -> tuple[str, ...]:
    """The packages a build of this sdist installs first, read statically: pyproject's
    `[build-system] requires` (pip's default when absent) and the literal
    `setup_requires` of setup.py / setup.cfg (setuptools fetches those itself)."""
    read = _sdist_reader(data, filename)
    out: list[str] = []
    pyproject = read("pyproject.toml")
    declared = None
    if pyproject is not None:
        try:
            system = tomllib.loads(pyproject).get("build-system")
        except tomllib.TOMLDecodeError:
            system = None
        if isinstance(system, dict):
            declared = _lines(system.get("requires"))
    out += declared if declared is not None else LEGACY_BUILD_REQUIRES
    setup_cfg = read("setup.cfg")
    if setup_cfg is not None:
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(setup_cfg)
            out += _lines(parser.get("options", "setup_requires", fallback="")) or []
        except configparser.Error:
            pass
    setup_py = read("setup.py")
    if setup_py is not None:
        try:
            syntax: ast.Module | None = ast.parse(setup_py)
        except (SyntaxError, ValueError, RecursionError):
            syntax = None
        call = _setup_call(syntax) if syntax is not None else None
        if syntax is not None and call is not None:
            keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
            if "setup_requires" in keywords:
                value = _literal(keywords["setup_requires"], _module_literals(syntax))
                out += _lines(value) or []
    return tuple(dict.fromkeys(r.strip() for r in out if r.strip()))


def _join(notes: tuple[str, ...]) -> str | None:
    return "; ".join(dict.fromkeys(notes)) or None


def _top_level(names: list[str]) -> dict[str, str]:
    """Files directly under the sdist's root folder (or the archive root), by base name."""
    found: dict[str, str] = {}
    for name in sorted(names, key=lambda n: n.count("/")):
        parts = name.split("/")
        if len(parts) <= 2:
            found.setdefault(parts[-1], name)
    return found


def _static_pkg_info(raw: Any) -> bool:
    try:
        version = Version(str(raw.get("metadata_version", "0")))
    except InvalidVersion:
        return False
    dynamic = {str(d).lower() for d in raw.get("dynamic", ())}
    return version >= Version("2.2") and "requires-dist" not in dynamic


def _from_pyproject(text: str, requires_python: str | None) -> Metadata | None:
    """PEP 621 dependencies when `[project]` declares them statically."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    project = doc.get("project")
    if not isinstance(project, dict) or "name" not in project:
        return None
    dynamic = {str(d).lower() for d in project.get("dynamic", [])}
    if "dependencies" in dynamic:
        return None
    deps = [d for d in project.get("dependencies", []) if isinstance(d, str)]
    notes: tuple[str, ...] = ()
    if "optional-dependencies" in dynamic:
        notes = ("extras' dependencies unresolved: declared dynamic",)
    for extra, reqs in (project.get("optional-dependencies") or {}).items():
        deps.extend(_with_extra(r, extra) for r in reqs if isinstance(r, str))
    rp = project.get("requires-python")
    return Metadata(
        tuple(deps),
        rp if isinstance(rp, str) else requires_python,
        "pyproject",
        extras_note=_join(notes),
    )


def _with_extra(req: str, extra: str) -> str:
    """`req` made conditional on `extra`, as METADATA writes it."""
    clause = f'extra == "{extra}"'
    if ";" in req:
        spec, marker = req.split(";", 1)
        return f"{spec.strip()}; ({marker.strip()}) and {clause}"
    return f"{req.strip()}; {clause}"


def _lines(value: Any) -> list[str] | None:
    """install_requires may be a list of strings or one multi-line string."""
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    out = []
    for v in value:
        v = v.split("#", 1)[0].strip()
        if v:
            out.append(v)
    return out


def _from_setup_cfg(text: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """`[options] install_requires` and `[options.extras_require]` from setup.cfg."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    if not parser.has_option("options", "install_requires"):
        return None
    value = parser.get("options", "install_requires")
    if value.strip().startswith("file:"):
        return None
    deps = _lines(value) or []
    notes: list[str] = []
    if parser.has_section("options.extras_require"):
        for extra, reqs in parser.items("options.extras_require"):
            if reqs.strip().startswith("file:"):
                notes.append(f"extra {extra!r}: dependencies unresolved (read from a file)")
                continue
            deps.extend(_with_extra(r, extra) for r in _lines(reqs) or [])
    return tuple(deps), tuple(notes)


def _from_setup_py(
    text: str, cfg: tuple[tuple[str, ...], tuple[str, ...]] | None, requires_python: str | None
) -> Metadata | None:
    """Literal `install_requires`/`extras_require` of the `setup(...)` call. Never run.

    A keyword whose value is a name bound once at module level to a literal
    (`REQS = [...]`) is followed; anything computed is "unresolved".
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    call = _setup_call(tree)
    if call is None:
        return None
    literals = _module_literals(tree)
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    has_star = any(k.arg is None for k in call.keywords)
    notes: list[str] = []
    if "install_requires" in keywords:
        deps = _lines(_literal(keywords["install_requires"], literals))
        if deps is None:
            return None
        source = "setup.py"
    elif has_star:
        return None  # setup(**kwargs): the keyword may hide in there
    elif cfg is not None:
        deps, cfg_notes = list(cfg[0]), cfg[1]
        notes.extend(cfg_notes)
        source = "setup.cfg"
    else:
        deps, source = [], "setup.py"
    if "extras_require" in keywords:
        extras = _literal(keywords["extras_require"], literals)
        if isinstance(extras, dict):
            for extra, reqs in extras.items():
                lines = _lines(reqs)
                if not isinstance(extra, str) or lines is None:
                    notes.append("some extras' dependencies unresolved: computed in setup.py")
                    continue
                deps.extend(_with_extra(r, extra.split(":")[0]) for r in lines)
        else:
            notes.append("extras' dependencies unresolved: computed in setup.py")
    rp = _literal(keywords["python_requires"], literals) if "python_requires" in keywords else None
    return Metadata(
        tuple(deps),
        rp if isinstance(rp, str) else requires_python,
        source,
        extras_note=_join(tuple(notes)),
    )


def _setup_call(tree: ast.Module) -> ast.Call | None:
    """The `setup(...)` / `setuptools.setup(...)` call with the most keywords."""
    best: ast.Call | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else None
            )
            if name == "setup" and (best is None or len(node.keywords) > len(best.keywords)):
                best = node
    return best


def _module_literals(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names assigned exactly once (candidates to follow)."""
    seen: dict[str, list[ast.expr]] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            seen.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            seen.setdefault(node.target.id, []).extend([node.value, node.value])
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def _literal(node: ast.expr, names: dict[str, ast.expr], depth: int = 0) -> Any:
    """The value of a literal expression, or None when it is computed.

    Beyond `ast.literal_eval`, follows module-level names bound once to such
    an expression (`install_requires=REQS`) and `+` of lists (`BASE + EXTRA`),
    the two forms setup.py files use most. Nothing is called or imported.
    """
    if depth > 8:
        return None
    if isinstance(node, ast.Name):
        return _literal(names[node.id], names, depth + 1) if node.id in names else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, names, depth + 1), _literal(node.right, names, depth + 1)
        if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            return [*left, *right]
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e, names, depth + 1) for e in node.elts]
        return None if any(i is None for i in items) else items
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            return None
        keys = [_literal(k, names, depth + 1) for k in node.keys if k is not None]
        values = [_literal(v, names, depth + 1) for v in node.values]
        if any(v is None for v in values) or not all(isinstance(k, str) for k in keys):
            return None
        return dict(zip(keys, values, strict=True))
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
