"""Markdown: table order, evidence blocks, escaping helpers."""

from __future__ import annotations

from dataclasses import replace

from mphunter_gate.report.markdown import MarkdownFormatter, code, md
from mphunter_gate.types import Report, Verdict
from tests.report.report_builders import failing_finding, make_report


def test_table_lists_riskiest_first(mixed_report: Report) -> None:
    out = MarkdownFormatter().format(mixed_report)
    rows = [line for line in out.splitlines() if line.startswith("| ") and "Package" not in line]
    names = [row.split(" | ")[1] for row in rows]
    assert names == ["evilpkg", "mystery", "vulnpkg", "plain"]
    assert "## Findings" in out
    assert "### ❌ evilpkg 1.0.0" in out
    assert "PYSEC" in out


def test_allowed_package_shows_reason_not_snippet() -> None:
    f = replace(failing_finding(), verdict=Verdict.PASS, allowed_by="evilpkg==1.0.0: audited")
    out = MarkdownFormatter().format(make_report(f))
    assert "**Allowed:** evilpkg==1.0.0\\: audited" in out
    assert "To allow it" not in out


def test_escape_helpers() -> None:
    assert md("a|b<c>") == "a\\|b\\<c\\>"
    assert code("x`y") == "``x`y``"
    assert code("`") == "`` ` ``"


def test_empty_report() -> None:
    assert "No packages were checked." in MarkdownFormatter().format(make_report())
