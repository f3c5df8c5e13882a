"""Reading dependency metadata without running code: range requests, PEP 658, sdists, cache."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mphunter_gate.errors import ArchiveError, PackageIndexError
from mphunter_gate.index import Index
from mphunter_gate.metadata import (
    DYNAMIC_NOTE,
    Metadata,
    MetadataReader,
    RemoteZip,
    metadata_from_sdist,
)
from mphunter_gate.types import DistFile, FileKind

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
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


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
