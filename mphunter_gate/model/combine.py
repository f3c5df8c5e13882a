"""The combiner: one calibrated-ready risk from behaviour features and RScore.

RScore (GLOSH outlierness and nearest benign vs nearest malicious
distance) ranks how unusual a script's API sequence is; the behaviour
vector (`behaviour.py`) says what the script does. A weighted, L2-
regularised logistic regression puts them on one scale. It is deliberately
simple: ~80 standardised inputs, one weight each, fitted by Newton's
method in numpy (deterministic, no scikit-learn at check time, and the
learnt state is a short JSON file that can be read and diffed, not a
pickle). Strong regularisation and per-family sample weights (each
malware family and each benign package weigh the same in total) keep it
from memorising the few campaigns with thousands of copies.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Combiner:
    """Learnt state: feature names, standardisation and weights."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    l2: float

    def decision(self, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        x = (np.asarray(rows, dtype="float64") - np.asarray(self.mean)) / np.asarray(self.scale)
        return x @ np.asarray(self.coef) + self.intercept

    def proba(self, rows: np.ndarray) -> np.ndarray:
        """Risk in [0, 1] for each row (the logistic of the decision value)."""
        import numpy as np

        z = np.clip(self.decision(rows), -50.0, 50.0)
        return 1.0 / (1.0 + np.exp(-z))

    def weights(self) -> dict[str, float]:
        """Weight per feature on the standardised scale (for the manifest and review)."""
        return {n: round(c, 4) for n, c in zip(self.names, self.coef, strict=True)}

    def save(self, path: Path) -> None:
        data = {
            "names": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "l2": self.l2,
        }
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> Combiner:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        names = tuple(str(n) for n in data["names"])
        out = cls(
            names=names,
            mean=tuple(float(v) for v in data["mean"]),
            scale=tuple(float(v) for v in data["scale"]),
            coef=tuple(float(v) for v in data["coef"]),
            intercept=float(data["intercept"]),
            l2=float(data["l2"]),
        )
        if not (len(out.mean) == len(out.scale) == len(out.coef) == len(names)):
            raise ValueError(f"{path}: combiner arrays do not match its feature names")
        return out


def fit_combiner(
    rows: np.ndarray,
    labels: Sequence[int],
    weights: Sequence[float],
    names: Sequence[str],
    *,
    l2: float,
    iterations: int = 50,
) -> Combiner:
    """Weighted logistic regression with an L2 penalty, by Newton's method.

    The penalty is `l2/2 * |coef|^2` on standardised inputs (not the
    intercept), relative to the total sample weight, so `l2` means the same
    whatever the corpus size. Constant columns get scale 1 and weight 0.
    """
    import numpy as np

    x = np.asarray(rows, dtype="float64")
    y = np.asarray(labels, dtype="float64")
    w = np.asarray(weights, dtype="float64")
    if x.ndim != 2 or x.shape[0] != len(y) or x.shape[1] != len(names) or len(w) != len(y):
        raise ValueError("combiner: rows, labels, weights and names disagree in shape")
    if not (0 < y.sum() < len(y)):
        raise ValueError("combiner: needs both benign and malicious examples")
    w = w / w.sum()
    mean = (w[:, None] * x).sum(axis=0)
    var = (w[:, None] * (x - mean) ** 2).sum(axis=0)
    scale = np.where(var > 1e-12, np.sqrt(var), 1.0)
    z = (x - mean) / scale
    z = np.hstack([z, np.ones((len(z), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50.0, 50.0)))
        grad = z.T @ (w * (p - y)) + penalty * beta
        hess = (z * (w * p * (1.0 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    coef = np.where(var > 1e-12, beta[:-1], 0.0)
    return Combiner(
        names=tuple(names),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in coef),
        intercept=float(beta[-1]) if math.isfinite(float(beta[-1])) else 0.0,
        l2=l2,
    )
