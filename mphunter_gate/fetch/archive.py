"""Safe, bounded, in-memory reading of sdists, wheels and unpacked folders.

Every archive is hostile until proven otherwise. Nothing is ever written to
disk: compressed streams are inflated in memory, a chunk at a time, under a
hard size cap (a decompression bomb fails fast, and an sdist is never held
inflated whole), member names that would leave the archive
(`../`, absolute paths) make the whole archive unreadable, links and
device files are never followed, and text is decoded leniently. Problems
raise `ArchiveError`, which makes one package `unscanned` and never stops
the run.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import posixpath
import stat
import struct
import tarfile
import tokenize
import zipfile
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TypeAlias

from mphunter_gate.errors import ArchiveError

#: Largest total of inflated bytes we accept for one archive.
MAX_UNPACKED = 256 * 1024 * 1024
#: Inflated/compressed ratio above which an archive is treated as a bomb
#: (only checked past MAX_RATIO_FLOOR, since tiny text files compress well).
MAX_RATIO = 200
MAX_RATIO_FLOOR = 16 * 1024 * 1024
#: Largest single file we read as a script; larger ones are cut and say so.
MAX_MEMBER = 5 * 1024 * 1024
MAX_MEMBERS = 50_000


class Tree(ABC):
    """A read-only view of a package's files, whatever holds them."""

    @abstractmethod
    def names(self) -> list[str]:
        """Regular files, as POSIX paths relative to the tree root."""

    @abstractmethod
    def read(self, name: str) -> bytes:
        """The first MAX_MEMBER bytes of one regular file.

        Raises KeyError for a name `names()` does not list, ArchiveError when
        the bytes cannot be read.
        """

    def links(self) -> list[str]:
        """Symbolic and hard links, which are never followed or read.

        Listed so that a caller can refuse a package whose setup.py (or
        other install-time file) is a link rather than silently miss it.
        """
        return []


def _check_name(name: str) -> str:
    norm = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or norm == ".." or norm.startswith("../") or ":" in norm[:3]:
        raise ArchiveError(f"member {name!r} would escape the archive")
    return norm


def _bomb(filename: str, inflated: int, packed: int) -> ArchiveError | None:
    """The error for an archive whose inflated size or ratio is over the caps."""
    if inflated > MAX_UNPACKED:
        return ArchiveError(
            f"{filename}: inflates past {MAX_UNPACKED >> 20} MiB (decompression bomb?)"
        )
    if inflated > MAX_RATIO_FLOOR and inflated > MAX_RATIO * max(packed, 1):
        return ArchiveError(
            f"{filename}: inflates {inflated // max(packed, 1)}x (decompression bomb?)"
        )
    return None


_Decompressor: TypeAlias = "zlib._Decompress | bz2.BZ2Decompressor | lzma.LZMADecompressor"

#: Compressed bytes handed to the decompressor at a time while streaming.
_FEED = 16 * 1024
#: Inflated bytes tarfile asks for at a time (its default, 10 KiB, costs more calls).
_STREAM_BUF = 64 * 1024
#: What the rest of the package ever reads from an sdist: selection.select
#: (setup.py, imported modules, package __init__.py, .pth, pyproject.toml for
#: in-tree backends) and metadata.metadata_from_sdist (PKG-INFO,
#: pyproject.toml, setup.cfg, setup.py), plus a wheel's METADATA. Only these
#: members' bytes are kept while the tar streams by; any other member is
#: read by a second pass when asked for.
RETAINED_SUFFIXES = (".py", ".pth", ".toml", ".cfg")
RETAINED_NAMES = frozenset({"PKG-INFO", "METADATA"})


def _retained(name: str) -> bool:
    """Whether a tar member's bytes are kept while streaming (see RETAINED_SUFFIXES)."""
    return name.endswith(RETAINED_SUFFIXES) or posixpath.basename(name) in RETAINED_NAMES


class _Inflating(io.RawIOBase):
    """The inflated bytes of a .tar.gz/.tar.bz2/.tar.xz, produced a chunk at a time.

    The decompressor is never asked for more than the reader wants, so a
    bomb costs one chunk of memory, and the caps (MAX_UNPACKED, MAX_RATIO)
    are checked on the running total, so it fails as soon as it passes them.
    A stream that ends before its end marker is refused rather than read as
    a shorter, plausible tar; bytes after the compressed stream are ignored.
    """

    def __init__(self, data: bytes, filename: str, dec: _Decompressor) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._fed = 0
        self._dec = dec
        self.filename = filename
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def _input(self) -> bytes | memoryview:
        """What the decompressor has not taken yet, else the next slice of input."""
        dec = self._dec
        if isinstance(dec, (bz2.BZ2Decompressor, lzma.LZMADecompressor)):
            if not dec.needs_input:
                return b""  # it holds input of its own
        elif dec.unconsumed_tail:
            return dec.unconsumed_tail
        chunk = self._data[self._fed : self._fed + _FEED]
        self._fed += len(chunk)
        return chunk

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()  # in chunks, so the caps still apply as it grows
        while size and not self._dec.eof:
            inp = self._input()
            try:
                out = self._dec.decompress(inp, size)
            except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise ArchiveError(f"{self.filename}: corrupt compressed stream ({exc})") from exc
            self.inflated += len(out)
            bomb = _bomb(self.filename, self.inflated, len(self._data))
            if bomb is not None:
                raise bomb
            if out:
                return out
            if not len(inp) and self._fed >= len(self._data) and not self._dec.eof:
                raise ArchiveError(f"{self.filename}: compressed stream is truncated")
        return b""

    def drain(self) -> None:
        """Inflate the rest (the tar's padding), so a cut or oversized stream is refused."""
        while self.read(1 << 16):
            pass


def _decompressor(data: bytes) -> _Decompressor | None:
    """The decompressor for a compressed tar's magic bytes; None for a plain tar."""
    if data[:2] == b"\x1f\x8b":
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if data[:3] == b"BZh":
        return bz2.BZ2Decompressor()
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMADecompressor()
    return None


#: What tarfile raises on a hostile or corrupt tar.
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError)


class TarTree(Tree):
    """An sdist as .tar.gz / .tar.bz2 / .tar.xz / .tar.

    The tar is read in one streaming pass and never held inflated: the
    member list is kept, and the bytes of the members a scan can want
    (`_retained`) up to MAX_MEMBER each. A 30 MB scientific sdist inflates
    to 100+ MB of mostly data and C sources, and holding it all while the
    package is scored set the process's peak memory.
    """

    def __init__(self, data: bytes, filename: str) -> None:
        self.filename = filename
        self._data = data
        self._files: dict[str, int] = {}  # name -> position in the stream, for a second pass
        self._links: dict[str, None] = {}  # an ordered set
        self._kept: dict[str, bytes] = {}
        try:
            stream, inflating = self._open()
            with stream as tar:
                for i, m in enumerate(tar):  # iterate, so a header flood stops at the limit
                    if i >= MAX_MEMBERS:
                        raise ArchiveError(f"{filename}: over {MAX_MEMBERS} members")
                    if inflating is not None:  # tar.offset: inflated bytes up to the next header
                        bomb = _bomb(filename, tar.offset, len(data))
                        if bomb is not None:
                            raise bomb
                    self._add(tar, m, i)
            if inflating is not None:
                inflating.drain()
        except _TAR_ERRORS as exc:
            raise ArchiveError(f"{filename}: not a readable tar archive ({exc})") from exc

    def _open(self) -> tuple[tarfile.TarFile, _Inflating | None]:
        dec = _decompressor(self._data)
        inflating = None if dec is None else _Inflating(self._data, self.filename, dec)
        fileobj = io.BytesIO(self._data) if inflating is None else inflating
        return tarfile.open(fileobj=fileobj, mode="r|", bufsize=_STREAM_BUF), inflating

    def _add(self, tar: tarfile.TarFile, m: tarfile.TarInfo, index: int) -> None:
        name = _check_name(m.name)
        if m.ischr() or m.isblk() or m.isfifo():
            raise ArchiveError(f"{self.filename}: device or fifo member {m.name!r}")
        # A later entry replaces an earlier one of the same name, as on extraction.
        self._files.pop(name, None)
        self._links.pop(name, None)
        self._kept.pop(name, None)
        if m.issym() or m.islnk():
            self._links[name] = None  # never followed, never read
        elif m.isfile():  # (tarfile itself refuses a member cut short by the stream's end)
            self._files[name] = index
            if _retained(name):
                self._kept[name] = self._member_bytes(tar, m)

    def names(self) -> list[str]:
        return list(self._files)

    def links(self) -> list[str]:
        return list(self._links)

    def read(self, name: str) -> bytes:
        index = self._files[name]
        kept = self._kept.get(name)
        if kept is not None:
            return kept[:MAX_MEMBER]
        # Not kept (no scan reads such a member): stream again up to it.
        try:
            stream, _ = self._open()
            with stream as tar:
                for i, m in enumerate(tar):
                    if i == index:
                        return self._member_bytes(tar, m)
        except _TAR_ERRORS as exc:
            raise ArchiveError(f"{self.filename}: cannot read {name} ({exc})") from exc
        raise ArchiveError(f"{self.filename}: cannot read {name} (gone on a second pass)")

    def _member_bytes(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> bytes:
        """The first MAX_MEMBER bytes of the member a stream is at (stream mode reads no other)."""
        fh = tar.extractfile(m)
        if fh is None:
            raise ArchiveError(f"{self.filename}: cannot read {m.name}")
        return fh.read(min(m.size, MAX_MEMBER))  # read(n) allocates n bytes up front


#: What zipfile raises on hostile or corrupt input (measured by fuzzing):
#: encrypted members raise RuntimeError, bad headers ValueError ("negative
#: seek"), unknown versions NotImplementedError, cut streams EOFError.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class ZipTree(Tree):
    """A wheel, or an sdist shipped as .zip."""

    def __init__(self, data: bytes, filename: str) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise ArchiveError(f"{filename}: not a readable zip archive ({exc})") from exc
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(f"{filename}: {len(infos)} members, over the limit")
        # zipfile never yields more than a member's declared size (it stops
        # there and fails the CRC), so the declared sizes bound the real ones.
        bomb = _bomb(filename, sum(i.file_size for i in infos), len(data))
        if bomb is not None:
            raise bomb
        self._files: dict[str, zipfile.ZipInfo] = {}
        self._links: list[str] = []
        for info in infos:
            name = _check_name(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                self._links.append(name)  # its "content" is the target path: never read
                continue
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                continue  # unzip tools do not create devices; the entry is simply skipped
            self._files[name] = info
        self.filename = filename

    def names(self) -> list[str]:
        return list(self._files)

    def links(self) -> list[str]:
        return list(self._links)

    def read(self, name: str) -> bytes:
        info = self._files[name]
        try:
            with self._zip.open(info) as fh:
                return fh.read(MAX_MEMBER)
        except _ZIP_ERRORS as exc:
            raise ArchiveError(f"{self.filename}: cannot read {name} ({exc})") from exc


#: Folders of a working tree that are never part of a package.
_SKIP_DIRS = frozenset({".git", ".hg", ".tox", ".venv", "node_modules"})


class DirTree(Tree):
    """An unpacked package folder (for `scan`). Symlinks are not followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: list[str] = []
        self._links: list[str] = []
        for path in sorted(root.rglob("*")):  # rglob does not descend into linked dirs
            if len(self._files) > MAX_MEMBERS:
                raise ArchiveError(f"{root}: too many files")
            rel = path.relative_to(root).as_posix()
            if any(part in _SKIP_DIRS for part in rel.split("/")):
                continue
            if path.is_symlink():
                self._links.append(rel)
            elif path.is_file():  # not a device, fifo or socket
                self._files.append(rel)
        self._known = set(self._files)

    def names(self) -> list[str]:
        return list(self._files)

    def links(self) -> list[str]:
        return list(self._links)

    def read(self, name: str) -> bytes:
        if name not in self._known:
            raise KeyError(name)
        try:  # O_NOFOLLOW: a file swapped for a link since listing is refused, not followed
            fd = os.open(self.root / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fh:
                return fh.read(MAX_MEMBER)
        except OSError as exc:
            raise ArchiveError(f"{self.root}: cannot read {name} ({exc})") from exc


class MemoryTree(Tree):
    """Files already held in memory, name -> bytes (e.g. one sample of a corpus
    archive read as text), so training picks files with the same
    `selection.select` the gate uses at check time."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._data = {_check_name(n): b for n, b in files.items()}

    def names(self) -> list[str]:
        return list(self._data)

    def read(self, name: str) -> bytes:
        return self._data[name][:MAX_MEMBER]


def open_tree(data: bytes, filename: str) -> Tree:
    """Pick the reader by content, not by trusting the file extension."""
    if data[:4] == b"PK\x03\x04" or filename.endswith((".whl", ".zip")):
        return ZipTree(data, filename)
    return TarTree(data, filename)


def decode(data: bytes) -> str:
    """Source bytes to text: honour a BOM or PEP 263 cookie, fall back to latin-1.

    Never fails: undecodable input still becomes text the analysis can see.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # bad cookie, BOM plus a different cookie, or non-UTF-8 first lines
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):  # LookupError: a cookie naming a non-text codec
        return data.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
