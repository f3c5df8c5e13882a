"""RScore: one risk number in [0, 1] from where a script sits.

MPHunter ranks outliers two ways and combines them (`rank_mode`):

- positive, "far from benign": the GLOSH outlier score of the script
  against the benign HDBSCAN clusters;
- negative, "close to known malware": the script's nearest-benign
  distance relative to its nearest-malicious one,
  d_b / (d_b + d_m): 0 on top of a benign script, 1 on top of a known
  malicious one, 0.5 half-way;
- p&n (default): the mean of the two, so a script must be both unusual
  for a benign package and leaning towards malware to score high.

The numbers are ranks, not probabilities; the threshold that turns them
into verdicts is calibrated on held-out benign scripts (`calibrate.py`).
"""

from __future__ import annotations

from mphunter_gate.model.index import Placement


def positive(p: Placement) -> float:
    return min(1.0, max(0.0, p.outlierness))


def negative(p: Placement) -> float:
    total = p.benign_distance + p.malicious_distance
    if total <= 0.0:
        return 0.5
    return min(1.0, max(0.0, p.benign_distance / total))


def rscore(p: Placement, rank_mode: str) -> float:
    if rank_mode == "positive":
        return positive(p)
    if rank_mode == "negative":
        return negative(p)
    if rank_mode == "p&n":
        return 0.5 * (positive(p) + negative(p))
    raise ValueError(f"unknown rank_mode {rank_mode!r}")
