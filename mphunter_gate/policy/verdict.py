"""One row verdict from the scan's verdict and the policy hits on a release.

The gate adds hits as the stages find them, and the allowlist later passes
some of them: both call `settle`, so a row's verdict, reason and rule are
computed in one place. The row is the worst of the scan's verdict and each
hit that still blocks (fail over unscanned over pass); its reason starts
with the hits' messages (`MAL-2026-1234: <summary>`), then the scan's own
reason; warnings stay out of it. A score never overrides a failing hit: the scan's verdict
is one input among them, not a veto.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mphunter_gate.types import Finding, HitLevel, PolicyHit, ScanResult, Verdict

_RANK = {Verdict.PASS: 0, Verdict.UNSCANNED: 1, Verdict.FAIL: 2}
_LEVEL = {HitLevel.FAIL: Verdict.FAIL, HitLevel.UNSCANNED: Verdict.UNSCANNED}


def scan_of(finding: Finding) -> ScanResult:
    """The scan's own result (the row itself while no hit changed it)."""
    if finding.scan is not None:
        return finding.scan
    return ScanResult(finding.verdict, finding.reason, finding.allowed_by)


def with_hits(finding: Finding, hits: Iterable[PolicyHit]) -> Finding:
    """`finding` with `hits` added and its verdict settled."""
    new = tuple(hits)
    if not new:
        return finding
    return settle(replace(finding, scan=scan_of(finding), policy=(*finding.policy, *new)))


def settle(finding: Finding) -> Finding:
    """The row's verdict and reason from its scan result and its hits."""
    if finding.scan is None:
        return finding
    scan = finding.scan
    blocking = [h for h in finding.policy if h.blocks]
    verdicts = [_LEVEL[h.level] for h in blocking]
    if scan.allowed_by is None:
        verdicts.append(scan.verdict)
    verdict = max(verdicts, key=_RANK.__getitem__, default=Verdict.PASS)
    # an allowed hit stays in the reason, as an allowed scan failure does: the row says
    # what was allowed
    said = [h.message for h in finding.policy if h.level is not HitLevel.WARNING]
    reason = "; ".join([*said, scan.reason])
    allowed = [scan.allowed_by] if scan.allowed_by else []
    allowed += [
        h.allowed_by for h in finding.policy if h.allowed_by and h.level is not HitLevel.WARNING
    ]
    allowed_by = "; ".join(dict.fromkeys(allowed)) if verdict is Verdict.PASS and allowed else None
    return replace(finding, verdict=verdict, reason=reason, allowed_by=allowed_by)


def blocking_rule(finding: Finding) -> str | None:
    """The rule of the first hit that keeps the row from passing (None: no hit does)."""
    return next((h.rule for h in finding.policy if h.blocks), None)
