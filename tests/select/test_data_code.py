"""Data files that code executes, and their text (mphunter_gate.select.data_code).

Scripts are texts written here and only `ast.parse`d; blobs are built
here from harmless strings. Nothing is unpickled, unmarshalled or run.
"""

from __future__ import annotations

import ast
import base64
import bz2
import gzip
import importlib.util
import lzma
import marshal
import random
import time
import zlib

import pytest

from mphunter_gate.select.data_code import (
    MAX_DECODED,
    as_code,
    code_data_files,
    has_sink,
    is_marshalled_code,
)

PAYLOAD = "import os\nos.system('echo fixture')\n"
FILES = {
    "demo-1.0/setup.py",
    "demo-1.0/setup.cfg",
    "demo-1.0/README.txt",
    "demo-1.0/demo/__init__.py",
    "demo-1.0/demo/loader.py",
    "demo-1.0/demo/payload.dat",
    "demo-1.0/demo/data/x.bin",
    "demo-1.0/demo/data/helper.py",
    "demo-1.0/tests/data/x.bin",
}


def _picked(text: str, path: str = "demo-1.0/demo/loader.py") -> list[str]:
    try:
        tree: ast.Module | None = ast.parse(text)
    except SyntaxError:
        tree = None
    return code_data_files(text, tree, path, FILES)[1]


def test_module_that_execs_a_data_file() -> None:
    text = "import os\nexec(open(os.path.join(os.path.dirname(__file__), 'payload.dat')).read())\n"
    assert _picked(text) == ["demo-1.0/demo/payload.dat"]


def test_module_that_only_prints_a_data_file() -> None:
    text = "print(open('../README.txt').read())\n"
    assert _picked(text) == []


def test_setup_py_that_execs_readme_by_basename() -> None:
    text = "exec(open('README.txt').read())\n"
    assert _picked(text, "demo-1.0/setup.py") == ["demo-1.0/README.txt"]


def test_path_join_names_the_file_in_a_subfolder_only() -> None:
    text = (
        "import os, zlib\n"
        "here = os.path.dirname(__file__)\n"
        "blob = open(os.path.join(here, 'data', 'x.bin'), 'rb').read()\n"
        "exec(zlib.decompress(blob))\n"
    )
    assert _picked(text) == ["demo-1.0/demo/data/x.bin"]  # not tests/data/x.bin, not helper.py


def test_slash_path_and_setup_py_reaching_into_the_package() -> None:
    text = "exec(open('demo/data/x.bin').read())\n"
    assert _picked(text, "demo-1.0/setup.py") == ["demo-1.0/demo/data/x.bin"]


def test_extension_glob_names_files_of_the_scripts_folder() -> None:
    text = "import glob\nfor f in glob.glob('*.dat'):\n    exec(open(f).read())\n"
    assert _picked(text) == ["demo-1.0/demo/payload.dat"]


@pytest.mark.parametrize(
    "text",
    [
        "import marshal as m\nm.loads(open('payload.dat', 'rb').read())\n",
        "from pickle import loads as l\nl(open('payload.dat', 'rb').read())\n",
        "import builtins\ngetattr(builtins, 'exec')(open('payload.dat').read())\n",
        "import builtins\nbuiltins.eval(open('payload.dat').read())\n",
        "__builtins__['exec'](open('payload.dat').read())\n",
        "run = exec\nrun(open('payload.dat').read())\n",
        "import runpy\nrunpy.run_path('payload.dat')\n",
        "import types\ntypes.FunctionType(code, {})\nopen('payload.dat')\n",
        "import dill\ndill.loads(open('payload.dat', 'rb').read())\n",
    ],
)
def test_sinks_reached_by_alias_attribute_or_literal(text: str) -> None:
    assert _picked(text) == ["demo-1.0/demo/payload.dat"]


@pytest.mark.parametrize(
    "text",
    [
        "import re, json\nre.compile('x')\njson.loads(open('payload.dat').read())\n",
        "model.eval()\nopen('payload.dat')\n",
        "'exec is mentioned only in a string'\nopen('payload.dat')\n",
    ],
)
def test_look_alikes_are_not_sinks(text: str) -> None:
    assert _picked(text) == []


def test_py2_script_falls_back_to_a_regex() -> None:
    text = "data = open('payload.dat').read()\nexec data in {}\n"
    assert has_sink(text, None)
    assert _picked(text) == ["demo-1.0/demo/payload.dat"]
    assert not has_sink("print 'hello'\nx = re.compile('a')\n", None)


def test_setup_cfg_counts_when_setup_py_parses_config_and_has_a_sink() -> None:
    text = (
        "import configparser\n"
        "c = configparser.ConfigParser()\n"
        "c.read('setup' + '.cfg')\n"
        "exec(c['tool']['code'])\n"
    )
    assert _picked(text, "demo-1.0/setup.py") == ["demo-1.0/setup.cfg"]
    without_sink = "import configparser\nconfigparser.ConfigParser().read('setup.cfg')\n"
    assert _picked(without_sink, "demo-1.0/setup.py") == []


def test_python_files_are_never_data() -> None:
    text = "exec(open('helper.py').read())\nexec(open('__init__.py').read())\n"
    assert _picked(text) == []


def test_python_files_a_sink_names_are_read_as_code() -> None:
    text = "exec(open('helper.py').read())\n"
    files = {"demo-1.0/demo/helper.py", "demo-1.0/demo/helper.txt", "demo-1.0/demo/loader.py"}
    assert code_data_files(text, None, "demo-1.0/demo/loader.py", files) == (
        ["demo-1.0/demo/helper.py"],
        [],
    )


@pytest.mark.parametrize("text", ["x = 1\n", "import re\nre.compile('a')\n"])
def test_no_sink_no_files(text: str) -> None:
    assert code_data_files(text, None, "demo-1.0/demo/loader.py", FILES) == ([], [])


@pytest.mark.parametrize(
    ("wrap", "how"),
    [
        (zlib.compress, "zlib"),
        (gzip.compress, "gzip"),
        (bz2.compress, "bz2"),
        (lzma.compress, "lzma"),
        (base64.b64encode, "base64"),
        (base64.b85encode, "base85"),
        (lambda b: b.hex().encode(), "hex"),
        (lambda b: base64.b64encode(zlib.compress(b)), "base64+zlib"),
        (lambda b: zlib.compress(base64.b64encode(b)), "zlib+base64"),
        (lambda b: base64.encodebytes(lzma.compress(b)), "base64+lzma"),  # with newlines
    ],
)
def test_as_code_unwraps(wrap: object, how: str) -> None:
    assert callable(wrap)
    assert as_code(wrap(PAYLOAD.encode())) == (PAYLOAD, how)


def test_as_code_plain_text_and_empty() -> None:
    assert as_code(PAYLOAD.encode()) == (PAYLOAD, "plain")
    assert as_code(b"") == ("", "plain")


def test_as_code_random_binary_is_opaque() -> None:
    blob = random.Random(0).randbytes(4096)
    assert as_code(blob) is None
    assert as_code(zlib.compress(blob)) is None


def test_as_code_base64_of_binary_is_its_base64_text() -> None:
    """No decoding makes text of the blob; the base64 text itself is what is left."""
    text = base64.b64encode(random.Random(1).randbytes(300))
    assert as_code(text) == (text.decode(), "plain")


def _bomb(size: int) -> bytes:
    comp = zlib.compressobj(9)
    chunk = b"A" * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(size >> 20)]
    return b"".join([*parts, comp.flush()])


def test_as_code_compression_bomb_stays_bounded() -> None:
    bomb = _bomb(256 << 20)  # 256 MiB of text in about 250 KB
    start = time.monotonic()
    result = as_code(bomb)
    assert result is not None
    text, how = result
    assert how == "zlib"
    assert len(text) == MAX_DECODED
    nested = as_code(zlib.compress(bomb))  # a bomb inside a bomb
    assert nested is not None
    assert len(nested[0]) == MAX_DECODED
    assert nested[1] == "zlib+zlib"
    assert time.monotonic() - start < 20


def test_is_marshalled_code() -> None:
    code = marshal.dumps(compile("x = 1\n", "<fixture>", "exec"))  # compiled, never run
    assert is_marshalled_code(code)
    pyc = importlib.util.MAGIC_NUMBER + b"\0" * 12 + code
    assert is_marshalled_code(pyc)
    assert as_code(code) is None  # opaque: the caller reports it
    assert not is_marshalled_code(b"copyright 2024 someone, all rights reserved\n")
    assert not is_marshalled_code(b"c")
    assert not is_marshalled_code(b"")
    assert not is_marshalled_code(marshal.dumps(("not", "code")))


def test_pickle_globals_are_read_without_loading() -> None:
    import pickle

    from mphunter_gate.select.data_code import dangerous_pickle_globals, pickle_globals

    class _Run:  # what a malicious pickle does: call os.system on load
        def __reduce__(self):  # type: ignore[no-untyped-def]
            import os

            return (os.system, ("true",))

    evil = pickle.dumps(_Run(), protocol=4)  # dumped here, never loaded
    plain = pickle.dumps({"a": [1, 2.0, "x"], "b": frozenset({1})}, protocol=4)
    assert dangerous_pickle_globals(evil) in (["posix.system"], ["os.system"], ["nt.system"])
    assert dangerous_pickle_globals(plain) == []
    assert pickle_globals(b"not a pickle at all") is None


@pytest.mark.parametrize(
    "text",
    [
        "cloudpickle.loads(x)",
        "import cPickle\ncPickle.load(f)",
        "_pickle.loads(b)",
        "x = (marshal" + "\n" * 500 + " . loads)(d)",  # the regex's \s* is unbounded
        "getattr(__builtins__ . exec",
        "types.CodeType(*args)",
        "exec(x)",
        "execfile('a')",
        "re.compile('x')",
        "x.eval()",
        "pickle.dumps(x)",
        "executor = 1; evaluate(); compiled = 2",
        "",
    ],
)
def test_the_anchored_sink_search_finds_what_the_regex_finds(text: str) -> None:
    from mphunter_gate.select.data_code import _SINK_RE, _sink_in_text

    assert _sink_in_text(text) is bool(_SINK_RE.search(text))
    assert _sink_in_text("x = 1\n" * 1000 + text) is bool(_SINK_RE.search(text))
