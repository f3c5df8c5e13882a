"""Rarity: how seldom benign install-time scripts do what this script does.

The combiner learns from the malware families it was trained on; a new
family that combines behaviours no training family combined (say: build a
string from builtin reprs, install a package and write a shortcut from a
setup.py) gets little from the learned trees, whose splits never saw that
mix. Rarity is a second view that needs no malware at all: the benign
index says how often each behaviour occurs in benign install- and
import-time code, and a script's rarity is the information content of the
behaviours it shows,

    rarity = sum over fired behaviours f of -ln P_benign(f)

with P_benign the Laplace-smoothed share of benign index scripts in which
f fires. "Behaviours" are the 0/1 features of `behaviour.py`: categories,
their combinations and string indicators. Treating them as independent
over-counts correlated ones, which only matters for ranking among scripts
that already do several rare things. The combiner takes rarity as one more
input, monotone non-decreasing, so "does many things benign code rarely
does" carries over to families it has never seen.

The weights are fitted on the benign index only (never on calibration or
validation scripts) and shipped as `rarity.json`, readable by a reviewer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mphunter_gate.analysis.categories import load_rules
from mphunter_gate.model.behaviour import feature_names


def binary_features() -> tuple[str, ...]:
    """The 0/1 behaviour features rarity is counted over (layout order)."""
    rules = load_rules()
    return tuple(
        n
        for n in feature_names()
        if n in rules.categories or "+" in n or (n.startswith("str:") and n != "str:n")
    )


@dataclass(frozen=True)
class Rarity:
    """-ln of the benign frequency of each binary behaviour feature."""

    weights: dict[str, float]
    _columns: tuple[tuple[int, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = feature_names()
        columns = tuple((names.index(f), w) for f, w in self.weights.items() if f in names)
        object.__setattr__(self, "_columns", columns)

    @classmethod
    def fit(cls, behaviours: Sequence[Sequence[float]]) -> Rarity:
        names = feature_names()
        n = len(behaviours)
        weights = {}
        for f in binary_features():
            col = names.index(f)
            fired = sum(1 for b in behaviours if b and b[col] > 0)
            weights[f] = round(-math.log((fired + 1) / (n + 2)), 6)
        return cls(weights)

    def of(self, values: Sequence[float]) -> float:
        """The rarity of one behaviour vector (`behaviour.py` layout)."""
        if not values:
            return 0.0
        return sum(w for col, w in self._columns if values[col] > 0)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.weights, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> Rarity:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a rarity table")
        known = set(binary_features())
        return cls({str(k): float(v) for k, v in data.items() if k in known})
