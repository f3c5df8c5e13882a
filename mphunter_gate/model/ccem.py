"""CCEM: the paragraph-vector model (Doc2Vec PV-DM) that embeds a script.

Every vector the scorer compares, for the index as for a script under
test, comes from `embed`, i.e. `infer_vector` with the random state reset
to the seed first: gensim's inference is otherwise not repeatable, and
vectors learnt during training have a different distribution from
inferred ones. Vectors are L2-normalised because HDBSCAN's prediction
refuses the cosine metric; euclidean on unit vectors ranks the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mphunter_gate.model.gensim_io import load_verified, save_reproducibly

if TYPE_CHECKING:
    import numpy as np
    from gensim.models import Doc2Vec


class Ccem:
    """A trained Doc2Vec model plus the settings that make inference repeatable."""

    def __init__(self, model: Doc2Vec, seed: int, infer_epochs: int) -> None:
        self.model_ = model
        self.seed = seed
        self.infer_epochs = infer_epochs

    @property
    def vector_size(self) -> int:
        return int(self.model_.vector_size)

    def known(self, tokens: Sequence[str]) -> list[str]:
        """The tokens the model has a vector for; inference ignores the rest."""
        vocab = self.model_.wv.key_to_index
        return [t for t in tokens if t in vocab]

    def embed(self, tokens: Sequence[str]) -> np.ndarray | None:
        """Unit vector for one token list, or None when no token is known."""
        import numpy as np

        words = self.known(tokens)
        if not words:
            return None
        vec = np.asarray(self._infer(words), dtype="float64")
        norm = float(np.linalg.norm(vec))
        if norm == 0.0 or not np.isfinite(norm):
            return None
        return (vec / norm).astype("float32")

    def _infer(self, words: list[str]) -> np.ndarray:
        """`Doc2Vec.infer_vector` for PV-DM, minus its one irreproducible step.

        gensim seeds the starting vector with Python's `hash()` of the joined
        words, which is salted per process (PYTHONHASHSEED), so the same
        script got a different vector in every run. We seed it from sha256
        instead, and reset `model.random` (negative sampling) to the seed,
        then run the same per-epoch update gensim does.
        """
        import numpy as np
        from gensim.models.doc2vec_inner import train_document_dm

        model = self.model_
        size = model.dv.vector_size
        digest = hashlib.sha256(f"{self.seed}\0{' '.join(words)}".encode()).digest()
        start = np.random.Generator(np.random.SFC64(int.from_bytes(digest[:8], "big")))
        doctag = ((start.random(size).astype(np.float32) - 0.5) / size).reshape(1, size)
        lockf = np.ones(1, dtype=np.float32)
        work = np.zeros(model.layer1_size, dtype=np.float32)
        neu1 = np.zeros(model.layer1_size, dtype=np.float32)
        model.random = np.random.RandomState(self.seed)
        epochs = self.infer_epochs
        alpha, min_alpha = model.alpha, model.min_alpha
        delta = (alpha - min_alpha) / max(epochs - 1, 1)
        for _ in range(epochs):
            train_document_dm(
                model,
                words,
                [0],
                alpha,
                work,
                neu1,
                learn_words=False,
                learn_hidden=False,
                doctag_vectors=doctag,
                doctags_lockf=lockf,
            )
            alpha -= delta
        return doctag[0]

    def save(self, path: Path) -> None:
        """Save without the training documents' own vectors (`dv`): scoring
        infers every vector, so they are dead weight (about 40 % of the file)."""
        dv = self.model_.dv
        kept = (dv.vectors, dv.index_to_key, dv.key_to_index)
        dv.vectors = dv.vectors[:0]
        dv.index_to_key, dv.key_to_index = [], {}
        try:
            save_reproducibly(self.model_, path)
        finally:
            dv.vectors, dv.index_to_key, dv.key_to_index = kept

    @classmethod
    def load(cls, path: Path, seed: int, infer_epochs: int) -> Ccem:
        from gensim.models import Doc2Vec

        return cls(load_verified(path, Doc2Vec), seed, infer_epochs)


def train_ccem(
    docs: Sequence[Sequence[str]],
    *,
    vector_size: int,
    window: int,
    min_count: int,
    epochs: int,
    infer_epochs: int,
    seed: int,
    workers: int,
) -> Ccem:
    """Fit PV-DM (dm=1) on the token lists. Empty lists are skipped."""
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    tagged = [TaggedDocument(list(doc), [i]) for i, doc in enumerate(docs) if doc]
    if not tagged:
        raise ValueError("CCEM needs at least one non-empty token list")
    model = Doc2Vec(
        dm=1,
        vector_size=vector_size,
        window=window,
        min_count=min_count,
        epochs=epochs,
        seed=seed,
        workers=workers,
    )
    model.build_vocab(tagged)
    model.train(tagged, total_examples=len(tagged), epochs=epochs)
    return Ccem(model, seed, infer_epochs)
