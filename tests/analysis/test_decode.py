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
    deep = run(code, max_decode_depth=5)
    assert "os.system" in apis(deep)


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
