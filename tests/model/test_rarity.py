"""Rarity: information content of a script's behaviours among benign scripts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mphunter_gate.model.behaviour import feature_names
from mphunter_gate.model.rarity import Rarity, binary_features

NAMES = feature_names()


def _vec(*fired: str) -> tuple[float, ...]:
    return tuple(1.0 if n in fired else 0.0 for n in NAMES)


def test_binary_features_are_categories_pairs_and_indicators_only() -> None:
    names = binary_features()
    assert "process" in names and "network+process" in names and "str:shell_interpreter" in names
    assert not {"process:n", "calls:n", "str:n", "kind:setup.py", "decoded:layers"} & set(names)


def test_weights_are_smoothed_benign_frequencies() -> None:
    benign = [_vec("file_write")] * 7 + [_vec()] * 1
    r = Rarity.fit(benign)
    assert r.weights["file_write"] == pytest.approx(-math.log(8 / 10), abs=1e-6)
    assert r.weights["process"] == pytest.approx(-math.log(1 / 10), abs=1e-6)


def test_rarer_mixes_score_higher_and_nothing_scores_zero() -> None:
    benign = [_vec("file_write")] * 50 + [_vec("network")] * 5 + [_vec()] * 45
    r = Rarity.fit(benign)
    assert r.of(_vec()) == 0.0
    assert r.of(()) == 0.0
    common, rare = r.of(_vec("file_write")), r.of(_vec("network"))
    assert 0 < common < rare
    both = r.of(_vec("file_write", "network", "obfuscation"))
    assert both == pytest.approx(common + rare + r.weights["obfuscation"])


def test_round_trip_keeps_only_known_features(tmp_path: Path) -> None:
    r = Rarity.fit([_vec("process"), _vec()])
    r.save(tmp_path / "rarity.json")
    assert Rarity.load(tmp_path / "rarity.json") == r
    (tmp_path / "odd.json").write_text('{"process": 2.0, "no-such-feature": 9.0}')
    assert Rarity.load(tmp_path / "odd.json").weights == {"process": 2.0}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a rarity table"):
        Rarity.load(tmp_path / "bad.json")
