"""The default threshold: the lowest score that keeps the false-positive
rate on held-out benign scripts at or below the target.

A build fails when a score is at or above the threshold. With n held-out
benign scores and a target rate r, at most floor(r * n) of them may reach
it, so the threshold sits just above the (floor(r * n) + 1)-th highest
benign score. Below 1,000 calibration scripts a 0.1 % target therefore
means "above every held-out benign score"; the manifest records n and the
95 % upper bound on the true rate (rule of three) so nobody mistakes a
small calibration set for a strong guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

STEP = 1e-6  # thresholds are stored rounded up to this grid


@dataclass(frozen=True)
class Calibration:
    threshold: float
    n_benign: int
    allowed_false_positives: int
    false_positives: int
    fpr: float
    fpr_upper_95: float  # one-sided 95 % bound on the true rate given what we saw

    def as_dict(self) -> dict[str, float | int]:
        return {
            "threshold": self.threshold,
            "n_benign": self.n_benign,
            "allowed_false_positives": self.allowed_false_positives,
            "false_positives": self.false_positives,
            "fpr": self.fpr,
            "fpr_upper_95": self.fpr_upper_95,
        }


def _upper_95(k: int, n: int) -> float:
    """Clopper-Pearson-style one-sided bound; rule of three when k == 0."""
    if n == 0:
        return 1.0
    if k == 0:
        return min(1.0, 3.0 / n)
    # Wilson upper bound: close enough for reporting, no scipy needed.
    z = 1.645
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def choose_threshold(benign_scores: Sequence[float], target_fpr: float) -> Calibration:
    if not benign_scores:
        raise ValueError("calibration needs at least one held-out benign score")
    ordered = sorted((float(s) for s in benign_scores), reverse=True)
    n = len(ordered)
    allowed = math.floor(target_fpr * n + 1e-12)
    if allowed >= n:
        threshold = 0.0
    else:
        cut = ordered[allowed]
        threshold = math.floor(cut / STEP + 1.0) * STEP
        threshold = min(1.0, round(threshold, 6))
    fps = sum(1 for s in ordered if s >= threshold)
    return Calibration(
        threshold=threshold,
        n_benign=n,
        allowed_false_positives=allowed,
        false_positives=fps,
        fpr=fps / n,
        fpr_upper_95=_upper_95(fps, n),
    )
