"""Progress on stderr: a bar on a terminal, a line every few seconds elsewhere."""

from __future__ import annotations

import io

import pytest

import mphunter_gate.report.progress as progress
from mphunter_gate.report.progress import Progress, progress_mode, terminal_wants_progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_short_run_off_a_terminal_prints_nothing() -> None:
    stream = io.StringIO()
    bar = Progress(stream, mode="lines")
    bar.start(3)
    bar.advance("a")
    bar.close()
    assert stream.getvalue() == ""


def test_a_long_run_off_a_terminal_prints_a_line_every_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    bar = Progress(stream, mode="lines")
    bar.start(3)
    bar.advance("numpy")  # at once: nothing yet
    clock[0] += progress.LINE_INTERVAL
    bar.advance("pandas")  # one interval in: a line
    clock[0] += 1.0
    bar.advance("scipy")  # too soon after it
    assert stream.getvalue() == "mphunter-gate: judged 2/3 packages (last: pandas)\n"
    assert "\r" not in stream.getvalue()


def test_progress_mode_by_stream_and_environment() -> None:
    assert progress_mode(FakeTty(), {}) == "bar"
    assert progress_mode(io.StringIO(), {}) == "lines"
    assert progress_mode(FakeTty(), {"CI": "true"}) == "lines"
    assert progress_mode(io.StringIO(), {"MPHUNTER_GATE_NO_PROGRESS": "1"}) == "off"


def test_draws_and_erases_on_a_terminal() -> None:
    stream = FakeTty()
    bar = Progress(stream, enabled=True, min_interval=0.0)
    bar.start(4)
    bar.advance("requests")
    bar.advance("evil\x1b[2Jname")
    assert bar.render("x").startswith("[############------------] 2/4 x")
    out = stream.getvalue()
    assert "1/4 requests" in out and "2/4 evil[2Jname" in out  # escape char stripped
    assert "\x1b[2J" not in out
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_terminal_detection_respects_ci_and_dumb_terminals() -> None:
    tty = FakeTty()
    assert terminal_wants_progress(tty, {})
    assert not terminal_wants_progress(tty, {"CI": "true"})
    assert not terminal_wants_progress(tty, {"TERM": "dumb"})
    assert not terminal_wants_progress(io.StringIO(), {})
