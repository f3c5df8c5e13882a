"""Analysis + token list -> ScriptScore: the method's RScore and the script's
behaviour, combined into one risk. Shared by training (to fit the combiner,
calibrate and validate) and by the Detector (to check), so both see the
same numbers.

The embedding side follows MPHunter: embed the token list with CCEM, place
it against the benign HDBSCAN index (GLOSH outlierness, nearest-benign
distance) and the known-malicious vectors (nearest-malicious distance),
and combine into RScore (`rscore.py`). Those parts, plus the behaviour
vector (`behaviour.py`), are the combiner's inputs (`combine.py`).

A script with no API call and no decoded payload at all scores 0: there is
no install-time behaviour to rank. Otherwise, a script the embedding cannot
place has no RScore; it is not given a made-up one. Two cases:

- an empty token list (no API call left after the bad-API filter);
- a token list none of whose tokens CCEM knows (nothing to infer from).

Both set the `embedded` input to 0 and the RScore inputs to 0, and the
share of tokens CCEM does not know is an input of its own, so the combiner
learns from data how much "never seen" should weigh, next to what the
script's calls do. (The previous rule placed unknown scripts at a fixed
0.75, and the calibrated threshold landed on that constant.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mphunter_gate.model.behaviour import Behaviour, behaviour, feature_names
from mphunter_gate.model.ccem import Ccem
from mphunter_gate.model.combine import Combiner
from mphunter_gate.model.index import Placement, ReferenceIndex
from mphunter_gate.model.rarity import Rarity
from mphunter_gate.model.rscore import negative, positive, rscore
from mphunter_gate.types import ScriptAnalysis, ScriptScore

if TYPE_CHECKING:
    import numpy as np

#: Inputs the embedding side adds after the behaviour vector and its rarity.
EMBEDDING_FEATURES = (
    "rscore",
    "rscore:positive",
    "rscore:negative",
    "embedded",
    "tokens:unknown_share",
)


def combiner_feature_names() -> tuple[str, ...]:
    return (*feature_names(), "rarity", *EMBEDDING_FEATURES)


class Scorer:
    """`combiner=None` scores by RScore alone (used while training the combiner);
    `rarity=None` gives every script rarity 0 (models trained before it existed)."""

    def __init__(
        self,
        ccem: Ccem,
        index: ReferenceIndex,
        rank_mode: str,
        combiner: Combiner | None = None,
        rarity: Rarity | None = None,
    ) -> None:
        self.ccem = ccem
        self.index = index
        self.rank_mode = rank_mode
        self.combiner = combiner
        self.rarity = rarity
        # The combiner picks its inputs by name, so features added to the code
        # after a model was trained leave that model's scores unchanged.
        self._columns: list[int] = []
        if combiner is not None:
            names = combiner_feature_names()
            missing = [n for n in combiner.names if n not in names]
            if missing:
                raise ValueError(
                    f"combiner uses features this code does not compute ({', '.join(missing[:5])}):"
                    " retrain the models"
                )
            self._columns = [names.index(n) for n in combiner.names]

    def place(
        self, token_lists: Sequence[Sequence[str]]
    ) -> tuple[list[Placement | None], list[float]]:
        """Placement per token list (None when it cannot be embedded) and the
        share of its tokens CCEM does not know."""
        import numpy as np

        placements: list[Placement | None] = [None] * len(token_lists)
        unknown: list[float] = []
        rows: list[int] = []
        vectors = []
        for i, tokens in enumerate(token_lists):
            known = len(self.ccem.known(tokens)) if tokens else 0
            unknown.append(1.0 - known / len(tokens) if tokens else 0.0)
            if not tokens:
                continue
            vec = self.ccem.embed(tokens)
            if vec is not None:
                rows.append(i)
                vectors.append(vec)
        if vectors:
            placed = self.index.place(np.vstack(vectors))
            for i, placed_one in zip(rows, placed, strict=True):
                placements[i] = placed_one
        return placements, unknown

    def embedding_row(self, p: Placement | None, unknown_share: float) -> list[float]:
        if p is None:
            return [0.0, 0.0, 0.0, 0.0, unknown_share]
        return [rscore(p, self.rank_mode), positive(p), negative(p), 1.0, unknown_share]

    def rows(
        self,
        behaviours: Sequence[Behaviour],
        placements: Sequence[Placement | None],
        unknown: Sequence[float],
    ) -> np.ndarray:
        """The combiner's input matrix (layout: `combiner_feature_names`)."""
        import numpy as np

        rarity = self.rarity.of if self.rarity is not None else lambda _: 0.0
        out = [
            [*b.values, rarity(b.values), *self.embedding_row(p, u)]
            for b, p, u in zip(behaviours, placements, unknown, strict=True)
        ]
        return np.asarray(out, dtype="float64").reshape(len(out), len(combiner_feature_names()))

    def score_batch(
        self,
        analyses: Sequence[ScriptAnalysis],
        token_lists: Sequence[Sequence[str]],
        behaviours: Sequence[Behaviour] | None = None,
    ) -> list[ScriptScore]:
        """Score many scripts at once (one GLOSH call for the batch).

        `behaviours` may be passed when already computed (training); they
        must be `behaviour(analysis)` for the same analyses.
        """
        if len(analyses) != len(token_lists):
            raise ValueError("one token list per analysis")
        behs = list(behaviours) if behaviours is not None else [behaviour(a) for a in analyses]
        # A script with no behaviour at all scores 0 whatever its embedding (below), so it
        # is not embedded: most files of a large package are such plain code.
        placements, unknown = self.place(
            [t if b.active else () for t, b in zip(token_lists, behs, strict=True)]
        )
        if self.combiner is not None:
            rows = self.rows(behs, placements, unknown)[:, self._columns]
            risk = [float(v) for v in self.combiner.proba(rows)]
        else:
            risk = [rscore(p, self.rank_mode) if p is not None else 0.0 for p in placements]
        out = []
        for i, b in enumerate(behs):
            if not b.active:
                risk[i] = 0.0  # no install-time behaviour at all: nothing to rank
        for a, b, p, r in zip(analyses, behs, placements, risk, strict=True):
            rs = rscore(p, self.rank_mode) if p is not None else None
            out.append(
                ScriptScore(
                    path=a.path,
                    score=min(1.0, max(0.0, r)),
                    outlierness=p.outlierness if p is not None else 0.0,
                    benign_distance=p.benign_distance if p is not None else 0.0,
                    malicious_distance=p.malicious_distance if p is not None else 2.0,
                    nearest_malicious=p.nearest_malicious if p is not None else None,
                    rscore=rs,
                    behaviours=b.fired,
                )
            )
        return out
