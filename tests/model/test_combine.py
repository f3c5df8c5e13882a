"""The combiner on synthetic numbers: monotone in behaviour, weighted by group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mphunter_gate.model import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.model.combine import Combiner, fit_combiner, monotonic_constraints
from mphunter_gate.model.train import _weights

NAMES = ("process", "calls:n", "rscore:positive")


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    n = 400
    y = rng.randint(0, 2, n)
    process = (rng.rand(n) < np.where(y == 1, 0.8, 0.1)).astype(float)
    calls = rng.rand(n) * 5
    novelty = rng.rand(n)
    return np.column_stack([process, calls, novelty]), y


def test_constraints_free_only_size_kind_parse_and_embedding() -> None:
    names = (
        *NAMES,
        "kind:setup.py",
        "network+process",
        "rarity",
        "tokens:unknown_share",
        "embedded",
        "parse:tokens",
    )
    cst = dict(zip(names, monotonic_constraints(names), strict=True))
    assert cst == {
        "process": 1,
        "calls:n": 0,
        "rscore:positive": 1,  # novelty may only raise the risk
        "kind:setup.py": 0,
        "network+process": 1,
        "rarity": 1,
        "tokens:unknown_share": 1,
        "embedded": 0,
        "parse:tokens": 0,
    }


def test_adding_a_behaviour_never_lowers_the_score() -> None:
    x, y = _data()
    c = fit_combiner(
        x,
        y,
        np.ones(len(y)),
        NAMES,
        min_samples_leaf=5,
        max_iter=50,
        learning_rate=0.1,
        l2=0.0,
        seed=0,
    )
    off, on = x.copy(), x.copy()
    off[:, 0], on[:, 0] = 0.0, 1.0
    assert np.all(c.proba(on) >= c.proba(off) - 1e-12)
    assert c.proba(on).mean() > c.proba(off).mean()  # and it learnt the signal


def test_round_trip_and_determinism(tmp_path: Path) -> None:
    x, y = _data()
    kw = dict(min_samples_leaf=5, max_iter=30, learning_rate=0.1, l2=1.0, seed=3)
    a = fit_combiner(x, y, np.ones(len(y)), NAMES, **kw)  # type: ignore[arg-type]
    b = fit_combiner(x, y, np.ones(len(y)), NAMES, **kw)  # type: ignore[arg-type]
    assert np.array_equal(a.proba(x), b.proba(x))
    a.save(tmp_path / "c.pkl")
    loaded = Combiner.load(tmp_path / "c.pkl")
    assert loaded.names == NAMES
    assert np.array_equal(loaded.proba(x), a.proba(x))


def test_needs_both_classes() -> None:
    x, _ = _data()
    with pytest.raises(ValueError, match="both"):
        fit_combiner(
            x,
            np.zeros(len(x), dtype=int),
            np.ones(len(x)),
            NAMES,
            min_samples_leaf=5,
            max_iter=5,
            learning_rate=0.1,
            l2=0.0,
            seed=0,
        )


def test_each_family_and_package_weighs_the_same() -> None:
    docs = [TrainingDoc(f"m{i}/setup.py", (), "big", MALICIOUS) for i in range(8)]
    docs += [TrainingDoc("s/setup.py", (), "small", MALICIOUS)]
    docs += [TrainingDoc(f"b{i}/setup.py", (), f"pkg:{i % 3}", BENIGN) for i in range(6)]
    w = _weights(docs)
    big = sum(wi for wi, d in zip(w, docs, strict=True) if d.family == "big")
    small = sum(wi for wi, d in zip(w, docs, strict=True) if d.family == "small")
    assert big == pytest.approx(small)
    mal = sum(wi for wi, d in zip(w, docs, strict=True) if d.label == MALICIOUS)
    ben = sum(wi for wi, d in zip(w, docs, strict=True) if d.label == BENIGN)
    assert mal == pytest.approx(ben)


def test_scorer_refuses_a_combiner_using_unknown_features() -> None:
    from mphunter_gate.model.scorer import Scorer

    stale = Combiner(names=("process", "no-such-feature"), model=None)
    with pytest.raises(ValueError, match="no-such-feature"):
        Scorer(None, None, "p&n", stale)  # type: ignore[arg-type]


def test_scorer_feeds_the_combiner_its_own_columns_by_name() -> None:
    from mphunter_gate.model.scorer import Scorer, combiner_feature_names

    older = Combiner(names=("network", "process"), model=None)
    scorer = Scorer(None, None, "p&n", older)  # type: ignore[arg-type]
    names = combiner_feature_names()
    assert scorer._columns == [names.index("network"), names.index("process")]
