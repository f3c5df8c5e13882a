"""The known-benign file set: exact membership by (kind, text), and what the gate does with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mphunter_gate.model.known import KEY_BYTES, KnownFiles, file_key
from mphunter_gate.types import Script, ScriptKind, Stage

SETUP = "from setuptools import setup\nsetup(name='x')\n"
MODULE = "import os\n\ndef home():\n    return os.path.expanduser('~')\n"


def _known() -> KnownFiles:
    return KnownFiles.build(
        [
            Script("x-1.0/setup.py", ScriptKind.SETUP, SETUP),
            Script("x-1.0/x/util.py", ScriptKind.MODULE, MODULE, Stage.IMPORT),
        ]
    )


def test_membership_is_by_kind_stage_and_exact_text() -> None:
    known = _known()
    assert len(known) == 2
    assert known.knows(Script("other/setup.py", ScriptKind.SETUP, SETUP))  # any path
    assert known.knows(Script("y/helpers.py", ScriptKind.MODULE, MODULE, Stage.IMPORT))
    # The same helper imported (and called) by a setup.py runs at install: analysed there.
    assert not known.knows(Script("y/helpers.py", ScriptKind.MODULE, MODULE, Stage.INSTALL))
    assert not known.knows(Script("y/setup.py", ScriptKind.SETUP, SETUP + " "))  # one byte more
    assert not known.knows(Script("y/setup.py", ScriptKind.SETUP, MODULE))  # run as __main__
    assert not KnownFiles.build([]).knows(Script("y/setup.py", ScriptKind.SETUP, SETUP))


def test_keys_ending_in_nul_bytes_are_found() -> None:
    """numpy's S dtype treats trailing NULs as padding; every key is 16 bytes, so both
    sides of the comparison pad alike."""
    keys = sorted({b"\x00" * KEY_BYTES, b"a" + b"\x00" * (KEY_BYTES - 1), b"b" * KEY_BYTES})
    known = KnownFiles(np.array(keys, dtype=f"S{KEY_BYTES}"))
    assert all(k in known for k in keys)
    assert b"a" + b"\x00" * (KEY_BYTES - 2) + b"\x01" not in known
    assert b"c" * KEY_BYTES not in known


def test_round_trip_without_pickle(tmp_path: Path) -> None:
    known = _known()
    known.save(tmp_path / "k.npy")
    again = KnownFiles.load(tmp_path / "k.npy")
    assert list(again.keys) == list(known.keys)
    np.save(tmp_path / "bad.npy", np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="not a known-files array"):
        KnownFiles.load(tmp_path / "bad.npy")
    assert file_key(SETUP, ScriptKind.SETUP, Stage.INSTALL) in again


def _models_with_known(tmp_path: Path, known: KnownFiles) -> Path:
    from mphunter_gate.model.manifest import sha256_file

    known.save(tmp_path / "known_benign.npy")
    record = {"file": "known_benign.npy", "sha256": sha256_file(tmp_path / "known_benign.npy")}
    manifest = {"threshold": 0.9, "model_version": "t", "known": record}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_the_gate_reports_known_files_without_loading_the_models(tmp_path: Path) -> None:
    from mphunter_gate.gate import GateOptions, Judge
    from mphunter_gate.types import ParseMode, ScriptSet

    models = _models_with_known(tmp_path, _known())  # no model artifacts at all
    scripts = ScriptSet(
        "x", "1.1", "x-1.1.tar.gz", None, (Script("x-1.1/setup.py", ScriptKind.SETUP, SETUP),)
    )
    judge = Judge(GateOptions(), models)
    judged = judge.analyse(scripts)
    assert [(a.path, a.parse) for a in judged.analyses] == [("x-1.1/setup.py", ParseMode.KNOWN)]
    assert judged.scores == ()
    assert judge._detector is None
    from mphunter_gate.types import Finding, Verdict

    finding = judge.verdict(judged, Finding("x", "1.1", "x-1.1.tar.gz", Verdict.PASS, None, ""))
    assert finding.verdict is Verdict.PASS
    assert "1 byte-identical to benign corpus files" in finding.reason


def test_a_known_set_that_does_not_match_its_manifest_is_a_model_error(tmp_path: Path) -> None:
    from mphunter_gate.errors import ModelError
    from mphunter_gate.gate import GateOptions, Judge

    models = _models_with_known(tmp_path, _known())
    KnownFiles.build([]).save(tmp_path / "known_benign.npy")  # swapped after the manifest
    with pytest.raises(ModelError, match="sha256"):
        _ = Judge(GateOptions(), models).known
    assert Judge(GateOptions(known_files=False), models).known is None


def test_write_known_records_the_set_in_the_manifest(tmp_path: Path) -> None:
    from mphunter_gate.model.manifest import Manifest, sha256_file
    from mphunter_gate.training import write_known
    from tests.model.test_data import _fake_benign_corpus

    corpus = _fake_benign_corpus(tmp_path)
    out = tmp_path / "models"
    out.mkdir()
    Manifest("mph-t", 0.5, {}, {}).write(out)
    write_known(corpus, out)
    manifest = Manifest.read(out)
    assert manifest.model_version == "mph-t" and manifest.artifacts == {}
    assert manifest.known["sha256"] == sha256_file(out / "known_benign.npy")
    assert (manifest.known["releases"], manifest.known["files"], manifest.known["keys"]) == (
        3,
        5,
        4,
    )
    known = KnownFiles.load(out / "known_benign.npy")
    setup = (corpus / "files" / "beta-2.0" / "beta-2.0" / "setup.py").read_text()
    assert known.knows(Script("beta-2.1/setup.py", ScriptKind.SETUP, setup))
