"""Static decoding of literal payloads: evaluate a tiny, safe subset of Python.

Malicious setup.py files hide their behaviour in strings
(`exec(base64.b64decode("..."))`, `''.join(chr(c ^ 7) for c in [...])`).
MPHunter only saw `exec` and lost the payload. Here a constant expression is
evaluated by a small interpreter that knows string/bytes/int arithmetic and a
fixed table of decoders, and nothing else: no name is ever looked up in a real
namespace, nothing is imported or run, every value and decompression output is
size-capped. Each decoder is one entry in `DECODERS`, so adding a rule is
adding a line.

Some families spell even the decoder's name: `getattr(__builtins__,
oct.__str__()[-3] + hex.__str__()[-4] + copyright.__str__()[4])` is `chr`,
picked out of the reprs of builtins. Those reprs are fixed text
(`BUILTIN_REPRS`), so indexing them is as static as indexing a literal, as
long as the script never rebinds the name (the evaluator is told through
`rebinds`).
"""

from __future__ import annotations

import ast
import base64
import binascii
import builtins
import bz2
import codecs
import lzma
import operator
import types
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mphunter_gate.analysis import limits
from mphunter_gate.analysis.budget import Budget
from mphunter_gate.analysis.names import BUILTIN_NAMES

Data = str | bytes | int | list


@dataclass(frozen=True, slots=True)
class Value:
    """A statically known value, how it was obtained, and where its literal sits.

    `prefix_only` marks a string of which only the start is known: `str(copyright)`
    differs between Python builds, but always starts with "Copyright ". Such a value
    may only be indexed or sliced inside that start; `Evaluator.eval` never returns
    one, so no other operation (concatenation, a negative index, a decoder) can
    turn a guess into a wrong "decoded" string.
    """

    data: Data
    method: str  # decoders applied, outermost first ("zlib+base64"); "" for a plain literal
    line: int
    prefix_only: bool = False


@dataclass(frozen=True, slots=True)
class Builtin:
    """A builtin fetched by name (`getattr(__builtins__, 'chr')`), and how the name was spelled."""

    name: str
    method: str


def _builtin_reprs() -> dict[str, str]:
    """`str(NAME)` for each builtin function and class, from our own interpreter's `builtins`.

    Only the type of each attribute is read (nothing is called): a builtin function's
    str() is '<built-in function NAME>', a builtin class's "<class 'NAME'>". Aliases
    whose str() names another object (`IOError` is `OSError`) are left out.
    """
    out: dict[str, str] = {}
    for name in dir(builtins):
        obj = getattr(builtins, name)
        if isinstance(obj, types.BuiltinFunctionType) and obj.__name__ == name:
            out[name] = f"<built-in function {name}>"
        elif isinstance(obj, type) and obj.__module__ == "builtins" and obj.__name__ == name:
            out[name] = f"<class '{name}'>"
    return out


#: str() of the builtin functions and classes, which every CPython 3 build agrees on.
BUILTIN_REPRS: dict[str, str] = _builtin_reprs()
#: The site module's `copyright` and `credits` print build-dependent text (the years, the
#: interpreter: PyPy's starts "Copyright 2003"); only these starts are the same everywhere.
#: `license` prints either a prompt or a URL depending on whether LICENSE is installed, so
#: nothing of it is known.
BUILTIN_REPR_PREFIXES: dict[str, str] = {
    "copyright": "Copyright ",
    "credits": "    Thanks to CWI, CNRI, BeOpen",
}
#: What a string spelled out of builtin reprs is recorded as (joined into the method chain).
BUILTIN_REPR = "builtin-repr"


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
#: Methods of a known value the evaluator applies (see `Evaluator._method_call`).
_KNOWN_METHODS = frozenset(
    {"decode", "encode", "join", "replace", "strip", "fromhex", "translate", "to_bytes"}
)
_ORDERS = ("big", "little")
_TEXT_ENCODINGS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1", ""})
_DECODE_ERRORS = (binascii.Error, ValueError, zlib.error, lzma.LZMAError, OSError, EOFError)
_MAX_EVAL_DEPTH = 150
#: Evaluator work (`limits.EVAL_WORK_BUDGET`) of a string or bytes value: one unit per
#: 2**_CHARS_SHIFT characters (copies and the C decoders run at a byte a nanosecond or
#: faster). The decoders here, Python loops or slow on random input (50-100 ns a byte),
#: also charge one unit per 2**_SLOW_SHIFT bytes of input.
_CHARS_SHIFT = 8
_SLOW_DECODERS = frozenset({_b32, _b85, _a85, _bz2})
_SLOW_SHIFT = 2
#: A `_fold` work item whose operands are evaluated: apply its operator.
_APPLY = -1
#: Added to a `_fold` work item's depth to try `_int_tree` on it first (see `_fold`).
_TRY_INT = 1 << 16


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
    the known value of a variable; `rebinds` says whether the script may bind a
    name anywhere (a builtin it may rebind has no known repr). Returns None for
    anything it cannot prove. Its work is charged to `budget` (the script's,
    shared with its payloads), since the size caps bound one value but not how
    many a hostile file asks for; once that is spent everything is unknown and
    `budget.eval_cut` says the result was cut.
    """

    def __init__(
        self,
        resolve: Callable[[ast.expr], str | None],
        lookup: Callable[[str], Value | None],
        rebinds: Callable[[str], bool],
        budget: Budget,
    ) -> None:
        self._resolve = resolve
        self._lookup = lookup
        self._rebinds = rebinds
        self._budget = budget
        self._locals: dict[str, Value] = {}
        self._depth = 0
        #: Each node whose value the integer path computed: arithmetic on constants only, so
        #: it holds no call, and an events walk that reaches it may step over it. The nodes
        #: themselves, not their id(): the token pass parses one line at a time, and a freed
        #: line's id() would be reused by the next line's nodes.
        self.int_nodes: set[ast.expr] = set()

    def eval(self, node: ast.expr, *, prefix_ok: bool = False) -> Value | None:
        """The value of `node`, or None; `prefix_ok` (for subscripts only) admits prefixes."""
        if self._depth > _MAX_EVAL_DEPTH:
            return None
        budget = self._budget
        if budget.eval_work < 0:
            budget.eval_cut = True
            return None
        budget.eval_work -= 1
        self._depth += 1
        try:
            value = self._eval(node)
        finally:
            self._depth -= 1
        if value is None or (value.prefix_only and not prefix_ok):
            return None
        data = value.data
        size = _size(data)
        if size > limits.MAX_VALUE_CHARS:
            return None
        # Lists are consumed item by item (joins, comprehensions, `bytes`), strings in bulk.
        budget.eval_work -= size if type(data) is list else size >> _CHARS_SHIFT
        return value

    def builtin_function(self, node: ast.expr) -> Builtin | None:
        """The builtin an expression fetches by name from the builtins module, if it is one.

        `getattr(__builtins__, X)`, `getattr(builtins, X)`, `__builtins__.__dict__[X]`,
        `vars(__builtins__)[X]` and `__builtins__[X]` (a dict outside `__main__`), where X
        evaluates to a builtin's name. Shadowing that name in the script does not matter
        here (the lookup bypasses it), but `__builtins__` itself must not be rebound.
        """
        key: ast.expr
        if isinstance(node, ast.Call):
            if len(node.args) != 2 or node.keywords or not self._is_builtins(node.args[0]):
                return None
            if not self._is_builtin_call(node, "getattr"):
                return None
            key = node.args[1]
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            base = node.value
            if isinstance(base, ast.Attribute) and base.attr == "__dict__":
                ok = self._is_builtins(base.value)
            elif isinstance(base, ast.Call):
                ok = (
                    len(base.args) == 1
                    and self._is_builtins(base.args[0])
                    and self._is_builtin_call(base, "vars")
                )
            else:
                ok = self._is_builtins(base)
            if not ok:
                return None
            key = node.slice
        else:
            return None
        name = self.eval(key)
        if name is None or not isinstance(name.data, str) or name.data not in BUILTIN_NAMES:
            return None
        return Builtin(name.data, name.method)

    def _is_builtin_call(self, node: ast.Call, name: str) -> bool:
        """A call of the builtin `name` itself, which the script never rebinds."""
        return self._resolve(node.func) == name and not self._rebinds(name)

    def _is_builtins(self, node: ast.expr) -> bool:
        """`__builtins__` (not rebound) or a name bound by `import builtins`.

        Only plain names are considered, so that asking costs no recursion into `node`.
        """
        if not isinstance(node, ast.Name):
            return False
        if node.id == "__builtins__":
            return self._resolve(node) is None and not self._rebinds(node.id)
        return self._resolve(node) == "builtins"

    def _function(self, node: ast.expr) -> Builtin | None:
        """The builtin a function argument (`map(f, ...)`) names: `chr` or a fetched one."""
        if isinstance(node, ast.Name):
            api = self._resolve(node)
            return Builtin(api, "") if api is not None else None
        return self.builtin_function(node)

    def _builtin_repr(self, node: ast.expr) -> Value | None:
        """`str(NAME)` of a builtin the script never rebinds (see `BUILTIN_REPRS`)."""
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        text = BUILTIN_REPRS.get(name)
        prefix = BUILTIN_REPR_PREFIXES.get(name)
        if text is None and prefix is None:
            return None
        if name in self._locals or self._resolve(node) != name or self._rebinds(name):
            return None
        line = node.lineno
        if text is not None:
            return Value(text, BUILTIN_REPR, line)
        return Value(prefix or "", BUILTIN_REPR, line, prefix_only=True)

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
        if isinstance(node, ast.BinOp | ast.List | ast.Tuple):
            return self._fold(node, line)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.eval(node.operand)
            if inner is not None and isinstance(inner.data, int):
                return Value(-inner.data, inner.method, line)
            return None
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

    def _fold(self, root: ast.BinOp | ast.List | ast.Tuple, line: int) -> Value | None:
        """An arithmetic tree or a list of them, evaluated with an explicit stack.

        Obfuscated files spell each character as a tree of integer operations
        (`(((3 << 2) + 1) << 3) - 1`), thousands of them in one list; evaluating those
        node by node through `eval` cost a Python frame, a depth check and a `Value`
        per node, and was the largest single cost of analysing such files. Here
        operands are bare (data, method) pairs, constants are read in place and only
        other leaves go through `eval`. The result is the one node-by-node evaluation
        gives: operands left to right, one unknown operand makes the whole tree
        unknown (as it does through every operator, `-x` and list display), a node
        deeper than `_MAX_EVAL_DEPTH` is unknown, every intermediate string is held
        to `MAX_VALUE_CHARS` and every list to `MAX_VALUE_ITEMS`. The work (one unit per
        item taken off the stack, plus the size of strings built on the way) is charged
        to the budget once, when the root is done.
        """
        base = self._depth
        work = 1
        int_ops = [0]  # operators `_int_tree` evaluated, part of the work
        operands: list[tuple[Data, str]] = []
        # (node, the depth `eval` checks it at) to evaluate; (node, _APPLY) to combine the
        # values of its operands, which are then the last items of `operands`; a depth
        # above _TRY_INT asks to try the recursive integer path on the node first.
        todo: list[tuple[ast.expr, int]] = [(root, base - 1 + _TRY_INT)]
        pop, push = todo.pop, todo.append
        try:
            while todo:
                node, depth = pop()
                if depth >= _TRY_INT:
                    depth -= _TRY_INT
                    n = _int_tree(node, depth, int_ops)
                    if n is None:
                        return None
                    if not isinstance(n, _NotInt):
                        operands.append((n, ""))
                        self.int_nodes.add(node)
                        continue
                if depth == _APPLY:
                    if type(node) is ast.BinOp:
                        b, b_method = operands.pop()
                        a, a_method = operands[-1]
                        data = _combine(node.op, a, b)
                        if data is None or (size := _size(data)) > limits.MAX_VALUE_CHARS:
                            return None
                        work += size >> _CHARS_SHIFT
                        operands[-1] = (data, a_method or b_method)
                    elif type(node) is ast.UnaryOp:  # `-x`
                        a, method = operands[-1]
                        if not isinstance(a, int):
                            return None
                        operands[-1] = (-a, method)
                    elif isinstance(node, ast.List | ast.Tuple):
                        first = len(operands) - len(node.elts)
                        items = operands[first:]
                        del operands[first:]
                        method = next((m for _, m in items if m), "")
                        operands.append(([d for d, _ in items], method))
                    continue
                if depth > _MAX_EVAL_DEPTH:
                    return None
                if type(node) is ast.BinOp:
                    left, right = node.left, node.right
                    if type(left) is ast.Constant and type(right) is ast.Constant:
                        # `3 << 2`, the innermost node of a tree the integer path did
                        # not take whole (it holds a name or a string), in one step
                        n = _int_tree(node, depth, int_ops)
                        if n is None:
                            return None
                        if not isinstance(n, _NotInt):
                            operands.append((n, ""))
                            continue
                    push((node, _APPLY))
                    push((right, depth + 1))
                    push((left, depth + 1))
                    work += 3
                elif type(node) is ast.Constant:
                    v = node.value
                    if isinstance(v, bool) or not isinstance(v, str | bytes | int):
                        return None
                    if not isinstance(v, int) and len(v) > limits.MAX_VALUE_CHARS:
                        return None
                    operands.append((v, ""))
                elif type(node) is ast.UnaryOp:
                    if not isinstance(node.op, ast.USub):
                        return None
                    push((node, _APPLY))
                    push((node.operand, depth + 1))
                    work += 2
                elif type(node) is ast.List or type(node) is ast.Tuple:
                    elts = node.elts
                    if len(elts) > limits.MAX_VALUE_ITEMS:
                        return None
                    push((node, _APPLY))
                    todo.extend((e, depth + 1 + _TRY_INT) for e in reversed(elts))
                    work += 1 + len(elts)
                else:
                    self._depth = depth
                    value = self.eval(node)
                    if value is None:
                        return None
                    operands.append((value.data, value.method))
        finally:
            self._depth = base
            # Items pushed and never taken off (an early return) were no work.
            self._budget.eval_work -= work - len(todo) + int_ops[0]
        data, method = operands[0]
        return Value(data, method, line)

    def _subscript(self, node: ast.Subscript) -> Value | None:
        sl = node.slice
        if (
            isinstance(sl, ast.Slice)
            and sl.lower is None
            and sl.upper is None
            and isinstance(sl.step, ast.UnaryOp)
            and isinstance(sl.step.op, ast.USub)
            and isinstance(sl.step.operand, ast.Constant)
            and sl.step.operand.value == 1
        ):
            inner = self.eval(node.value)
            if inner is None or not isinstance(inner.data, str | bytes | list):
                return None
            return Value(inner.data[::-1], _join_method("reverse", inner.method), inner.line)
        inner = self.eval(node.value, prefix_ok=True)
        if inner is None or not isinstance(inner.data, str | bytes | list):
            return None
        data = inner.data
        if isinstance(sl, ast.Slice):
            bounds: list[int | None] = []
            for bound in (sl.lower, sl.upper, sl.step):
                b = self.eval(bound) if bound is not None else None
                if bound is not None and (b is None or not isinstance(b.data, int)):
                    return None
                bounds.append(b.data if b is not None and isinstance(b.data, int) else None)
            lower, upper, step = bounds
            if step == 0:
                return None
            if inner.prefix_only and not (
                (step is None or step > 0)
                and (lower is None or lower >= 0)
                and upper is not None
                and 0 <= upper <= len(data)
            ):
                return None  # the slice could reach past the known start
            return Value(data[lower:upper:step], inner.method, inner.line)
        index = self.eval(sl)
        if index is None or not isinstance(index.data, int):
            return None
        i = index.data
        if not (0 <= i < len(data) or (not inner.prefix_only and -len(data) <= i < 0)):
            return None
        return Value(data[i], _first_method([inner, index]), inner.line)

    def _comprehension(self, node: ast.GeneratorExp | ast.ListComp, line: int) -> Value | None:
        if len(node.generators) != 1:
            return None
        gen = node.generators[0]
        if gen.ifs or gen.is_async:
            return None
        # `for c in data` or `for i, c in enumerate(data)` (a repeating key: `key[i % n]`).
        iterable, names = gen.iter, _target_names(gen.target)
        counted = (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "enumerate"
            and len(iterable.args) == 1
            and not iterable.keywords
            and self._resolve(iterable.func) == "enumerate"
        )
        if names is None or len(names) != (2 if counted else 1):
            return None
        if counted:
            assert isinstance(iterable, ast.Call)
            iterable = iterable.args[0]
        source = self.eval(iterable)
        if source is None or not isinstance(source.data, str | bytes | list):
            return None
        items = list(source.data)
        if len(items) > limits.MAX_VALUE_ITEMS:
            return None
        saved = {n: self._locals.get(n) for n in names}
        out: list[Data] = []
        method = source.method
        try:
            for i, item in enumerate(items):
                if counted:
                    self._locals[names[0]] = Value(i, "", line)
                self._locals[names[-1]] = Value(item, "", line)
                v = self.eval(node.elt)
                if v is None:
                    return None
                method = method or v.method
                out.append(v.data)
        finally:
            for n, old in saved.items():
                if old is None:
                    self._locals.pop(n, None)
                else:
                    self._locals[n] = old
        return Value(out, method, source.line)

    def _call(self, node: ast.Call, line: int) -> Value | None:
        func = node.func
        args = node.args
        if isinstance(func, ast.Attribute):
            if func.attr in ("__str__", "__repr__"):
                return None if args or node.keywords else self._builtin_repr(func.value)
            method_value = self._method_call(node, func)
            if method_value is not None:
                return method_value
        fetched = None
        if isinstance(func, ast.Call | ast.Subscript):  # getattr(__builtins__, 'chr')(...)
            fetched = self.builtin_function(func)
        api = fetched.name if fetched is not None else self._resolve(func)
        if api is None:
            return None  # keywords (`validate=True`) do not change what a decoder yields
        if api in ("str", "repr") and len(args) == 1 and isinstance(args[0], ast.Name):
            shown = self._builtin_repr(args[0]) if not self._rebinds(api) else None
            if shown is not None or api == "repr":
                return shown
        if api in DECODERS and len(args) >= 1:
            name, fn = DECODERS[api]
            return self._decode(args[0], name, fn)
        if api in ("codecs.decode", "codecs.encode") and len(args) >= 1:
            return self._codecs(node)
        if api in ("ord", "len") and len(args) == 1:
            v = self.eval(args[0])
            if v is None:
                return None
            if api == "len" and isinstance(v.data, str | bytes | list):
                return Value(len(v.data), v.method, v.line)
            if api == "ord" and isinstance(v.data, str | bytes) and len(v.data) == 1:
                return Value(ord(v.data), v.method, v.line)
            return None
        if api == "chr" and len(args) == 1:
            v = self.eval(args[0])
            if v is not None and isinstance(v.data, int) and 0 <= v.data < 0x110000:
                spelled = fetched.method if fetched is not None else ""
                return Value(chr(v.data), _join_method("chr", spelled), v.line)
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
        if api == "map" and len(args) == 2:
            mapped = self._function(args[0])
            if mapped is None or mapped.name != "chr":
                return None
            v = self.eval(args[1])
            if v is not None and isinstance(v.data, list | bytes):
                spelled = _join_method("chr", mapped.method)
                try:
                    return Value([chr(i) for i in v.data], spelled, v.line)
                except (TypeError, ValueError):
                    return None
        return None

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> Value | None:
        """Methods of a known value: `.decode()`, `.encode()`, `sep.join(...)`, `.replace()`."""
        attr = func.attr
        if attr not in _KNOWN_METHODS:
            return None
        if attr == "fromhex":
            return None  # `bytes.fromhex` is a decoder, resolved by name
        recv = self.eval(func.value)
        if recv is None:
            return None
        if attr == "translate":
            return self._translate(node, recv)
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
                self._budget.eval_work -= len(items)  # charged as a string, joined per item
            if not isinstance(items, list) or not all(isinstance(i, type(data)) for i in items):
                return None
            method = args[0].method if args[0] is not None else ""
            if method == "chr" or method.startswith("chr+"):
                method = "chr-join" + method[3:]  # keeps how `chr` itself was spelled
            elif "chr" in method:
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
        if attr == "to_bytes" and isinstance(data, int) and data >= 0 and argv:
            length, order = argv[0], (argv[1] if len(argv) > 1 else "big")
            if not isinstance(length, int) or not 0 < length <= 4096 or order not in _ORDERS:
                return None
            try:
                out = data.to_bytes(length, order)  # type: ignore[arg-type]
            except OverflowError:
                return None
            return Value(out, _join_method("int-bytes", recv.method), recv.line)
        return None

    def _translate(self, node: ast.Call, recv: Value) -> Value | None:
        """`text.translate(str.maketrans(a, b))`: a substitution alphabet, two constants."""
        if len(node.args) != 1 or node.keywords or not isinstance(recv.data, str):
            return None
        table = node.args[0]
        if not (
            isinstance(table, ast.Call)
            and isinstance(table.func, ast.Attribute)
            and table.func.attr == "maketrans"
            and isinstance(table.func.value, ast.Name)
            and table.func.value.id == "str"
            and 2 <= len(table.args) <= 3
            and not table.keywords
        ):
            return None
        parts = [self.eval(a) for a in table.args]
        if any(v is None or not isinstance(v.data, str) for v in parts):
            return None
        strings = [str(v.data) for v in parts if v is not None]
        if len(strings[0]) != len(strings[1]):
            return None
        out = recv.data.translate(str.maketrans(*strings))
        return Value(out, _join_method("translate", recv.method), recv.line)

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
        if fn in _SLOW_DECODERS:
            self._budget.eval_work -= len(raw) >> _SLOW_SHIFT
        try:
            out = fn(raw)
        except _DECODE_ERRORS:
            return None
        return Value(out, _join_method(name, src.method), src.line)


def _target_names(target: ast.expr) -> list[str] | None:
    """`c` -> ["c"]; `i, c` -> ["i", "c"]; anything else None."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts if isinstance(e, ast.Name)]
    return None


def _first_method(values: list[Value]) -> str:
    for v in values:
        if v.method:
            return v.method
    return ""


#: Largest magnitude an integer result may have; bigger ones are no character code.
_INT_BOUND = 1 << 64
#: Operators `_int_tree` applies itself, the common case of `_combine` on two integers
#: (shifts only by 0..63; anything else goes through `_combine`).
_ARITH_OPS: dict[type[ast.operator], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_SHIFTS = (ast.LShift, ast.RShift)


def _combine(op: ast.operator, a: Data, b: Data) -> Data | None:
    """`a <op> b` for the operations the evaluator knows, or None (unknown, unsafe, too big)."""
    if isinstance(op, ast.Add):
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, bytes) and isinstance(b, bytes):
            return a + b
        if isinstance(a, int) and isinstance(b, int):
            return _bounded(a + b)
        return None
    if isinstance(op, ast.Mult):
        if isinstance(a, int) and isinstance(b, int):
            return _bounded(a * b)
        if isinstance(a, str | bytes) and isinstance(b, int):
            if len(a) * max(b, 0) > limits.MAX_VALUE_CHARS:
                return None
            return a * b
        return None
    if not (isinstance(a, int) and isinstance(b, int)):
        return None
    if isinstance(op, ast.Sub):
        return _bounded(a - b)
    if isinstance(op, ast.BitXor):
        return _bounded(a ^ b)
    if isinstance(op, ast.BitAnd):
        return _bounded(a & b)
    if isinstance(op, ast.BitOr):
        return _bounded(a | b)
    if isinstance(op, ast.Mod | ast.FloorDiv) and b != 0:
        return _bounded(a % b if isinstance(op, ast.Mod) else a // b)
    if isinstance(op, ast.LShift | ast.RShift) and 0 <= b < 64:
        return _bounded(a << b if isinstance(op, ast.LShift) else a >> b)
    return None


def _bounded(n: int) -> int | None:
    return n if -_INT_BOUND <= n <= _INT_BOUND else None


class _NotInt:
    """What `_int_tree` says of a tree that is not integer arithmetic on constants."""


_NOT_INT = _NotInt()


def _int_tree(node: ast.expr, depth: int, count: list[int]) -> int | _NotInt | None:
    """The value of integer arithmetic on constants, by plain recursion; else a marker.

    Obfuscated files spell characters as such trees (`(((3 << 2) + 1) << 3) - 1`),
    thousands per file, and `_fold`'s general loop (a work item, a tuple and two list
    operations per node) cost more than the rest of their analysis after parsing.
    Returns what `_fold` gives for the tree (None where it gives unknown: a node
    deeper than `_MAX_EVAL_DEPTH`, an unknown operator, a result out of bounds), or
    `_NOT_INT` when any leaf is not an integer constant and the general loop must
    evaluate the tree. Recursion stops at `_MAX_EVAL_DEPTH`, so it stays shallow.
    `count[0]` counts the operators evaluated, for the evaluator's work budget.
    """
    if type(node) is ast.Constant:
        v = node.value
        if depth > _MAX_EVAL_DEPTH:
            return None
        return v if type(v) is int else _NOT_INT
    if type(node) is ast.BinOp:
        if depth >= _MAX_EVAL_DEPTH:  # its operands are deeper than the limit (so for `-x`)
            return None
        count[0] += 1
        # Constant operands are read in place: they are most nodes, and a call each costs.
        left, right = node.left, node.right
        a: Any
        b: Any  # an int past the checks below (mypy does not narrow by `type(a) is int`)
        if type(left) is ast.Constant:
            a = left.value
            if type(a) is not int:
                return _NOT_INT
        else:
            a = _int_tree(left, depth + 1, count)
            if type(a) is not int:
                return a
        if type(right) is ast.Constant:
            b = right.value
            if type(b) is not int:
                return _NOT_INT
        else:
            b = _int_tree(right, depth + 1, count)
            if type(b) is not int:
                return b
        fn = _ARITH_OPS.get(type(node.op))
        if fn is None or (not 0 <= b < 64 and type(node.op) in _SHIFTS):
            n = _combine(node.op, a, b)
            return n if isinstance(n, int) else None
        n = fn(a, b)
        return n if -_INT_BOUND <= n <= _INT_BOUND else None
    if type(node) is ast.UnaryOp and type(node.op) is ast.USub:
        if depth >= _MAX_EVAL_DEPTH:
            return None
        count[0] += 1
        a = _int_tree(node.operand, depth + 1, count)
        return -a if type(a) is int else a
    if depth > _MAX_EVAL_DEPTH:
        return None
    return _NOT_INT


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
