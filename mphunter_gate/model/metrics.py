"""Detection figures computed with numpy only (no scikit-learn needed at
run time): ROC AUC, rates at a threshold, and the per-family view.

Malware corpora are dominated by a few campaigns with thousands of
copies; a recall over scripts mostly measures those. `family_recall`
averages per family so each campaign counts once, which is the figure
that says something about families not seen yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


def roc_auc(malicious: Sequence[float], benign: Sequence[float]) -> float | None:
    """P(random malicious scores above random benign), ties counting half."""
    import numpy as np

    if not malicious or not benign:
        return None
    scores = np.concatenate([np.asarray(malicious, float), np.asarray(benign, float)])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores), dtype=float)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    n_m, n_b = len(malicious), len(benign)
    u = ranks[:n_m].sum() - n_m * (n_m + 1) / 2.0
    return float(u / (n_m * n_b))


def rates(
    malicious: Sequence[float], benign: Sequence[float], threshold: float
) -> dict[str, float | int | None]:
    tp = sum(1 for s in malicious if s >= threshold)
    fp = sum(1 for s in benign if s >= threshold)
    return {
        "n_malicious": len(malicious),
        "n_benign": len(benign),
        "true_positives": tp,
        "false_positives": fp,
        "recall": tp / len(malicious) if malicious else None,
        "fpr": fp / len(benign) if benign else None,
        "precision": tp / (tp + fp) if tp + fp else None,
    }


def family_recall(
    scores: Sequence[float], families: Sequence[str], threshold: float
) -> float | None:
    per: dict[str, list[bool]] = defaultdict(list)
    for s, fam in zip(scores, families, strict=True):
        per[fam].append(s >= threshold)
    if not per:
        return None
    return float(sum(sum(v) / len(v) for v in per.values()) / len(per))
