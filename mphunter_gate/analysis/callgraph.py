"""The call graph's nodes: every function, method and class a script defines.

A first pass over the tree records, per scope, what each name is bound to
(imports, defs, classes) before any call is resolved, because Python binds a
function's names for its whole body and a module may call a function defined
further down. Classes keep their methods and bases so that `self.x()`,
`super().run()`, `X()` (-> `X.__init__`) and the command classes wired into
`setup(cmdclass=...)` (-> their `run`) can be followed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mphunter_gate.analysis.names import (
    Scope,
    import_bindings,
    plain_import_bindings,
    rebound_names,
)

MODULE = "<module>"

#: Methods setuptools/distutils call on a command class, in the order it calls them.
COMMAND_METHODS = ("initialize_options", "finalize_options", "run")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass
class FunctionInfo:
    """A function body (or the module body) and the scope its names live in."""

    qualname: str
    body: list[ast.stmt]
    scope: Scope
    line: int


@dataclass
class ClassInfo:
    """A class: its methods by name, its base expressions and the scope they resolve in."""

    qualname: str
    bases: list[ast.expr]
    outer: Scope
    scope: Scope
    methods: dict[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass
class Program:
    """All functions and classes of one script, keyed by qualname, in source order."""

    functions: dict[str, FunctionInfo]
    classes: dict[str, ClassInfo]
    module: Scope
    #: Module-level `name = <dict/call>` expressions, for `setup(cmdclass=cmds)` lookups.
    assigns: dict[str, ast.expr] = field(default_factory=dict)
    #: id() of each ClassDef node -> its qualname, so a walk can enter the class body.
    class_nodes: dict[int, str] = field(default_factory=dict)
    #: The parsed module; None when the token pass builds the program one line at a time.
    tree: ast.Module | None = None
    #: The text `tree` was parsed from (lets `rebound_names` skip most of the tree).
    source: str | None = None
    _rebound: frozenset[str] | None = field(default=None, init=False, repr=False)
    _scanned: bool = field(default=False, init=False, repr=False)

    def rebinds(self, name: str) -> bool:
        """Whether the script may bind `name` somewhere (so a builtin of that name is unknown).

        Always True without a whole tree (a line seen alone says nothing about the
        others) or after a star import. The whole tree is scanned once, on first use:
        most scripts never ask, and the ones that do ask many times.
        """
        if not self._scanned:
            tree = self.tree
            self._rebound = rebound_names(tree.body, self.source) if tree is not None else None
            self._scanned = True
        return self._rebound is None or name in self._rebound

    def find_method(self, class_qn: str, name: str) -> str | None:
        """The method `name` as seen from class `class_qn`, following local bases."""
        seen: set[str] = set()
        todo = [class_qn]
        while todo:
            qn = todo.pop(0)
            if qn in seen or len(seen) > 64:
                continue
            seen.add(qn)
            info = self.classes.get(qn)
            if info is None:
                continue
            if name in info.methods:
                return info.methods[name]
            for base in info.bases:
                ref = _local_class(info.outer, base)
                if ref is not None:
                    todo.append(ref)
        return None

    def api_bases(self, class_qn: str) -> list[str]:
        """Full API names of the non-local bases (e.g. `setuptools.command.install.install`)."""
        out: list[str] = []
        info = self.classes.get(class_qn)
        if info is None:
            return out
        for base in info.bases:
            dotted = _dotted(base)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            b = info.outer.lookup(head)
            if b is not None and b.kind == "api":
                out.append(f"{b.target}.{rest}" if rest else b.target)
            elif b is not None and b.kind == "class":
                out.extend(self.api_bases(b.target))
        return out


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _local_class(scope: Scope, node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        b = scope.lookup(node.id)
        if b is not None and b.kind == "class":
            return b.target
    return None


def collect(tree: ast.Module, source: str | None = None) -> Program:
    """Build the program's scopes and definitions (pass 1; nothing is resolved yet)."""
    module = Scope("module", MODULE, None)
    program = Program({}, {}, module, tree=tree, source=source)
    program.functions[MODULE] = FunctionInfo(MODULE, tree.body, module, 1)
    _Collector(program).body(tree.body, module, MODULE)
    return program


class _Collector:
    def __init__(self, program: Program) -> None:
        self.program = program

    def body(self, stmts: list[ast.stmt], scope: Scope, prefix: str) -> None:
        for stmt in stmts:
            self.stmt(stmt, scope, prefix)

    def stmt(self, stmt: ast.stmt, scope: Scope, prefix: str) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                scope.bind_import(*plain_import_bindings(alias.name, alias.asname))
        elif isinstance(stmt, ast.ImportFrom):
            pairs = [(a.name, a.asname) for a in stmt.names]
            for name, target in import_bindings(stmt.module, stmt.level, pairs):
                scope.bind_import(name, target)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(stmt, scope, prefix)
        elif isinstance(stmt, ast.ClassDef):
            self.klass(stmt, scope, prefix)
        else:
            if (
                scope.kind == "module"
                and isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                self.program.assigns[stmt.targets[0].id] = stmt.value
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.stmt):
                    self.stmt(child, scope, prefix)
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    self.body(child.body, scope, prefix)

    def function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope, prefix: str
    ) -> None:
        qualname = self._unique(f"{prefix}.{node.name}" if prefix != MODULE else node.name)
        owner = scope.qualname if scope.kind == "class" else None
        args = node.args.posonlyargs + node.args.args
        self_name = args[0].arg if owner is not None and args else None
        inner = Scope("function", qualname, scope, owner_class=owner, self_name=self_name)
        if scope.kind == "class":
            info = self.program.classes[scope.qualname]
            info.methods.setdefault(node.name, qualname)
        else:
            scope.bind_local(node.name, "func", qualname)
        self.program.functions[qualname] = FunctionInfo(qualname, node.body, inner, node.lineno)
        self.body(node.body, inner, qualname)

    def klass(self, node: ast.ClassDef, scope: Scope, prefix: str) -> None:
        qualname = self._unique(f"{prefix}.{node.name}" if prefix != MODULE else node.name)
        inner = Scope("class", qualname, scope)
        self.program.classes[qualname] = ClassInfo(
            qualname, list(node.bases), scope, inner, line=node.lineno
        )
        scope.bind_local(node.name, "class", qualname)
        self.program.class_nodes[id(node)] = qualname
        self.body(node.body, inner, qualname)

    def _unique(self, qualname: str) -> str:
        if qualname not in self.program.functions and qualname not in self.program.classes:
            return qualname
        n = 2
        while (
            f"{qualname}#{n}" in self.program.functions or f"{qualname}#{n}" in self.program.classes
        ):
            n += 1
        return f"{qualname}#{n}"
