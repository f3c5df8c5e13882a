"""Progress on stderr while the gate fetches and scores.

Fetching and scoring a large lock file takes minutes cold; whoever waits
should see that it is moving. A terminal gets a one-line bar redrawn in
place. Anything else (a CI log, a pre-commit hook, a pipe, `TERM=dumb`) gets
a plain line every few seconds instead (carriage-return animations turn logs
into noise, and a silent job of several minutes looks hung); a run shorter
than that interval prints nothing. `MPHUNTER_GATE_NO_PROGRESS` turns both
off. stdout stays clean for the report either way.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from mphunter_gate.report.explain import clean

_BAR_WIDTH = 24
_LABEL_WIDTH = 40


#: Seconds between two progress lines where the bar cannot be drawn.
LINE_INTERVAL = 5.0


def terminal_wants_progress(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether `stream` is an interactive terminal that can redraw a line."""
    env = os.environ if environ is None else environ
    if env.get("TERM") == "dumb" or env.get("CI") or env.get("MPHUNTER_GATE_NO_PROGRESS"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress_mode(stream: TextIO, environ: Mapping[str, str] | None = None) -> str:
    """`bar` on a terminal, `lines` elsewhere, `off` when the user asked for none."""
    env = os.environ if environ is None else environ
    if env.get("MPHUNTER_GATE_NO_PROGRESS"):
        return "off"
    return "bar" if terminal_wants_progress(stream, env) else "lines"


class Progress:
    """`start(total)`, `advance(label)` per package, `close()` at the end.

    Disabled (every method a no-op) unless the stream is a terminal; pass
    `enabled=True` to force it (tests) or `False` for `--quiet`.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        min_interval: float = 0.05,
        mode: str | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if mode is None:
            mode = progress_mode(self.stream) if enabled is None else "bar" if enabled else "off"
        self.mode = mode
        self.enabled = mode == "bar"
        self._started = time.monotonic()
        self.total = 0
        self.done = 0
        self._min_interval = min_interval
        self._last_draw = 0.0
        self._drawn = False

    def start(self, total: int) -> None:
        """Begin a run of `total` steps (packages)."""
        self.total = max(total, 0)
        self.done = 0
        self._draw("", force=True)
        # (in `lines` mode the first line waits for the interval: see `_line`)

    def advance(self, label: str = "") -> None:
        """One step finished; `label` names it (a package name, say)."""
        self.done += 1
        self._draw(label, force=self.done >= self.total)

    def close(self) -> None:
        """Erase the bar so the report starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self, label: str) -> str:
        """The bar's text for the current count (without the leading CR)."""
        total = max(self.total, 1)
        filled = min(_BAR_WIDTH, _BAR_WIDTH * self.done // total)
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        return f"[{bar}] {self.done}/{self.total} {clean(label, _LABEL_WIDTH)}".rstrip()

    def _draw(self, label: str, *, force: bool = False) -> None:
        if self.mode == "lines":
            self._line(label)
            return
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self._min_interval:
            return
        self._last_draw = now
        self.stream.write("\r\x1b[2K" + self.render(label))
        self.stream.flush()
        self._drawn = True

    def _line(self, label: str) -> None:
        """A plain line, at most every LINE_INTERVAL seconds and not before the first
        interval has passed (a short run stays silent)."""
        now = time.monotonic()
        if now - max(self._last_draw, self._started) < LINE_INTERVAL:
            return
        self._last_draw = now
        text = f"mphunter-gate: judged {self.done}/{self.total} packages"
        self.stream.write(text + (f" (last: {clean(label, _LABEL_WIDTH)})" if label else "") + "\n")
        self.stream.flush()
