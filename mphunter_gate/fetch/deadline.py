"""Time limits for the index client: each request, and the run as a whole.

A socket timeout bounds one read, never a request: a server that sends a
byte every ten seconds, or its headers a line at a time, stays inside every
read timeout for as long as it likes, and a server that answers 503 with
`Retry-After: 100000` would have urllib3 sleep for a day. So every request
gets an end time, the sooner of its own limit (`REQUEST_TIMEOUT`, retries
and their waits included) and the run's deadline (`index-deadline`), and:

- connect and read timeouts are never longer than the time it has left;
- a retry, or a wait a server asks for, that would end past it is not made;
- a watchdog thread shuts down the socket of a request still running at its
  end, which wakes the read blocked on it, and the request fails with a
  message that says what timed out.

A request cut this way never yields data (even when the cut made the body
look complete), so nothing the limits stopped can be scanned as if whole.
One request over its own limit fails that request (a file is unscanned, a
page stops resolution); the run's deadline stops the run (exit 3), and the
`Clock` remembers it, so a caller that swallowed the error cannot pass.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from mphunter_gate.errors import PackageIndexError

#: Longest wait for a TCP (and TLS) connection to open.
CONNECT_TIMEOUT = 10.0
#: Longest one request may take, first byte sent to last byte read, retries and
#: their waits included. A 200 MB wheel (the download cap) needs 0.7 MB/s.
REQUEST_TIMEOUT = 300.0
#: Longest wait a server's Retry-After is honoured for; a longer one fails the
#: request at once (a server that is down for a day is not waited for).
MAX_RETRY_AFTER = 30.0
#: How often the watchdog re-checks a request it has cut whose connection was
#: still opening (it has no socket to shut down yet).
_RECHECK_S = 0.05


class RequestTimeout(PackageIndexError):
    """One request outlived its own limit; what it was for cannot be read."""


class DeadlineExceeded(PackageIndexError):
    """The run's index deadline passed: nothing more is fetched and the run stops."""


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 120 else f"{value / 60:g} min"


class Clock:
    """The limits of one run's index traffic, and whether its deadline has passed.

    `deadline` is the run's budget in seconds from the clock's creation
    (None: no run deadline, for the corpus download that takes hours).
    """

    def __init__(
        self,
        deadline: float | None = None,
        *,
        connect: float = CONNECT_TIMEOUT,
        read: float = 30.0,
        request: float = REQUEST_TIMEOUT,
    ) -> None:
        self.deadline = deadline
        self.connect = connect
        self.read = read
        self.request = request
        self._started = time.monotonic()
        self.run_end = None if deadline is None else self._started + deadline
        #: The first DeadlineExceeded raised: the run stops on it even if a caller
        #: caught it (a metadata fallback, a prefetch) and went on.
        self.passed: DeadlineExceeded | None = None

    def _run_error(self, what: str, started: bool) -> DeadlineExceeded:
        assert self.deadline is not None
        done = "timed out: the run's" if started else "was not started: the run's"
        exc = DeadlineExceeded(
            f"{what} {done} index deadline of {_seconds(self.deadline)} passed, so the run "
            "cannot finish (raise it with --index-deadline or `index-deadline` in "
            "[tool.mphunter-gate])"
        )
        if self.passed is None:
            self.passed = exc
        return exc

    def raise_if_passed(self) -> None:
        """Stop here if any request of this run was cut by the run's deadline."""
        if self.passed is not None:
            raise self.passed

    @contextmanager
    def guard(self, what: str) -> Iterator[Guard]:
        """The limits of one request named `what` (for messages), in this thread.

        Raises DeadlineExceeded at once when the run's deadline has passed; the
        body of the `with` must read the whole response, since a request cut
        while the caller still reads it raises on the way out.
        """
        now = time.monotonic()
        if self.run_end is not None and now >= self.run_end:
            raise self._run_error(what, started=False)
        g = Guard(self, what, now)
        previous = getattr(_current, "guard", None)
        _current.guard = g
        _WATCHDOG.add(g)
        try:
            yield g
        except PackageIndexError:
            raise  # already says what went wrong (possibly that g was cut)
        except Exception:
            if g.cut:
                raise g.error() from None
            raise
        finally:
            _WATCHDOG.remove(g)
            _current.guard = previous
        if g.cut:
            raise g.error()


class Guard:
    """One request's end time, the connections it used, and whether it was cut."""

    def __init__(self, clock: Clock, what: str, started: float) -> None:
        self.clock = clock
        self.what = what
        own_end = started + clock.request
        run_end = clock.run_end
        self.by_run = run_end is not None and run_end <= own_end
        self.end = run_end if self.by_run and run_end is not None else own_end
        self.cut = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def timeouts(self) -> tuple[float, float]:
        """(connect, read) timeouts for requests: never past the request's end."""
        left = self.remaining()
        if left <= 0:
            raise self.error()
        return min(self.clock.connect, left), min(self.clock.read, left)

    def check(self) -> None:
        """Raise the timeout if the request is past its end (called between reads)."""
        if self.cut or self.remaining() <= 0:
            self.cut = True
            raise self.error()

    def error(self) -> PackageIndexError:
        if self.by_run:
            return self.clock._run_error(self.what, started=True)
        return RequestTimeout(
            f"{self.what} timed out: no complete answer within {_seconds(self.clock.request)}, "
            "the limit of one request"
        )

    def bind(self, connection: Any) -> None:
        """Remember a connection this request uses, so that a cut can close it."""
        with self._lock:
            self._connections.append(connection)
        if self.cut or self.remaining() <= 0:
            self.cut = True
            raise self.error()

    def fire(self) -> None:
        """Cut the request: shut down its sockets, which wakes a read blocked on them."""
        self.cut = True
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            sock = getattr(conn, "sock", None)
            if sock is None:
                continue
            # socket.socket's own shutdown even for TLS: ssl.SSLSocket.shutdown unwraps
            # the socket under the reading thread's feet. OSError: already closed.
            with contextlib.suppress(OSError, TypeError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def current() -> Guard | None:
    """The guard of the request this thread is making, if any."""
    return getattr(_current, "guard", None)


class _Watchdog:
    """One daemon thread that cuts every request still running at its end."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._guards: set[Guard] = set()
        self._thread: threading.Thread | None = None

    def add(self, guard: Guard) -> None:
        with self._cond:
            self._guards.add(guard)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mphunter-gate-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def remove(self, guard: Guard) -> None:
        with self._cond:
            self._guards.discard(guard)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                wait: float | None = None
                for guard in list(self._guards):
                    due = guard.end - now
                    if due <= 0:
                        guard.fire()
                        due = _RECHECK_S  # its connection may still be opening
                    wait = due if wait is None else min(wait, due)
                self._cond.wait(wait)


_WATCHDOG = _Watchdog()


# -- urllib3 plumbing: connections that tell the guard about themselves ------------


class _Connection(urllib3.connection.HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = current()
        if guard is not None:
            guard.bind(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        guard = current()
        if guard is not None:
            guard.bind(self)
        super().request(*args, **kwargs)


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections a guard can cut (direct connections;
    through a proxy only the timeouts and the checks between reads apply)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _HTTPSPool}


class GuardedRetry(Retry):
    """urllib3's Retry that never waits past the request's end, and honours a
    server's Retry-After only up to MAX_RETRY_AFTER (a longer one is refused)."""

    def sleep(self, response: Any = None) -> None:
        guard = current()
        after = None
        if self.respect_retry_after_header and response is not None:
            after = _retry_after(response.headers.get("Retry-After"))
        if after is not None and after > MAX_RETRY_AFTER:
            what = guard.what if guard is not None else "a request to the index"
            raise PackageIndexError(
                f"{what}: the server answered {response.status} and asked to retry after "
                f"{after:.0f} s, longer than the {MAX_RETRY_AFTER:g} s the gate waits"
            )
        wait = after if after else self.get_backoff_time()
        if guard is not None and wait >= guard.remaining():
            guard.cut = True
            raise guard.error()
        if wait > 0:
            time.sleep(wait)

    def get_retry_after(self, response: Any) -> float | None:
        after = _retry_after(response.headers.get("Retry-After"))
        return None if after is None else min(after, MAX_RETRY_AFTER)


def _retry_after(header: str | None) -> float | None:
    """Seconds a Retry-After header asks for, uncapped (urllib3 caps it at hours, and
    the message should say what the server asked); None when absent or unreadable."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - time.time(), 0.0)
