"""Memo: one computation per key, shared by concurrent callers; failures not kept."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mphunter_gate.memo import Memo


def test_concurrent_callers_share_one_computation() -> None:
    memo: Memo[str, int] = Memo()
    calls: list[str] = []
    started = threading.Event()

    def slow() -> int:
        calls.append(threading.current_thread().name)
        started.set()
        time.sleep(0.05)  # long enough for the other callers to arrive and wait
        return 42

    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(memo.get, "page", slow)
        started.wait()
        rest = [pool.submit(memo.get, "page", slow) for _ in range(3)]
        assert [f.result() for f in (first, *rest)] == [42] * 4
    assert len(calls) == 1
    assert memo.get("other", lambda: 7) == 7


def test_a_failed_computation_is_retried_by_the_next_caller() -> None:
    memo: Memo[str, int] = Memo()

    def boom() -> int:
        raise OSError("index down")

    with pytest.raises(OSError):
        memo.get("page", boom)
    assert memo.get("page", lambda: 1) == 1
    assert memo.get("page", boom) == 1  # remembered once computed
