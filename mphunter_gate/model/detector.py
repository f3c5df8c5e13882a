"""The shipped detector: load a verified models directory, then score.

`load` checks every artifact's sha256 against manifest.json before a
single pickle is opened, and refuses on any mismatch. After that,
scoring is pure: the same analysis and token list always give the same
ScriptScore.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mphunter_gate.errors import ModelError
from mphunter_gate.model.apiem import Apiem
from mphunter_gate.model.ccem import Ccem
from mphunter_gate.model.combine import Combiner
from mphunter_gate.model.index import ReferenceIndex
from mphunter_gate.model.manifest import Manifest
from mphunter_gate.model.params import TrainParams
from mphunter_gate.model.rarity import Rarity
from mphunter_gate.model.scorer import Scorer
from mphunter_gate.model.train import (
    APIEM_DIRECTION,
    APIEM_MODEL,
    ARTIFACTS,
    CCEM_MODEL,
    CLUSTERER,
    COMBINER,
    RARITY,
    VECTORS,
)
from mphunter_gate.models_dir import default_models_dir
from mphunter_gate.types import ScriptAnalysis, ScriptScore

log = logging.getLogger(__name__)


class Detector:
    """Scores analysed scripts against the bundled (or given) models."""

    model_version: str
    threshold: float

    def __init__(
        self, manifest: Manifest, apiem: Apiem, scorer: Scorer, params: TrainParams
    ) -> None:
        self.manifest = manifest
        self.model_version = manifest.model_version
        self.threshold = manifest.threshold
        self.params = params
        self._apiem = apiem
        self._scorer = scorer

    @classmethod
    def load(cls, directory: Path | None = None) -> Detector:
        root = Path(directory) if directory is not None else default_models_dir()
        manifest = Manifest.read(root)
        # Models trained before rarity existed have no rarity.json; their
        # combiner does not read that input, so they load without it.
        missing = [a for a in ARTIFACTS if a not in manifest.artifacts and a != RARITY]
        if missing:
            raise ModelError(f"{root / 'manifest.json'}: no sha256 for {', '.join(missing)}")
        manifest.verify(root)
        try:
            params = TrainParams.from_dict(manifest.params)
            apiem = Apiem.load(root / APIEM_MODEL, root / APIEM_DIRECTION, params.prefix_len)
            ccem = Ccem.load(root / CCEM_MODEL, params.seed, params.effective_infer_epochs)
            index = ReferenceIndex.load(root / CLUSTERER, root / VECTORS)
            combiner = Combiner.load(root / COMBINER)
            rarity = Rarity.load(root / RARITY) if RARITY in manifest.artifacts else None
            scorer = Scorer(ccem, index, params.rank_mode, combiner, rarity)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError) as exc:
            raise ModelError(f"{root}: cannot load models: {exc}") from exc
        return cls(manifest, apiem, scorer, params)

    def priority(self, api: str) -> float:
        """APIEM branch priority for the analysis stage (see apiem.py)."""
        return self._apiem.priority(api)

    def score(self, analysis: ScriptAnalysis, token_list: list[str]) -> ScriptScore:
        """Risk of one analysed script; `token_list` is `analysis.tokens(...)`
        with the model's prefix_len (the embedding's input), the analysis
        gives the behaviour."""
        return self._scorer.score_batch([analysis], [token_list])[0]

    def score_many(
        self, analyses: Sequence[ScriptAnalysis], token_lists: Sequence[Sequence[str]]
    ) -> list[ScriptScore]:
        """Batch form of `score` (one GLOSH call); identical results."""
        return self._scorer.score_batch(analyses, token_lists)
