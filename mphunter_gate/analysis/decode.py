"""Static decoding of literal payloads: evaluate a tiny, safe subset of Python.

Malicious setup.py files hide their behaviour in strings
(`exec(base64.b64decode("..."))`, `''.join(chr(c ^ 7) for c in [...])`).
MPHunter only saw `exec` and lost the payload. Here a constant expression is
evaluated by a small interpreter that knows string/bytes/int arithmetic and a
fixed table of decoders, and nothing else: no name is ever looked up in a real
namespace, nothing is imported or run, every value and decompression output is
size-capped. Each decoder is one entry in `DECODERS`, so adding a rule is
adding a line.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from mphunter_gate.analysis import limits

Data = str | bytes | int | list


@dataclass(frozen=True, slots=True)
class Value:
    """A statically known value, how it was obtained, and where its literal sits."""

    data: Data
    method: str  # decoders applied, outermost first ("zlib+base64"); "" for a plain literal
    line: int


def _as_bytes(data: Data) -> bytes | None:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    return None


def _bounded_zlib(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes:
    return zlib.decompressobj(wbits).decompress(data, limits.MAX_VALUE_CHARS)


def _b64(data: bytes) -> bytes:
    return base64.b64decode(data)


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data)


def _b32(data: bytes) -> bytes:
    return base64.b32decode(data, casefold=True)


def _hex(data: bytes) -> bytes:
    return binascii.unhexlify(b"".join(data.split()))


def _b85(data: bytes) -> bytes:
    return base64.b85decode(data)


def _a85(data: bytes) -> bytes:
    return base64.a85decode(data)


def _zlib(data: bytes) -> bytes:
    return _bounded_zlib(data)


def _gzip(data: bytes) -> bytes:
    return _bounded_zlib(data, 16 + zlib.MAX_WBITS)


def _bz2(data: bytes) -> bytes:
    return bz2.BZ2Decompressor().decompress(data, limits.MAX_VALUE_CHARS)


def _lzma(data: bytes) -> bytes:
    return lzma.LZMADecompressor().decompress(data, limits.MAX_VALUE_CHARS)


#: Resolved API name -> (method name recorded in `Decoded`, decoder over bytes).
DECODERS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "base64.b64decode": ("base64", _b64),
    "base64.standard_b64decode": ("base64", _b64),
    "base64.decodebytes": ("base64", _b64),
    "base64.decodestring": ("base64", _b64),
    "base64.urlsafe_b64decode": ("base64", _b64url),
    "binascii.a2b_base64": ("base64", _b64),
    "base64.b32decode": ("base32", _b32),
    "base64.b16decode": ("hex", _hex),
    "binascii.unhexlify": ("hex", _hex),
    "binascii.a2b_hex": ("hex", _hex),
    "bytes.fromhex": ("hex", _hex),
    "bytearray.fromhex": ("hex", _hex),
    "base64.b85decode": ("base85", _b85),
    "base64.a85decode": ("ascii85", _a85),
    "zlib.decompress": ("zlib", _zlib),
    "gzip.decompress": ("gzip", _gzip),
    "bz2.decompress": ("bz2", _bz2),
    "lzma.decompress": ("lzma", _lzma),
}

#: `codecs.decode(x, name)` codec names -> the same decoders (rot13 is handled as text).
CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "hex": ("hex", _hex),
    "hex_codec": ("hex", _hex),
    "base64": ("base64", _b64),
    "base_64": ("base64", _b64),
    "base64_codec": ("base64", _b64),
    "zlib": ("zlib", _zlib),
    "zip": ("zlib", _zlib),
    "zlib_codec": ("zlib", _zlib),
    "bz2": ("bz2", _bz2),
    "bz2_codec": ("bz2", _bz2),
}

_ROT13 = frozenset({"rot13", "rot_13"})
_TEXT_ENCODINGS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1", ""})
_DECODE_ERRORS = (binascii.Error, ValueError, zlib.error, lzma.LZMAError, OSError, EOFError)
_MAX_EVAL_DEPTH = 150


def _join_method(outer: str, inner: str) -> str:
    if not outer:
        return inner
    if not inner:
        return outer
    return f"{outer}+{inner}"


def _size(data: Data) -> int:
    if isinstance(data, str | bytes | list):
        return len(data)
    return 0


class Evaluator:
    """Evaluates constant expressions of one scope.

    `resolve` maps a call's function expression to its full API name (so that
    `from base64 import b64decode as d; d(...)` is recognised); `lookup` gives
    the known value of a variable. Returns None for anything it cannot prove.
    """

    def __init__(
        self,
        resolve: Callable[[ast.expr], str | None],
        lookup: Callable[[str], Value | None],
    ) -> None:
        self._resolve = resolve
        self._lookup = lookup
        self._locals: dict[str, Value] = {}
        self._depth = 0

    def eval(self, node: ast.expr) -> Value | None:
        if self._depth > _MAX_EVAL_DEPTH:
            return None
        self._depth += 1
        try:
            value = self._eval(node)
        finally:
            self._depth -= 1
        if value is not None and _size(value.data) > limits.MAX_VALUE_CHARS:
            return None
        return value

    def _eval(self, node: ast.expr) -> Value | None:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, str | bytes | int):
                return None
            return Value(v, "", line)
        if isinstance(node, ast.Name):
            return self._locals.get(node.id) or self._lookup(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = [self.eval(v) for v in node.values]
            return self._concat(parts, line)
        if isinstance(node, ast.FormattedValue):
            return self.eval(node.value)
        if isinstance(node, ast.BinOp):
            return self._binop(node, line)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.eval(node.operand)
            if inner is not None and isinstance(inner.data, int):
                return Value(-inner.data, inner.method, line)
            return None
        if isinstance(node, ast.List | ast.Tuple):
            if len(node.elts) > limits.MAX_VALUE_ITEMS:
                return None
            items = [self.eval(e) for e in node.elts]
            if any(i is None for i in items):
                return None
            known = [i for i in items if i is not None]
            return Value([i.data for i in known], _first_method(known), line)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Call):
            return self._call(node, line)
        if isinstance(node, ast.GeneratorExp | ast.ListComp):
            return self._comprehension(node, line)
        return None

    def _concat(self, parts: list[Value | None], line: int) -> Value | None:
        if any(p is None or not isinstance(p.data, str) for p in parts):
            return None
        known = [p for p in parts if p is not None]
        text = "".join(str(p.data) for p in known)
        return Value(text, _first_method(known), line)

    def _binop(self, node: ast.BinOp, line: int) -> Value | None:
        left = self.eval(node.left)
        if left is None:
            return None
        right = self.eval(node.right)
        if right is None:
            return None
        a, b = left.data, right.data
        method = _first_method([left, right])
        op = node.op
        if isinstance(op, ast.Add):
            if isinstance(a, str) and isinstance(b, str):
                return Value(a + b, method, line)
            if isinstance(a, bytes) and isinstance(b, bytes):
                return Value(a + b, method, line)
            if isinstance(a, int) and isinstance(b, int):
                return _int(a + b, method, line)
            return None
        if isinstance(op, ast.Mult):
            if isinstance(a, int) and isinstance(b, int):
                return _int(a * b, method, line)
            if isinstance(a, str | bytes) and isinstance(b, int):
                if len(a) * max(b, 0) > limits.MAX_VALUE_CHARS:
                    return None
                return Value(a * b, method, line)
            return None
        if not (isinstance(a, int) and isinstance(b, int)):
            return None
        if isinstance(op, ast.Sub):
            return _int(a - b, method, line)
        if isinstance(op, ast.BitXor):
            return _int(a ^ b, method, line)
        if isinstance(op, ast.BitAnd):
            return _int(a & b, method, line)
        if isinstance(op, ast.BitOr):
            return _int(a | b, method, line)
        if isinstance(op, ast.Mod | ast.FloorDiv) and b != 0:
            return _int(a % b if isinstance(op, ast.Mod) else a // b, method, line)
        if isinstance(op, ast.LShift | ast.RShift) and 0 <= b < 64:
            return _int(a << b if isinstance(op, ast.LShift) else a >> b, method, line)
        return None

    def _subscript(self, node: ast.Subscript) -> Value | None:
        sl = node.slice
        if not (
            isinstance(sl, ast.Slice)
            and sl.lower is None
            and sl.upper is None
            and isinstance(sl.step, ast.UnaryOp)
            and isinstance(sl.step.op, ast.USub)
            and isinstance(sl.step.operand, ast.Constant)
            and sl.step.operand.value == 1
        ):
            return None
        inner = self.eval(node.value)
        if inner is None or not isinstance(inner.data, str | bytes | list):
            return None
        return Value(inner.data[::-1], _join_method("reverse", inner.method), inner.line)

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp, line: int) -> Value | None:
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        if gen.ifs or gen.is_async or not isinstance(gen.target, ast.Name):
            return None
        source = self.eval(gen.iter)
        if source is None or not isinstance(source.data, str | bytes | list):
            return None
        items = list(source.data)
        if len(items) > limits.MAX_VALUE_ITEMS:
            return None
        name = gen.target.id
        saved = self._locals.get(name)
        out: list[Data] = []
        method = source.method
        try:
            for item in items:
                self._locals[name] = Value(item, "", line)
                v = self.eval(node.elt)
                if v is None:
                    return None
                method = method or v.method
                out.append(v.data)
        finally:
            if saved is None:
                self._locals.pop(name, None)
            else:
                self._locals[name] = saved
        return Value(out, method, source.line)

    def _call(self, node: ast.Call, line: int) -> Value | None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method_value = self._method_call(node, func)
            if method_value is not None:
                return method_value
        api = self._resolve(func)
        if api is None:
            return None  # keywords (`validate=True`) do not change what a decoder yields
        args = node.args
        if api in DECODERS and len(args) >= 1:
            name, fn = DECODERS[api]
            return self._decode(args[0], name, fn)
        if api in ("codecs.decode", "codecs.encode") and len(args) >= 1:
            return self._codecs(node)
        if api == "chr" and len(args) == 1:
            v = self.eval(args[0])
            if v is not None and isinstance(v.data, int) and 0 <= v.data < 0x110000:
                return Value(chr(v.data), "chr", v.line)
            return None
        if api in ("bytes", "bytearray") and len(args) == 1:
            v = self.eval(args[0])
            if (
                v is not None
                and isinstance(v.data, list)
                and all(isinstance(i, int) and 0 <= i < 256 for i in v.data)
            ):
                return Value(bytes(v.data), _join_method("bytes", v.method), v.line)
            return None
        if api in ("list", "tuple", "reversed", "str") and len(args) == 1:
            v = self.eval(args[0])
            if v is None:
                return None
            if api == "reversed" and isinstance(v.data, str | bytes | list):
                return Value(list(v.data)[::-1], _join_method("reverse", v.method), v.line)
            if api == "str":
                return v if isinstance(v.data, str) else None
            return Value(list(v.data), v.method, v.line) if isinstance(v.data, list) else None
        if api == "map" and len(args) == 2 and isinstance(args[0], ast.Name):
            fn_name = args[0].id
            v = self.eval(args[1])
            if fn_name == "chr" and v is not None and isinstance(v.data, list | bytes):
                try:
                    return Value([chr(i) for i in v.data], "chr", v.line)
                except (TypeError, ValueError):
                    return None
        return None

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> Value | None:
        """Methods of a known value: `.decode()`, `.encode()`, `sep.join(...)`, `.replace()`."""
        attr = func.attr
        if attr not in ("decode", "encode", "join", "replace", "strip", "fromhex"):
            return None
        if attr == "fromhex":
            return None  # `bytes.fromhex` is a decoder, resolved by name
        recv = self.eval(func.value)
        if recv is None:
            return None
        data = recv.data
        args = [self.eval(a) for a in node.args]
        if any(a is None for a in args):
            return None
        argv = [a.data for a in args if a is not None]
        if attr == "decode" and isinstance(data, bytes):
            enc = str(argv[0]).lower() if argv else ""
            if enc in _TEXT_ENCODINGS:
                return Value(data.decode("utf-8", "replace"), recv.method, recv.line)
            if enc in CODECS:
                return self._apply(data, *CODECS[enc], recv)
            return None
        if attr == "encode" and isinstance(data, str):
            enc = str(argv[0]).lower() if argv else ""
            if enc in _ROT13:
                return Value(
                    codecs.encode(data, "rot13"), _join_method("rot13", recv.method), recv.line
                )
            if enc in _TEXT_ENCODINGS:
                return Value(data.encode("utf-8", "surrogatepass"), recv.method, recv.line)
            return None
        if attr == "join" and isinstance(data, str | bytes) and len(argv) == 1:
            items = argv[0]
            if isinstance(items, str) and isinstance(data, str):
                items = list(items)
            if not isinstance(items, list) or not all(isinstance(i, type(data)) for i in items):
                return None
            method = args[0].method if args[0] is not None else ""
            if "chr" in method:
                method = "chr-join"
            if isinstance(data, str):
                return Value(
                    data.join(str(i) for i in items), method, args[0].line if args[0] else recv.line
                )
            return Value(data.join(bytes(i) for i in items), method, recv.line)
        if attr == "replace" and len(argv) == 2 and isinstance(data, str | bytes):
            old, new = argv
            if isinstance(data, str) and isinstance(old, str) and isinstance(new, str):
                if len(new) > len(old) and len(data) * max(len(new), 1) > limits.MAX_VALUE_CHARS:
                    return None
                return Value(data.replace(old, new), recv.method, recv.line)
            return None
        if attr == "strip" and not argv and isinstance(data, str | bytes):
            return Value(data.strip(), recv.method, recv.line)
        return None

    def _codecs(self, node: ast.Call) -> Value | None:
        src = self.eval(node.args[0])
        if src is None:
            return None
        enc_node: ast.expr | None = node.args[1] if len(node.args) > 1 else None
        for kw in node.keywords:
            if kw.arg == "encoding":
                enc_node = kw.value
        enc = self.eval(enc_node) if enc_node is not None else None
        if enc is None or not isinstance(enc.data, str):
            return None
        name = enc.data.lower().replace("-", "_")
        if name in _ROT13 and isinstance(src.data, str):
            return Value(
                codecs.decode(src.data, "rot13"), _join_method("rot13", src.method), src.line
            )
        if name in CODECS:
            raw = _as_bytes(src.data)
            if raw is None:
                return None
            return self._apply(raw, *CODECS[name], src)
        return None

    def _decode(self, arg: ast.expr, name: str, fn: Callable[[bytes], bytes]) -> Value | None:
        src = self.eval(arg)
        if src is None:
            return None
        raw = _as_bytes(src.data)
        if raw is None:
            return None
        return self._apply(raw, name, fn, src)

    def _apply(
        self, raw: bytes, name: str, fn: Callable[[bytes], bytes], src: Value
    ) -> Value | None:
        if len(raw) > limits.MAX_DECODE_INPUT:
            return None
        try:
            out = fn(raw)
        except _DECODE_ERRORS:
            return None
        return Value(out, _join_method(name, src.method), src.line)


def _first_method(values: list[Value]) -> str:
    for v in values:
        if v.method:
            return v.method
    return ""


def _int(n: int, method: str, line: int) -> Value | None:
    if abs(n) > 1 << 64:
        return None
    return Value(n, method, line)


def as_text(data: Data) -> str | None:
    """The decoded payload as source text, or None if it is not text-like."""
    if isinstance(data, str):
        return data
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return None


def preview(text: str) -> str:
    """The first characters of a payload with control characters replaced (safe to print)."""
    head = text[: limits.PREVIEW_CHARS]
    return "".join(c if c.isprintable() else " " for c in head)
