"""Training parameters, one frozen value recorded verbatim in the manifest.

The defaults are not the seed's (vector_size 300, epochs 200). On the
2-core build machine with one worker (needed for determinism), training
time and inference time grow linearly with both: 300-d / 200 epochs is
about 15x the work of 100-d / 40 epochs for every training run *and* for
every script inferred at check time (infer_vector runs `epochs` passes),
and the vectors are 3x larger in the shipped index and in HDBSCAN's
n^2 fit. 100-d follows the design notes' measurements (a 100-d Doc2Vec
on 20k documents is about 25 MB, inside the 40 MB budget). Measured
figures for a given corpus are in bench/train_bench.py's output; the
seed's values stay reachable through TrainParams.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

RANK_MODES = ("positive", "negative", "p&n")
SPLITS = ("temporal", "family")


@dataclass(frozen=True)
class TrainParams:
    """Everything that changes the trained artifacts.

    `workers` defaults to 1: gensim is only deterministic for a seed with
    one worker thread, and reproducible models matter more than minutes.
    """

    # CCEM (Doc2Vec PV-DM). 64-d: with imported modules in the corpus the
    # benign index is ~3x larger than setup.py alone, and 64-d keeps CCEM +
    # the HDBSCAN pickle inside the 40 MB budget and the fit near-linear.
    vector_size: int = 64
    window: int = 5
    # min_count 15 (seed: 1), for APIEM and CCEM: with imported modules in
    # the corpus, 82k distinct tokens appear, most in one script (methods of
    # local objects; DFS and BFS walks repeat each call, so 15 occurrences is
    # roughly 4+ scripts). At min_count 3 the vocabulary was 46k and APIEM +
    # CCEM alone 62 MB; at 15 it is ~14k. A token seen in a handful of
    # scripts has no learnable vector anyway; at check time such tokens count
    # in the combiner's `tokens:unknown_share` input instead.
    min_count: int = 15
    epochs: int = 40
    infer_epochs: int | None = None  # None: same as `epochs`
    prefix_len: int = 2
    workers: int = 1
    # APIEM (FastText over API tokens)
    apiem_vector_size: int = 32
    apiem_epochs: int = 10
    apiem_bucket: int = 20_000
    # Benign index (HDBSCAN)
    min_cluster_size: int = 2
    min_samples: int = 20
    rank_mode: str = "p&n"
    # Splits and calibration
    seed: int = 1337
    target_fpr: float = 0.001
    calibration_fraction: float = 0.3
    validation_fraction: float = 0.2
    max_malicious_reference: int = 20_000
    # Benign packages held out of the index to fit the combiner (a share of
    # what is left after calibration), the cap on index vectors (size and
    # HDBSCAN time; a seeded sample), and the combiner's boosted trees
    # (min leaf 80 measured best of 20/40/80 for family recall at the
    # strictest threshold on a family-disjoint split; see combine.py).
    combiner_fraction: float = 0.3
    max_index_vectors: int = 12_000
    combiner_min_leaf: int = 80
    combiner_iterations: int = 300
    combiner_learning_rate: float = 0.05
    combiner_l2: float = 1.0
    reanalyse: bool = True
    # Whole packages: every install- and startup-time file, every top-level
    # `__init__.py`, and this many of each release's other modules (those whose text
    # names a sensitive API first, then a seeded order). A package's plain modules
    # score 0 and are never embedded, so they teach nothing; all of them would triple
    # training time.
    benign_modules_per_package: int = 3
    # Tokens of each document APIEM and CCEM are fitted on (its first ones; scoring
    # embeds every token). Whole modules made the corpus 15 M tokens, about 7x the
    # install-time corpus, and fitting both models on all of it took over an hour.
    max_train_tokens: int = 400
    # How the malicious side is validated (`train.py`): `temporal` fits on what the
    # corpus added before `temporal_cut` and validates on what came after (the figure
    # that predicts next month's uploads), then fits the shipped models on everything;
    # `family` holds out `validation_fraction` of the families from the shipped fit.
    split: str = "temporal"
    temporal_cut: str = "2024-07-01"

    def __post_init__(self) -> None:
        if self.rank_mode not in RANK_MODES:
            raise ValueError(f"rank_mode must be one of {RANK_MODES}, not {self.rank_mode!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, not {self.split!r}")
        if not 0.0 <= self.target_fpr < 1.0:
            raise ValueError("target_fpr must be in [0, 1)")
        for name in ("calibration_fraction", "validation_fraction", "combiner_fraction"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1)")

    @property
    def effective_infer_epochs(self) -> int:
        return self.infer_epochs if self.infer_epochs is not None else self.epochs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainParams:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
