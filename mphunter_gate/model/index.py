"""The reference sets a script is compared with: the benign index clustered
with HDBSCAN, and the known-malicious vectors.

HDBSCAN is fitted once, at training time, with prediction data, so at
check time a script is placed against the benign clusters with GLOSH
(`approximate_predict_scores`) without re-clustering. Nearest-neighbour
distances are brute force: a few thousand unit vectors are one matrix
product, and it keeps the artifact a plain array instead of a tree.
"""

from __future__ import annotations

import gzip
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Placement:
    """Where one vector sits relative to the reference sets."""

    outlierness: float  # GLOSH against the benign clusters, [0, 1]
    benign_distance: float  # to the nearest benign index vector, [0, 2]
    malicious_distance: float  # to the nearest known-malicious vector, [0, 2]
    nearest_malicious: str | None


#: Query rows per similarity block in `nearest` (256 x 12,000 float64 = 24 MB).
NEAREST_BLOCK = 256


def nearest(queries: np.ndarray, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance to, and index of, the nearest row of `refs` (unit rows)."""
    import numpy as np

    if len(refs) == 0:
        return np.full(len(queries), 2.0), np.full(len(queries), -1)
    ref_t = refs.astype("float64").T
    idx = np.empty(len(queries), dtype=np.intp)
    best = np.empty(len(queries), dtype="float64")
    # In blocks of rows: a package's thousand files against 12,000 index vectors is a
    # 100+ MB similarity matrix at once, which set a whole run's peak memory.
    for start in range(0, len(queries), NEAREST_BLOCK):
        sims = queries[start : start + NEAREST_BLOCK].astype("float64") @ ref_t
        block = np.argmax(sims, axis=1)
        idx[start : start + len(block)] = block
        best[start : start + len(block)] = sims[np.arange(len(block)), block]
    return np.sqrt(np.clip(2.0 - 2.0 * best, 0.0, 4.0)), idx


class ReferenceIndex:
    """Benign vectors + their HDBSCAN clustering, and malicious vectors."""

    def __init__(
        self,
        clusterer: Any,
        benign: np.ndarray,
        malicious: np.ndarray,
        malicious_ids: list[str],
    ) -> None:
        self.clusterer_ = clusterer
        self.benign_ = benign
        self.malicious_ = malicious
        self.malicious_ids_ = malicious_ids

    @classmethod
    def fit(
        cls,
        benign: np.ndarray,
        malicious: np.ndarray,
        malicious_ids: list[str],
        *,
        min_cluster_size: int,
        min_samples: int,
    ) -> ReferenceIndex:
        """Cluster the benign vectors; `min_samples` is capped below the index size."""
        import hdbscan

        if len(benign) < 3:
            raise ValueError("the benign index needs at least 3 vectors")
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=max(2, min_cluster_size),
            min_samples=max(1, min(min_samples, len(benign) - 1)),
            metric="euclidean",
            prediction_data=True,
            core_dist_n_jobs=1,
        )
        clusterer.fit(benign.astype("float64"))
        return cls(clusterer, benign, malicious, malicious_ids)

    def outlierness(self, vectors: np.ndarray) -> np.ndarray:
        import hdbscan
        import numpy as np

        if len(vectors) == 0:
            return np.zeros(0)
        scores = hdbscan.approximate_predict_scores(self.clusterer_, vectors.astype("float64"))
        scores = np.asarray(scores, dtype="float64")
        return np.clip(np.nan_to_num(scores, nan=1.0, posinf=1.0, neginf=0.0), 0.0, 1.0)

    def place(self, vectors: np.ndarray) -> list[Placement]:
        """Placement of each row of `vectors` (unit vectors from CCEM)."""
        out_scores = self.outlierness(vectors)
        d_b, _ = nearest(vectors, self.benign_)
        d_m, idx = nearest(vectors, self.malicious_)
        return [
            Placement(
                outlierness=float(out_scores[i]),
                benign_distance=float(d_b[i]),
                malicious_distance=float(d_m[i]),
                nearest_malicious=self.malicious_ids_[int(idx[i])] if idx[i] >= 0 else None,
            )
            for i in range(len(vectors))
        ]

    def save(self, clusterer_path: Path, vectors_path: Path) -> None:
        import numpy as np

        # gzip: the clusterer's prediction data halves, which keeps the
        # shipped models under their 40 MB budget; mtime 0 keeps the bytes
        # (and so the sha256 and the model version) reproducible.
        with (
            clusterer_path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fh,
        ):
            pickle.dump(self.clusterer_, fh, protocol=4)
        with vectors_path.open("wb") as fh:
            np.savez_compressed(
                fh,
                benign=self.benign_.astype("float32"),
                malicious=self.malicious_.astype("float32"),
                malicious_ids=np.asarray(self.malicious_ids_, dtype="U"),
            )

    @classmethod
    def load(cls, clusterer_path: Path, vectors_path: Path) -> ReferenceIndex:
        """Only call after the manifest's sha256 check: unpickling runs code."""
        import numpy as np

        with gzip.open(clusterer_path, "rb") as fh:
            clusterer = pickle.load(fh)
        with np.load(vectors_path, allow_pickle=False) as data:
            benign = data["benign"]
            malicious = data["malicious"]
            ids = [str(x) for x in data["malicious_ids"]]
        return cls(clusterer, benign, malicious, ids)
