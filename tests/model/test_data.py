"""Loaders over hand-made corpora: a fake `corpus` cache dir and a fake
malware archive, both written here (synthetic text, never run)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from mphunter_gate.model import BENIGN, MALICIOUS
from mphunter_gate.model.data import (
    benign_scripts,
    install_time_kind,
    load_benign,
    load_malicious,
    structural_family,
)
from mphunter_gate.types import Script, ScriptKind


def words(script: Script, priority: object) -> tuple[str, ...]:
    """A stand-in tokenizer: identifiers in the text (the loaders are under test)."""
    return tuple(w for w in script.text.replace("(", " ").split() if "." in w)


@pytest.mark.parametrize(
    ("rel", "depth", "kind"),
    [
        ("pkg-1.0/setup.py", 1, ScriptKind.SETUP),
        ("pkg-1.0/sub/setup.py", 1, None),
        ("pkg-1.0/pkg/__init__.py", 1, ScriptKind.INIT),
        ("pkg-1.0/src/pkg/__init__.py", 1, ScriptKind.INIT),
        ("pkg-1.0/pkg/sub/__init__.py", 1, None),
        ("pkg-1.0/pkg/core.py", 1, None),
        ("pkg-1.0/evil.pth", 1, ScriptKind.PTH),
        ("pkg/__init__.py", 0, ScriptKind.INIT),
        ("setup.py", 0, ScriptKind.SETUP),
    ],
)
def test_install_time_kind(rel: str, depth: int, kind: ScriptKind | None) -> None:
    assert install_time_kind(rel, depth) == kind


def test_structural_family_ignores_strings_and_spacing() -> None:
    a = "import os\nos.system('curl http://a.example')\n"
    b = "import os\nos.system(  'wget http://b.example' )\n"
    c = "import os\nos.remove('x')\n"
    assert structural_family(a) == structural_family(b)
    assert structural_family(a) != structural_family(c)


def _fake_benign_corpus(root: Path) -> Path:
    entries = [
        (
            "alpha",
            "1.0",
            ["alpha-1.0/setup.py", "alpha-1.0/alpha/__init__.py", "alpha-1.0/alpha/x.py"],
        ),
        ("beta", "2.0", ["beta-2.0/setup.py"]),
        ("gamma", "0.1", ["gamma-0.1/setup.py"]),  # same text as beta: deduplicated
    ]
    texts = {
        "alpha-1.0/setup.py": "setuptools.setup( path.join(",
        "alpha-1.0/alpha/__init__.py": "version.parse(",
        "alpha-1.0/alpha/x.py": "called.later(",  # imported by nothing: read at `call`
        "beta-2.0/setup.py": "io.open( re.search(",
        "gamma-0.1/setup.py": "io.open( re.search(",
    }
    lines = []
    for name, version, files in entries:
        for rel in files:
            path = root / "files" / f"{name}-{version}" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(texts[rel])
        lines.append(
            {
                "name": name,
                "version": version,
                "filename": f"{name}-{version}.tar.gz",
                "sha256": "0" * 64,
                "rank": 1,
                "sample": "top",
                "files": files,
                "status": "ok",
            }
        )
    lines.append({"name": "delta", "version": "1", "files": [], "status": "no-setup"})
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{truncated")
    return root


def test_load_benign_from_corpus_dir(tmp_path: Path) -> None:
    root = _fake_benign_corpus(tmp_path)
    docs = load_benign(root, tokenizer=words)
    ids = sorted(d.id for d in docs)
    assert ids == [
        "alpha-1.0/alpha-1.0/alpha/__init__.py",
        "alpha-1.0/alpha-1.0/alpha/x.py",
        "alpha-1.0/alpha-1.0/setup.py",
        "beta-2.0/beta-2.0/setup.py",
    ]
    assert all(d.label == BENIGN for d in docs)
    by_id = {d.id: d for d in docs}
    assert by_id["alpha-1.0/alpha-1.0/setup.py"].tokens == ("setuptools.setup", "path.join")
    assert (
        by_id["alpha-1.0/alpha-1.0/setup.py"].family
        == by_id["alpha-1.0/alpha-1.0/alpha/__init__.py"].family
    )
    assert by_id["beta-2.0/beta-2.0/setup.py"].script.kind is ScriptKind.SETUP


def test_benign_files_escaping_the_corpus_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "files" / "x-1").mkdir(parents=True)
    (tmp_path / "setup.py").write_text("os.system(")
    entry = {"name": "x", "version": "1", "files": ["../setup.py"], "status": "ok"}
    (root / "manifest.jsonl").write_text(json.dumps(entry) + "\n")
    assert benign_scripts(root) == []


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="manifest"):
        load_benign(tmp_path, tokenizer=words)


def _fake_malware_archive(tmp_path: Path) -> tuple[Path, Path]:
    members = {
        "samples/aaa__1.0/aaa-1.0/setup.py": "base64.b64decode( os.system(",
        "samples/aaa__1.0/aaa-1.0/aaa/__init__.py": "request.urlopen(",
        "samples/aaa__1.0/aaa-1.0/aaa/helper.py": "called.later(",  # imported by nothing
        "samples/bbb__2.0/bbb-2.0/setup.py": "base64.b64decode( os.system(",  # copy of aaa's
        "samples/ccc__1.0/ccc/__init__.py": "builtins.exec(",  # a wheel: no root folder
        "samples/ddd__1.0/ddd-1.0/setup.py": "subprocess.Popen(",
    }
    tar_path = tmp_path / "fake.tar.xz"
    with tarfile.open(tar_path, "w:xz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    meta = [
        {"sample": "aaa__1.0", "kind": "sdist", "family": "famA", "added": "2024-08-01T10:00:00"},
        # bbb's copy of aaa's setup.py was seen first: the text dates from then.
        {
            "sample": "bbb__2.0",
            "kind": "sdist",
            "family": "famA",
            "added": "2024-05-01T02:00:00+08:00",
        },
        {"sample": "ccc__1.0", "kind": "wheel", "family": None},
        {"sample": "ddd__1.0", "kind": "sdist", "family": "famD"},
    ]
    jsonl = tmp_path / "fake.jsonl"
    jsonl.write_text("\n".join(json.dumps(m) for m in meta) + "\n")
    return tar_path, jsonl


def test_load_malicious_reads_archive_in_memory(tmp_path: Path) -> None:
    tar_path, jsonl = _fake_malware_archive(tmp_path)
    before = set(tmp_path.iterdir())
    docs = load_malicious(tar_path, jsonl, tokenizer=words)
    assert set(tmp_path.iterdir()) == before  # nothing unpacked
    ids = [d.id for d in docs]
    assert ids == [
        "aaa__1.0/aaa-1.0/setup.py",
        "aaa__1.0/aaa-1.0/aaa/__init__.py",
        "aaa__1.0/aaa-1.0/aaa/helper.py",
        "ccc__1.0/ccc/__init__.py",
        "ddd__1.0/ddd-1.0/setup.py",
    ]  # bbb's setup.py is a byte copy of aaa's; helper.py is read at `call`
    assert all(d.label == MALICIOUS for d in docs)
    fam = {d.id: d.family for d in docs}
    assert fam["aaa__1.0/aaa-1.0/aaa/__init__.py"] == "famA"
    assert fam["ccc__1.0/ccc/__init__.py"].startswith("s:")  # derived, never None
    assert docs[0].tokens == ("base64.b64decode", "os.system")
    added = {d.id: d.added for d in docs}
    assert added["aaa__1.0/aaa-1.0/setup.py"] == "2024-04-30T18:00:00Z"
    assert added["aaa__1.0/aaa-1.0/aaa/__init__.py"] == "2024-08-01T10:00:00Z"
    assert added["ddd__1.0/ddd-1.0/setup.py"] is None  # undated: fitted, never validated


def test_load_malicious_sample_filter(tmp_path: Path) -> None:
    tar_path, jsonl = _fake_malware_archive(tmp_path)
    docs = load_malicious(tar_path, jsonl, tokenizer=words, samples=["ddd__1.0"])
    assert [d.id for d in docs] == ["ddd__1.0/ddd-1.0/setup.py"]


def test_malicious_selection_matches_check_time(tmp_path: Path) -> None:
    """Training picks files with selection.select, as the gate does: a
    module that __init__.py imports is a document too."""
    from mphunter_gate import select as selection
    from mphunter_gate.fetch.archive import MemoryTree

    files = {
        "eee-1.0/setup.py": "from setuptools import setup\nsetup(name='eee')\n",
        "eee-1.0/eee/__init__.py": "from .payload import run\nrun()\n",
        "eee-1.0/eee/payload.py": "import subprocess\ndef run():\n    subprocess.Popen('x')\n",
        "eee-1.0/eee/unused.py": "import os\n",
        "eee-1.0/PKG-INFO": "Name: eee\n",
    }
    tar_path = tmp_path / "e.tar.xz"
    with tarfile.open(tar_path, "w:xz") as tf:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("samples/eee__1.0/" + name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text(json.dumps({"sample": "eee__1.0", "kind": "sdist", "family": "famE"}) + "\n")
    docs = load_malicious(tar_path, jsonl, tokenizer=words)
    expected = selection.select(MemoryTree({k: v.encode() for k, v in files.items()}))
    assert [d.id for d in docs] == [f"eee__1.0/{s.path}" for s in expected]
    kinds = {d.id.rsplit("/", 1)[-1]: d.script.kind for d in docs if d.script is not None}
    assert kinds["payload.py"] is ScriptKind.MODULE
    assert kinds["unused.py"] is ScriptKind.MODULE  # every Python file is read (at `call`)


def test_training_keeps_every_install_time_file_and_samples_the_other_modules() -> None:
    from mphunter_gate.model.data import sample_modules
    from mphunter_gate.types import Stage

    scripts = [
        Script("p-1/setup.py", ScriptKind.SETUP, "setup()"),
        Script("p-1/p/__init__.py", ScriptKind.INIT, "from . import a"),
        Script("p-1/p/_build.py", ScriptKind.MODULE, "x = 1", Stage.INSTALL),
        *(Script(f"p-1/p/m{i}.py", ScriptKind.MODULE, f"x = {i}", Stage.CALL) for i in range(9)),
        Script("p-1/p/net.py", ScriptKind.MODULE, "import socket", Stage.CALL),
    ]
    picked = sample_modules(scripts, 3, seed=1)
    paths = [s.path for s in picked]
    assert paths[:3] == ["p-1/setup.py", "p-1/p/__init__.py", "p-1/p/_build.py"]
    assert "p-1/p/net.py" in paths and len(paths) == 6  # a sensitive one first, then 2 more
    assert sample_modules(scripts, 3, seed=1) == picked  # the same sample every run
    assert sample_modules(scripts, None) == scripts
