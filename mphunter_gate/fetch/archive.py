"""Safe, bounded, in-memory reading of sdists, wheels and unpacked folders.

Every archive is hostile until proven otherwise, and what matters is what
pip would put on disk, so each reader reproduces pip's unpacking without
running or writing anything: compressed streams are inflated in memory, a
chunk at a time and across every concatenated member, under a hard size cap
(a decompression bomb fails fast, and an sdist is never held inflated whole);
a tar's members are replayed against a model of the folder pip's extraction
leaves (repeated names, links inside the package folder, files written
through links); a zip entry is the regular file pip writes, whatever its
mode bits say. Member names that would leave the archive (`../`, absolute
paths) make the whole archive unreadable, and text is decoded leniently.
Problems raise `ArchiveError`, which makes one package `unscanned` and
never stops the run.
"""

from __future__ import annotations

import bz2
import io
import lzma
import os
import posixpath
import struct
import tarfile
import tokenize
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from mphunter_gate.errors import ArchiveError

#: Largest total of inflated bytes we accept for one archive.
MAX_UNPACKED = 256 * 1024 * 1024
#: Inflated/compressed ratio above which an archive is treated as a bomb
#: (only checked past MAX_RATIO_FLOOR, since tiny text files compress well).
MAX_RATIO = 200
MAX_RATIO_FLOOR = 16 * 1024 * 1024
#: Largest single file `read()` returns. A larger one makes `read()` raise
#: ArchiveError: a prefix would let a payload hide past the cut, and no
#: install-time script is anywhere near this size.
MAX_MEMBER = 64 * 1024 * 1024
MAX_MEMBERS = 50_000


class Tree(ABC):
    """A read-only view of a package's files, whatever holds them."""

    @abstractmethod
    def names(self) -> list[str]:
        """Regular files, as POSIX paths relative to the tree root.

        For an archive: every path at which pip's unpacking leaves a
        readable file, links that resolve to one included.
        """

    @abstractmethod
    def read(self, name: str) -> bytes:
        """The whole content of one regular file, as pip would leave it.

        Raises KeyError for a name `names()` does not list, ArchiveError when
        the bytes cannot be read or the file is over MAX_MEMBER (never a
        prefix: a payload must not hide past a cut).
        """

    def prefetch(self, names: list[str]) -> None:
        """Make the next `read` of each of `names` cheap, where reading them one at a
        time would not be (a streamed tar): a hint, with no effect on what is read."""
        del names  # random-access trees read any member cheaply

    def links(self) -> list[str]:
        """Links that cannot be read: their target leaves the package folder,
        is missing, is a folder, or loops.

        Listed so that a caller can refuse a package whose setup.py (or
        other install-time file) is such a link rather than silently miss it.
        """
        return []

    def duplicates(self) -> list[str]:
        """Names that appear more than once in the archive, in any role.

        Only one of the entries is what lands on disk (`read()` gives that
        one); the repetition itself is evidence a caller may report, since
        packaging tools never write it.
        """
        return []


def _check_name(name: str) -> str:
    norm = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or norm == ".." or norm.startswith("../") or ":" in norm[:3]:
        raise ArchiveError(f"member {name!r} would escape the archive")
    return norm


def _over_cap(filename: object, name: str, size: int) -> ArchiveError:
    """The error for a file too large to read whole (see MAX_MEMBER)."""
    return ArchiveError(
        f"{filename}: {name} is {size} bytes, over the {MAX_MEMBER >> 20} MiB cap"
        " for one file (not read, rather than read in part)"
    )


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

#: Compressed bytes handed to the decompressor at a time while streaming:
#: what the stdlib readers (`_compression.DecompressReader`, GzipFile) read
#: at a time, so a new bz2/xz stream starts on the same block as pip's.
_FEED = io.DEFAULT_BUFFER_SIZE
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
_GZIP_MAGIC = b"\x1f\x8b"


def _retained(name: str) -> bool:
    """Whether a tar member's bytes are kept while streaming (see RETAINED_SUFFIXES)."""
    return name.endswith(RETAINED_SUFFIXES) or posixpath.basename(name) in RETAINED_NAMES


def _compression(data: bytes) -> str | None:
    """A compressed tar's kind ("gz", "bz2", "xz") from its magic bytes; None for a plain tar."""
    if data[:2] == _GZIP_MAGIC:
        return "gz"
    if data[:3] == b"BZh":
        return "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


class _Inflating(io.RawIOBase):
    """The inflated bytes of a .tar.gz/.tar.bz2/.tar.xz, produced a chunk at a time.

    pip reads an sdist through gzip.GzipFile / bz2.BZ2File / lzma.LZMAFile,
    which go on past the end of the first compressed member into the next,
    so a tar can be split across members; this reads every member the same
    way, or a later one could override files unseen. After a gzip member,
    zero padding is skipped and anything else must start a new member
    (GzipFile raises BadGzipFile otherwise); after a bz2/xz stream, bytes
    that do not start a valid stream end the data, as `DecompressReader`
    ignores them.

    The decompressor is never asked for more than the reader wants, so a
    bomb costs one chunk of memory, and the caps (MAX_UNPACKED, MAX_RATIO)
    are checked on the running total over all members, so it fails as soon
    as it passes them. A stream that ends before its end marker is refused
    rather than read as a shorter, plausible tar.
    """

    def __init__(self, data: bytes, filename: str, kind: str) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._fed = 0
        self._kind = kind
        self._dec = self._new_decompressor()
        self._ended = False
        self.filename = filename
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def _new_decompressor(self) -> _Decompressor:
        if self._kind == "gz":
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        if self._kind == "bz2":
            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor()

    def _chunk(self) -> memoryview:
        """The next slice of compressed input (empty at its end)."""
        chunk = self._data[self._fed : self._fed + _FEED]
        self._fed += len(chunk)
        return chunk

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()  # in chunks, so the caps still apply as it grows
        while size and not self._ended:
            try:
                out = self._step(size)
            except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise ArchiveError(f"{self.filename}: corrupt compressed stream ({exc})") from exc
            self.inflated += len(out)
            bomb = _bomb(self.filename, self.inflated, len(self._data))
            if bomb is not None:
                raise bomb
            if out:
                return out
        return b""

    def _step(self, size: int) -> bytes:
        """One call of the decompressor, or a move on to the next member."""
        dec = self._dec
        if dec.eof:
            return self._next_member(size)
        if isinstance(dec, (bz2.BZ2Decompressor, lzma.LZMADecompressor)):
            starving = dec.needs_input
            inp: bytes | memoryview = self._chunk() if starving else b""
        else:
            inp = dec.unconsumed_tail or self._chunk()
            starving = True
        out = dec.decompress(inp, size)
        if not out and not len(inp) and starving and not dec.eof:
            raise ArchiveError(f"{self.filename}: compressed stream is truncated")
        return out

    def _next_member(self, size: int) -> bytes:
        """After the end of one member: start the next, or end the data."""
        if isinstance(self._dec, (bz2.BZ2Decompressor, lzma.LZMADecompressor)):
            # As _compression.DecompressReader: what the stream left over, else the next block.
            raw = self._dec.unused_data or self._chunk()
            if not raw:
                self._ended = True
                return b""
            self._dec = self._new_decompressor()
            trailing = OSError if self._kind == "bz2" else lzma.LZMAError
            try:
                return self._dec.decompress(raw, size)
            except trailing:  # not a compressed stream: trailing bytes, ignored
                self._ended = True
                return b""
        # gzip, as GzipFile: zero padding may follow a member; anything else is a member.
        pos = self._fed - len(self._dec.unused_data)
        while pos < len(self._data):
            block = bytes(self._data[pos : pos + _FEED])
            rest = block.lstrip(b"\0")
            pos += len(block) - len(rest)
            if rest:
                break
        if pos >= len(self._data):
            self._ended = True
            return b""
        if bytes(self._data[pos : pos + 2]) != _GZIP_MAGIC:
            raise ArchiveError(
                f"{self.filename}: bytes after a gzip member are not another member"
                " (pip's gzip reader refuses them)"
            )
        self._fed = pos
        self._dec = self._new_decompressor()
        return b""

    def drain(self) -> None:
        """Inflate the rest (padding, later members), so a cut or oversized stream is refused."""
        while self.read(1 << 16):
            pass


#: What tarfile raises on a hostile or corrupt tar.
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError)


# -- the folder pip's tar extraction leaves ----------------------------------------------------


def _split_leading_dir(path: str) -> tuple[str, str]:
    """pip's `split_leading_dir` (pip._internal.utils.unpacking): first element, rest.

    Reimplemented, not imported: the gate does not depend on pip's internals.
    """
    path = path.lstrip("/").lstrip("\\")
    if "/" in path and (("\\" in path and path.find("/") < path.find("\\")) or "\\" not in path):
        lead, _, rest = path.partition("/")
    elif "\\" in path:
        lead, _, rest = path.partition("\\")
    else:
        lead, rest = path, ""
    return lead, rest


def _leading_dir(names: Iterable[str]) -> str | None:
    """pip's `has_leading_dir`: the one top folder every member shares, else None.

    pip strips it from member names and from hard-link targets before
    extracting, so link targets and "inside the destination" are relative
    to it.
    """
    common = None
    for name in names:
        lead, _ = _split_leading_dir(name)
        if not lead or (common is not None and lead != common):
            return None
        common = lead
    return common


def _parts(path: str) -> list[str]:
    """A path's elements; backslashes count as separators, as in `_check_name`."""
    return path.replace("\\", "/").split("/")


@dataclass(frozen=True, slots=True)
class _Member:
    """What the extraction model needs of one tar member (its bytes stay in the tar)."""

    index: int  # position in the stream
    kind: str  # "file", "dir", "sym" or "hard"
    raw: str  # the name as stored (pip strips its leading folder from this)
    name: str  # normalised by _check_name
    linkname: str
    size: int


class _Dir:
    """A folder in the extraction model."""


_DIR = _Dir()


@dataclass(frozen=True, slots=True)
class _Sym:
    """A symbolic link in the extraction model: its text, relative to its folder."""

    target: str


#: A path's entry: a file (an inode number, shared by hard links), a link, a folder.
_Node: TypeAlias = "int | _Sym | _Dir"


class _Unreachable(Exception):
    """A path the OS cannot walk: a loop of links, or `..` / a trailing slash after a
    folder that does not exist or is a file."""


class _Outside(_Unreachable):
    """A path that leaves the package folder (pip's data filter refuses it)."""


#: Symbolic links followed while resolving one path, as Linux (MAXSYMLINKS).
_MAX_HOPS = 40
#: Path elements walked over a whole archive, so a maze of links fails fast.
_MAX_STEPS = 2_000_000


class _Extraction:
    """The folder `tarfile.extractall(filter="data")` leaves, as pip calls it.

    Replays the members in order against a model of the destination,
    without writing anything: the leading folder is stripped as pip strips
    it; a regular file is opened for writing through whatever link or hard
    link already sits at its path (so it rewrites the link's target); a
    folder never replaces anything; a symbolic link replaces a file or link;
    a hard link shares its target's inode, or, when its target cannot be
    reached on disk, is tarfile's copy of the last earlier member of that
    name. Python's tarfile (3.11.4+ and 3.12, pip's data filter) behaves
    this way; tests/fetch/test_unpack_differential.py checks it against
    pip. Where pip fails (a member outside the destination, a file over a
    folder or under a file) this raises ArchiveError, or, for links pip
    would refuse or skip, leaves them unreadable or out; where Python
    versions or platforms disagree on the outcome (a hard link over an
    existing name, to a symbolic link, to a hard link) it raises too, so
    the package fails closed rather than be read one way of several.
    """

    def __init__(self, filename: str, lead: str | None) -> None:
        self.filename = filename
        self.lead = lead
        self.root = "" if lead in (None, ".") else str(lead)
        self.nodes: dict[str, _Node] = {}
        self.inodes: list[int] = []  # inode -> index of the member whose bytes it holds
        self.dead: dict[str, None] = {}  # hard links pip cannot make
        self.last_named: dict[str, _Member] = {}  # by pip's name: tarfile's fallback lookup
        self.symlinks = False  # until one exists, a path is only its elements
        self.steps = 0

    def name(self, path: str) -> str:
        """The Tree name of a path inside the destination (the leading folder put back)."""
        if not self.root:
            return path
        return f"{self.root}/{path}" if path else self.root

    def resolve(self, parts: list[str], follow_last: bool = True, strict: bool = False) -> str:
        """The real path the OS reaches for `parts`, following links as it goes.

        `strict` for a lookup (open, stat, link): `..` and a trailing slash
        need the folder before them to exist, as the OS does. Without it,
        `..` is lexical, as in a member's folder, which os.makedirs creates
        on the way.
        """
        if not self.symlinks and not strict and ".." not in parts:
            return "/".join(p for p in parts if p not in ("", "."))
        out = ""
        todo = list(reversed(parts))
        hops = 0
        while todo:
            part = todo.pop()
            self.steps += 1
            if self.steps > _MAX_STEPS:
                raise ArchiveError(f"{self.filename}: too many path elements behind its links")
            if part in ("", ".", ".."):
                if strict and out and not isinstance(self.nodes.get(out), _Dir):
                    raise _Unreachable("its path goes through a missing folder or a file")
                if part != "..":
                    continue
                if not out:
                    raise _Outside("its path leaves the package folder")
                out = out.rpartition("/")[0]
                continue
            path = f"{out}/{part}" if out else part
            node = self.nodes.get(path)
            if isinstance(node, _Sym) and (todo or follow_last):
                hops += 1
                if hops > _MAX_HOPS:
                    raise _Unreachable("its path goes through a loop of links")
                if node.target.startswith(("/", "\\")):
                    raise _Outside("its path goes through a link to an absolute path")
                todo.extend(reversed(_parts(node.target)))
                continue
            out = path
        return out

    def _reach(self, parts: list[str], m: _Member, strict: bool = False) -> str:
        """`resolve` for a path pip writes to: unreachable means pip fails."""
        try:
            return self.resolve(parts, strict=strict)
        except _Unreachable as exc:
            raise ArchiveError(f"{self.filename}: pip cannot extract {m.raw!r}: {exc}") from None

    def _make_parents(self, folder: str) -> str | None:
        """os.makedirs of a member's (resolved) folder; the file in the way, if any."""
        if not folder or isinstance(self.nodes.get(folder), _Dir):
            return None  # a folder's own folders exist already
        prefix = ""
        for part in folder.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            if not isinstance(self.nodes.setdefault(prefix, _DIR), _Dir):
                return prefix
        return None

    def add(self, m: _Member) -> None:
        """Extract one member into the model, as tarfile would."""
        rest = _split_leading_dir(m.raw)[1] if self.lead is not None else m.raw
        parts = _parts(rest)
        while parts and parts[-1] == "":  # tarfile strips a trailing slash
            parts.pop()
        base = parts[-1] if parts else ""
        link = m.kind in ("sym", "hard")
        if base in ("", ".", ".."):
            if m.kind == "file":
                raise ArchiveError(f"{self.filename}: {m.raw!r} names a folder, not a file")
            # A folder that exists already; or a link tarfile cannot make there: pip
            # skips it (tarfile's ExtractError is not fatal) or fails.
            return
        folder = self._reach(parts[:-1], m)
        in_the_way = self._make_parents(folder)
        if in_the_way is not None:
            if link:
                return  # as above: skipped, or pip fails
            raise ArchiveError(f"{self.filename}: {m.raw!r} is under {in_the_way!r}, a file")
        path = f"{folder}/{base}" if folder else base
        self.dead.pop(path, None)
        if m.kind == "file":
            self._file(path, m.index, m)
        elif m.kind == "dir":
            self.nodes.setdefault(path, _DIR)  # mkdir over anything existing is a no-op
        elif m.kind == "sym":
            self._symlink(path, m.linkname)
        else:
            self._hard_link(path, m)
        self.last_named[posixpath.normpath(rest)] = m

    def _file(self, path: str, index: int, m: _Member) -> None:
        """open(path, "wb"): through a link at `path`, onto the inode already there."""
        node = self.nodes.get(path)
        if isinstance(node, _Sym):
            path = self._reach(path.split("/"), m, strict=True)
            folder = path.rpartition("/")[0]
            if folder and not isinstance(self.nodes.get(folder), _Dir):
                raise ArchiveError(f"{self.filename}: {m.raw!r} is a link into a missing folder")
            node = self.nodes.get(path)
        if not path or isinstance(node, _Dir):
            raise ArchiveError(f"{self.filename}: {m.raw!r} is a file over a folder")
        if isinstance(node, int):
            self.inodes[node] = index  # rewritten in place: its hard links change with it
        else:
            self.nodes[path] = len(self.inodes)
            self.inodes.append(index)

    def _symlink(self, path: str, target: str) -> None:
        """os.symlink after unlinking what is there; a folder cannot be unlinked and stays."""
        if not isinstance(self.nodes.get(path), _Dir):
            # A target outside the package makes pip fail; kept, it stays an unreadable link.
            self.nodes[path] = _Sym(target)
            self.symlinks = True

    def _hard_link(self, path: str, m: _Member) -> None:
        """os.link to the target's inode, or tarfile's fallback copy of an earlier member."""
        target = m.linkname
        if self.lead is not None:  # pip strips the leading folder from link targets too
            link_lead, link_rest = _split_leading_dir(target)
            if link_lead == self.lead:
                target = link_rest
        if target.startswith(("/", "\\")):
            self.dead[path] = None  # the data filter refuses it: pip fails
            return
        try:
            at = self.resolve(_parts(target), follow_last=False, strict=True)
            real = self.resolve(_parts(target), strict=True)
            exists = not real or real in self.nodes  # os.path.exists(target)
        except _Outside:
            self.dead[path] = None  # the data filter refuses it: pip fails
            return
        except _Unreachable:
            at, exists = "", False  # os.path.exists says no: tarfile's fallback below
        if exists:
            node = self.nodes.get(at)
            if path in self.nodes:
                raise ArchiveError(
                    f"{self.filename}: hard link {m.raw!r} over an existing name"
                    " (Python versions unpack it differently)"
                )
            if isinstance(node, _Sym):
                raise ArchiveError(
                    f"{self.filename}: hard link {m.raw!r} to a symbolic link"
                    " (platforms unpack it differently)"
                )
            if isinstance(node, int):
                self.nodes[path] = node
                return
        # Missing, or a folder: tarfile extracts the last earlier member of that name instead.
        found = self.last_named.get(posixpath.normpath(target))
        if found is None or found.kind == "dir":
            self.dead[path] = None  # nothing readable (pip fails, or makes a folder)
        elif found.kind == "file":
            self._file(path, found.index, m)
        elif found.kind == "sym":
            self._symlink(path, found.linkname)
        else:
            raise ArchiveError(f"{self.filename}: hard link {m.raw!r} to a hard link")

    def result(self) -> tuple[dict[str, int], list[str]]:
        """Readable names -> index of the member holding their bytes; unreadable links."""
        content: dict[str, int] = {}
        links: dict[str, None] = {}
        for path, node in self.nodes.items():
            if isinstance(node, _Sym):
                try:
                    target = self.nodes.get(self.resolve(path.split("/"), strict=True))
                except _Unreachable:
                    target = None
                if isinstance(target, int):
                    content[self.name(path)] = self.inodes[target]
                else:  # leaves the package, loops, missing, or a folder
                    links[self.name(path)] = None
            elif isinstance(node, int):
                content[self.name(path)] = self.inodes[node]
        for path in self.dead:
            if path not in self.nodes:
                links[self.name(path)] = None
        return content, list(links)


class TarTree(Tree):
    """An sdist as .tar.gz / .tar.bz2 / .tar.xz / .tar, read as pip unpacks it.

    The tar is read in one streaming pass and never held inflated: the
    member list is kept, and the bytes of the members a scan can want
    (`_retained`) up to MAX_MEMBER each. A 30 MB scientific sdist inflates
    to 100+ MB of mostly data and C sources, and holding it all while the
    package is scored set the process's peak memory. The members are then
    replayed by `_Extraction`, so `names()`/`read()` describe the folder pip
    would leave, links that stay inside it included.
    """

    def __init__(self, data: bytes, filename: str) -> None:
        self.filename = filename
        self._data = data
        members: list[_Member] = []
        kept: dict[int, bytes] = {}  # member index -> bytes
        last_file: dict[str, int] = {}
        seen: set[str] = set()
        self._duplicates: dict[str, None] = {}
        links_seen = False
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
                    member = self._member(m, i)
                    members.append(member)
                    if member.name in seen:
                        self._duplicates[member.name] = None
                    seen.add(member.name)
                    if member.kind in ("sym", "hard"):
                        links_seen = True
                    elif member.kind == "file":
                        # With no link yet, a later file of the same name overwrites the
                        # earlier one's inode: its bytes can no longer be read.
                        earlier = last_file.get(member.name)
                        if earlier is not None and not links_seen:
                            kept.pop(earlier, None)
                        last_file[member.name] = i
                        if _retained(member.name) and m.size <= MAX_MEMBER:
                            kept[i] = self._member_bytes(tar, m)
            if inflating is not None:
                inflating.drain()
        except _TAR_ERRORS as exc:
            raise ArchiveError(f"{filename}: not a readable tar archive ({exc})") from exc
        extraction = _Extraction(filename, _leading_dir(m.raw for m in members))
        for member in members:
            extraction.add(member)
        self._content, self._links = extraction.result()
        self._sizes = {i: members[i].size for i in set(self._content.values())}
        self._kept = {i: b for i, b in kept.items() if i in self._sizes}

    def _open(self) -> tuple[tarfile.TarFile, _Inflating | None]:
        kind = _compression(self._data)
        inflating = None if kind is None else _Inflating(self._data, self.filename, kind)
        fileobj = io.BytesIO(self._data) if inflating is None else inflating
        return tarfile.open(fileobj=fileobj, mode="r|", bufsize=_STREAM_BUF), inflating

    def _member(self, m: tarfile.TarInfo, index: int) -> _Member:
        """One member's header; devices, fifos and unknown types fail (pip's data filter
        refuses them, so the install fails)."""
        name = _check_name(m.name)
        if m.isfile():
            kind = "file"
        elif m.isdir():
            kind = "dir"
        elif m.issym():
            kind = "sym"
        elif m.islnk():
            kind = "hard"
        elif m.ischr() or m.isblk() or m.isfifo():
            raise ArchiveError(f"{self.filename}: device or fifo member {m.name!r}")
        else:
            raise ArchiveError(f"{self.filename}: member {m.name!r} of unknown type {m.type!r}")
        return _Member(index, kind, m.name, name, m.linkname, m.size)

    def names(self) -> list[str]:
        return list(self._content)

    def links(self) -> list[str]:
        return list(self._links)

    def duplicates(self) -> list[str]:
        return list(self._duplicates)

    def prefetch(self, names: list[str]) -> None:
        """Keep the bytes of `names` from one more pass over the stream, instead of a
        pass per member (code that reads hundreds of data files by a pattern)."""
        wanted = {self._content[n] for n in names if n in self._content}
        wanted = {i for i in wanted if i not in self._kept and self._sizes[i] <= MAX_MEMBER}
        if not wanted:
            return
        try:
            stream, _ = self._open()
            with stream as tar:
                for i, m in enumerate(tar):
                    if i in wanted:
                        self._kept[i] = self._member_bytes(tar, m)
                    if i >= max(wanted):
                        break
        except _TAR_ERRORS as exc:
            raise ArchiveError(f"{self.filename}: cannot read data files ({exc})") from exc

    def read(self, name: str) -> bytes:
        index = self._content[name]
        size = self._sizes[index]
        if size > MAX_MEMBER:
            raise _over_cap(self.filename, name, size)
        kept = self._kept.get(index)
        if kept is not None:
            return kept
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
        """All bytes of the member a stream is at (stream mode reads no other); its size
        is at most MAX_MEMBER (the callers check)."""
        fh = tar.extractfile(m)
        if fh is None:
            raise ArchiveError(f"{self.filename}: cannot read {m.name}")
        data = fh.read(m.size)  # read(n) allocates n bytes up front
        if len(data) != m.size:
            raise ArchiveError(f"{self.filename}: {m.name} is cut short")
        return data


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
    """A wheel, or an sdist shipped as .zip, read as pip writes it.

    pip's unzip (sdists) and its wheel installer write every entry whose
    name does not end in a slash as a regular file holding the entry's
    bytes: mode bits (symlink, device, fifo) are never honoured, so none of
    them is a link here and `links()` is empty. Of entries sharing a name,
    the last is what lands on disk (zipfile looks names up that way).
    """

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
        seen: set[str] = set()
        self._duplicates: dict[str, None] = {}
        # pip's unzip_file strips an sdist's leading folder (not a wheel's), then makes a
        # folder of every name that ends in a slash, or is left empty by the strip (the
        # name of the leading folder itself): it tests the name, never the mode.
        lead = None if filename.endswith(".whl") else _leading_dir(i.filename for i in infos)
        for info in infos:
            name = _check_name(info.filename)
            if name in seen:
                self._duplicates[name] = None
            seen.add(name)
            rest = info.filename if lead is None else _split_leading_dir(info.filename)[1]
            if not rest or rest.endswith(("/", "\\")):
                continue
            self._files.pop(name, None)
            self._files[name] = info  # the last entry of a name wins
        self.filename = filename

    def names(self) -> list[str]:
        return list(self._files)

    def duplicates(self) -> list[str]:
        return list(self._duplicates)

    def read(self, name: str) -> bytes:
        info = self._files[name]
        if info.file_size > MAX_MEMBER:
            raise _over_cap(self.filename, name, info.file_size)
        try:
            with self._zip.open(info) as fh:
                data = fh.read(MAX_MEMBER + 1)  # one more: a size that lies is caught
        except _ZIP_ERRORS as exc:
            raise ArchiveError(f"{self.filename}: cannot read {name} ({exc})") from exc
        if len(data) > MAX_MEMBER:
            raise _over_cap(self.filename, name, len(data))
        return data


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
                size = os.fstat(fh.fileno()).st_size
                data = b"" if size > MAX_MEMBER else fh.read(MAX_MEMBER + 1)
        except OSError as exc:
            raise ArchiveError(f"{self.root}: cannot read {name} ({exc})") from exc
        if size > MAX_MEMBER or len(data) > MAX_MEMBER:  # (it may grow as it is read)
            raise _over_cap(self.root, name, max(size, len(data)))
        return data


class MemoryTree(Tree):
    """Files already held in memory, name -> bytes (e.g. one sample of a corpus
    archive read as text), so training picks files with the same
    `selection.select` the gate uses at check time."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self._data = {_check_name(n): b for n, b in files.items()}

    def names(self) -> list[str]:
        return list(self._data)

    def read(self, name: str) -> bytes:
        data = self._data[name]
        if len(data) > MAX_MEMBER:
            raise _over_cap("memory", name, len(data))
        return data


def open_tree(data: bytes, filename: str) -> Tree:
    """Pick the reader by content, except where pip goes by the file's name.

    pip unpacks a `.zip`/`.whl` as a zip and a `.tar` as a tar whatever the
    content (case-insensitively), so a file that is both a zip and a tar is
    read the way pip reads it. Otherwise the content decides: pip fails on a
    mislabelled archive, and reading it anyway costs nothing.
    """
    lower = filename.lower()
    if lower.endswith(".tar") and data[:4] == b"PK\x03\x04":
        try:
            return TarTree(data, filename)
        except ArchiveError:
            pass  # not a tar: pip fails on it, and the zip it is can still be read
    if data[:4] == b"PK\x03\x04" or lower.endswith((".whl", ".zip")):
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
