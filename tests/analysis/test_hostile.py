"""Hostile input: no crash, a bounded result, and never an empty result that looks clean.

Wall-clock limits are measured in bench/analysis_throughput.py, not asserted
here: a timed unit test fails on a slow or busy CI machine for no fault of the
code. What these tests pin down is the structural bound (fallback path taken,
sequence length capped, counted work budget) that keeps the time bounded; that
the bound does not depend on the clock is pinned down in test_budget.py.
"""

from __future__ import annotations

import base64
import sys

import pytest

from mphunter_gate.analysis import limits
from mphunter_gate.types import ParseMode
from tests.analysis.analysis_support import apis, run


def test_deep_parentheses_fall_back_to_tokens() -> None:
    src = "import os\nos.system(" + "(" * 10_000 + "1" + ")" * 10_000 + ")\n"
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert apis(a) == ["os.system"]


def test_deep_binop_chain_recursion_is_caught() -> None:
    src = "import os\nos.system('a'" + " + 'a'" * 10_000 + ")\n"
    a = run(src)
    # 3.11+ recurse on the chain (caught: the token pass); 3.10's parser and our visitor
    # do not, so there it is read with `ast`. Either way the call is found.
    assert a.parse is (ParseMode.TOKENS if sys.version_info >= (3, 11) else ParseMode.AST)
    assert apis(a) == ["os.system"]


def test_nesting_the_parser_accepts_but_our_visitor_cannot() -> None:
    # ~900 levels parse fine but overflow a recursive visitor: must fall back, not crash.
    src = "import os\nx = " + "-" * 900 + "os.getpid()\n"
    a = run(src)
    assert a.parse in (ParseMode.AST, ParseMode.TOKENS)
    assert apis(a) == ["os.getpid"]


def test_deep_indentation_falls_back() -> None:
    body = "".join(" " * i + "if x:\n" for i in range(150)) + " " * 150 + "os.remove('x')\n"
    a = run("import os\n" + body)
    assert a.parse is ParseMode.TOKENS
    assert apis(a) == ["os.remove"]


def test_five_megabyte_one_line_of_code_is_bounded() -> None:
    src = "import os;os.getpid();x=" + "+".join(["a"] * 2_500_000) + "\n"
    assert len(src) > 5_000_000
    a = run(src)
    assert a.parse is ParseMode.TOKENS
    assert apis(a)[:1] == ["os.getpid"]


def test_five_megabyte_literal_is_parsed_with_ast() -> None:
    blob = base64.b64encode(b"\0" * 3_800_000).decode()
    src = f"import os\ndata = '{blob}'\nos.system('id')\n"
    assert len(src) > 5_000_000
    a = run(src)
    assert a.parse is ParseMode.AST
    assert apis(a) == ["os.system"]


@pytest.mark.parametrize("src", ["\x00\x01\x02 garbage \x00", "(((( unclosed", "@@@ ??? !!!"])
def test_garbage_is_an_explicit_failure(src: str) -> None:
    a = run(src)
    assert a.parse is ParseMode.FAILED
    assert a.sequences == ()
    assert a.error


def test_exponential_inlining_is_bounded() -> None:
    lines = ["import os", "def f0():\n    os.getpid()"]
    for i in range(1, 40):
        lines.append(f"def f{i}():\n    f{i - 1}()\n    f{i - 1}()")
    lines.append("f39()")
    a = run("\n".join(lines) + "\n")
    assert a.parse is ParseMode.AST
    assert 0 < len(a.sequences[0]) <= 20_000
    # The walks are cut prefixes; the flat listing holds every API call site, so the
    # script was examined whole and is not truncated.
    assert [c.api for c in a.sequences[-1]] == ["os.getpid"]
    assert not a.truncated


def test_a_script_with_more_call_sites_than_the_cap_is_truncated() -> None:
    a = run("import os\n" + "os.getpid()\n" * 20_001)
    assert a.truncated


def test_an_ordinary_script_is_not_truncated() -> None:
    assert not run("import os\nos.getpid()\n").truncated


def test_long_operator_chain_gets_a_full_analysis() -> None:
    # Deeper than the interpreter's recursion limit, within what `ast.parse` accepts:
    # the expression visitor is iterative, so this needs no fallback.
    src = "import os\nx = " + " + ".join(["y"] * 1_500) + "\nos.system(str(x))\n"
    a = run(src)
    assert a.parse is ParseMode.AST
    assert apis(a) == ["str", "os.system"]


def test_evaluator_work_is_bounded_and_says_so() -> None:
    # Each size cap holds (200,000 items a list), but the comprehension asks for 200,000
    # of those lists: 4e10 evaluations without a work budget. After the budget everything
    # is unknown, so the payload below is left undecoded, and the result says it was cut.
    assert limits.EVAL_WORK_BUDGET < 200_000 * 200_000
    blob = base64.b64encode(b"import socket\nsocket.socket()\n").decode()
    src = (
        "import base64\n"
        "x = [[c for c in 'a' * 200000] for d in 'a' * 200000]\n"
        f"exec(base64.b64decode('{blob}'))\n"
    )
    a = run(src)
    assert a.truncated
    assert apis(a) == ["base64.b64decode", "exec"]
    assert a.decoded == ()
    normal = run(src.replace("200000] for d in 'a' * 200000]", "2] for d in 'a' * 2]"))
    assert not normal.truncated
    assert apis(normal)[-1] == "socket.socket"


def test_integer_arithmetic_evaluated_again_and_again_is_charged() -> None:
    # One item is ~4,000 operators deep in constants only (the evaluator's recursive
    # integer path); a comprehension asks for it 200,000 times.
    chain = "(" + " + ".join(["1"] * 100) + ")"
    item = " ^ ".join([chain] * 40)
    src = f"x = [{item} for d in 'a' * 200000]\n"
    a = run(src)
    assert a.truncated
    assert not run(src.replace("200000", "2")).truncated


def test_text_past_the_size_cap_is_never_a_clean_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    from mphunter_gate.analysis import limits

    monkeypatch.setattr(limits, "MAX_TEXT_CHARS", 100)
    a = run("import os\n" + "# padding\n" * 20 + "os.system('id')\n")
    assert a.truncated


def test_an_f_string_conversion_is_no_garbage_on_any_python() -> None:
    """3.12+ tokenize `f"{x!r}"` into parts with `!` as an operator."""
    src = "print 'py2'\nx = f'{y!r}'\n"  # py2 print: ast fails, the token pass reads it
    a = run(src)
    assert a.parse is ParseMode.TOKENS
