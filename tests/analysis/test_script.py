"""analyse(): the public entry point, .pth semantics, modes and the result's shape."""

from __future__ import annotations

import base64

import pytest

from mphunter_gate.analysis import analyse
from mphunter_gate.types import ParseMode, Script, ScriptKind
from tests.analysis.analysis_support import apis, lines, run


def test_result_carries_path_kind_and_two_walks() -> None:
    a = run("import os\nos.getpid()\n", path="pkg/__init__.py", kind=ScriptKind.INIT)
    assert (a.path, a.kind, a.parse, a.error) == (
        "pkg/__init__.py",
        ScriptKind.INIT,
        ParseMode.AST,
        None,
    )
    assert len(a.sequences) == 2
    assert [c.api for c in a.calls] == ["os.getpid"]


def test_pth_runs_only_import_lines() -> None:
    payload = base64.b64encode(b"import os\nos.system('id')\n").decode()
    src = f"/some/path\nsrc\nimport base64; exec(base64.b64decode('{payload}'))\nos.system('x')\n"
    a = run(src, path="x.pth", kind=ScriptKind.PTH)
    assert a.parse is ParseMode.AST
    # line 4 is a path to `site`, not code: its os.system never runs.
    assert lines(a) == [("base64.b64decode", 3), ("exec", 3), ("os.system", 3)]


def test_the_same_text_as_a_module_is_not_filtered() -> None:
    a = run("import os\nos.getpid()\n", path="x.py", kind=ScriptKind.MODULE)
    assert apis(a) == ["os.getpid"]


def test_unknown_graph_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="graph_mode"):
        analyse(Script("setup.py", ScriptKind.SETUP, "pass\n"), graph_mode="dfs")


def test_priority_orders_unreached_roots() -> None:
    src = """
    import os, socket
    def a():
        os.getcwd()
    def b():
        socket.socket()
    """
    assert apis(run(src)) == ["os.getcwd", "socket.socket"]
    high_socket = run(src, priority=lambda api: 1.0 if api == "socket.socket" else 0.0)
    assert apis(high_socket) == ["socket.socket", "os.getcwd"]


def test_decoded_records_are_deduplicated() -> None:
    enc = base64.b64encode(b"import os\nos.getpid()\n").decode()
    a = run(f"import base64\ncode = base64.b64decode('{enc}')\nexec(code)\nexec(code)\n")
    assert len(a.decoded) == 1
    assert apis(a).count("os.getpid") == 2
