"""Reading dependency metadata without running code: range requests, PEP 658, sdists, cache."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from mphunter_gate.errors import ArchiveError, PackageIndexError
from mphunter_gate.fetch.index import Index
from mphunter_gate.fetch.metadata import (
    DYNAMIC_NOTE,
    Metadata,
    MetadataReader,
    RemoteZip,
    _RemoteZipError,
    metadata_from_sdist,
)
from mphunter_gate.types import DistFile, FileKind
from tests.http_support import local_http

METADATA = (
    "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    "Requires-Python: >=3.8\n"
    "Requires-Dist: alpha>=1\n"
    'Requires-Dist: beta; extra == "fast"\n'
    "\n" + "A long description. " * 2000  # compresses well, inflates to ~40 KB
)


def build_wheel(filler_bytes: int = 0, members: int = 0, metadata: str = METADATA) -> bytes:
    """A wheel in memory; `filler_bytes` of incompressible data put before METADATA."""
    buf = io.BytesIO()
    rng = random.Random(1234)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("demo/__init__.py", "")
        if filler_bytes:
            zf.writestr(
                "demo/blob.bin", rng.randbytes(filler_bytes), compress_type=zipfile.ZIP_STORED
            )
        for i in range(members):
            zf.writestr(f"demo/data/file_with_a_long_name_{i:05d}.txt", "x")
        zf.writestr("demo-1.0.dist-info/METADATA", metadata)
        zf.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        zf.writestr("demo-1.0.dist-info/RECORD", "")
    return buf.getvalue()


@dataclass
class Served:
    """What the tiny range server holds and what it was asked for."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    bytes_sent: int = 0
    honour_range: bool = True


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = served.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            header = self.headers.get("Range")
            served.ranges.append(header)
            status, body = 200, data
            if header and served.honour_range:
                spec = header.removeprefix("bytes=")
                first, _, last = spec.partition("-")
                if first == "":
                    start, end = max(len(data) - int(last), 0), len(data) - 1
                else:
                    start = int(first)
                    end = min(int(last), len(data) - 1) if last else len(data) - 1
                status, body = 206, data[start : end + 1]
                self.send_response(status)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            else:
                self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(body)
            served.bytes_sent += len(body)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    served = Served()
    with local_http(_handler(served)) as url:
        yield url, served


def _dist_file(base: str, name: str, data: bytes, *, sized: bool = True) -> DistFile:
    return DistFile(
        filename=name,
        url=f"{base}/{name}",
        sha256=hashlib.sha256(data).hexdigest(),
        kind=FileKind.WHEEL if name.endswith(".whl") else FileKind.SDIST,
        size=len(data) if sized else None,
    )


# -- wheels by range request ---------------------------------------------------


def test_large_wheel_is_read_from_its_tail(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    wheel = build_wheel(filler_bytes=3_000_000, members=2000)
    served.files["/demo-1.0-py3-none-any.whl"] = wheel
    index = Index(base + "/simple", cache_dir=tmp_path)
    file = _dist_file(base, "demo-1.0-py3-none-any.whl", wheel)

    meta = MetadataReader(index).of_file(file)

    assert meta.source == "wheel"
    assert meta.requires_dist == ("alpha>=1", 'beta; extra == "fast"')
    assert meta.requires_python == ">=3.8"
    assert all(r is not None for r in served.ranges)  # never a plain full download
    assert served.ranges[0] == "bytes=-65536"
    assert served.bytes_sent < 200_000 < len(wheel)


def test_wheel_without_size_and_central_directory_outside_tail(
    server: tuple[str, Served], tmp_path: Path
) -> None:
    base, served = server
    wheel = build_wheel(filler_bytes=500_000, members=3000)  # central directory > 64 KiB
    served.files["/demo-1.0-py3-none-any.whl"] = wheel
    index = Index(base + "/simple", cache_dir=tmp_path)
    data = RemoteZip(index, f"{base}/demo-1.0-py3-none-any.whl", size=None).read_metadata()
    assert data.decode() == METADATA
    assert len(served.ranges) >= 3 and served.bytes_sent < len(wheel)


def test_small_wheel_costs_one_request(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    wheel = build_wheel()
    assert len(wheel) < 65536
    served.files["/demo-1.0-py3-none-any.whl"] = wheel
    index = Index(base + "/simple", cache_dir=tmp_path)
    data = RemoteZip(index, f"{base}/demo-1.0-py3-none-any.whl", size=len(wheel)).read_metadata()
    assert data.decode() == METADATA
    assert served.ranges == [f"bytes=-{len(wheel)}"]


def test_server_ignoring_range_still_works(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    served.honour_range = False
    wheel = build_wheel(filler_bytes=200_000)
    served.files["/demo-1.0-py3-none-any.whl"] = wheel
    index = Index(base + "/simple", cache_dir=tmp_path)
    meta = MetadataReader(index).of_file(_dist_file(base, "demo-1.0-py3-none-any.whl", wheel))
    assert meta.requires_dist == ("alpha>=1", 'beta; extra == "fast"')


def test_corrupt_wheel_is_an_explicit_gap(server: tuple[str, Served], tmp_path: Path) -> None:
    base, served = server
    junk = b"this is not a zip file" * 100
    served.files["/demo-1.0-py3-none-any.whl"] = junk
    index = Index(base + "/simple", cache_dir=tmp_path)
    file = _dist_file(base, "demo-1.0-py3-none-any.whl", junk)
    with pytest.raises(ArchiveError):
        MetadataReader(index).of_file(file)
    meta = MetadataReader(index).for_release([file])
    assert not meta.complete and meta.requires_dist == ()
    assert meta.notes and meta.notes[0].startswith("dependencies unresolved:")


# -- PEP 658 and the cache, with a counting fake index -------------------------


class CountingIndex:
    """Serves PEP 658 metadata and whole files from memory, counting every call."""

    def __init__(self, blobs: dict[str, bytes], metadata: dict[str, bytes] | None = None) -> None:
        self.blobs = blobs
        self.metadata = metadata or {}
        self.calls: list[str] = []

    def fetch(self, file: DistFile) -> bytes:
        self.calls.append(f"fetch {file.filename}")
        return self.blobs[file.filename]

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes:
        self.calls.append(f"range {url}")
        raise PackageIndexError("no ranges here")

    def fetch_metadata(self, file: DistFile) -> bytes | None:
        self.calls.append(f"metadata {file.filename}")
        return self.metadata.get(file.filename) if file.has_metadata else None


def test_pep658_file_is_used_when_advertised() -> None:
    pep658 = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: gamma\n"
    index = CountingIndex({}, {"demo-1.0-py3-none-any.whl": pep658})
    file = DistFile("demo-1.0-py3-none-any.whl", "u", "f" * 64, FileKind.WHEEL, has_metadata=True)
    meta = MetadataReader(index).of_file(file)
    assert meta == Metadata(("gamma",), None, "pep658")
    assert index.calls == ["metadata demo-1.0-py3-none-any.whl"]


def test_metadata_is_cached_by_sha256_on_disk(tmp_path: Path) -> None:
    wheel = build_wheel()
    file = DistFile(
        "demo-1.0-py3-none-any.whl", "u", hashlib.sha256(wheel).hexdigest(), FileKind.WHEEL
    )
    first = CountingIndex({file.filename: wheel})
    meta = MetadataReader(first, cache_dir=tmp_path).of_file(file)  # range fails -> full fetch
    assert meta.requires_dist == ("alpha>=1", 'beta; extra == "fast"')
    assert f"fetch {file.filename}" in first.calls

    second = CountingIndex({})
    again = MetadataReader(second, cache_dir=tmp_path).of_file(file)
    assert again == meta
    assert second.calls == []  # a warm run touches neither the network nor the archive


# -- zip64 wheels, read by ranges from a slicing fake index ---------------------


class SlicingIndex:
    """Serves one file's bytes by range, sliced the way `Index.fetch_range` does
    (`end=None` asks for the last `start` bytes), recording every call."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls: list[str] = []

    def fetch(self, file: DistFile) -> bytes:
        self.calls.append("fetch")
        return self.data

    def fetch_range(self, url: str, start: int, end: int | None = None) -> bytes:
        self.calls.append(f"range {start}-{end}")
        return self.data[-start:] if end is None else self.data[start : end + 1]

    def fetch_metadata(self, file: DistFile) -> bytes | None:
        return None


ZIP64_METADATA = METADATA.replace("A long description. " * 2000, "Short.\n")
METADATA_NAME = "demo-1.0.dist-info/METADATA"


def build_zip64_wheel(*, force_member: bool = False, lowered_limits: bool = False) -> bytes:
    """A wheel written by zipfile with zip64 structures.

    `force_member` writes METADATA with `force_zip64` (a zip64 local header).
    `lowered_limits` lowers zipfile's zip64 thresholds so a small archive gets
    the layout zipfile writes for one over 2 GiB: zip64 extras with the
    central directory's offsets and sizes, and a zip64 end-of-central-directory
    record and locator, with real values (not 0xFFFFFFFF) in the plain EOCD.
    """
    buf = io.BytesIO()
    limits = {"ZIP64_LIMIT": 1000, "ZIP_FILECOUNT_LIMIT": 3} if lowered_limits else {}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in limits.items():
            mp.setattr(zipfile, name, value)
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("demo/__init__.py", "")
            blob = random.Random(7).randbytes(3000)
            zf.writestr("demo/blob.bin", blob, compress_type=zipfile.ZIP_STORED)
            if force_member:
                with zf.open(METADATA_NAME, "w", force_zip64=True) as fh:
                    fh.write(ZIP64_METADATA.encode())
            else:
                zf.writestr(METADATA_NAME, ZIP64_METADATA)
            zf.writestr("demo-1.0.dist-info/RECORD", "")
    data = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as check:  # the fixture is a valid zip
        assert check.read(METADATA_NAME).decode() == ZIP64_METADATA
    return data


def _eocd(data: bytes) -> tuple[int, int, int]:
    """(entries, central directory size, offset) as the plain EOCD record says."""
    pos = data.rfind(b"PK\x05\x06")
    count, size, offset = struct.unpack("<HII", data[pos + 10 : pos + 20])
    return count, size, offset


def _central_extra(data: bytes, name: str) -> tuple[int, bytes]:
    """Where `name`'s central directory extra field starts, and its bytes."""
    at = data.rfind(name.encode())  # the central directory comes after the local header
    assert data[at - 46 : at - 42] == b"PK\x01\x02"
    (e_len,) = struct.unpack("<H", data[at - 16 : at - 14])
    start = at + len(name)
    return start, data[start : start + e_len]


def _remote(data: bytes) -> tuple[bytes, SlicingIndex]:
    index = SlicingIndex(data)
    return RemoteZip(index, "https://fake.invalid/w.whl", len(data)).read_metadata(), index


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="3.10's zipfile writes real sizes, not the zip64 placeholders, in a forced "
    "zip64 local header: the fixture cannot be built there",
)
def test_member_with_a_forced_zip64_local_header_is_read() -> None:
    wheel = build_zip64_wheel(force_member=True)
    at = wheel.find(METADATA_NAME.encode()) - 30  # the first occurrence: the local header
    assert wheel[at : at + 4] == b"PK\x03\x04"
    assert struct.unpack("<II", wheel[at + 18 : at + 26]) == (0xFFFFFFFF, 0xFFFFFFFF)
    data, index = _remote(wheel)
    assert data.decode() == ZIP64_METADATA
    assert index.calls == [f"range {len(wheel)}-None"]  # small: the tail is the whole file


def test_zip64_archive_without_sentinels_in_its_eocd_is_read_by_ranges() -> None:
    wheel = build_zip64_wheel(lowered_limits=True)
    assert b"PK\x06\x06" in wheel and b"PK\x06\x07" in wheel
    count, size, offset = _eocd(wheel)
    assert (count, size, offset) != (0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert 0xFFFFFFFF not in (size, offset)  # the locator alone says zip64
    _, extra = _central_extra(wheel, METADATA_NAME)
    assert extra[:2] == b"\x01\x00"  # the offset/sizes come from the zip64 extra

    data, index = _remote(wheel)
    assert data.decode() == ZIP64_METADATA
    assert index.calls == [f"range {len(wheel)}-None"]

    file = DistFile("demo-1.0-py3-none-any.whl", "u", None, FileKind.WHEEL, size=len(wheel))
    meta = MetadataReader(index).of_file(file)
    assert meta.source == "wheel" and meta.requires_dist == ("alpha>=1", 'beta; extra == "fast"')
    assert "fetch" not in index.calls  # no fallback to a full download


def test_zip64_archive_with_65536_members_reads_its_directory_by_range() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # zipfile's own thresholds: no patching
        for i in range(0x10000):
            zf.writestr(zipfile.ZipInfo(f"demo/{i:05x}"), b"")
        zf.writestr(METADATA_NAME, ZIP64_METADATA)
    wheel = buf.getvalue()
    assert _eocd(wheel)[0] == 0xFFFF  # the entry count overflowed into the zip64 record

    data, index = _remote(wheel)
    assert data.decode() == ZIP64_METADATA
    assert "fetch" not in index.calls and len(index.calls) >= 2  # the directory is > 64 KiB


def test_zip64_record_with_extensible_data_is_found_by_its_size() -> None:
    wheel = build_zip64_wheel(lowered_limits=True)
    rec = wheel.rfind(b"PK\x06\x06")
    (size,) = struct.unpack("<Q", wheel[rec + 4 : rec + 12])
    assert size == 44
    sector = b"\x99\x99\x08\x00" + b"extended"  # one extensible-data field
    grown = (
        wheel[: rec + 4]
        + struct.pack("<Q", size + len(sector))
        + wheel[rec + 12 : rec + 56]
        + sector
        + wheel[rec + 56 :]  # the locator points at the record's start, which stays put
    )
    data, _ = _remote(grown)
    assert data.decode() == ZIP64_METADATA


def _corrupt_record_size(wheel: bytes) -> bytes:
    rec = wheel.rfind(b"PK\x06\x06")
    return wheel[: rec + 4] + struct.pack("<Q", 40) + wheel[rec + 12 :]


def _truncate_record(wheel: bytes) -> bytes:
    rec = wheel.rfind(b"PK\x06\x06")
    return wheel[: rec + 20] + wheel[rec + 28 :]  # eight bytes of the record gone


def _locator_before_the_file(wheel: bytes) -> bytes:
    loc = wheel.rfind(b"PK\x06\x07")
    return wheel[: loc + 8] + struct.pack("<Q", 0) + wheel[loc + 16 :]


def _sentinels_without_locator(wheel: bytes) -> bytes:
    loc = wheel.rfind(b"PK\x06\x07")
    eocd = wheel.rfind(b"PK\x05\x06")
    broken = wheel[:loc] + b"JUNK" + wheel[loc + 4 : eocd + 16]
    return broken + struct.pack("<I", 0xFFFFFFFF) + wheel[eocd + 20 :]


def _short_zip64_extra(wheel: bytes) -> bytes:
    start, extra = _central_extra(wheel, METADATA_NAME)
    assert extra[:2] == b"\x01\x00"
    return wheel[: start + 2] + struct.pack("<H", 4) + wheel[start + 4 :]


def _directory_cut_mid_entry(wheel: bytes) -> bytes:
    rec = wheel.rfind(b"PK\x06\x06")
    (cd_size,) = struct.unpack("<Q", wheel[rec + 40 : rec + 48])
    return wheel[: rec + 40] + struct.pack("<Q", cd_size - 20) + wheel[rec + 48 :]


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_corrupt_record_size, "bad zip64 end-of-central-directory record"),
        (_truncate_record, "bad zip64 end-of-central-directory record"),
        (lambda w: w[-42:], "bad zip64 end-of-central-directory record"),  # only the tail
        (_locator_before_the_file, "inconsistent central directory offsets"),
        (_sentinels_without_locator, "zip64 locator missing"),
        (_short_zip64_extra, "zip64 extra field too short"),
        (_directory_cut_mid_entry, "central directory entry runs past its end"),
    ],
)
def test_corrupt_zip64_structures_raise_the_modules_error(
    corrupt: Callable[[bytes], bytes], message: str
) -> None:
    wheel = corrupt(build_zip64_wheel(lowered_limits=True))
    with pytest.raises(_RemoteZipError, match=message):
        _remote(wheel)


def test_corrupt_zip64_falls_back_to_a_full_download() -> None:
    file = DistFile("demo-1.0-py3-none-any.whl", "u", None, FileKind.WHEEL)
    # zipfile ignores the record's size field, so the whole file still answers
    index = SlicingIndex(_corrupt_record_size(build_zip64_wheel(lowered_limits=True)))
    meta = MetadataReader(index).of_file(file)
    assert meta.requires_dist == ("alpha>=1", 'beta; extra == "fast"')
    assert index.calls == ["range 65536-None", "fetch"]
    # without its locator the archive is unreadable as a whole too: an explicit error
    index = SlicingIndex(_sentinels_without_locator(build_zip64_wheel(lowered_limits=True)))
    with pytest.raises(ArchiveError):
        MetadataReader(index).of_file(file)
    assert index.calls == ["range 65536-None", "fetch"]


# -- sdists ----------------------------------------------------------------------


def build_sdist(files: dict[str, str], root: str = "demo-1.0") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def canary(marker: Path) -> str:
    """A setup.py that leaves a marker file if anything ever runs it."""
    return f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"


OLD_PKG_INFO = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"


def test_static_pkg_info_wins(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    info = "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n"
    info += "Requires-Dist: one\nRequires-Dist: two>2\n"
    meta = metadata_from_sdist(
        build_sdist({"PKG-INFO": info, "setup.py": canary(marker)}), "demo-1.0.tar.gz"
    )
    assert (meta.source, meta.requires_dist, meta.complete) == ("pkg-info", ("one", "two>2"), True)
    assert not marker.exists()


def test_pkg_info_with_dynamic_requires_falls_through_to_setup_py(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    info = "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nDynamic: Requires-Dist\n"
    setup = canary(marker) + (
        "BASE = ['requests>=2']\n"
        "EXTRA = ['six']\n"
        "from setuptools import setup\n"
        "setup(name='demo', install_requires=BASE + EXTRA,\n"
        "      extras_require={'fast': ['ujson'], 'win:sys_platform==\"win32\"': ['pywin32']},\n"
        "      python_requires='>=3.7')\n"
    )
    meta = metadata_from_sdist(
        build_sdist({"PKG-INFO": info, "setup.py": setup}), "demo-1.0.tar.gz"
    )
    assert meta.source == "setup.py" and meta.complete
    assert meta.requires_dist == (
        "requests>=2",
        "six",
        'ujson; extra == "fast"',
        'pywin32; extra == "win"',
    )
    assert meta.requires_python == ">=3.7"
    assert not marker.exists()


@pytest.mark.parametrize(
    "setup",
    [
        "from setuptools import setup\n"
        "setup(name='demo', install_requires=open('r.txt').read().split())\n",
        "from setuptools import setup\nkw = dict(name='demo')\nsetup(**kw)\n",
        "print 'python 2 only'\n",
        "import os\nos.system('echo no setup call here')\n",
    ],
)
def test_computed_dependencies_are_unresolved(tmp_path: Path, setup: str) -> None:
    marker = tmp_path / "marker"
    data = build_sdist({"PKG-INFO": OLD_PKG_INFO, "setup.py": canary(marker) + setup})
    meta = metadata_from_sdist(data, "demo-1.0.tar.gz")
    assert not meta.complete and meta.notes == (DYNAMIC_NOTE,) and meta.requires_dist == ()
    assert not marker.exists()


def test_setup_call_without_install_requires_has_no_dependencies() -> None:
    data = build_sdist(
        {"PKG-INFO": OLD_PKG_INFO, "setup.py": "from setuptools import setup\nsetup(name='demo')\n"}
    )
    meta = metadata_from_sdist(data, "demo-1.0.tar.gz")
    assert meta.complete and meta.requires_dist == () and meta.source == "setup.py"


def test_setup_cfg_is_read_when_setup_py_defers_to_it() -> None:
    cfg = (
        "[options]\ninstall_requires =\n    click>=8\n    # a comment\n    attrs\n\n"
        "[options.extras_require]\ncli = rich\n"
    )
    data = build_sdist(
        {
            "PKG-INFO": OLD_PKG_INFO,
            "setup.py": "import setuptools\nsetuptools.setup()\n",
            "setup.cfg": cfg,
        }
    )
    meta = metadata_from_sdist(data, "demo-1.0.tar.gz")
    assert meta.source == "setup.cfg"
    assert meta.requires_dist == ("click>=8", "attrs", 'rich; extra == "cli"')


def test_static_pyproject_in_sdist() -> None:
    pyproject = (
        '[project]\nname = "demo"\nversion = "1.0"\ndependencies = ["httpx"]\n'
        "[project.optional-dependencies]\nhttp2 = [\"h2; python_version >= '3.8'\"]\n"
    )
    data = build_sdist({"PKG-INFO": OLD_PKG_INFO, "pyproject.toml": pyproject})
    meta = metadata_from_sdist(data, "demo-1.0.tar.gz")
    assert meta.source == "pyproject"
    assert meta.requires_dist == ("httpx", "h2; (python_version >= '3.8') and extra == \"http2\"")


def test_no_metadata_at_all_is_unresolved() -> None:
    meta = metadata_from_sdist(build_sdist({"README": "hi"}), "demo-1.0.tar.gz")
    assert not meta.complete and meta.notes == (DYNAMIC_NOTE,)


def test_build_requirements_are_read_statically() -> None:
    from mphunter_gate.fetch.metadata import LEGACY_BUILD_REQUIRES, build_requirements

    declared = build_sdist(
        {
            "pyproject.toml": '[build-system]\nrequires = ["hatchling>=1", "cython"]\n',
            "setup.py": "from setuptools import setup\nsetup(setup_requires=['pbr'])\n",
            "setup.cfg": "[options]\nsetup_requires =\n    cffi>=1\n",
        }
    )
    assert build_requirements(declared, "demo-1.0.tar.gz") == (
        "hatchling>=1",
        "cython",
        "cffi>=1",
        "pbr",
    )
    legacy = build_sdist({"setup.py": "from setuptools import setup\n"})
    assert build_requirements(legacy, "demo-1.0.tar.gz") == LEGACY_BUILD_REQUIRES
