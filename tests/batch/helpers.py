"""Test doubles that run on the Dask workers (importable there as `tests.batch.helpers`).

They wrap the real per-item judge and misbehave on fixture packages named for
it: `sleepy-*` stalls past any deadline, `doomed-*` kills its worker process
every time, `once-*` kills it the first time only (a marker file beside the
package remembers). The misbehaviour is the test's own code, never package
code: the packages themselves are only read, as always.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mphunter_gate.batch.work import WorkItem
from mphunter_gate.batch.worker import Outcome, Settings, judge_item

if TYPE_CHECKING:
    from mphunter_gate.gate import Judge


def misbehaving(item: WorkItem, judge: Judge, settings: Settings, done: frozenset[str]) -> Outcome:
    name = Path(item.target).name
    if name.startswith("sleepy"):
        time.sleep(600)  # ended by the worker's restart
    if name.startswith("doomed"):
        os.kill(os.getpid(), signal.SIGKILL)
    if name.startswith("once"):
        marker = Path(item.target + ".killed")
        if not marker.exists():
            marker.write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
    return judge_item(item, judge, settings, done)
