"""The work budget: where an analysis stops depends on the script, not on the clock.

The clock is replaced by a fake that jumps far ahead (past the old 1 s budget,
short of the emergency limit): the result must not change. Past the emergency
limit the analysis must stop and say so.
"""

from __future__ import annotations

import base64
import itertools
import logging
import time
from collections.abc import Callable

import pytest

from mphunter_gate.analysis import limits
from mphunter_gate.types import ParseMode, ScriptAnalysis
from tests.analysis.analysis_support import apis, run

# 2**40 paths of inlining: every walk stops at a counted bound.
EXPONENTIAL = (
    "\n".join(
        ["import os", "def f0():\n    os.getpid()"]
        + [f"def f{i}():\n    f{i - 1}()\n    f{i - 1}()" for i in range(1, 40)]
        + ["f39()"]
    )
    + "\n"
)

# Python 2 (so the token pass reads it), long enough to cross several token checks.
PY2_LONG = "import os\n" + 'print "x"\nos.getpid()\n' * 3_000 + 'os.system("id")\n'

_ENCODED = base64.b64encode(b"import socket\nsocket.socket()\n").decode()
PAYLOAD = f"import base64\nexec(base64.b64decode('{_ENCODED}'))\n"


Clock = Callable[[float], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Returns a function that installs a jumping `time.monotonic` for the next analysis."""

    def install(ahead: float) -> None:
        # The first reading (when the budget starts) is now, every later one `ahead` s on.
        start = time.monotonic()
        readings = itertools.chain([start], itertools.repeat(start + ahead))
        monkeypatch.setattr(time, "monotonic", lambda: next(readings))

    return install


def same(a: ScriptAnalysis, b: ScriptAnalysis) -> bool:
    return (a.parse, a.sequences, a.decoded, a.truncated, a.error) == (
        b.parse,
        b.sequences,
        b.decoded,
        b.truncated,
        b.error,
    )


@pytest.mark.parametrize("src", [EXPONENTIAL, PY2_LONG, PAYLOAD])
def test_a_slow_clock_below_the_emergency_limit_changes_nothing(src: str, clock: Clock) -> None:
    quiet = run(src)
    clock(limits.EMERGENCY_TIME_S - 0.5)  # far past the old 1 s budget
    busy = run(src)
    assert same(quiet, busy)
    assert not busy.truncated  # EXPONENTIAL's walks are cut, but its flat listing is whole


def test_the_truncation_point_is_the_same_on_every_run(clock: Clock) -> None:
    first = run(EXPONENTIAL)
    assert len(first.sequences) == 3  # the walks were cut: the flat listing follows them
    for ahead in (0.0, 1.5, limits.EMERGENCY_TIME_S / 2):
        clock(ahead)
        assert same(run(EXPONENTIAL), first)


def test_a_spent_walk_budget_still_leaves_bfs_a_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "WALK_STEP_BUDGET", 5_000)
    a = run(EXPONENTIAL)
    dfs, bfs, flat = a.sequences
    assert not a.truncated  # every call site is in the flat listing
    assert [c.api for c in flat] == ["os.getpid"]  # the one API call site, seen once

    # DFS goes late after 5,000 steps and stops at the late bounds; BFS is late from
    # its start and still emits MIN_CALLS_LATE calls (checked every 64), never nothing.
    assert limits.MIN_CALLS_LATE <= len(bfs) < limits.MIN_CALLS_LATE + 64
    assert len(dfs) <= limits.MAX_WALK_STEPS_LATE
    assert same(run(EXPONENTIAL), a)


def test_the_walk_budget_is_shared_by_dfs_and_bfs(monkeypatch: pytest.MonkeyPatch) -> None:
    full = run(EXPONENTIAL)
    monkeypatch.setattr(limits, "WALK_STEP_BUDGET", limits.MAX_WALK_STEPS + 10)
    shared = run(EXPONENTIAL)
    assert shared.sequences[0] == full.sequences[0]  # DFS alone fits in the budget
    assert len(shared.sequences[1]) < len(full.sequences[1])  # BFS starts late


def test_payloads_past_their_budget_are_left_unanalysed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "socket.socket" in apis(run(PAYLOAD))
    monkeypatch.setattr(limits, "PAYLOAD_BUDGET", 0)
    a = run(PAYLOAD)
    assert "socket.socket" not in apis(a)
    assert apis(a)[-1] == "exec"


def test_the_token_budget_stops_the_tolerant_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    full = run(PY2_LONG)
    assert full.parse is ParseMode.TOKENS
    assert apis(full)[-1] == "os.system"
    monkeypatch.setattr(limits, "FALLBACK_TOKEN_BUDGET", 4_096)
    cut = run(PY2_LONG)
    assert cut.parse is ParseMode.TOKENS
    assert 0 < len(cut.sequences[0]) < len(full.sequences[0])
    assert cut.truncated and not full.truncated  # the report says the pass was cut


@pytest.mark.parametrize("src", ["import os\nos.getpid()\n", EXPONENTIAL, PY2_LONG])
def test_the_emergency_limit_truncates_and_says_so(
    src: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = run(src)
    assert not quiet.truncated or src is EXPONENTIAL
    clock(limits.EMERGENCY_TIME_S + 1)
    with caplog.at_level(logging.INFO, logger="mphunter_gate.analysis.script"):
        a = run(src)
    assert a.truncated
    assert "emergency time limit" in caplog.text
    assert len(a.sequences[0]) < len(quiet.sequences[0])


def test_the_emergency_limit_skips_payloads(clock: Clock) -> None:
    clock(limits.EMERGENCY_TIME_S + 1)
    a = run(PAYLOAD)
    assert a.truncated
    assert "socket.socket" not in apis(a)


@pytest.mark.parametrize("outer", ["import base64\n", "import base64\nprint 'Python 2'\n"])
def test_a_truncated_payload_truncates_its_script(
    outer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The payload's own token pass is cut by the token budget; the script around it
    # (parsed by `ast`, or itself by the token pass) must not look complete. The payload
    # is short enough for the token pass to re-parse its line (MAX_REPARSE_LINE_CHARS).
    code = "import os\n" + 'print "x"\nos.getpid()\n' * 1_000 + 'os.system("id")\n'
    blob = base64.b64encode(code.encode()).decode()
    src = outer + f"exec(base64.b64decode('{blob}'))\n"
    whole = run(src)
    assert "os.system" in apis(whole)
    assert not whole.truncated
    monkeypatch.setattr(limits, "FALLBACK_TOKEN_BUDGET", 4_096)
    cut = run(src)
    assert "os.system" not in apis(cut)
    assert cut.truncated
