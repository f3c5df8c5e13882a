"""ROC AUC and rates, checked against values worked out by hand."""

from __future__ import annotations

import pytest

from mphunter_gate.model.metrics import family_recall, rates, roc_auc


def test_auc_perfect_inverted_and_tied() -> None:
    assert roc_auc([0.9, 0.8], [0.1, 0.2, 0.3]) == 1.0
    assert roc_auc([0.1], [0.5, 0.6]) == 0.0
    assert roc_auc([0.5, 0.5], [0.5]) == 0.5


def test_auc_counts_pairs() -> None:
    # malicious 0.6 beats 0.2 and 0.4; 0.3 beats 0.2 only: 3 of 4 pairs
    assert roc_auc([0.6, 0.3], [0.2, 0.4]) == pytest.approx(0.75)


def test_auc_undefined_without_both_classes() -> None:
    assert roc_auc([], [0.1]) is None


def test_rates_at_threshold() -> None:
    r = rates([0.9, 0.5, 0.2], [0.6, 0.1, 0.1, 0.1], 0.5)
    assert r["true_positives"] == 2 and r["false_positives"] == 1
    assert r["recall"] == pytest.approx(2 / 3)
    assert r["fpr"] == pytest.approx(0.25)
    assert r["precision"] == pytest.approx(2 / 3)


def test_family_recall_weights_each_family_once() -> None:
    scores = [0.9] * 98 + [0.1, 0.1]
    families = ["big"] * 98 + ["small1", "small2"]
    assert family_recall(scores, families, 0.5) == pytest.approx(1 / 3)
