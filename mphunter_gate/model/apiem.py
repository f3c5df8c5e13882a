"""APIEM: the word embedding of API tokens, and the branch priority it gives.

MPHunter uses an API embedding to decide which paths through a script
become its canonical sequences. Analysis asks us for `priority(api)` and
walks higher-priority branches first. We define it as the cosine between
the API's vector, centred on the mean of all script vectors, and one fixed
direction, the mean malicious-script vector minus the mean benign-script
vector, mapped to [0, 1]. (Uncentred, every FastText vector shares one
large common component and every API gets a priority close to 1.)

- it is a property of the API alone (a branch order must not depend on
  the script being ranked), stable and cheap;
- it puts the behaviour that distinguishes malware (process, network,
  decoding, exec) early in the canonical sequence, where the paragraph
  model's context windows see it together, instead of letting the order
  of `if` branches in the source decide;
- FastText's character n-grams give a vector, hence a priority, to API
  names never seen in training, which newer malware produces.

With no malicious documents the direction is "away from the benign mean"
(unusual first). The model is small on purpose (32-d, 20k-bucket): it only
orders branches; the script embedding is CCEM's job.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mphunter_gate.model.gensim_io import load_verified, save_reproducibly

if TYPE_CHECKING:
    import numpy as np
    from gensim.models import FastText


def shorten(api: str, prefix_len: int) -> str:
    """Keep the last `prefix_len` dotted parts, as the token lists do."""
    parts = api.split(".")
    return ".".join(parts[-prefix_len:]) if prefix_len > 0 else api


class Apiem:
    """A trained APIEM and its priority direction."""

    def __init__(
        self, model: FastText, direction: np.ndarray, center: np.ndarray, prefix_len: int
    ) -> None:
        self.model_ = model
        self.direction_ = direction
        self.center_ = center
        self.prefix_len = prefix_len
        self._priority = functools.lru_cache(maxsize=65536)(self._compute_priority)

    def _compute_priority(self, api: str) -> float:
        import numpy as np

        token = shorten(api, self.prefix_len)
        vec = self.model_.wv.get_vector(token) - self.center_  # subwords cover unseen names
        norm = float(np.linalg.norm(vec))
        if norm == 0.0 or not np.isfinite(norm):
            return 0.5
        cos = float(np.dot(vec, self.direction_) / norm)
        return min(1.0, max(0.0, 0.5 * (1.0 + cos)))

    def priority(self, api: str) -> float:
        """Higher means walk this branch first. Deterministic, in [0, 1]."""
        return float(self._priority(api))

    def save(self, model_path: Path, direction_path: Path) -> None:
        import numpy as np

        save_reproducibly(self.model_, model_path)
        with direction_path.open("wb") as fh:
            both = np.vstack([self.direction_, self.center_]).astype("float32")
            np.save(fh, both, allow_pickle=False)

    @classmethod
    def load(cls, model_path: Path, direction_path: Path, prefix_len: int) -> Apiem:
        import numpy as np
        from gensim.models import FastText

        model = load_verified(model_path, FastText)
        both = np.load(direction_path, allow_pickle=False)
        if both.ndim != 2 or both.shape != (2, model.wv.vector_size):
            raise ValueError(f"{direction_path}: expected a (2, {model.wv.vector_size}) array")
        return cls(model, both[0], both[1], prefix_len)


def _doc_means(model: FastText, docs: Sequence[Sequence[str]]) -> np.ndarray:
    import numpy as np

    rows = [np.mean([model.wv.get_vector(t) for t in doc], axis=0) for doc in docs if doc]
    if not rows:
        return np.zeros((0, model.wv.vector_size), dtype="float32")
    return np.asarray(rows, dtype="float32")


def train_apiem(
    benign: Sequence[Sequence[str]],
    malicious: Sequence[Sequence[str]],
    *,
    vector_size: int,
    window: int,
    epochs: int,
    bucket: int,
    prefix_len: int,
    seed: int,
    workers: int,
    min_count: int = 1,
) -> Apiem:
    """Fit FastText on every token list and derive the priority direction.

    Tokens below `min_count` still get a vector (and a priority) from their
    character n-grams, which is what FastText is for.
    """
    import numpy as np
    from gensim.models import FastText

    corpus = [list(doc) for doc in (*benign, *malicious) if doc]
    if not corpus:
        raise ValueError("APIEM needs at least one non-empty token list")
    model = FastText(
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        bucket=bucket,
        seed=seed,
        workers=workers,
        sg=1,
    )
    model.build_vocab(corpus_iterable=corpus)
    model.train(corpus_iterable=corpus, total_examples=len(corpus), epochs=epochs)
    ben = _doc_means(model, benign)
    mal = _doc_means(model, malicious)
    if len(ben) and len(mal):
        direction = mal.mean(axis=0) - ben.mean(axis=0)
    elif len(ben):
        direction = -ben.mean(axis=0)
    else:
        direction = mal.mean(axis=0)
    norm = float(np.linalg.norm(direction))
    direction = direction / norm if norm > 0 else direction
    center = np.vstack([m for m in (ben, mal) if len(m)]).mean(axis=0)
    return Apiem(model, direction.astype("float32"), center.astype("float32"), prefix_len)
