"""fork_map: the same list as a plain loop, computed by forked workers."""

from __future__ import annotations

import os

import pytest

from mphunter_gate.model import pool


def test_same_order_and_values_as_a_loop_with_a_closure() -> None:
    offset = 7  # a closure: fork inherits it, nothing is pickled
    items = list(range(pool.MIN_ITEMS * 3))
    assert pool.fork_map(lambda x: (x + offset, os.getpid()), items, processes=2)[5][0] == 12
    assert [v for v, _ in pool.fork_map(lambda x: (x + offset, 0), items, processes=2)] == [
        x + offset for x in items
    ]


def test_work_really_runs_in_other_processes() -> None:
    items = list(range(pool.MIN_ITEMS * 2))
    pids = {pid for pid in pool.fork_map(lambda _: os.getpid(), items, processes=2)}
    assert os.getpid() not in pids


def test_small_jobs_and_one_process_run_in_this_process() -> None:
    items = list(range(pool.MIN_ITEMS * 2))
    assert set(pool.fork_map(lambda _: os.getpid(), items, processes=1)) == {os.getpid()}
    assert set(pool.fork_map(lambda _: os.getpid(), items[:3], processes=2)) == {os.getpid()}


def test_a_worker_error_reaches_the_caller() -> None:
    def boom(x: int) -> int:
        if x == 300:
            raise ValueError("bad item")
        return x

    with pytest.raises(ValueError, match="bad item"):
        pool.fork_map(boom, list(range(pool.MIN_ITEMS * 2)), processes=2)
