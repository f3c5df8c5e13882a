"""Embedding (APIEM, CCEM), the HDBSCAN benign index, RScore scoring,
behaviour features and the combiner that weighs them with RScore,
training with family-disjoint validation, calibration and evaluation.

Importing this package is cheap: gensim, hdbscan and numpy are imported
only when a model is trained, loaded or used.
"""

from __future__ import annotations

from mphunter_gate.model.detector import Detector, default_models_dir
from mphunter_gate.model.docs import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.model.evaluate import evaluate
from mphunter_gate.model.manifest import Manifest
from mphunter_gate.model.params import TrainParams
from mphunter_gate.model.train import train

__all__ = [
    "BENIGN",
    "MALICIOUS",
    "Detector",
    "Manifest",
    "TrainParams",
    "TrainingDoc",
    "default_models_dir",
    "evaluate",
    "train",
]
