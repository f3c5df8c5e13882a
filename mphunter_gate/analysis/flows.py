"""Where data goes: source -> sink flows, found statically in one script.

Which APIs a script calls says what it *can* do; a stealer and an API client
both read the environment and both make requests. What separates them is
where the data goes: `dict(os.environ)` handed to `urlopen` is exfiltration,
a token read by name into an `Authorization` header is a client. This pass
follows values through assignments, containers, calls and the functions of
the script (parameters and return values, a few rounds to a fixed point) and
records each (source category, sink category) pair once, with its first line:

- a *source* is the behaviour category (`data/behaviours.toml`) of an API
  whose value the data came from (`os.getenv` -> `environment`, a response of
  `requests.get` -> `network`, a path under `os.path.expanduser` ->
  `user_paths`), or `<category>:all` for a whole mapping of secrets used
  whole (`dict(os.environ)`, `os.environ.copy()`), not indexed by one key;
- a *sink* is the category of the call that receives the data, or of the
  object whose method receives it (`sock.send(data)` after
  `sock = socket.socket()`).

It is an over-approximation by design (no paths, no kill on reassignment):
a feature for the combiner to weigh, not a verdict. The child environment of
a process (`env=`) is configuration, not data sent, and is not followed.
Work is counted (`FLOW_NODE_BUDGET`); a script past it is reported cut, so
the caller marks the analysis truncated rather than missing a flow silently.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from mphunter_gate.analysis.categories import Rules
from mphunter_gate.analysis.names import BUILTIN_NAMES, import_bindings, plain_import_bindings
from mphunter_gate.types import Flow

#: Expression nodes one script may visit over every round. Scripts reach `ast`
#: only below `limits.MAX_AST_CODE_CHARS`, which keeps a normal file far below.
FLOW_NODE_BUDGET = 3_000_000
#: Rounds over the functions: enough for a value to pass through a helper's
#: parameter and out of another's return.
ROUNDS = 3
#: Categories whose objects receive data through their methods (`sock.send`, `fh.write`).
OBJECT_SINKS = frozenset({"network", "file_write", "process"})
#: Keyword arguments that configure a call rather than hand it data.
_CONFIG_KEYWORDS = frozenset({"env"})
#: Calls that store what they fetch in a file: the position and keyword of the
#: destination, which then holds network data (`urlretrieve(url, target)` followed
#: by `Popen([target])` is download-then-execute through a file).
_DOWNLOAD_TO = {
    "urllib.request.urlretrieve": (1, "filename"),
    "urllib.urlretrieve": (1, "filename"),
    "wget.download": (1, "out"),
}
#: Calls that open a file, by the position of the path (`open(p, "wb").write(data)`).
_OPENERS = {"open": 0, "io.open": 0, "codecs.open": 0}

Labels = frozenset[str]
_EMPTY: Labels = frozenset()


class _Cut(Exception):
    """The node budget ran out."""


def _statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Every statement, any depth. Imports and definitions are statements, so the
    expressions (most of a tree) need not be visited to find them."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        st = stack.pop()
        yield st
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(st, name, None)
            if isinstance(children, list):
                for child in reversed(children):
                    if isinstance(child, ast.ExceptHandler | ast.match_case):
                        stack.extend(reversed(child.body))
                    else:
                        stack.append(child)


def _imports_and_functions(
    tree: ast.Module,
) -> tuple[dict[str, str], dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]]:
    """Every import of the script, any scope, first binding wins (as `names.Scope`),
    and its functions and methods by bare name (`f(...)` or `self.f(...)` may mean any)."""
    imports: dict[str, str] = {}
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                name, target = plain_import_bindings(alias.name, alias.asname)
                imports.setdefault(name, target)
        elif isinstance(node, ast.ImportFrom):
            pairs = [(a.name, a.asname) for a in node.names]
            for name, target in import_bindings(node.module, node.level, pairs):
                imports.setdefault(name, target)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.setdefault(node.name, []).append(node)
    return imports, functions


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Iterator[str]:
    a = fn.args
    for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs):
        yield arg.arg
    for extra in (a.vararg, a.kwarg):
        if extra is not None:
            yield extra.arg


class _Flows:
    def __init__(self, tree: ast.Module, path: str, rules: Rules, line: int | None) -> None:
        self.rules = rules
        self.path = path
        self.fixed_line = line
        self.imports, self.functions = _imports_and_functions(tree)
        self.module: dict[str, set[str]] = {}
        self.local: dict[str, set[str]] | None = None
        self.returns: dict[str, set[str]] = {}
        self.param_labels: dict[str, set[str]] = {}
        self.found: dict[tuple[str, str], int] = {}
        self.wanted = frozenset(rules.flows)
        self.work = 0
        #: Grows whenever a name, a return or a parameter learns a source: a round
        #: that leaves it unchanged is a fixed point.
        self.grew = 0
        self.current_returns: set[str] | None = None
        #: `with open(p, "wb") as fh`: fh -> the path expression, so that data written
        #: through fh is data in the file at p.
        self.opened: dict[str, ast.expr] = {}

    # -- names -------------------------------------------------------------

    def resolve(self, node: ast.expr) -> str | None:
        """The full API name an expression spells, or None (a value, a local)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if self.local is not None and node.id in self.local:
            return None
        head = self.imports.get(node.id)
        if head is None:
            if node.id in self.module or node.id in self.functions:
                return None
            if node.id not in BUILTIN_NAMES:
                return None
            head = node.id
        return ".".join([head, *reversed(parts)])

    def api_labels(self, api: str) -> set[str]:
        cats = set(self.rules.categories_of(api))
        if api in self.rules.whole:
            cats |= {f"{c}:all" for c in list(cats)}
        return cats

    def lookup(self, name: str) -> set[str]:
        if self.local is not None and name in self.local:
            return self.local[name]
        return self.module.get(name, set())

    def bind(self, target: ast.expr, labels: Iterable[str]) -> None:
        labels = set(labels)
        if not labels:
            return
        stack = [target]
        while stack:
            t = stack.pop()
            if isinstance(t, ast.Tuple | ast.List):
                stack.extend(t.elts)
            elif isinstance(t, ast.Starred | ast.Attribute | ast.Subscript):
                stack.append(t.value)
            elif isinstance(t, ast.Name):
                env = self.local if self.local is not None else self.module
                self.add(env.setdefault(t.id, set()), labels)

    def add(self, into: set[str], labels: set[str]) -> None:
        if not labels <= into:
            into |= labels
            self.grew += 1

    # -- expressions -------------------------------------------------------

    def labels(self, node: ast.AST | None) -> set[str]:
        """The sources a value may come from; records flows into the calls inside."""
        out: set[str] = set()
        if node is None:
            return out
        stack: list[ast.AST] = [node]
        while stack:
            n = stack.pop()
            self.work += 1
            if self.work > FLOW_NODE_BUDGET:
                raise _Cut
            if isinstance(n, ast.Constant):
                continue
            if isinstance(n, ast.Name):
                out |= self.lookup(n.id)
                api = self.resolve(n)
                if api is not None:
                    out |= self.api_labels(api)
            elif isinstance(n, ast.Call):
                out |= self.call(n)
            elif isinstance(n, ast.Attribute):
                api = self.resolve(n)
                if api is not None:
                    out |= self.api_labels(api)
                else:
                    stack.append(n.value)
            elif isinstance(n, ast.Subscript):
                api = self.resolve(n.value)
                if api is not None:
                    out |= set(self.rules.categories_of(api))  # one key, not the whole
                else:
                    stack.append(n.value)
                stack.append(n.slice)
            elif isinstance(n, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
                for gen in n.generators:
                    self.bind(gen.target, self.labels(gen.iter))
                    for cond in gen.ifs:
                        self.labels(cond)
                if isinstance(n, ast.DictComp):
                    stack += [n.key, n.value]
                else:
                    stack.append(n.elt)
            elif isinstance(n, ast.Lambda):
                self.lambda_body(n)
            elif isinstance(n, ast.BinOp):
                stack += (n.left, n.right)
            elif isinstance(n, ast.Tuple | ast.List | ast.Set):
                stack += n.elts
            elif isinstance(n, ast.JoinedStr | ast.BoolOp):
                stack += n.values
            elif isinstance(n, ast.FormattedValue | ast.Starred | ast.keyword):
                stack.append(n.value)
            elif isinstance(n, ast.NamedExpr):
                value = self.labels(n.value)
                self.bind(n.target, value)
                out |= value
            else:
                stack.extend(ast.iter_child_nodes(n))
        return out

    def call(self, node: ast.Call) -> set[str]:
        func = node.func
        api = self.resolve(func)
        receiver: set[str] = set()
        sinks: set[str]
        own: set[str]
        if api is not None:
            own = self.api_labels(api)
            sinks = set(self.rules.categories_of(api))
        elif isinstance(func, ast.Attribute):
            receiver = self.labels(func.value)
            sinks = set(self.rules.categories_of(func.attr)) | (receiver & OBJECT_SINKS)
            own = set(sinks)
            own |= self.local_call(func.attr, node)
        elif isinstance(func, ast.Name):
            own = self.lookup(func.id) | self.local_call(func.id, node)
            sinks = set()
        else:
            own = self.labels(func)
            sinks = set()
        data: set[str] = set()
        for arg in node.args:
            data |= self.labels(arg)
        for kw in node.keywords:
            value = self.labels(kw.value)
            if kw.arg not in _CONFIG_KEYWORDS:
                data |= value
        if api in _DOWNLOAD_TO:
            position, keyword = _DOWNLOAD_TO[api]
            dest = node.args[position] if len(node.args) > position else None
            dest = next((kw.value for kw in node.keywords if kw.arg == keyword), dest)
            if dest is not None:
                self.bind(dest, {"network"})
        elif data and "file_write" in sinks and isinstance(func, ast.Attribute):
            path = self.file_path(func.value)
            if path is not None:  # the file now holds the data: its path carries it
                self.bind(path, data)
        if sinks and data:
            line = self.fixed_line if self.fixed_line is not None else node.lineno
            for src in data:
                for sink in sinks:
                    if (src, sink) in self.wanted:
                        self.found.setdefault((src, sink), line)
        return own | data | receiver

    def file_path(self, node: ast.expr) -> ast.expr | None:
        """The path of the file an expression is: `open(p, ...)` or a name bound to one
        by `with open(p, ...) as fh`; None for anything else."""
        if isinstance(node, ast.Name):
            return self.opened.get(node.id)
        if isinstance(node, ast.Call) and node.args:
            position = _OPENERS.get(self.resolve(node.func) or "")
            if position is not None:
                return node.args[position]
        return None

    def local_call(self, name: str, node: ast.Call) -> set[str]:
        """What calling a function of the script returns; its parameters learn the data."""
        if name not in self.functions:
            return set()
        data: set[str] = set()
        for arg in node.args:
            data |= self.labels(arg)
        for kw in node.keywords:
            data |= self.labels(kw.value)
        if data:
            self.add(self.param_labels.setdefault(name, set()), data)
        return set(self.returns.get(name, ()))

    def lambda_body(self, node: ast.Lambda) -> None:
        saved = self.local
        self.local = {**(saved or {})}
        for p in _params(node):
            self.local.pop(p, None)
        self.labels(node.body)
        self.local = saved

    # -- statements --------------------------------------------------------

    def block(self, stmts: Iterable[ast.stmt]) -> None:
        for st in stmts:
            if isinstance(st, ast.Assign):
                value = self.labels(st.value)
                for t in st.targets:
                    self.bind(t, value)
            elif isinstance(st, ast.AnnAssign | ast.AugAssign):
                value = self.labels(st.value)
                if isinstance(st, ast.AugAssign):
                    value |= self.labels(st.target)
                self.bind(st.target, value)
            elif isinstance(st, ast.For | ast.AsyncFor):
                self.bind(st.target, self.labels(st.iter))
                self.block(st.body)  # a value carried round the loop: the next round
                self.block(st.orelse)
            elif isinstance(st, ast.While | ast.If):
                self.labels(st.test)
                self.block(st.body)
                self.block(st.orelse)
            elif isinstance(st, ast.With | ast.AsyncWith):
                for item in st.items:
                    value = self.labels(item.context_expr)
                    if item.optional_vars is not None:
                        self.bind(item.optional_vars, value)
                        path = self.file_path(item.context_expr)
                        if path is not None and isinstance(item.optional_vars, ast.Name):
                            self.opened[item.optional_vars.id] = path
                self.block(st.body)
            elif isinstance(st, ast.Try) or type(st).__name__ == "TryStar":
                self.block(st.body)  # type: ignore[attr-defined]
                for h in st.handlers:  # type: ignore[attr-defined]
                    self.block(h.body)
                self.block(st.orelse)  # type: ignore[attr-defined]
                self.block(st.finalbody)  # type: ignore[attr-defined]
            elif isinstance(st, ast.Match):
                self.labels(st.subject)
                for case in st.cases:
                    self.block(case.body)
            elif isinstance(st, ast.FunctionDef | ast.AsyncFunctionDef):
                for d in (*st.decorator_list, *st.args.defaults, *st.args.kw_defaults):
                    self.labels(d)
            elif isinstance(st, ast.ClassDef):
                for d in (*st.decorator_list, *st.bases):
                    self.labels(d)
                self.block(st.body)
            elif isinstance(st, ast.Return):
                value = self.labels(st.value)
                if self.current_returns is not None:
                    self.add(self.current_returns, value)
            else:
                for child in ast.iter_child_nodes(st):
                    if isinstance(child, ast.expr):
                        self.labels(child)

    def function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        incoming = self.param_labels.get(fn.name, set())
        self.local = {p: set(incoming) for p in _params(fn)}
        self.current_returns = self.returns.setdefault(fn.name, set())
        try:
            self.block(fn.body)
        finally:
            self.local = None
            self.current_returns = None

    def run(self, tree: ast.Module) -> None:
        every = [fn for fns in self.functions.values() for fn in fns]
        for _ in range(ROUNDS):
            before = self.grew
            self.block(tree.body)
            for fn in every:
                self.function(fn)
            if self.grew == before:
                break


def find_flows(
    tree: ast.Module, path: str, rules: Rules, *, fixed_line: int | None = None
) -> tuple[tuple[Flow, ...], bool]:
    """The source -> sink flows `rules.flows` asks about, and whether the budget cut the pass.

    `fixed_line` reports every flow at one line (a decoded payload's flows are
    reported where the outer script executes it).
    """
    finder = _Flows(tree, path, rules, fixed_line)
    cut = False
    try:
        finder.run(tree)
    except _Cut:
        cut = True
    flows = tuple(
        Flow(src, sink, path, line)
        for (src, sink), line in sorted(finder.found.items(), key=lambda kv: (kv[1], kv[0]))
    )
    return flows, cut
