"""Pause CPython's cyclic garbage collector while one script is analysed.

Analysing a script allocates a large, almost entirely acyclic object graph:
the `ast` tree (one object and one attribute dict per node; an obfuscated
67 KB setup.py has about 30,000 nodes), then events, values and blocks.
Every 700 allocations the generational collector runs, and its older
generations re-traverse everything that survived, so on such files about a
third of the analysis time went to collections that never find garbage:
these objects are freed by reference counting when the analysis returns.
The few cycles an analysis creates (an extractor and its evaluator's bound
methods, caught exceptions) are collected by the first collection after the
pause; each analysis is bounded by the counted budgets in `limits`, so what can pile
up meanwhile is bounded too.

The collector's switch is process-wide and the gate may analyse while other
threads download, so pauses are counted: the first one in switches the
collector off (if it was on) and the last one out restores it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many analyses currently hold the collector off, and whether it was on before."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextmanager
def paused() -> Iterator[None]:
    """Run the body with the cyclic collector off; nested and concurrent uses are safe."""
    state = _PAUSES
    with state.lock:
        if state.active == 0:
            state.was_enabled = gc.isenabled()
            gc.disable()
        state.active += 1
    try:
        yield
    finally:
        with state.lock:
            state.active -= 1
            if state.active == 0 and state.was_enabled:
                gc.enable()
