"""The combiner: one risk from behaviour features and RScore.

RScore (GLOSH outlierness and nearest benign vs nearest malicious
distance) says how *unusual* a script's API sequence is; the behaviour
vector (`behaviour.py`) says what the script does. The combiner puts them
on one scale.

Why gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier)
and not a linear model: measured on family-disjoint validation, a logistic
regression ranked well overall (AUC 0.99) but put large, legitimate build
scripts (they download sources and run compilers: network + process at
install time) above most malware, so at the strict 0.1 % false-positive
target it caught almost nothing. Trees can learn "many behaviours inside a
big, ordinary build script" apart from "the same behaviours in a short
script that does little else".

What keeps it from memorising campaigns:

- monotonic constraints: the score may only rise with every behaviour
  feature (a category, a combination, a decoded payload, rarity, both
  sides of RScore, the share of tokens CCEM never saw). A new family that
  adds a behaviour, or looks more unlike benign code, can never look safer
  for it; only size, file kind, parse path and whether the script could be
  embedded may push either way. (Novelty used to be free: the trees then
  learnt from the training families that very unusual scripts are benign
  large modules, and scored a never-seen obfuscated family that fired nine
  behaviour categories at 0.27. Made monotone, mean per-family recall on
  the validation split rose from 0.78 to 0.84 at the same false-positive
  target, and ROC AUC from 0.96 to 0.99.);
- per-group sample weights (every malware family and every benign package
  weighs the same in total), a large minimum leaf, L2 on the leaves;
- its inputs describe behaviour, never names, strings or URLs.

The fitted model is a pickle, like the other artifacts, and like them it
is only unpickled after its sha256 matched the manifest.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Features that may push the score either way (everything else: only up).
FREE_FEATURES = frozenset(
    {
        "calls:n",
        "apis:n",
        "parse:tokens",
        "embedded",
    }
)
FREE_PREFIXES = ("kind:",)


def monotonic_constraints(names: Sequence[str]) -> list[int]:
    """+1 (score non-decreasing in the feature) or 0 (free), per feature."""
    return [0 if n in FREE_FEATURES or n.startswith(FREE_PREFIXES) else 1 for n in names]


@dataclass(frozen=True)
class Combiner:
    """The fitted model and the feature layout it was fitted on."""

    names: tuple[str, ...]
    model: Any  # sklearn HistGradientBoostingClassifier

    def proba(self, rows: np.ndarray) -> np.ndarray:
        """Risk in [0, 1] for each row."""
        import numpy as np

        x = np.asarray(rows, dtype="float64")
        if len(x) == 0:
            return np.zeros(0)
        from threadpoolctl import threadpool_limits

        # One OpenMP thread: the trees' per-call parallel region costs more than it
        # saves on the few hundred rows of a package, and stalls whenever another
        # process holds a core. Predictions do not depend on the thread count.
        with threadpool_limits(limits=1, user_api="openmp"):
            return np.asarray(self.model.predict_proba(x)[:, 1], dtype="float64")

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            pickle.dump({"names": list(self.names), "model": self.model}, fh, protocol=4)

    @classmethod
    def load(cls, path: Path) -> Combiner:
        """Only call after the manifest's sha256 check: unpickling runs code."""
        with path.open("rb") as fh:
            data = pickle.load(fh)
        if not isinstance(data, dict) or "names" not in data or "model" not in data:
            raise ValueError(f"{path}: not a combiner")
        return cls(tuple(str(n) for n in data["names"]), data["model"])


def fit_combiner(
    rows: np.ndarray,
    labels: Sequence[int],
    weights: Sequence[float],
    names: Sequence[str],
    *,
    min_samples_leaf: int,
    max_iter: int,
    learning_rate: float,
    l2: float,
    seed: int,
) -> Combiner:
    """Fit the boosted trees with monotonic constraints and sample weights.

    Weights are rescaled to mean 1 so `min_samples_leaf` and `l2` mean the
    same whatever the corpus size. Deterministic for a seed (no early
    stopping, so no random validation split).
    """
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.asarray(rows, dtype="float64")
    y = np.asarray(labels, dtype=int)
    w = np.asarray(weights, dtype="float64")
    if x.ndim != 2 or x.shape[0] != len(y) or x.shape[1] != len(names) or len(w) != len(y):
        raise ValueError("combiner: rows, labels, weights and names disagree in shape")
    if not (0 < y.sum() < len(y)):
        raise ValueError("combiner: needs both benign and malicious examples")
    model = HistGradientBoostingClassifier(
        max_iter=max_iter,
        learning_rate=learning_rate,
        l2_regularization=l2,
        min_samples_leaf=min_samples_leaf,
        monotonic_cst=monotonic_constraints(names),
        early_stopping=False,
        random_state=seed,
    )
    model.fit(x, y, sample_weight=w * (len(w) / w.sum()))
    return Combiner(tuple(names), model)
