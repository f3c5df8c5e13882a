"""Safe, bounded, in-memory reading of sdists, wheels and unpacked folders.

Every archive is hostile until proven otherwise. Nothing is ever written to
disk: compressed streams are inflated in memory under a hard size cap (a
decompression bomb fails fast), member names that would leave the archive
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


def _inflate(data: bytes, filename: str) -> bytes:
    """Decompress a .tar.gz/.tar.bz2/.tar.xz stream in memory, under MAX_UNPACKED.

    The decompressor is asked for at most MAX_UNPACKED + 1 bytes, so a bomb
    costs that much memory and no more. A stream that ends before its end
    marker is refused here rather than read as a shorter, plausible tar.
    """
    dec: zlib._Decompress | bz2.BZ2Decompressor | lzma.LZMADecompressor
    if data[:2] == b"\x1f\x8b":
        dec = zlib.decompressobj(zlib.MAX_WBITS | 16)
    elif data[:3] == b"BZh":
        dec = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00":
        dec = lzma.LZMADecompressor()
    else:
        return data  # plain tar
    try:
        raw = dec.decompress(data, max_length=MAX_UNPACKED + 1)
    except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
        raise ArchiveError(f"{filename}: corrupt compressed stream ({exc})") from exc
    bomb = _bomb(filename, len(raw), len(data))
    if bomb is not None:
        raise bomb
    if not dec.eof:
        raise ArchiveError(f"{filename}: compressed stream is truncated")
    return bytes(raw)


class TarTree(Tree):
    """An sdist as .tar.gz / .tar.bz2 / .tar.xz / .tar."""

    def __init__(self, data: bytes, filename: str) -> None:
        raw = _inflate(data, filename)
        self.filename = filename
        self._files: dict[str, tarfile.TarInfo] = {}
        self._links: dict[str, None] = {}  # an ordered set
        members: list[tarfile.TarInfo] = []
        try:
            self._tar = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")  # noqa: SIM115
            for m in self._tar:  # iterate, so a header flood stops at the limit
                members.append(m)
                if len(members) > MAX_MEMBERS:
                    raise ArchiveError(f"{filename}: over {MAX_MEMBERS} members")
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise ArchiveError(f"{filename}: not a readable tar archive ({exc})") from exc
        for m in members:
            name = _check_name(m.name)
            if m.ischr() or m.isblk() or m.isfifo():
                raise ArchiveError(f"{filename}: device or fifo member {m.name!r}")
            # A later entry replaces an earlier one of the same name, as on extraction.
            self._files.pop(name, None)
            self._links.pop(name, None)
            if m.issym() or m.islnk():
                self._links[name] = None  # never followed, never read
            elif m.isfile():  # (tarfile itself refuses a member cut short by the stream's end)
                self._files[name] = m

    def names(self) -> list[str]:
        return list(self._files)

    def links(self) -> list[str]:
        return list(self._links)

    def read(self, name: str) -> bytes:
        try:
            fh = self._tar.extractfile(self._files[name])
            if fh is None:
                raise ArchiveError(f"{self.filename}: cannot read {name}")
            return fh.read(MAX_MEMBER)
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise ArchiveError(f"{self.filename}: cannot read {name} ({exc})") from exc


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
    `install_time.select` the gate uses at check time."""

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
