"""Fixtures for the policy tests: a small HTTP server on 127.0.0.1 and OSV records.

The server serves PEP 691 JSON project pages (with PEP 700 `upload-time` and
PEP 592 `yanked`, which pypiserver does not give), fixture sdists, and
advisory zips; it is started and stopped by each test. Every OSV record here
is synthetic, for made-up package names.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_sdist
from tests.fixtures import BENIGN_SETUP
from tests.http_support import local_http

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
#: The benign fixture setup.py without its dependency, so one release resolves alone.
PLAIN_SETUP = BENIGN_SETUP.replace('    install_requires=["attrs>=22"],\n', "")
assert PLAIN_SETUP != BENIGN_SETUP


@dataclass
class Served:
    """Routes by path: (status, body, content type); every request path is recorded."""

    url: str = ""
    routes: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    projects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def simple(self) -> str:
        return self.url + "/simple"

    def add(
        self, path: str, body: bytes, ctype: str = "application/octet-stream", status: int = 200
    ) -> str:
        self.routes[path] = (status, body, ctype)
        return self.url + path

    def release(
        self,
        tmp: Path,
        name: str,
        version: str,
        *,
        age: timedelta | None = timedelta(days=30),
        yanked: bool | str = False,
        setup_py: str = PLAIN_SETUP,
    ) -> None:
        """Serve `name-version.tar.gz` (a benign sdist) uploaded `age` ago (None: no time)."""
        tmp.mkdir(parents=True, exist_ok=True)
        path = make_sdist(tmp, name, version, {"setup.py": setup_py})
        data = path.read_bytes()
        self.add(f"/files/{path.name}", data)
        entry: dict[str, Any] = {
            "filename": path.name,
            "url": f"/files/{path.name}",
            "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            "size": len(data),
        }
        if age is not None:
            when = datetime.now(timezone.utc) - age
            entry["upload-time"] = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if yanked:
            entry["yanked"] = yanked
        self.projects.setdefault(name, []).append(entry)
        doc = {"meta": {"api-version": "1.1"}, "name": name, "files": self.projects[name]}
        self.add(f"/simple/{name}/", json.dumps(doc).encode(), JSON_TYPE)


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            served.seen.append(path)
            status, body, ctype = served.routes.get(path, (404, b"not found", "text/plain"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def served() -> Iterator[Served]:
    """An HTTP server on 127.0.0.1, stopped after the test."""
    state = Served()
    with local_http(_handler(state)) as state.url:
        yield state


def mal_record(
    ident: str = "MAL-2026-1234",
    name: str = "evil-widgets",
    *,
    versions: list[str] | None = None,
    events: list[dict[str, str]] | None = None,
    ecosystem: str = "PyPI",
    withdrawn: str | None = None,
    summary: str = "Malicious code in evil-widgets (PyPI)",
    modified: str = "2026-11-20T10:00:00Z",
) -> dict[str, Any]:
    """A synthetic OSV malware record of the shape ossf/malicious-packages publishes."""
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if versions is not None:
        affected["versions"] = versions
    affected["ranges"] = [{"type": "ECOSYSTEM", "events": events or [{"introduced": "0"}]}]
    affected["database_specific"] = {
        "cwes": [{"cweId": "CWE-506", "name": "Embedded Malicious Code"}]
    }
    doc: dict[str, Any] = {
        "schema_version": "1.5.0",
        "id": ident,
        "modified": modified,
        "published": "2026-11-19T08:00:00Z",
        "summary": summary,
        "details": "Synthetic test record: this package does not exist.",
        "affected": [affected],
    }
    if withdrawn:
        doc["withdrawn"] = withdrawn
    return doc


def vuln_record(ident: str = "PYSEC-2026-1", name: str = "old-templates") -> dict[str, Any]:
    """A synthetic vulnerability record (not malware)."""
    return {
        "id": ident,
        "modified": "2026-11-01T00:00:00Z",
        "summary": "Sandbox escape in a made-up template engine",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                ],
            }
        ],
    }


def write_tree(root: Path, records: list[dict[str, Any]]) -> Path:
    """Records laid out as a checkout of ossf/malicious-packages: osv/malicious/pypi/<name>/."""
    base = root / "osv" / "malicious" / "pypi"
    for doc in records:
        name = doc["affected"][0]["package"]["name"]
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{doc['id']}.json").write_text(json.dumps(doc, indent=2))
    return root


def zip_bytes(records: list[dict[str, Any]]) -> bytes:
    """Records as osv.dev's ecosystem zip: one `<id>.json` per record at the top."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in records:
            zf.writestr(f"{doc['id']}.json", json.dumps(doc))
    return buf.getvalue()
