"""Session fixtures: one synthetic corpus and one model trained on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mphunter_gate.model import train
from tests.model.synthetic import FAST, make_corpus


@pytest.fixture(scope="session")
def corpus():
    return make_corpus()


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, corpus) -> Path:
    out = tmp_path_factory.mktemp("models")
    benign, malicious = corpus
    train(benign, malicious, out, FAST, {"source": "synthetic test corpus"})
    return out
