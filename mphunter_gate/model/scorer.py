"""Token list -> ScriptScore: embed with CCEM, place against the reference
index, combine into RScore. Shared by training (to calibrate and
validate) and by the Detector (to check), so both see the same numbers.

Two cases are decided before the embedding, because the embedding has
nothing to say about them:

- an empty token list (a script with no API calls left after the bad-API
  filter) scores 0: there is no install-time behaviour to rank, and an
  embedding of nothing would be a random point, i.e. a false outlier;
- a token list none of whose tokens the model knows is placed as far
  from everything as possible (outlierness 1, both distances 2): it is
  genuinely unlike every script seen, and the calibrated threshold
  decides whether that alone fails a build.
"""

from __future__ import annotations

from collections.abc import Sequence

from mphunter_gate.model.ccem import Ccem
from mphunter_gate.model.index import Placement, ReferenceIndex
from mphunter_gate.model.rscore import rscore
from mphunter_gate.types import ScriptScore

UNKNOWN = Placement(
    outlierness=1.0, benign_distance=2.0, malicious_distance=2.0, nearest_malicious=None
)


class Scorer:
    def __init__(self, ccem: Ccem, index: ReferenceIndex, rank_mode: str) -> None:
        self.ccem = ccem
        self.index = index
        self.rank_mode = rank_mode

    def score_batch(
        self,
        paths: Sequence[str],
        token_lists: Sequence[Sequence[str]],
    ) -> list[ScriptScore]:
        """Score many scripts at once (one GLOSH call for the batch)."""
        import numpy as np

        placements: list[Placement | None] = [None] * len(paths)
        rows: list[int] = []
        vectors = []
        for i, tokens in enumerate(token_lists):
            if not tokens:
                continue
            vec = self.ccem.embed(tokens)
            if vec is None:
                placements[i] = UNKNOWN
            else:
                rows.append(i)
                vectors.append(vec)
        if vectors:
            placed = self.index.place(np.vstack(vectors))
            for i, placed_one in zip(rows, placed, strict=True):
                placements[i] = placed_one
        out = []
        for path, p in zip(paths, placements, strict=True):
            if p is None:
                out.append(ScriptScore(path, 0.0, 0.0, 0.0, 2.0, None))
            else:
                out.append(
                    ScriptScore(
                        path=path,
                        score=rscore(p, self.rank_mode),
                        outlierness=p.outlierness,
                        benign_distance=p.benign_distance,
                        malicious_distance=p.malicious_distance,
                        nearest_malicious=p.nearest_malicious,
                    )
                )
        return out
