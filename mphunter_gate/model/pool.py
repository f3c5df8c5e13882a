"""Analyse many scripts on every core while training.

Training analyses each of ~57,000 scripts twice (before and after APIEM
exists); on one core that is most of its wall time. The work is pure and
per script, so it is spread over forked worker processes: a fork inherits
the scripts and the function (closures included, nothing is pickled but
the indices going out and the results coming back), and `Pool.map` keeps
the input order, so the output is the same as a plain loop's, whatever
the number of processes. gensim's own `workers` stays 1 for determinism;
this pool never runs model training, only the analysis stage.

Where fork is unavailable (or there is one core, or little work) it falls
back to the plain loop.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many items a pool costs more than it saves.
MIN_ITEMS = 256
_CHUNK = 64

# The job a forked worker runs: set in the parent just before the fork.
_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _run(i: int) -> Any:
    if _job is None:
        raise RuntimeError("pool worker started without a job")
    fn, items = _job
    return fn(items[i])


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fork_map(fn: Callable[[T], R], items: Sequence[T], processes: int | None = None) -> list[R]:
    """`[fn(x) for x in items]`, computed by `processes` forked workers."""
    global _job
    n = processes if processes is not None else default_processes()
    if n <= 1 or len(items) < MIN_ITEMS or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(x) for x in items]
    _job = (fn, items)
    try:
        with multiprocessing.get_context("fork").Pool(n) as pool:
            return pool.map(_run, range(len(items)), chunksize=_CHUNK)
    finally:
        _job = None
