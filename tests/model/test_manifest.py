"""The sha256 gate in front of every unpickle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mphunter_gate.errors import ModelError
from mphunter_gate.model import Detector
from mphunter_gate.model.train import CCEM_MODEL, CLUSTERER


@pytest.fixture
def models(tmp_path: Path, trained: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(trained, copy)
    return copy


def test_tampered_artifact_is_refused(models: Path) -> None:
    path = models / CLUSTERER
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        Detector.load(models)


def test_appended_bytes_are_refused(models: Path) -> None:
    with (models / CCEM_MODEL).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="sha256"):
        Detector.load(models)


def test_missing_artifact_is_refused(models: Path) -> None:
    (models / CCEM_MODEL).unlink()
    with pytest.raises(ModelError, match="missing"):
        Detector.load(models)


def test_missing_manifest_is_refused(models: Path) -> None:
    (models / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no model manifest"):
        Detector.load(models)


def test_manifest_without_a_hash_is_refused(models: Path) -> None:
    raw = json.loads((models / "manifest.json").read_text())
    del raw["artifacts"][CLUSTERER]
    (models / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="no sha256"):
        Detector.load(models)


def test_artifact_path_outside_the_folder_is_refused(models: Path) -> None:
    raw = json.loads((models / "manifest.json").read_text())
    raw["artifacts"]["../escape.pkl"] = "0" * 64
    (models / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="is a path"):
        Detector.load(models)


def test_garbage_manifest_is_refused(models: Path) -> None:
    (models / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        Detector.load(models)


@pytest.mark.parametrize("threshold", [float("nan"), 2.0])
def test_a_threshold_outside_0_1_is_refused(tmp_path: Path, threshold: float) -> None:
    from mphunter_gate.model.manifest import Manifest

    Manifest("mph-t", threshold, {}, {}).write(tmp_path)
    with pytest.raises(ModelError, match="threshold"):
        Manifest.read(tmp_path)


def test_finding_the_models_imports_no_model_code() -> None:
    """A warm check reads only the manifest: locating it must not load numpy & co."""
    import subprocess
    import sys

    code = (
        "import sys; from mphunter_gate.models_dir import default_models_dir; "
        "default_models_dir(); "
        "print(sorted(m for m in ('numpy', 'sklearn', 'gensim', 'hdbscan', "
        "'mphunter_gate.model.detector') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
