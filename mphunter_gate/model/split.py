"""Group-disjoint splits, decided by a seeded hash of the group key.

Malicious scripts are split by campaign family so validation measures
families the model has never seen (near-duplicate copies of one campaign
on both sides would inflate recall). Benign scripts are split by package
so the calibration set is truly held out of the index. Hashing the group
key, rather than shuffling, keeps a group's side stable when the corpus
grows, and is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mphunter_gate.model.docs import TrainingDoc


def _unit(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_group(
    docs: Sequence[TrainingDoc], holdout_fraction: float, seed: int
) -> tuple[list[TrainingDoc], list[TrainingDoc]]:
    """Return (kept, held_out); every group lands wholly on one side.

    Each group goes to the held-out side with probability
    `holdout_fraction`. If that leaves a side empty while there are at
    least two groups, the group nearest the cut is moved so both sides
    have something to train or measure on.
    """
    groups = sorted({d.group for d in docs})
    draws = {g: _unit(g, seed) for g in groups}
    held = {g for g in groups if draws[g] < holdout_fraction}
    if len(groups) >= 2:
        if not held:
            held = {min(groups, key=lambda g: draws[g])}
        elif len(held) == len(groups):
            held.discard(max(groups, key=lambda g: draws[g]))
    kept = [d for d in docs if d.group not in held]
    out = [d for d in docs if d.group in held]
    return kept, out
