"""Static decoding of literal payloads; each decoder with a positive and a negative case."""

from __future__ import annotations

import base64
import binascii
import codecs
import zlib

import pytest

from mphunter_gate.analysis import limits
from mphunter_gate.analysis.decode import DECODERS
from mphunter_gate.types import ParseMode
from tests.analysis.analysis_support import apis, lines, run

PAYLOAD = "import os\nos.system('id')\n"


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


@pytest.mark.parametrize(
    ("expr", "method"),
    [
        (f"base64.b64decode('{_b64(PAYLOAD)}')", "base64"),
        (f"base64.b32decode('{base64.b32encode(PAYLOAD.encode()).decode()}')", "base32"),
        (f"bytes.fromhex('{PAYLOAD.encode().hex()}')", "hex"),
        (f"binascii.unhexlify('{binascii.hexlify(PAYLOAD.encode()).decode()}')", "hex"),
        (
            "zlib.decompress(base64.b64decode("
            f"'{base64.b64encode(zlib.compress(PAYLOAD.encode())).decode()}'))",
            "zlib+base64",
        ),
        (f"codecs.decode({codecs.encode(PAYLOAD, 'rot13')!r}, 'rot13')", "rot13"),
        (f"''.join(chr(c) for c in {[ord(ch) for ch in PAYLOAD]})", "chr-join"),
        (f"''.join(chr(c ^ 7) for c in {[ord(ch) ^ 7 for ch in PAYLOAD]})", "chr-join"),
        (f"''.join(map(chr, {[ord(ch) for ch in PAYLOAD]}))", "chr-join"),
        (f"base64.b64decode('{_b64(PAYLOAD)[::-1]}'[::-1])", "base64+reverse"),
        # XOR with a repeating key, character arithmetic with ord, a substitution
        # alphabet, an integer spelled as bytes: what measurement found missed.
        (
            "bytes(b ^ b'k3y'[i % len(b'k3y')] for i, b in enumerate("
            f"{bytes(b ^ b'k3y'[i % 3] for i, b in enumerate(PAYLOAD.encode()))!r}))",
            "bytes",
        ),
        (
            f"''.join(chr(ord(c) ^ 7) for c in {''.join(chr(ord(c) ^ 7) for c in PAYLOAD)!r})",
            "chr-join",
        ),
        (
            f"{PAYLOAD.translate(str.maketrans('osimt', 'tmiso'))!r}"
            ".translate(str.maketrans('tmiso', 'osimt'))",
            "translate",
        ),
        (
            f"({int.from_bytes(PAYLOAD.encode(), 'big')}).to_bytes({len(PAYLOAD)}, 'big')",
            "int-bytes",
        ),
    ],
)
def test_exec_of_decodable_constant_is_analysed(expr: str, method: str) -> None:
    src = f"import base64, binascii, zlib, codecs\n\n\nexec({expr})\n"
    a = run(src)
    assert a.parse is ParseMode.AST
    # The payload's calls follow exec and carry the line of the literal (4).
    seq = lines(a)
    assert seq[seq.index(("exec", 4)) + 1 :] == [("os.system", 4)]
    assert [(d.line, d.method) for d in a.decoded] == [(4, method)]
    assert a.decoded[0].preview.startswith("import os")


def test_decoder_reached_through_alias_and_variable() -> None:
    src = f"""
    from base64 import b64decode as d
    code = d('{_b64(PAYLOAD)}')
    x = 1
    exec(code)
    """
    a = run(src)
    assert apis(a) == ["base64.b64decode", "exec", "os.system"]
    assert a.sequences[0][-1].line == 3  # the literal's line, not exec's
    assert [(d.line, d.method) for d in a.decoded] == [(3, "base64")]


def test_exec_of_plain_literal_and_nested_payloads() -> None:
    inner = _b64("import socket\nsocket.socket()\n")
    outer = f"import base64\nexec(base64.b64decode('{inner}'))\n"
    a = run(f"exec({outer!r})\n")
    assert apis(a) == ["exec", "base64.b64decode", "exec", "socket.socket"]
    assert [d.method for d in a.decoded] == ["literal", "base64"]


def test_decode_depth_is_bounded() -> None:
    code = PAYLOAD
    for _ in range(4):
        code = f"import base64\nexec(base64.b64decode('{_b64(code)}'))\n"
    shallow = run(code, max_decode_depth=2)
    assert "os.system" not in apis(shallow)
    assert shallow.truncated  # a payload was left unanalysed
    deep = run(code, max_decode_depth=5)
    assert "os.system" in apis(deep)
    assert not deep.truncated


def test_decoded_but_not_executed_is_recorded_only() -> None:
    a = run(f"import base64\ndata = base64.b64decode('{_b64('hello world')}')\n")
    assert apis(a) == ["base64.b64decode"]
    assert [(d.method, d.preview) for d in a.decoded] == [("base64", "hello world")]


@pytest.mark.parametrize(
    "src",
    [
        "import base64\nexec(base64.b64decode(get_payload()))\n",  # not a constant
        "import base64\nbase64.b64decode('!!!not base64!!!')\n",  # invalid input
        "import zlib\nzlib.decompress(b'not zlib data')\n",
        "x = ''.join(['a', 'b'])\n",  # a join that decodes nothing
    ],
)
def test_undecodable_inputs_record_nothing(src: str) -> None:
    assert run(src).decoded == ()


def test_zip_bomb_output_is_capped() -> None:
    raw = zlib.compress(b"A" * 50_000_000, 9)
    _, fn = DECODERS["zlib.decompress"]
    assert len(fn(raw)) == limits.MAX_VALUE_CHARS
    bomb = base64.b64encode(raw).decode()
    a = run(f"import zlib, base64\nzlib.decompress(base64.b64decode('{bomb}'))\n")
    assert a.parse is ParseMode.AST
    assert [d.method for d in a.decoded] == ["zlib+base64"]


def test_every_decoder_is_registered_under_a_method_name() -> None:
    assert all(method for method, _ in DECODERS.values())


def test_control_characters_are_stripped_from_previews() -> None:
    a = run(f"import base64\nbase64.b64decode('{_b64(chr(27) + '[31mred')}')\n")
    assert a.decoded[0].preview == " [31mred"


# -- strings spelled out of builtins' reprs -------------------------------------------------

#: `chr` spelled from reprs: str(oct)[-3] == 'c', str(hex)[-4] == 'h', str(copyright)[4] == 'r'.
_CHR = (
    "getattr(__builtins__, oct.__str__()[-3 << 0] + hex.__str__()[-1 << 2]"
    " + copyright.__str__()[4 << 0])"
)


def _ints(text: str) -> str:
    """A list of shift/add expressions for the code points of `text` (as the family writes)."""
    return "[" + ", ".join(f"(({ord(c) >> 2} << 2) + {ord(c) & 3})" for c in text) + "]"


def test_chr_spelled_from_builtin_reprs_is_folded() -> None:
    src = f"""
    import sys
    if sys.platform == ''.join(map({_CHR}, {_ints("win32")})):
        print(''.join(map({_CHR}, {_ints("install")})))
    """
    a = run(src)
    assert [(d.line, d.method, d.preview) for d in a.decoded] == [
        (3, "chr-join+builtin-repr", "win32"),
        (4, "chr-join+builtin-repr", "install"),
    ]
    spelled = ["oct.__str__", "hex.__str__", "copyright.__str__", "getattr", "map", "join"]
    assert apis(a) == [*spelled, *spelled, "print"]


def test_exec_fetched_by_a_spelled_name_runs_the_spelled_payload() -> None:
    # 'exec' from '<built-in function hex>'[-3], [-2], [-3] and '<built-in function oct>'[-3].
    name = "hex.__str__()[-3] + hex.__str__()[-2] + hex.__str__()[-3] + oct.__str__()[-3]"
    payload = _ints("import os; os.getpid()")
    a = run(f"getattr(__builtins__, {name})(''.join(map({_CHR}, {payload})))\n")
    spelled = ["oct.__str__", "hex.__str__", "copyright.__str__", "getattr", "map", "join"]
    fetch = ["hex.__str__", "hex.__str__", "hex.__str__", "oct.__str__", "getattr"]
    assert apis(a) == [*fetch, *spelled, "exec", "os.getpid"]
    assert [(d.method, d.preview) for d in a.decoded] == [
        ("chr-join+builtin-repr", "import os; os.getpid()")
    ]


@pytest.mark.parametrize(
    "shadow",
    [
        "oct = lambda: 'x'",
        "def hex():\n    pass",
        "from fakemod import copyright",
        "from fakemod import *",
        "import builtins\nbuiltins.oct = print",
        "for oct in range(3):\n    pass",
        "__builtins__ = {}",
        "getattr = setattr",
    ],
)
def test_rebound_builtins_are_not_folded(shadow: str) -> None:
    src = f"x = ''.join(map({_CHR}, {_ints('win32')}))\n"
    assert [d.preview for d in run(src).decoded] == ["win32"]
    assert run(f"{shadow}\n{src}").decoded == ()


@pytest.mark.parametrize(
    "expr",
    [
        "copyright.__str__()[-3]",  # the end of str(copyright) depends on the build
        "copyright.__str__()[40]",  # past the known start
        "copyright.__str__()[2:40]",
        "copyright.__str__()[:]",
        "copyright.__str__()[::-1][0]",
        "(copyright.__str__() + 'x')[0]",
        "str(copyright)[-1]",
        "str(license)[0]",  # nothing of license is known
    ],
)
def test_copyright_beyond_its_known_start_is_unknown(expr: str) -> None:
    src = f"x = ''.join(map(getattr(__builtins__, {expr} + 'hr'), {_ints('win32')}))\n"
    assert run(src).decoded == ()


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("str(copyright)[0:4]", "Copy"),
        ("copyright.__repr__()[4]", "r"),
        ("repr(oct)[-4:-1]", "oct"),
        ("str(str)[-5:-2]", "str"),
        ("dict.__str__()[1:6]", "class"),
        ("str(credits)[4:10]", "Thanks"),
    ],
)
def test_builtin_reprs_are_known_text(expr: str, value: str) -> None:
    a = run(f"exec({expr})\n")
    assert [(d.method, d.preview) for d in a.decoded] == [("builtin-repr", value)]


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("'abcdef'[3]", "d"),
        ("'abcdef'[-3]", "d"),
        ("'abcdef'[(1 << 2) - 1]", "d"),
        ("'abcdef'[1:5]", "bcde"),
        ("'abcdef'[::2]", "ace"),
        ("'abcdef'[-2:]", "ef"),
        ("'abcdef'[5:0:-2]", "fdb"),
        ("['ab', 'cd'][1] + b'xyz'[1:2].decode()", "cdy"),
        ("chr(b'AB'[0])", "A"),
    ],
)
def test_integer_indexing_and_slices(expr: str, value: str) -> None:
    a = run(f"code = {expr}\nexec(code)\n")
    assert [d.preview for d in a.decoded] == [value]


@pytest.mark.parametrize(
    "expr",
    ["'abc'[3]", "'abc'[-4]", "'abc'[::0]", "'abc'[n]", "'abc'['1']", "'abc'[1:n]"],
)
def test_unknown_or_invalid_subscripts_are_not_folded(expr: str) -> None:
    assert run(f"exec({expr})\n").decoded == ()


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("chr((((3 << 2) + 1) << 3) - 1)", "g"),
        ("chr(-(-104))", "h"),
        (
            "''.join(map(chr, [(7 << 4) - (1 << 1), 0x69 ^ 0, 210 // 2 - 1, (1 << 7) % 25 + 98]))",
            "nihe",
        ),
        ("'ab' * 2 + 'c'", "ababc"),
        ("bytes((100 + 5, 0x68 | 1)).decode()", "ii"),
        ("'x' + 'y' * (1 << 2)", "xyyyy"),
        ("bytes([(3 << 5) + 8, -3 << 0 ^ -108, 10 % 7 + 100]).decode()", "hig"),
    ],
)
def test_integer_arithmetic_and_lists_are_folded(expr: str, value: str) -> None:
    a = run(f"code = {expr}\nexec(code)\n")
    assert [d.preview for d in a.decoded] == [value]


@pytest.mark.parametrize(
    "expr",
    [
        "chr(1 << 64 << 1)",  # beyond the integer bound
        "chr((1 << 70) - (1 << 70) + 104)",  # an intermediate beyond the bound is unknown too
        "chr(104 // 0)",
        "chr(1 << 64 >> 64 + 104)",  # a shift by 64 or more is not folded
        "chr(~-105)",  # only unary minus is known
        "chr(104 + True)",
        "''.join([chr(104), n])",  # one unknown item makes the list unknown
        "'a' + " * 160 + "'a'",  # deeper than the evaluator goes
        "bytes([(1 << 70) - (1 << 70) + 104]).decode()",  # the bound, in a list item
        "bytes([104, (1 << 2) + n]).decode()",  # an unknown leaf in a list item
        "bytes([" + "1 + " * 160 + "1]).decode()",  # a list item deeper than the evaluator goes
    ],
)
def test_unknown_arithmetic_is_not_folded(expr: str) -> None:
    assert run(f"exec({expr})\n").decoded == ()


def test_long_unary_minus_chain_stops_at_the_depth_limit() -> None:
    deep = run("exec(chr(0 + " + "-" * 1000 + "104))\n")  # parses; deeper than the evaluator goes
    assert deep.parse is ParseMode.AST
    assert deep.decoded == ()
    assert [d.preview for d in run("exec(chr(0 + --104))\n").decoded] == ["h"]
