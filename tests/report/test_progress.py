"""The stderr progress bar: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io

from mphunter_gate.report.progress import Progress, terminal_wants_progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = Progress(stream)
    bar.start(3)
    bar.advance("a")
    bar.close()
    assert stream.getvalue() == ""


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
