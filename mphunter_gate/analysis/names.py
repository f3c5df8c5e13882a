"""Scopes and name resolution: which full API name a name in the source means.

MPHunter's tokens are fully qualified API names, so `sp.Popen` after
`import subprocess as sp` and `Popen` after `from subprocess import Popen`
must both become `subprocess.Popen`, or the model would see three different
words for one behaviour. A scope records what each name is bound to: an
imported module or attribute (an API), a function or class defined in the
script (something to inline), or, found while walking, a value alias such as
`run = os.system`.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

#: Builtins resolve to their bare name (`exec`, `open`, `__import__`), as in MPHunter.
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_")) | {
    "__import__",
    "__build_class__",
}

BindingKind = Literal["api", "func", "class"]


@dataclass(frozen=True, slots=True)
class Binding:
    """What a name means: an API name, or the qualname of a local function/class."""

    kind: BindingKind
    target: str


class Scope:
    """One namespace of the script: the module, a function or a class body.

    Lookups follow Python's rule that a class body is not visible from the
    methods defined in it. Imports are bound first-wins, so the usual
    `try: from setuptools import setup / except ImportError: from distutils...`
    resolves to the preferred import.
    """

    __slots__ = ("bindings", "kind", "owner_class", "parent", "qualname", "self_name")

    def __init__(
        self,
        kind: Literal["module", "function", "class"],
        qualname: str,
        parent: Scope | None,
        owner_class: str | None = None,
        self_name: str | None = None,
    ) -> None:
        self.kind = kind
        self.qualname = qualname
        self.parent = parent
        self.bindings: dict[str, Binding] = {}
        #: For a method: the qualname of its class and the name of its first parameter.
        self.owner_class = owner_class
        self.self_name = self_name

    def bind_import(self, name: str, target: str) -> None:
        self.bindings.setdefault(name, Binding("api", target))

    def bind_local(self, name: str, kind: BindingKind, target: str) -> None:
        self.bindings[name] = Binding(kind, target)

    def forget(self, name: str) -> None:
        """A plain assignment rebinds a name to a value we cannot name."""
        self.bindings.pop(name, None)

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        first = True
        while scope is not None:
            if first or scope.kind != "class":
                found = scope.bindings.get(name)
                if found is not None:
                    return found
            first = False
            scope = scope.parent
        if name in BUILTIN_NAMES:
            return Binding("api", name)
        return None


def import_bindings(
    module: str | None, level: int, names: list[tuple[str, str | None]]
) -> list[tuple[str, str]]:
    """(bound name, API prefix) pairs for a `from module import name as alias` statement.

    Relative imports drop their dots: `from .utils import run` binds `utils.run`,
    which names the behaviour without pretending to know the package.
    """
    del level  # the package a relative import points into is not knowable statically
    base = module or ""
    out: list[tuple[str, str]] = []
    for name, asname in names:
        if name == "*":
            continue
        full = f"{base}.{name}" if base else name
        out.append((asname or name, full))
    return out


def plain_import_bindings(name: str, asname: str | None) -> tuple[str, str]:
    """`import a.b.c` binds `a` to `a`; `import a.b as x` binds `x` to `a.b`."""
    if asname:
        return asname, name
    head = name.split(".", 1)[0]
    return head, head


#: Every construct that binds a name inside an expression spells one of these: a
#: comprehension target (`for`), a lambda's parameters, `:=`, `setattr(o, 'name', v)`.
_EXPR_BINDING_WORDS = ("for", "lambda", ":=", "setattr")


def rebound_names(nodes: Iterable[ast.AST], source: str | None = None) -> frozenset[str] | None:
    """Every name the code may bind anywhere, in any scope; None after `from m import *`.

    The static evaluator may only use what a builtin *is* (its repr, for one) while no
    statement of the script could have replaced it, so this over-approximates on
    purpose: scopes are ignored, and attribute, subscript and `setattr` stores with a
    constant name (`builtins.oct = f`, `globals()['oct'] = f`) count as bindings too.
    A star import could bind anything, hence None.

    The files that ask are the obfuscated ones, whose trees are mostly arithmetic, so
    the walk is by hand (arithmetic and constants cost one test each) and, given the
    `source` the nodes were parsed from, it skips every expression read as a value
    (not an assignment target) whose lines spell none of `_EXPR_BINDING_WORDS`: only
    those constructs bind inside such an expression, and none can be spelt without
    its word, so the answer is the same as from the whole walk.
    """
    may_bind = _lines_that_may_bind(source)
    bound: set[str] = set()
    # `todo`: statements and other non-expressions; `exprs`: expressions let through.
    todo: list[ast.AST] = list(nodes)
    exprs: list[ast.AST] = []
    while todo or exprs:
        node = exprs.pop() if exprs else todo.pop()
        if isinstance(node, ast.BinOp):
            exprs.append(node.left)
            exprs.append(node.right)
            continue
        if isinstance(node, ast.Constant):
            continue
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
            continue
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                bound.add(alias.asname or alias.name.split(".", 1)[0])
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            if node.name:
                bound.add(node.name)
        elif isinstance(node, ast.MatchMapping):
            if node.rest:
                bound.add(node.rest)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
        elif isinstance(node, ast.Attribute):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.attr)
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if not isinstance(node.ctx, ast.Load) and isinstance(key, ast.Constant):
                bound.add(str(key.value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            bound.add(str(node.args[1].value))
        inside = isinstance(node, ast.expr)
        for name in node._fields:
            child = getattr(node, name, None)
            children = child if isinstance(child, list) else (child,)
            for c in children:
                if not isinstance(c, ast.expr):
                    if isinstance(c, ast.AST):
                        (exprs if inside else todo).append(c)
                elif inside or may_bind is None or _may_bind(c, may_bind):
                    exprs.append(c)
    return frozenset(bound)


def _lines_that_may_bind(source: str | None) -> list[int] | None:
    """Running count, per line, of lines spelling a word of `_EXPR_BINDING_WORDS`.

    None (check nothing) without a source or when a lone carriage return makes
    `ast`'s line numbers differ from a split at newlines.
    """
    if source is None or source.count("\r") != source.count("\r\n"):
        return None
    counts = [0]
    total = 0
    for line in source.split("\n"):
        total += any(word in line for word in _EXPR_BINDING_WORDS)
        counts.append(total)
    return counts


def _may_bind(node: ast.expr, counts: list[int]) -> bool:
    """Whether an expression may bind a name: a target, or its lines spell a binding word."""
    if not isinstance(getattr(node, "ctx", None), ast.Load | None):
        return True
    first, last = node.lineno, node.end_lineno or node.lineno
    return counts[min(last, len(counts) - 1)] != counts[first - 1]
