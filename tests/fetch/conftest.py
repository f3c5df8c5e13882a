"""A fake package index on 127.0.0.1 for the fetch tests, well behaved or faulty.

Routes by path serve bodies with or without Range support, errors, and
the faults of a hostile or broken index: answers that never come (`stall`),
bodies or headers sent a byte at a time (`drip`), 503s with a Retry-After,
bodies without a Content-Length. Every request is recorded in `seen`, so a
test asserts what was asked (and how often) rather than how long it took.
A stalled handler is released when the test ends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.http_support import local_http

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/octet-stream"
    honour_range: bool = True
    content_range: str | None = None  # a lying server's Content-Range
    fail_first: int = 0  # answer 503 this many times before serving
    retry_after: str | None = None  # the Retry-After of those 503s
    #: "request": read the request and never answer; "headers": send the status
    #: line and drip the headers; "body": send the headers and never the body.
    stall: str | None = None
    drip: float = 0.0  # seconds between the body's bytes (0: all at once)
    content_length: bool = True  # False: the body ends when the connection closes


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FakeIndex:
    """Routes by path; every request is recorded in `seen`."""

    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def simple(self) -> str:
        return self.url + "/simple"

    def add(self, path: str, body: bytes, **kw: Any) -> str:
        self.routes[path] = Route(body, **kw)
        return self.url + path

    def json_page(self, project: str, files: list[dict[str, Any]], **kw: Any) -> None:
        doc = {"meta": {"api-version": "1.0"}, "name": project, "files": files}
        self.add(f"/simple/{project}/", json.dumps(doc).encode(), content_type=JSON_TYPE, **kw)

    def requests_to(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)


def _handler(fake: FakeIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            fake.seen.append(Seen(path, dict(self.headers.items())))
            route = fake.routes.get(path)
            if route is None:
                self._send(404, b"not found", "text/plain")
                return
            if route.fail_first > 0:
                route.fail_first -= 1
                extra = {"Retry-After": route.retry_after} if route.retry_after else {}
                self._send(503, b"busy", "text/plain", headers=extra)
                return
            if route.stall == "request":
                fake.stop.wait()
                return
            if route.stall == "headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self.wfile.flush()
                while not fake.stop.wait(0.05):
                    try:
                        self.wfile.write(b"X-Slow: a\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                return
            data, header = route.body, self.headers.get("Range")
            if route.status != 200 or not header or not route.honour_range:
                self._send(route.status, data, route.content_type, route=route)
                return
            first, _, last = header.removeprefix("bytes=").partition("-")
            if first == "":
                start, end = max(len(data) - int(last), 0), len(data) - 1
            else:
                start, end = int(first), min(int(last), len(data) - 1)
            if start >= len(data):
                self._send(416, b"", "text/plain")
                return
            content_range = route.content_range or f"bytes {start}-{end}/{len(data)}"
            self._send(206, data[start : end + 1], route.content_type, content_range, route=route)

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str,
            crange: str | None = None,
            headers: dict[str, str] | None = None,
            route: Route | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if route is None or route.content_length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            if crange:
                self.send_header("Content-Range", crange)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if route is not None and route.stall == "body":
                self.wfile.flush()
                fake.stop.wait()
                return
            if route is None or not route.drip:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                if fake.stop.wait(route.drip):
                    return
                try:
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture(autouse=True)
def _no_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests reads ~/.netrc by itself: point every index test at an empty one."""
    empty = tmp_path / "empty.netrc"
    empty.write_text("")
    monkeypatch.setenv("NETRC", str(empty))


@pytest.fixture
def fake() -> Iterator[FakeIndex]:
    served = FakeIndex()
    with local_http(_handler(served)) as served.url:
        try:
            yield served
        finally:
            served.stop.set()  # release stalled and dripping handlers first
