"""Fixtures shared by the report tests."""

from __future__ import annotations

import pytest

from mphunter_gate.types import Report
from tests.report.report_builders import (
    failing_finding,
    make_report,
    passing_finding,
    unscanned_finding,
    vulnerable_finding,
)


@pytest.fixture
def mixed_report() -> Report:
    """One of each: clean pass, vulnerable pass, unscanned, fail (in shuffled order)."""
    return make_report(
        passing_finding("plain", "1.0"),
        vulnerable_finding(),
        unscanned_finding(),
        failing_finding(),
    )
