"""Threshold choice on held-out benign scores."""

from __future__ import annotations

import random

import pytest

from mphunter_gate.model.calibrate import choose_threshold


@pytest.mark.parametrize("n", [10, 999, 1000, 5000])
@pytest.mark.parametrize("target", [0.001, 0.01, 0.05])
def test_fpr_never_exceeds_target(n: int, target: float) -> None:
    rng = random.Random(n)
    scores = [rng.random() for _ in range(n)]
    cal = choose_threshold(scores, target)
    flagged = sum(1 for s in scores if s >= cal.threshold)
    assert flagged == cal.false_positives
    assert flagged / n <= target
    assert flagged == cal.allowed_false_positives  # tight: no lower threshold would do
    lower = cal.threshold - 2e-6
    assert sum(1 for s in scores if s >= lower) > cal.allowed_false_positives


def test_small_set_puts_threshold_above_every_benign() -> None:
    cal = choose_threshold([0.1, 0.4, 0.35], 0.001)
    assert cal.threshold > 0.4
    assert cal.false_positives == 0
    assert cal.fpr_upper_95 == pytest.approx(1.0)  # 3/3: three scripts prove nothing


def test_ties_at_the_cut_are_not_flagged() -> None:
    cal = choose_threshold([0.5] * 2000, 0.001)
    assert cal.threshold > 0.5
    assert cal.false_positives == 0


def test_empty_calibration_is_an_error() -> None:
    with pytest.raises(ValueError):
        choose_threshold([], 0.001)
