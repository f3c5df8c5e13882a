"""A thread-safe memo in which concurrent callers for one key share one computation.

Resolution prefetches index pages and metadata in a thread pool while the
resolver asks for the same things on the main thread. A plain memo lets
both fetch the same page when they race, which doubles the requests a
prefetch was meant to save; here the second caller waits for the first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """Values by key, each computed once. A computation that raises is not
    remembered: the exception goes to its caller, and the next caller (or a
    waiting one) computes again."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()
        self._inflight: dict[K, threading.Lock] = {}

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._inflight.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._inflight.pop(key, None)
            return value
