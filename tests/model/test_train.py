"""train -> load -> score on a synthetic corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mphunter_gate.model import Detector, Manifest, train
from mphunter_gate.model.train import ARTIFACTS
from tests.model.synthetic import FAST, MALICIOUS_APIS, analysed

warnings.filterwarnings("ignore", message="Clusterer does not have any defined clusters")


def test_round_trip_writes_verified_manifest(trained: Path) -> None:
    manifest = Manifest.read(trained)
    assert set(manifest.artifacts) == set(ARTIFACTS)
    manifest.verify(trained)  # does not raise
    detector = Detector.load(trained)
    assert detector.model_version == manifest.model_version
    assert detector.threshold == manifest.threshold
    assert 0.0 <= detector.threshold <= 1.0
    assert manifest.params["vector_size"] == FAST.vector_size
    assert manifest.provenance["source"] == "synthetic test corpus"
    temporal = manifest.validation["temporal"]
    for key in ("calibration", "at_threshold", "roc_auc", "family_recall", "per_kind_scripts"):
        assert key in temporal
    assert set(temporal["recall_at_fpr"]) == {"0.001", "0.01"}
    assert temporal["counts"]["cut"] == "2024-07-01T00:00:00Z"
    # The temporal fit saw no family it was measured on; the shipped fit saw all.
    assert temporal["counts"]["validation_scripts"] == temporal["packages"]["n_malicious"]
    counts = manifest.provenance["counts"]
    assert counts["malicious_validation_scripts"] == 0
    assert counts["malicious_train_scripts"] > temporal["counts"]["fit_scripts"]
    assert manifest.validation["calibration"]["unit"] == "package"
    assert manifest.validation["combiner_leave_families_out_cv"]["folds"] >= 2
    assert 0 < len(manifest.validation["top_benign"]) <= 10
    assert "rscore_only" in temporal  # the method alone, for comparison
    raw = json.loads((trained / "manifest.json").read_text())
    assert raw["model_version"].startswith("mph-")


def test_scores_are_bounded_and_shaped(trained: Path, corpus) -> None:
    detector = Detector.load(trained)
    benign, malicious = corpus
    for doc in (*benign[:10], *malicious[:10]):
        result = detector.score(analysed(doc.id, doc.tokens), list(doc.tokens))
        assert result.path == doc.id
        assert 0.0 <= result.score <= 1.0
        assert 0.0 <= result.outlierness <= 1.0
        assert 0.0 <= result.benign_distance <= 2.0
        assert 0.0 <= result.malicious_distance <= 2.0


def test_same_script_twice_scores_identically(trained: Path, corpus) -> None:
    detector = Detector.load(trained)
    tokens = list(corpus[1][0].tokens)
    first = detector.score(analysed("x/setup.py", tokens), tokens)
    other = list(corpus[0][3].tokens)
    detector.score(analysed("other/setup.py", other), other)  # disturb any state
    second = detector.score(analysed("x/setup.py", tokens), tokens)
    assert first == second
    assert detector.score_many([analysed("x/setup.py", tokens)], [tokens])[0] == first
    assert Detector.load(trained).score(analysed("x/setup.py", tokens), tokens) == first


def test_malicious_looking_scores_above_benign_looking(trained: Path, corpus) -> None:
    detector = Detector.load(trained)
    benign, _ = corpus
    payload = ["base64.b64decode", "builtins.exec", "os.system", "request.urlopen", "socket.socket"]
    assert set(payload) <= set(MALICIOUS_APIS)
    bad = detector.score(analysed("evil/setup.py", payload), payload).score
    benign_scores = [
        detector.score(analysed(d.id, d.tokens), list(d.tokens)).score for d in benign[:40]
    ]
    assert bad > max(benign_scores)


def test_no_api_calls_scores_zero(trained: Path) -> None:
    detector = Detector.load(trained)
    empty = detector.score(analysed("pkg/__init__.py", []), [])
    assert empty.score == 0.0
    assert empty.nearest_malicious is None
    assert empty.rscore is None


def test_unknown_apis_get_no_made_up_rscore_and_behaviour_decides(trained: Path) -> None:
    """Tokens the model never saw: no embedding (no fixed 0.75 any more); the
    behaviour of the calls, not their novelty alone, moves the score."""
    detector = Detector.load(trained)
    quiet = ["never.seen", "nowhere.else"]
    loud = ["subprocess.getoutput", "urllib2.urlopen", "marshal.loads"]  # not in the corpus
    q = detector.score(analysed("pkg/setup.py", quiet), quiet)
    lo = detector.score(analysed("pkg/setup.py", loud), loud)
    assert q.rscore is None and lo.rscore is None
    assert "process" in lo.behaviours and "network" in lo.behaviours
    assert lo.score > q.score


def test_priority_is_deterministic_and_bounded(trained: Path) -> None:
    detector = Detector.load(trained)
    for api in ("os.system", "subprocess.Popen", "a.b.c.d.path.join", "totally_new_api"):
        value = detector.priority(api)
        assert 0.0 <= value <= 1.0
        assert value == detector.priority(api)
    # prefix shortening: the full dotted name and its last two parts are the same token
    assert detector.priority("os.path.join") == detector.priority("path.join")


def test_training_is_reproducible(tmp_path: Path, corpus, trained: Path) -> None:
    benign, malicious = corpus
    again = train(benign, malicious, tmp_path, FAST, {"source": "synthetic test corpus"})
    assert again.artifacts == Manifest.read(trained).artifacts
    assert again.model_version == Manifest.read(trained).model_version


def test_priority_direction_points_towards_malicious(trained: Path) -> None:
    detector = Detector.load(trained)
    assert detector.priority("os.system") > detector.priority("setuptools.find_packages")


def test_rejects_mislabelled_input(tmp_path: Path, corpus) -> None:
    benign, malicious = corpus
    with pytest.raises(ValueError, match="labelled otherwise"):
        train(benign + malicious[:1], malicious, tmp_path, FAST, {})


def test_loads_a_copied_models_dir(tmp_path: Path, trained: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(trained, copy)
    assert Detector.load(copy).model_version == Manifest.read(trained).model_version


def test_scores_do_not_depend_on_the_process_hash_seed(trained: Path) -> None:
    """gensim seeds inference with the salted str hash; ours must not."""
    code = (
        "import sys, warnings; warnings.filterwarnings('ignore');"
        "from pathlib import Path; from mphunter_gate.model import Detector;"
        "d = Detector.load(Path(sys.argv[1]));"
        "from mphunter_gate.model.behaviour import token_analysis as ta;"
        "t = ['base64.b64decode', 'os.system', 'path.join'];"
        "print(repr(d.score(ta('s', tuple(t)), t).score))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code, str(trained)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1


def test_models_from_before_rarity_load_without_it(trained: Path, tmp_path: Path) -> None:
    old = tmp_path / "old-models"
    shutil.copytree(trained, old)
    (old / "rarity.json").unlink()
    raw = json.loads((old / "manifest.json").read_text())
    del raw["artifacts"]["rarity.json"]
    (old / "manifest.json").write_text(json.dumps(raw))
    detector = Detector.load(old)
    tokens = ["os.system"]
    assert 0.0 <= detector.score(analysed("x/setup.py", tokens), tokens).score <= 1.0
    assert "rarity.json" in ARTIFACTS and (trained / "rarity.json").is_file()  # new ones do


def test_the_temporal_split_keeps_every_validation_family_out_of_the_fit() -> None:
    from mphunter_gate.model import MALICIOUS, TrainingDoc
    from mphunter_gate.model.train import temporal_split

    def doc(i: str, family: str, added: str | None) -> TrainingDoc:
        return TrainingDoc(f"{i}/setup.py", ("a",), family, MALICIOUS, added=added)

    docs = [
        doc("old", "gone", "2024-01-01T00:00:00Z"),
        doc("old-of-new", "kept", "2024-02-01T00:00:00+08:00"),
        doc("new", "kept", "2024-07-02T00:00:00Z"),
        doc("undated", "other", None),
    ]
    fit, val, counts = temporal_split(docs, "2024-07-01")
    assert [d.package for d in fit] == ["old", "undated"]
    assert [d.package for d in val] == ["new"]
    assert counts["dropped_before_cut_of_validation_families"] == 1
    assert counts["undated_scripts"] == 1


def test_a_family_split_validates_the_shipped_fit(tmp_path: Path, corpus) -> None:
    import dataclasses

    benign, malicious = corpus
    params = dataclasses.replace(FAST, split="family")
    manifest = train(benign, malicious, tmp_path, params, {"source": "synthetic test corpus"})
    assert "temporal" not in manifest.validation
    assert manifest.validation["packages"]["n_malicious"] > 0
    assert manifest.provenance["counts"]["malicious_validation_scripts"] > 0
