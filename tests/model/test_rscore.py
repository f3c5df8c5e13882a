"""The rank modes combine the placement as documented."""

from __future__ import annotations

import pytest

from mphunter_gate.model.index import Placement
from mphunter_gate.model.rscore import negative, positive, rscore


def test_negative_is_relative_closeness_to_malware() -> None:
    on_benign = Placement(0.2, 0.0, 0.8, "m")
    on_malware = Placement(0.2, 0.8, 0.0, "m")
    halfway = Placement(0.2, 0.4, 0.4, "m")
    assert negative(on_benign) == 0.0
    assert negative(on_malware) == 1.0
    assert negative(halfway) == 0.5


def test_modes() -> None:
    p = Placement(
        outlierness=0.9, benign_distance=0.3, malicious_distance=0.1, nearest_malicious=None
    )
    assert rscore(p, "positive") == positive(p) == 0.9
    assert rscore(p, "negative") == pytest.approx(0.75)
    assert rscore(p, "p&n") == pytest.approx((0.9 + 0.75) / 2)
    with pytest.raises(ValueError):
        rscore(p, "sideways")


def test_nearest_in_blocks_matches_one_matrix(monkeypatch) -> None:
    import numpy as np

    import mphunter_gate.model.index as index

    rng = np.random.default_rng(3)
    refs = rng.normal(size=(50, 8))
    refs /= np.linalg.norm(refs, axis=1, keepdims=True)
    queries = rng.normal(size=(23, 8))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    sims = queries @ refs.T
    want_idx = np.argmax(sims, axis=1)
    monkeypatch.setattr(index, "NEAREST_BLOCK", 5)  # 23 rows: 4 full blocks and a short one
    dist, idx = index.nearest(queries, refs)
    assert list(idx) == list(want_idx)
    best = sims[np.arange(23), want_idx]
    assert np.allclose(dist, np.sqrt(np.clip(2 - 2 * best, 0, 4)), rtol=0, atol=1e-12)
