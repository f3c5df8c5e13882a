"""Name resolution through imports, aliases, builtins and unknown receivers."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mphunter_gate.analysis.names import rebound_names
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


@pytest.mark.parametrize(
    "fetch",
    [
        "getattr(__builtins__, 'ex' + 'ec')",
        "getattr(__builtins__, 'cexe'[::-1])",
        "getattr(__builtins__, str(hex)[-3:-1] + repr(hex)[-3] + oct.__str__()[-3])",
        "__builtins__.__dict__['e' + 'xec']",
        "vars(__builtins__)['exec']",
        "__builtins__['exec']",
        "getattr(builtins, 'exec')",
    ],
)
def test_builtin_fetched_by_an_evaluated_name_is_that_builtin(fetch: str) -> None:
    a = run(f"import builtins\n{fetch}('import os; os.getpid()')\n")
    assert [x for x in apis(a) if x in ("exec", "os.getpid")] == ["exec", "os.getpid"]
    assert [d.preview for d in a.decoded] == ["import os; os.getpid()"]


def test_fetched_builtin_assigned_to_a_name_is_an_alias() -> None:
    src = """
    e = vars(__builtins__)['ex' + 'ec']
    f = getattr(__builtins__, 'eval')
    e('1')
    f('2')
    """
    a = run(src)
    assert apis(a) == ["vars", "getattr", "exec", "eval"]


@pytest.mark.parametrize(
    "fetch",
    [
        "getattr(__builtins__, name)",  # not a known value
        "getattr(__builtins__, 'no_such_builtin')",
        "getattr(__builtins__, 'exec', None)",  # a default: not a plain fetch
        "getattr(mod, 'exec')",
    ],
)
def test_builtin_fetch_that_cannot_be_proved_is_not_named(fetch: str) -> None:
    assert "exec" not in apis(run(f"{fetch}('1')\n"))


def test_rebound_names_over_approximates_bindings() -> None:
    src = """
    import a.b as c, d.e
    from f import g
    def h(i, *j, k=1, **l):
        global m
        (n := 1)
        return [o for o in p]
    class Q: pass
    try:
        pass
    except E as r:
        pass
    s.t = 1
    u['v'] = 2
    setattr(w, 'x', 3)
    del y
    """
    found = rebound_names(ast.parse(textwrap.dedent(src)).body)
    assert found == frozenset("cdghijklmnoQrtvxy")
    assert rebound_names(ast.parse("from os import *\n").body) is None


@pytest.mark.parametrize(
    "src",
    [
        "if (n := f()):\n    pass\n",
        "x = g(\n    1,\n    [o for o in p],\n)\n",
        "h(key=lambda q=r: q)\n",
        "y = (setattr(w, 'x', 3), 1)\n",
        "print(f'{(m := 2)}')\n",
        "class A(metaclass=M):\n    def f(self, a=[b for b in c]): pass\n",
        "match v:\n    case {'k': z, **rest} if (g := z):\n        pass\n",
        "with open(p) as fh, q() as (s, t):\n    u[0], v.w = 1, 2\n",
        "a = 1\r\nb = [c for c in d]\r\n",
        "a = 1\rb = [c for c in d]\r",  # lone carriage returns: lines not checked
        "x = ((((3 << 2) + 1) << 3) - 1)\nfor i in range(3): pass\n",
    ],
)
def test_rebound_names_from_source_lines_equals_the_whole_walk(src: str) -> None:
    body = ast.parse(src).body
    assert rebound_names(body, src) == rebound_names(body)


def test_rebound_names_skips_value_expressions_whose_lines_spell_no_binding_word() -> None:
    # The tree binds `n` inside an expression; a source without `:=` on that line
    # (never the case for a real parse) shows the expression is not walked.
    body = ast.parse("print((n := 1))\nm = 2\n").body
    assert rebound_names(body, "print((n  = 1))\nm = 2\n") == frozenset("m")
    assert rebound_names(body) == frozenset("mn")
