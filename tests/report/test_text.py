"""The terminal table and failure details."""

from __future__ import annotations

from dataclasses import replace

from mphunter_gate.report.text import TextFormatter
from mphunter_gate.types import Report, Verdict
from tests.report.report_builders import failing_finding, make_report


def test_table_is_aligned_and_riskiest_first(mixed_report: Report) -> None:
    lines = TextFormatter().format(mixed_report).splitlines()
    header = lines[0]
    assert header.split() == ["NAME", "VERSION", "SCORE", "VERDICT", "REASON"]
    rows = lines[1:5]
    assert [r.split()[0] for r in rows] == ["evilpkg", "mystery", "vulnpkg", "plain"]
    col = header.index("SCORE")
    assert all(r[col - 2 : col] == "  " for r in rows)  # columns line up under the header
    assert rows[0].split()[2:4] == ["0.970", "FAIL"]


def test_failure_details_and_summary_line(mixed_report: Report) -> None:
    out = TextFormatter().format(mixed_report)
    assert "evilpkg 1.0.0: FAIL (requirements.txt:3)" in out
    assert "    setup.py:13  os.system" in out
    assert "nearest known-malicious sample: sample-0042/setup.py (distance 0.120)" in out
    assert "outlierness 0.990" in out
    assert "to allow it" in out
    assert out.rstrip().splitlines()[-1].startswith("4 package(s): 1 failed, 1 unscanned, 2 passed")
    assert "Verdict: FAIL" in out


def test_allowed_and_expired_notes_are_shown() -> None:
    f = replace(
        failing_finding(),
        verdict=Verdict.PASS,
        allowed_by="evilpkg==1.0.0: audited",
        notes=("allowlist entry x expired on 2020-01-01",),
    )
    out = TextFormatter().format(make_report(f))
    assert "pass (allowed)" in out
    assert "allowed: evilpkg==1.0.0: audited" in out
    assert "note: allowlist entry x expired on 2020-01-01" in out
    assert "to allow it" not in out


def test_empty_report_says_so() -> None:
    out = TextFormatter().format(make_report())
    assert "No packages were checked." in out


def test_string_indicators_are_shown_with_their_line() -> None:
    out = TextFormatter().format(make_report(failing_finding()))
    assert "setup.py:11  download_execute" in out
