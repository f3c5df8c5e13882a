"""Tokens for the model: prefix_len shortening and the packaged bad-API list."""

from __future__ import annotations

from mphunter_gate.analysis import load_bad_apis, tokens
from mphunter_gate.types import ParseMode, ScriptAnalysis, ScriptKind
from tests.analysis.analysis_support import run

SRC = """
import os, subprocess
from setuptools import setup
here = os.path.dirname(__file__)
subprocess.Popen(['x'])
setup(name='x')
"""


def test_tokens_shorten_and_drop_bad_apis() -> None:
    a = run(SRC)
    # DFS then BFS; os.path.dirname and setuptools.setup are on the packaged list.
    assert tokens(a) == ["subprocess.Popen", "subprocess.Popen"]


def test_prefix_len_and_custom_bad_list() -> None:
    a = run(SRC)
    assert tokens(a, prefix_len=1, bad_apis=frozenset())[:3] == ["dirname", "Popen", "setup"]
    assert tokens(a, prefix_len=0, bad_apis=frozenset({"subprocess.Popen"}))[:2] == [
        "os.path.dirname",
        "setuptools.setup",
    ]


def test_packaged_list_has_boilerplate_and_no_suspicious_apis() -> None:
    bad = load_bad_apis()
    assert {"setuptools.setup", "os.path.join", "open", "read"} <= bad
    suspicious = {"os.system", "exec", "eval", "base64.b64decode", "socket.socket"}
    assert not bad & suspicious
    assert not any(b.startswith(("subprocess.", "urllib", "requests.")) for b in bad)


def test_failed_analysis_has_no_tokens() -> None:
    failed = ScriptAnalysis("setup.py", ScriptKind.SETUP, ParseMode.FAILED, (), error="x")
    assert tokens(failed) == []
