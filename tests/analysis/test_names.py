"""Name resolution through imports, aliases, builtins and unknown receivers."""

from __future__ import annotations

from mphunter_gate.types import ParseMode
from tests.analysis.analysis_support import apis, run


def test_import_alias_resolves_to_module() -> None:
    a = run("import subprocess as sp\nsp.Popen(['ls'])\n")
    assert a.parse is ParseMode.AST
    assert apis(a) == ["subprocess.Popen"]


def test_from_import_and_from_import_as() -> None:
    a = run("from os import system\nfrom os import popen as p\nsystem('id')\np('id')\n")
    assert apis(a) == ["os.system", "os.popen"]


def test_dotted_import_and_submodule_alias() -> None:
    a = run("import os.path\nimport urllib.request as ur\nos.path.join('a')\nur.urlopen('u')\n")
    assert apis(a) == ["os.path.join", "urllib.request.urlopen"]


def test_first_import_wins_in_try_except_fallback() -> None:
    src = """
    try:
        from setuptools import setup
    except ImportError:
        from distutils.core import setup
    setup(name='x')
    """
    assert apis(run(src)) == ["setuptools.setup"]


def test_builtins_are_bare_names() -> None:
    a = run("exec('1')\neval('2')\nf = open('x')\ncompile('3', 'f', 'exec')\n")
    assert [x for x in apis(a) if x in {"exec", "eval", "open", "compile"}] == [
        "exec",
        "eval",
        "open",
        "compile",
    ]


def test_unknown_receiver_gives_method_name() -> None:
    a = run("def f(conn):\n    conn.sendall(b'x')\nf(1)\n")
    assert apis(a) == ["sendall"]


def test_dunder_import_and_getattr_resolve_statically() -> None:
    src = """
    __import__('subprocess').call(['id'])
    import os
    getattr(os, 'system')('id')
    import importlib
    importlib.import_module('socket').socket()
    """
    assert apis(run(src)) == [
        "__import__",
        "subprocess.call",
        "getattr",
        "os.system",
        "importlib.import_module",
        "socket.socket",
    ]


def test_value_alias_of_an_api() -> None:
    a = run("import os\nrun = os.system\nrun('id')\n")
    assert apis(a) == ["os.system"]


def test_relative_import_drops_dots() -> None:
    a = run("from .utils import fetch\nfetch()\n", path="pkg/__init__.py")
    assert apis(a) == ["utils.fetch"]


def test_arguments_come_before_the_call() -> None:
    a = run("import os, base64\nos.system(base64.b64decode(x))\n")
    assert apis(a) == ["base64.b64decode", "os.system"]


def test_provenance_file_and_line() -> None:
    a = run("import os\n\n\nos.system('x')\n", path="pkg/setup.py")
    (call,) = a.sequences[0]
    assert (call.file, call.line) == ("pkg/setup.py", 4)
