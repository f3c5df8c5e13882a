"""Shared fixtures: a real package index on 127.0.0.1 and fixture packages.

Fixture sdists and wheels are assembled byte by byte with tarfile/zipfile
from texts the tests write; nothing is built with setuptools, so no
fixture code ever runs, in the tests or in the gate.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    files: dict[str, str | bytes],
    *,
    pkg_info: str | None = None,
) -> Path:
    """Write `name-version.tar.gz` holding `files` under the usual top folder."""
    root = f"{name}-{version}"
    path = directory / f"{root}.tar.gz"
    info = pkg_info or f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    members = {"PKG-INFO": info, **files}
    with tarfile.open(path, "w:gz") as tar:
        for rel, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            ti = tarfile.TarInfo(f"{root}/{rel}")
            ti.size = len(data)
            ti.mtime = 0
            tar.addfile(ti, io.BytesIO(data))
    return path


def make_wheel(
    directory: Path, name: str, version: str, files: dict[str, str], requires: tuple[str, ...] = ()
) -> Path:
    """Write a pure-Python wheel with METADATA (and Requires-Dist) and `files`."""
    dist = name.replace("-", "_")
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        for rel, content in files.items():
            zf.writestr(rel, content)
        zf.writestr(f"{dist}-{version}.dist-info/METADATA", meta)
        zf.writestr(f"{dist}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        zf.writestr(f"{dist}-{version}.dist-info/RECORD", "")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalIndex:
    """A running pypiserver and the folder it serves."""

    url: str  # the simple index URL
    directory: Path

    def add_sdist(
        self,
        name: str,
        version: str,
        setup_py: str | None = None,
        files: dict[str, str | bytes] | None = None,
        **kw: str,
    ) -> Path:
        members: dict[str, str | bytes] = dict(files or {})
        if setup_py is not None:
            members["setup.py"] = setup_py
        return make_sdist(self.directory, name, version, members, **kw)

    def add_wheel(
        self, name: str, version: str, files: dict[str, str], requires: tuple[str, ...] = ()
    ) -> Path:
        return make_wheel(self.directory, name, version, files, requires)


@pytest.fixture
def local_index(tmp_path: Path) -> Iterator[LocalIndex]:
    """A real `pypiserver` on 127.0.0.1 serving a temporary folder, stopped afterwards."""
    # The venv's scripts folder first: CI runs `.venv/bin/python -m pytest`
    # without activating the venv, so its bin/ is not on PATH.
    local = Path(sys.executable).parent / "pypi-server"
    exe = str(local) if local.exists() else shutil.which("pypi-server")
    if exe is None:
        pytest.fail("pypiserver is not installed: pip install '.[test]'")
    packages = tmp_path / "index"
    packages.mkdir()
    port = _free_port()
    log = (tmp_path / "pypiserver.log").open("w")
    proc = subprocess.Popen(
        [
            exe,
            "run",
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
            "--hash-algo",
            "sha256",
            "--backend",
            "simple-dir",
            str(packages),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/simple/", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"pypiserver did not start: {(tmp_path / 'pypiserver.log').read_text()}"
                    )
                time.sleep(0.1)
        yield LocalIndex(url=f"{base}/simple", directory=packages)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def gate_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI in a subprocess with an isolated cache and no pip config."""
    cache = tmp_path / "cache"
    env = dict(os.environ)
    env["MPHUNTER_GATE_CACHE"] = str(cache)
    env["PIP_CONFIG_FILE"] = os.devnull
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    monkeypatch.setenv("MPHUNTER_GATE_CACHE", str(cache))
    return env


def run_gate(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "mphunter_gate.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
