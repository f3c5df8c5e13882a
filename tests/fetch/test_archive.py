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
from collections.abc import Callable
from pathlib import Path

import pytest

from mphunter_gate import select as selection
from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch import archive
from mphunter_gate.fetch.archive import DirTree, TarTree, ZipTree, decode, open_tree
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


def test_member_read_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER", 10)
    for data, fname in (
        (_tar([("a/big.py", b"x" * 100)], "gz"), "a.tar.gz"),
        (_zip({"a/big.py": b"x" * 100}), "a.zip"),
    ):
        assert open_tree(data, fname).read("a/big.py") == b"x" * 10


def test_later_member_of_same_name_wins() -> None:
    data = _tar([("a/setup.py", b"first\n"), ("a/setup.py", b"second\n")], "gz")
    assert open_tree(data, "a.tar.gz").read("a/setup.py") == b"second\n"


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
    blob = random.Random(8).randbytes(archive.MAX_MEMBER + 4096)
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
    assert tree.read("a-1.0/blob.bin") == blob[: archive.MAX_MEMBER]  # the later entry, capped
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


def test_tar_symlink_named_setup_py_is_not_followed() -> None:
    data = _tar(
        [
            ("demo-1.0/hidden.py", b"import os\nos.system('x')\n"),
            _special("demo-1.0/setup.py", tarfile.SYMTYPE, "hidden.py"),
            _special("demo-1.0/passwd.py", tarfile.SYMTYPE, "/etc/passwd"),
            _special("demo-1.0/hard.py", tarfile.LNKTYPE, "demo-1.0/hidden.py"),
        ],
        "gz",
    )
    tree = open_tree(data, "demo-1.0.tar.gz")
    assert tree.names() == ["demo-1.0/hidden.py"]
    assert sorted(tree.links()) == ["demo-1.0/hard.py", "demo-1.0/passwd.py", "demo-1.0/setup.py"]
    for link in tree.links():
        with pytest.raises(KeyError):
            tree.read(link)


def test_zip_symlink_is_listed_as_link_not_file() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("demo/setup.py")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
        zf.writestr("demo/__init__.py", "A = 1\n")
    tree = open_tree(buf.getvalue(), "demo.zip")
    assert tree.names() == ["demo/__init__.py"]
    assert tree.links() == ["demo/setup.py"]


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_members_are_refused(kind: bytes) -> None:
    dev = _special("demo-1.0/setup.py", kind)
    dev.devmajor, dev.devminor = 1, 3
    with pytest.raises(ArchiveError, match="device or fifo"):
        open_tree(_tar([("demo-1.0/PKG-INFO", b"x"), dev], "gz"), "demo-1.0.tar.gz")


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
