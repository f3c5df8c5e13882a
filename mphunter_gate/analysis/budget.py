"""The work budget of one script: deterministic counts, and an emergency clock.

A CI gate must give the same verdict for the same package on a quiet laptop
and on a busy runner, and training must be reproducible for a seed. So what
stops an analysis early is counted work, never elapsed time: walk steps
(shared by the DFS and BFS walks of the script and of every payload decoded
from it), tokens read by the tolerant pass, decoded payloads analysed, and
the static evaluator's work (nodes folded, values produced).
The counts in `limits` are chosen so that the slowest file we know of
finishes well under the 2 s target on our reference machine.

One instance is shared by everything one `analyse` call does and is thrown
away afterwards; it is mutable on purpose (it is a counter, not a value).
"""

from __future__ import annotations

import time

from mphunter_gate.analysis import limits


class Budget:
    """What one script (decoded payloads included) may still spend."""

    __slots__ = (
        "_stop_at",
        "emergency",
        "eval_cut",
        "eval_work",
        "payload_chars",
        "payloads",
        "tokens",
        "walk_steps",
    )

    def __init__(self) -> None:
        #: Walk steps left before walks turn "late" (see `limits.WALK_STEP_BUDGET`).
        self.walk_steps = limits.WALK_STEP_BUDGET
        #: Tokens (and regex-scan lines) the tolerant pass may still read.
        self.tokens = limits.FALLBACK_TOKEN_BUDGET
        #: Decoded payloads that may still be analysed, and their total size.
        self.payloads = limits.PAYLOAD_BUDGET
        self.payload_chars = limits.PAYLOAD_CHAR_BUDGET
        #: Work the static evaluator may still do (see `limits.EVAL_WORK_BUDGET`); charged
        #: in bulk, so it may go below zero before the evaluator notices.
        self.eval_work = limits.EVAL_WORK_BUDGET
        #: Set once the evaluator refused an expression because `eval_work` was spent.
        self.eval_cut = False
        #: Set once the emergency time limit was reached (see `expired`).
        self.emergency = False
        self._stop_at = time.monotonic() + limits.EMERGENCY_TIME_S

    @property
    def walks_late(self) -> bool:
        """The shared walk steps are spent: each walk from now on emits only a short prefix."""
        return self.walk_steps < 0

    def take_payload(self, chars: int) -> bool:
        """Charge one decoded payload of `chars` characters; False when it must be skipped."""
        if self.walks_late or self.payloads <= 0 or chars > self.payload_chars or self.expired():
            return False
        self.payloads -= 1
        self.payload_chars -= chars
        return True

    def expired(self) -> bool:
        """True once `limits.EMERGENCY_TIME_S` has passed since the analysis started.

        This exists only so that hostile input the counted budgets do not foresee
        cannot hang CI. A correct run never reaches it (the counted budgets stop
        every file we know of in well under 2 s); when it is reached, the result
        depends on machine load, and the analysis says so (`truncated` and a log line).
        The flag is sticky, so every later check stops at once.
        """
        if not self.emergency and time.monotonic() > self._stop_at:
            self.emergency = True
        return self.emergency
