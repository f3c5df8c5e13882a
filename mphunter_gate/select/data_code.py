"""Data files that a package's code reads and hands to exec, and their text.

A payload need not sit in a `.py` file: a module can read a `.txt`/`.dat`
blob, a setup.cfg value or zlib'd package data and pass it to `exec`,
`eval`, `compile`, `marshal.loads` or `pickle.loads`. The script then looks
harmless and the payload is in a file no Python-only scan reads. This
module finds such files by two static signs in the script (a sink is
present, and a string literal names the file), and turns a file's bytes
back into readable text by undoing the usual wrappings (compression,
base64, hex), bounded so a bomb costs a few MB. Nothing is unpickled,
unmarshalled or run.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import posixpath
import re
import zlib
from collections.abc import Callable, Collection
from typing import Protocol

from mphunter_gate.fetch.archive import decode

#: Builtins that run or build code from a value (also reached as `builtins.exec`).
_BUILTIN_SINKS = frozenset({"exec", "eval", "compile", "execfile"})
#: Modules whose loaders turn bytes into code or run it, with those loaders.
_MODULE_SINKS: dict[str, frozenset[str]] = {
    "marshal": frozenset({"loads", "load"}),
    "pickle": frozenset({"loads", "load", "Unpickler"}),
    "_pickle": frozenset({"loads", "load", "Unpickler"}),
    "cPickle": frozenset({"loads", "load", "Unpickler"}),
    "dill": frozenset({"loads", "load", "Unpickler"}),
    "cloudpickle": frozenset({"loads", "load"}),
    "runpy": frozenset({"run_path"}),
    "types": frozenset({"FunctionType", "CodeType"}),
}
_BUILTIN_MODULES = frozenset({"builtins", "__builtin__", "__builtins__"})
#: Attribute names `getattr(x, "...")` can fetch a sink by (`__builtins__["exec"]`
#: is checked against the builtins alone: `d["load"]` is an ordinary dict).
_SINK_ATTRS = _BUILTIN_SINKS | frozenset().union(*_MODULE_SINKS.values())

#: The same signs for a script `ast` rejects (py2): any mention, not only a call.
_SINK_RE = re.compile(
    r"(?<![\w.])(?:exec|eval|compile|execfile)\b"
    r"|\b(?:marshal|c?[Pp]ickle|_pickle|dill|cloudpickle)\s*\.\s*(?:loads?|Unpickler)\b"
    r"|\brunpy\s*\.\s*run_path\b|\b(?:FunctionType|CodeType)\b"
    r"|\b__builtins?__\s*\.\s*(?:exec|eval|compile)\b"
)
#: Where a `_SINK_RE` match can start, as an anchor word every match contains and the
#: offsets from the anchor to the match's first character (`cloudpickle`: -6). The
#: regex is tried only there (`re.match` at that position; its look-behind still sees
#: what precedes): a search for it over a 3.5 MB generated module took 0.4 s, since a
#: pattern that opens with `\b` or a look-behind defeats `re`'s literal scan, and
#: `str.find` of the anchors takes a few ms.
_SINK_ANCHORS: dict[str, tuple[int, ...]] = {
    "exec": (0,),
    "eval": (0,),
    "compile": (0,),
    "marshal": (0,),
    "ickle": (-1, -2, -6),  # pickle Pickle, cPickle cpickle _pickle, cloudpickle
    "dill": (0,),
    "runpy": (0,),
    "FunctionType": (0,),
    "CodeType": (0,),
    "__builtin": (0,),
}
_STRING_RE = re.compile(r"""[rRbBuU]{0,2}(?:"([^"\\\n]*)"|'([^'\\\n]*)')""")
_CONFIG_RE = re.compile(r"\b(?:configparser|ConfigParser|read_configuration)\b")


def _sink_in_tree(tree: ast.Module) -> bool:
    """Whether the parsed script reaches a code sink, by name, attribute or literal.

    Any mention counts, not only a call: `run = exec; run(blob)` and
    `getattr(builtins, "exec")` hide the call but not the name. `re.compile`
    and other unrelated `.compile`/`.load` attributes do not count; a
    module alias (`import marshal as m`, `from pickle import loads as l`)
    does.
    """
    aliases: dict[str, str] = {}  # local name -> sink module
    direct: set[str] = set(_BUILTIN_SINKS)  # local names that are sinks themselves
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                if top in _MODULE_SINKS or top in _BUILTIN_MODULES:
                    aliases[a.asname or top] = top
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            for a in node.names:
                if a.name in _MODULE_SINKS.get(top, ()) or (
                    top in _BUILTIN_MODULES and a.name in _BUILTIN_SINKS
                ):
                    direct.add(a.asname or a.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in direct:
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id, node.value.id)
            if node.attr in _MODULE_SINKS.get(module, ()):
                return True
            if module in _BUILTIN_MODULES and node.attr in _BUILTIN_SINKS:
                return True
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "getattr"
            and len(node.args) >= 2
            and _str(node.args[1]) in _SINK_ATTRS
        ):
            return True
        if isinstance(node, ast.Subscript) and _str(node.slice) in _BUILTIN_SINKS:
            return True
    return False


def _str(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def has_sink(text: str, tree: ast.Module | None) -> bool:
    """Whether the script can turn data into running code (see `_sink_in_tree`);
    a regex over the text when `ast` rejected it (tree None)."""
    if tree is not None:
        return _sink_in_tree(tree)
    return _sink_in_text(text)


def _sink_in_text(text: str) -> bool:
    """`_SINK_RE.search(text)`, tried only where a match can start (`_SINK_ANCHORS`)."""
    for anchor, offsets in _SINK_ANCHORS.items():
        at = text.find(anchor)
        while at >= 0:
            if any(at + o >= 0 and _SINK_RE.match(text, at + o) for o in offsets):
                return True
            at = text.find(anchor, at + 1)
    return False


def _literals(text: str, tree: ast.Module | None) -> set[str]:
    """Every string literal of the script, normalised as a path, and each of
    its path parts, so `"data/x.bin"` and `join("data", "x.bin")` read alike."""
    if tree is not None:
        raw = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                value = node.value
                raw.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    else:
        raw = [a or b for a, b in _STRING_RE.findall(text)]
    out: set[str] = set()
    for value in raw:
        if len(value) > 4096:  # a blob, not a file name
            continue
        path = value.replace("\\", "/").strip()
        parts = [p for p in path.split("/") if p and p != "."]
        out.update(parts)
        if parts:
            out.add("/".join(parts))
    return out


def _named(name: str, literals: set[str], ancestors: list[str]) -> bool:
    """Whether `name` (a tree path) is spelled by the script's literals.

    Its basename (or its extension, `".dat"`/`"*.dat"`, for a script that
    lists a folder) must be a literal, and the folders between one of the
    script's ancestor folders (its own, up to the tree's top) and the file
    must each be a literal too: `join(dirname(__file__), "data", "x.bin")`
    names `pkg/data/x.bin` from `pkg/mod.py`, but `"x.bin"` alone does not
    name `tests/data/x.bin`.
    """
    folder, base = posixpath.split(name)
    ext = posixpath.splitext(base)[1]
    if base not in literals and not (ext and (ext in literals or "*" + ext in literals)):
        return False
    for anc in ancestors:
        if anc and not (folder == anc or folder.startswith(anc + "/")):
            continue
        rest = folder[len(anc) :].strip("/")
        if all(part in literals for part in rest.split("/") if part):
            return True
    return False


def _ancestors(path: str) -> list[str]:
    """The folders holding `path`, nearest first, down to '' (the tree's top)."""
    out = []
    folder = posixpath.dirname(path)
    while folder:
        out.append(folder)
        folder = posixpath.dirname(folder)
    return [*out, ""]


def code_data_files(
    text: str,
    tree: ast.Module | None,
    path: str,
    files: Collection[str],
) -> tuple[list[str], list[str]]:
    """The files (names from `files`) that the script at `path` plausibly reads
    and executes: `.py` files (code exec'd from a file nothing imports, e.g. an
    sdist's `tools/helper.py`) and data files, in that order.

    Two signs, both static and cheap: the script has a code sink
    (`has_sink`), and a string literal names the file (`_named`: its
    basename, with its folders relative to the script's folder or any
    folder above it, up to the tree root). It errs towards reading a file
    too many: a data file read for nothing costs a scan, a payload file
    missed costs the verdict. setup.cfg beside or above the script also
    counts when the script parses config (`configparser`,
    `read_configuration`), since a setup.cfg value is a place to keep code.
    """
    if not has_sink(text, tree):
        return [], []
    literals = _literals(text, tree)
    ancestors = _ancestors(path)  # the script's folder up to the tree's top, sdist folder included
    configs: set[str] = set()
    if _CONFIG_RE.search(text):
        configs = {posixpath.join(a, "setup.cfg") for a in ancestors}
    code: list[str] = []
    data: list[str] = []
    for name in sorted(files):
        if name != path and (name in configs or _named(name, literals, ancestors)):
            (code if name.endswith(".py") else data).append(name)
    return code, data


#: Most bytes one decoding step may produce: a payload is small, a bomb is not.
MAX_DECODED = 4 * 1024 * 1024
#: Shortest input an encoding (base64, hex, ...) is tried on: a short word can
#: happen to be valid base64 of something printable.
_MIN_ENCODED = 16
#: Share of printable characters above which decoded bytes count as text.
_TEXT_SHARE = 0.95
_SAMPLE = 64 * 1024
_WHITESPACE = b" \t\n\r\x0b\x0c"
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B85 = _B64 + b"!#$%&()*+-;<=>?@^_`{|}~"
_A85 = bytes(range(ord("!"), ord("u") + 1)) + b"z~"


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


def _inflate(make: Callable[[], _Decompressor]) -> Callable[[bytes], bytes | None]:
    """A decompression step that stops at MAX_DECODED bytes of output.

    `max_length` bounds what the decompressor produces, not only what is
    kept, so a bomb is never inflated past it.
    """

    def step(data: bytes) -> bytes | None:
        try:
            out = make().decompress(data, MAX_DECODED)
        except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError):
            return None
        return out or None

    return step


def _unencode(fn: Callable[[bytes], bytes], alphabet: bytes) -> Callable[[bytes], bytes | None]:
    """A text-encoding step (base64, hex, ...) over the data without whitespace.

    Bytes outside the encoding's `alphabet` reject the data before the
    decoder (pure Python for base85) walks megabytes of ordinary text.
    """

    def step(data: bytes) -> bytes | None:
        compact = data.translate(None, _WHITESPACE)
        if len(compact) < _MIN_ENCODED or compact.translate(None, alphabet):
            return None
        try:
            return fn(compact)[:MAX_DECODED] or None
        except (binascii.Error, ValueError):
            return None

    return step


#: Each way a payload is commonly wrapped, and how to undo it. Encodings go
#: narrowest alphabet first: hex text is also valid base64 and base85, and
#: decoding it as those first costs seconds on a large file for nothing.
_STEPS: tuple[tuple[str, Callable[[bytes], bytes | None]], ...] = (
    ("zlib", _inflate(lambda: zlib.decompressobj(zlib.MAX_WBITS))),
    ("gzip", _inflate(lambda: zlib.decompressobj(zlib.MAX_WBITS | 16))),
    ("deflate", _inflate(lambda: zlib.decompressobj(-zlib.MAX_WBITS))),
    ("bz2", _inflate(bz2.BZ2Decompressor)),
    ("lzma", _inflate(lzma.LZMADecompressor)),
    ("hex", _unencode(lambda b: bytes.fromhex(b.decode("ascii")), b"0123456789abcdefABCDEF")),
    ("base32", _unencode(base64.b32decode, _B64[:26] + b"234567=")),
    ("base64", _unencode(lambda b: base64.b64decode(b, validate=True), _B64 + b"+/=")),
    ("base64url", _unencode(lambda b: base64.b64decode(b, b"-_", validate=True), _B64 + b"-_=")),
    ("base85", _unencode(base64.b85decode, _B85)),
    ("ascii85", _unencode(lambda b: base64.a85decode(b, adobe=b.startswith(b"<~")), _A85 + b"<>")),
)


def _text(data: bytes) -> str | None:
    """`data` as text when it mostly is text (a sample's printable share).

    Outside UTF-8 only ASCII counts as printable: latin-1 makes a
    printable character of most bytes, so garbage (hex-decoded "AAAA" is
    "ªª") would pass as text.
    """
    text = decode(data)
    sample = text[:_SAMPLE]
    if not sample:
        return None
    try:  # final=False: a multi-byte character cut by MAX_DECODED is still UTF-8
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        wide = True
    except UnicodeDecodeError:
        wide = False
    printable = sum(
        1 for c in sample if (c.isprintable() and (wide or c < "\x7f")) or c in "\t\n\r\f"
    )
    return text if printable >= _TEXT_SHARE * len(sample) else None


def as_code(data: bytes) -> tuple[str, str] | None:
    """A data file's bytes as the text an analysis can read, and how it was
    unwrapped ("zlib", "base64+zlib", ..., or "plain").

    Two unwrapping steps are preferred to one, and one to none, since
    base64 or hex text is printable but is not the payload. A step
    produces at most MAX_DECODED bytes, so a bomb (or a bomb inside a
    bomb) costs a few MB. None: no decoding makes text of
    the bytes (e.g. a marshal'd code object, see `is_marshalled_code`), and
    the caller reports the file as opaque.
    """
    if not data:
        return "", "plain"
    for name, step in _STEPS:
        once = step(data)
        if once is None:
            continue
        for name2, step2 in _STEPS:  # deeper first: base64 text is text, but not the payload
            twice = step2(once)
            text = _text(twice) if twice is not None else None
            if text is not None:
                return text, f"{name}+{name2}"
        text = _text(once)
        if text is not None:
            return text, name
    text = _text(data)
    return (text, "plain") if text is not None else None


#: marshal's TYPE_CODE, bare and with FLAG_REF set.
_TYPE_CODE = (0x63, 0xE3)
#: marshal's bytes/str type bytes (`s`, bare and with FLAG_REF), which start co_code.
_TYPE_STRING = (0x73, 0xF3)
#: Offsets of co_code's type byte after TYPE_CODE: 4, 5 or 6 int32 fields
#: precede it (py2.3-2.7; 3.0-3.7 and 3.11+; 3.8-3.10).
_CODE_OFFSETS = (17, 21, 25)
#: Header sizes of a .pyc before its marshal'd code (py2, 3.3-3.6, 3.7+).
_PYC_HEADERS = (0, 8, 12, 16)


def is_marshalled_code(data: bytes) -> bool:
    """Whether `data` looks like a marshal'd code object (bare or as a .pyc).

    Read from the format's bytes, never by `marshal.loads`, which can crash
    the interpreter on hostile input. The TYPE_CODE byte alone is any text
    starting with "c", so the byte that starts co_code is checked too.
    """
    starts = _PYC_HEADERS if data[2:4] == b"\r\n" else (0,)  # a .pyc's magic ends in \r\n
    for start in starts:
        head = data[start : start + _CODE_OFFSETS[-1] + 1].ljust(_CODE_OFFSETS[-1] + 1, b"\0")
        if head[0] in _TYPE_CODE and any(head[off] in _TYPE_STRING for off in _CODE_OFFSETS):
            return True
    return False


#: Globals a pickle may name that make loading it run code beyond rebuilding data:
#: a pickle is a program for `pickle.load`, and these are its dangerous calls.
_PICKLE_DANGER_MODULES = frozenset(
    {
        "os", "posix", "nt", "subprocess", "socket", "ctypes", "marshal", "types", "runpy",
        "importlib", "sys", "shutil", "pty", "webbrowser", "code", "urllib", "http",
        "requests", "httpx", "commands", "platform", "signal", "multiprocessing",
    }
)  # fmt: skip
_PICKLE_DANGER_BUILTINS = frozenset(
    {"exec", "eval", "compile", "__import__", "getattr", "open", "breakpoint", "input"}
)
_PICKLE_STRINGS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING",
     "STRING"}
)  # fmt: skip


def pickle_globals(data: bytes) -> list[str] | None:
    """The `module.name` globals a pickle's opcodes name, read with `pickletools`
    (a parser: nothing is loaded or called); None when `data` is not a pickle."""
    import pickletools

    found: list[str] = []
    strings: list[str] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in _PICKLE_STRINGS and isinstance(arg, str):
                strings = [*strings[-1:], arg]
            elif op.name == "GLOBAL" and isinstance(arg, str):
                found.append(arg.replace(" ", "."))
            elif op.name == "STACK_GLOBAL" and len(strings) == 2:
                found.append(".".join(strings))
            elif op.name == "STOP":
                break
    except (ValueError, KeyError, IndexError, EOFError, UnicodeDecodeError):
        return found or None
    return found


def dangerous_pickle_globals(data: bytes) -> list[str]:
    """The globals of a pickle (if `data` is one) whose call at load time runs code."""
    out = []
    for g in pickle_globals(data) or []:
        module, _, name = g.rpartition(".")
        top = module.split(".")[0]
        if top in _PICKLE_DANGER_MODULES or (
            top in ("builtins", "__builtin__") and name in _PICKLE_DANGER_BUILTINS
        ):
            out.append(g)
    return out
