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
import posixpath
import stat
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
        """The first MAX_MEMBER bytes of one regular file."""


def _check_name(name: str) -> str:
    norm = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or norm == ".." or norm.startswith("../") or ":" in norm[:3]:
        raise ArchiveError(f"member {name!r} would escape the archive")
    return norm


def _inflate(data: bytes, filename: str) -> bytes:
    """Decompress a .tar.gz/.tar.bz2/.tar.xz stream in memory, under MAX_UNPACKED."""
    if data[:2] == b"\x1f\x8b":
        dec: object = zlib.decompressobj(zlib.MAX_WBITS | 32)
    elif data[:3] == b"BZh":
        dec = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00":
        dec = lzma.LZMADecompressor()
    else:
        return data  # plain tar
    try:
        raw = dec.decompress(data, max_length=MAX_UNPACKED + 1)  # type: ignore[attr-defined]
    except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
        raise ArchiveError(f"{filename}: corrupt compressed stream ({exc})") from exc
    if len(raw) > MAX_UNPACKED:
        raise ArchiveError(f"{filename}: inflates past {MAX_UNPACKED >> 20} MiB (decompression bomb?)")
    return bytes(raw)


class TarTree(Tree):
    """An sdist as .tar.gz / .tar.bz2 / .tar.xz / .tar."""

    def __init__(self, data: bytes, filename: str) -> None:
        raw = _inflate(data, filename)
        self._files: dict[str, tarfile.TarInfo] = {}
        try:
            self._tar = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
            members = self._tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ArchiveError(f"{filename}: not a readable tar archive ({exc})") from exc
        if len(members) > MAX_MEMBERS:
            raise ArchiveError(f"{filename}: {len(members)} members, over the limit")
        for m in members:
            name = _check_name(m.name)
            if m.ischr() or m.isblk() or m.isfifo():
                raise ArchiveError(f"{filename}: device or fifo member {m.name!r}")
            if m.isfile():
                self._files[name] = m
            # symlinks and hard links are never followed: they are simply not files here
        self.filename = filename

    def names(self) -> list[str]:
        return list(self._files)

    def read(self, name: str) -> bytes:
        fh = self._tar.extractfile(self._files[name])
        if fh is None:
            raise ArchiveError(f"{self.filename}: cannot read {name}")
        return fh.read(MAX_MEMBER)


class ZipTree(Tree):
    """A wheel, or an sdist shipped as .zip."""

    def __init__(self, data: bytes, filename: str) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ArchiveError(f"{filename}: not a readable zip archive ({exc})") from exc
        if len(infos) > MAX_MEMBERS:
            raise ArchiveError(f"{filename}: {len(infos)} members, over the limit")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED or (
            total > MAX_RATIO_FLOOR and total > MAX_RATIO * max(len(data), 1)
        ):
            raise ArchiveError(f"{filename}: declares {total} inflated bytes (decompression bomb?)")
        self._files: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = _check_name(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                continue  # a link or device recorded in a zip is never followed
            self._files[name] = info
        self.filename = filename

    def names(self) -> list[str]:
        return list(self._files)

    def read(self, name: str) -> bytes:
        try:
            with self._zip.open(self._files[name]) as fh:
                return fh.read(MAX_MEMBER)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
            raise ArchiveError(f"{self.filename}: cannot read {name} ({exc})") from exc


class DirTree(Tree):
    """An unpacked package folder (for `scan`). Symlinks are not followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: list[str] = []
        for path in sorted(root.rglob("*")):
            if len(self._files) > MAX_MEMBERS:
                raise ArchiveError(f"{root}: too many files")
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if any(part in {".git", ".hg", ".tox", ".venv", "node_modules"} for part in rel.split("/")):
                continue
            self._files.append(rel)

    def names(self) -> list[str]:
        return self._files

    def read(self, name: str) -> bytes:
        with (self.root / name).open("rb") as fh:
            return fh.read(MAX_MEMBER)


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
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")
