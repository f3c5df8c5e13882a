"""From expressions to events: API calls, callees to inline, decoded payloads.

An event is what a walk emits or follows at one point of a basic block, in
Python's evaluation order (arguments before the call that receives them, so
`os.system(base64.b64decode(x))` gives `base64.b64decode` then `os.system`).
This is also where names become full API names (through `names.Scope`), where
string constants are decoded statically (through `decode.Evaluator`), and where
`exec`/`eval`/`compile` of a decodable constant is analysed recursively.
"""

from __future__ import annotations

import ast
import copy
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from mphunter_gate.analysis.budget import Budget
from mphunter_gate.analysis.callgraph import COMMAND_METHODS, Program
from mphunter_gate.analysis.decode import DECODERS, Evaluator, Value, as_text, preview
from mphunter_gate.analysis.names import BUILTIN_NAMES, Binding, Scope
from mphunter_gate.types import ApiCall, Decoded


@dataclass(frozen=True, slots=True)
class Api:
    """A call to an API (anything not defined in the script)."""

    api: str
    line: int


@dataclass(frozen=True, slots=True)
class Inline:
    """A call to a function of the script: the walk continues inside it."""

    target: str
    line: int


@dataclass(frozen=True, slots=True)
class Payload:
    """The canonical walks of a statically decoded payload, run by exec/eval/compile here."""

    dfs: tuple[ApiCall, ...]
    bfs: tuple[ApiCall, ...]


Event = Api | Inline | Payload

#: Calls that run a string as code.
EXEC_APIS = frozenset({"exec", "eval", "compile", "execfile"})
#: Calls whose result names a module (`__import__('os').system` -> `os.system`).
IMPORT_APIS = frozenset({"__import__", "importlib.import_module"})
#: Calls that hand a callable to something that calls it: (position of the callable,
#: how its arguments are given). `each`: once per element of the next argument
#: (`map(exec, [src])`); `rest`: the remaining positional arguments
#: (`atexit.register(os.system, cmd)`); `target`: the `target=` and `args=` keywords;
#: `timer`: `Timer(interval, f, args)`, its `args` by position or keyword.
_CALLS_ITS_ARGUMENT: dict[str, tuple[int, str]] = {
    "map": (0, "each"),
    "filter": (0, "each"),
    "itertools.starmap": (0, "each"),
    "atexit.register": (0, "rest"),
    "threading.Timer": (1, "timer"),
    "threading.Thread": (-1, "target"),
    "multiprocessing.Process": (-1, "target"),
}
#: Calls whose result is a callable standing for another call (`functools.partial(f, a)`).
_WRAPPERS = frozenset({"functools.partial", "operator.methodcaller"})
#: How many wrappers deep a call is unwrapped (`f = lambda: g()`, `g = lambda: f()`).
_MAX_UNWRAP = 4
#: Elements of a literal a `map(f, [...])` is expanded over, at most.
_MAX_EACH = 8
#: Method names worth trying to evaluate even on an unnamed receiver (`''.join(...)`).
_EVAL_METHODS = frozenset({"join", "decode", "encode"})

_LEAF = (ast.Constant, ast.Name)
_LEAF_TYPES = frozenset(_LEAF)
_BINOP = ast.BinOp

PayloadAnalyser = Callable[[str, int], "Payload | None"]


@dataclass
class Context:
    """What every extractor of one script shares: where results go and the bounds."""

    path: str
    analyse_payload: PayloadAnalyser
    decoded: list[Decoded] = field(default_factory=list)
    #: When set (inside a decoded payload), every call carries this line of the outer file.
    fixed_line: int | None = None
    #: Known constant values per scope qualname, filled in source order.
    values: dict[str, dict[str, Value]] = field(default_factory=dict)
    #: `name = lambda ...` and `name = functools.partial(...)` per scope qualname: what
    #: a later `name(...)` calls (see `Extractor.unwrap`).
    callables: dict[str, dict[str, ast.expr]] = field(default_factory=dict)

    #: Added to every line (the tolerant pass parses one logical line at a time).
    line_offset: int = 0
    #: The script's work budget; the evaluators of every scope charge it.
    budget: Budget = field(default_factory=Budget)

    def line(self, line: int) -> int:
        return self.fixed_line if self.fixed_line is not None else line + self.line_offset


class Extractor:
    """Turns the statements and expressions of one scope into events."""

    def __init__(self, program: Program, scope: Scope, ctx: Context) -> None:
        self.program = program
        self.scope = scope
        self.ctx = ctx
        # The evaluator calls back into this extractor. Holding it through bound methods
        # would be a reference cycle through `program`, and that cycle would keep the whole
        # syntax tree alive until the cyclic collector traverses it (see gcpause); through
        # a weak proxy, reference counting frees the tree as soon as the analysis is done.
        me = weakref.proxy(self)
        self.evaluator = Evaluator(
            lambda node: me.api_name(node),
            lambda name: me.lookup_value(name),
            program.rebinds,
            ctx.budget,
        )
        #: Above zero while walking an expression whose decoded value is already recorded:
        #: the decoders inside it are part of that value, not payloads of their own.
        self._quiet = 0
        #: How many wrapped calls deep `call` is (bounded by `_MAX_UNWRAP`).
        self._unwrapping = 0

    # -- values and names ---------------------------------------------------------------

    def lookup_value(self, name: str) -> Value | None:
        scope: Scope | None = self.scope
        while scope is not None:
            found = self.ctx.values.get(scope.qualname, {}).get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None

    def api_name(self, node: ast.expr) -> str | None:
        b = self.resolve(node)
        return b.target if b is not None and b.kind == "api" else None

    def resolve(self, node: ast.expr) -> Binding | None:
        """What an expression names: an API, a local function or a local class."""
        if isinstance(node, ast.Name):
            return self.scope.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return self._resolve_attribute(node)
        if isinstance(node, ast.Call):
            return self._resolve_call_value(node)
        if isinstance(node, ast.Subscript):  # `__builtins__.__dict__['exec']`
            builtin = self.evaluator.builtin_function(node)
            if builtin is not None:
                return Binding("api", builtin.name)
            return self._module_entry(node)
        return None

    def _resolve_attribute(self, node: ast.Attribute) -> Binding | None:
        value, attr = node.value, node.attr
        owner = self.scope.owner_class
        if owner is not None and isinstance(value, ast.Name) and value.id == self.scope.self_name:
            return self._member(owner, attr, include_self=True)
        if owner is not None and _is_super_call(value):
            return self._member(owner, attr, include_self=False)
        base = self.resolve(value)
        if base is None:
            return None
        if base.kind == "api":
            return Binding("api", _member_api(base.target, attr))
        if base.kind == "class":
            method = self.program.find_method(base.target, attr)
            return Binding("func", method) if method is not None else None
        return None

    def _member(self, class_qn: str, attr: str, *, include_self: bool) -> Binding | None:
        """`self.attr` / `super().attr` inside a method of `class_qn`."""
        if include_self:
            method = self.program.find_method(class_qn, attr)
            if method is not None:
                return Binding("func", method)
        else:
            info = self.program.classes.get(class_qn)
            for base in info.bases if info is not None else []:
                if isinstance(base, ast.Name):
                    b = info.outer.lookup(base.id) if info is not None else None
                    if b is not None and b.kind == "class":
                        method = self.program.find_method(b.target, attr)
                        if method is not None:
                            return Binding("func", method)
        bases = self.program.api_bases(class_qn)
        if bases:
            return Binding("api", f"{bases[0]}.{attr}")
        return None

    def _resolve_call_value(self, node: ast.Call) -> Binding | None:
        """`getattr(os, 'system')` and `__import__('os')` name something statically.

        `getattr(__builtins__, <name spelled at run time>)` names the bare builtin, as
        calling it directly would.
        """
        builtin = self.evaluator.builtin_function(node)
        if builtin is not None:
            return Binding("api", builtin.name)
        fn = self.api_name(node.func)
        if fn == "getattr" and len(node.args) >= 2:
            name = self.evaluator.eval(node.args[1])
            if name is None or not isinstance(name.data, str) or not name.data.isidentifier():
                return None
            base = self.resolve(node.args[0])
            if base is not None and base.kind == "api":
                return Binding("api", _member_api(base.target, name.data))
            if base is not None and base.kind == "class":
                method = self.program.find_method(base.target, name.data)
                return Binding("func", method) if method is not None else None
            return None
        if fn in IMPORT_APIS and node.args:
            mod = self.evaluator.eval(node.args[0])
            if mod is not None and isinstance(mod.data, str) and mod.data:
                return Binding("api", mod.data)
        if fn == "functools.partial" and node.args:  # `_sh = partial(subprocess.run, ...)`
            return self.resolve(node.args[0])
        return None

    def _module_entry(self, node: ast.Subscript) -> Binding | None:
        """`sys.modules["bu" + "iltins"]` names the module its key spells."""
        if self.api_name(node.value) != "sys.modules":
            return None
        key = self.evaluator.eval(node.slice)
        if key is None or not isinstance(key.data, str) or not key.data:
            return None
        return Binding("api", key.data)

    # -- statements -----------------------------------------------------------------------

    def simple_statement(self, stmt: ast.stmt, out: list[Event]) -> None:
        """Events of a statement with no control flow of its own, in evaluation order."""
        if isinstance(stmt, ast.Assign):
            self.expr(stmt.value, out)
            for target in stmt.targets:
                self.expr(target, out)
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.assign(stmt.targets[0].id, stmt.value)
            return
        if isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.expr(stmt.value, out)
                if isinstance(stmt.target, ast.Name):
                    self.assign(stmt.target.id, stmt.value)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.expr(child, out)

    def assign(self, name: str, value: ast.expr) -> None:
        """Track `name = <API reference>` as an alias and `name = <constant>` as a value."""
        values = self.ctx.values.setdefault(self.scope.qualname, {})
        if isinstance(value, ast.Name | ast.Attribute | ast.Call | ast.Subscript):
            ref = self.resolve(value)
            if ref is not None:
                self.scope.bind_local(name, ref.kind, ref.target)
        known = self.evaluator.eval(value)
        if known is not None:
            values[name] = known
        else:
            values.pop(name, None)
        callables = self.ctx.callables.setdefault(self.scope.qualname, {})
        wrapper = isinstance(value, ast.Call) and self.api_name(value.func) in _WRAPPERS
        if isinstance(value, ast.Lambda) or wrapper:
            callables[name] = value
        else:
            callables.pop(name, None)

    def _callable(self, name: str) -> ast.expr | None:
        """The lambda or wrapper a name was last assigned in this scope or an outer one."""
        scope: Scope | None = self.scope
        while scope is not None:
            found = self.ctx.callables.get(scope.qualname, {}).get(name)
            if found is not None:
                return found
            if name in scope.bindings:
                return None  # rebound to something else here
            scope = scope.parent
        return None

    def unwrap(self, node: ast.Call, api: str | None) -> tuple[list[ast.expr], bool]:
        """The calls a call stands for beyond its own: the body of a lambda it calls, the
        call a `functools.partial` or `operator.methodcaller` it calls makes, the calls
        `map(f, ...)`, `atexit.register(f, ...)` or `Thread(target=f, ...)` make of `f`.

        Indirection that adds no behaviour of its own (`map(exec, [src])`, `partial(
        subprocess.run, shell=True)(cmd)`) must give the words the direct call gives,
        and an executed constant must still be decoded and analysed; the synthetic
        calls carry the line of the call they come from. The flag says the call is a
        partial's, which the call it makes replaces (not one more word for it). `api`
        is what the call itself resolved to (`call` has resolved it already).
        """
        func = node.func
        target: ast.expr = func
        if isinstance(func, ast.Name):
            target = self._callable(func.id) or func
        found: list[ast.expr] = []
        replaces = False
        if isinstance(target, ast.Lambda):
            found.append(_substitute(target, node))
        elif isinstance(target, ast.Call) and target.args:
            wrapper = self.api_name(target.func)
            if wrapper == "functools.partial":
                replaces = True
                found.append(
                    ast.Call(
                        target.args[0],
                        [*target.args[1:], *node.args],
                        [*target.keywords, *node.keywords],
                    )
                )
            elif wrapper == "operator.methodcaller" and node.args:
                name = self.evaluator.eval(target.args[0])
                if name is not None and isinstance(name.data, str) and name.data.isidentifier():
                    method = ast.Attribute(node.args[0], name.data, ast.Load())
                    found.append(ast.Call(method, list(target.args[1:]), list(target.keywords)))
        else:
            found.extend(self._handed_calls(node, api))
        for call in found:
            _locate(call, node)
        return found, replaces

    def _handed_calls(self, node: ast.Call, api: str | None) -> list[ast.expr]:
        """What a call that is handed a callable (`_CALLS_ITS_ARGUMENT`) calls with it.

        A local function handed over is left to `_callbacks` (the walk inlines it),
        and a callable computed by an expression to the walk of that expression.
        """
        shape = _CALLS_ITS_ARGUMENT.get(api or "")
        if shape is None:
            return []
        position, how = shape
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        fn = keywords.get("target") if position < 0 else None
        if position >= 0 and len(node.args) > position:
            fn = node.args[position]
        if not isinstance(fn, ast.Name | ast.Attribute):
            return []  # a computed callable's own calls are walked where it is written
        ref = self.resolve(fn)
        if ref is None or ref.kind != "api":
            return []
        if how == "rest":
            return [ast.Call(fn, list(node.args[position + 1 :]), [])]
        if how in ("target", "timer"):
            given = keywords.get("args") or (
                node.args[2] if how == "timer" and len(node.args) > 2 else None
            )
            args = list(given.elts) if isinstance(given, ast.Tuple | ast.List) else []
            return [ast.Call(fn, args, [])]
        source = node.args[position + 1] if len(node.args) > position + 1 else None
        # Only an executed argument needs its value; any other gets one word.
        executed = ref.target in EXEC_APIS
        if executed and isinstance(source, ast.List | ast.Tuple | ast.Set) and source.elts:
            return [ast.Call(fn, [elt], []) for elt in source.elts[:_MAX_EACH]]
        return [ast.Call(fn, [ast.Name("_", ast.Load())], [])]

    # -- expressions ----------------------------------------------------------------------

    def expr(self, node: ast.expr, out: list[Event]) -> None:
        """The events of an expression, in evaluation order, appended to `out`.

        Only calls emit events (`call` handles a call's own operands), so visiting the
        other nodes' operands left to right with an explicit stack gives the order a
        recursive descent gives, without a Python frame per node and without a
        RecursionError on the thousands-deep arithmetic chains of obfuscated files.
        Hot path: the commonest node, a BinOp, is recognised by its exact type first
        (`ast.parse` builds no subclasses) and its leaves (names, constants) are never
        pushed; rarer nodes list their operands through `_operands`.
        """
        todo: list[ast.expr] = [node]
        pop, push = todo.pop, todo.append
        int_nodes = self.evaluator.int_nodes
        while todo:
            node = pop()
            if type(node) is _BINOP:
                if node in int_nodes:  # folded arithmetic: no call inside
                    continue
                right, left = node.right, node.left
                if type(right) not in _LEAF_TYPES:
                    push(right)
                if type(left) not in _LEAF_TYPES:
                    push(left)
            elif isinstance(node, _LEAF):
                continue
            elif isinstance(node, ast.Call):
                self.call(node, out)
            else:
                todo.extend(reversed(_operands(node)))

    def call(self, node: ast.Call, out: list[Event]) -> None:
        func = node.func
        ref = self.resolve(func)
        api = ref.target if ref is not None and ref.kind == "api" else None
        payload, recorded = self._decode(node, api, func)
        quiet = recorded is node
        self._quiet += quiet
        if isinstance(func, ast.Attribute):
            if not _is_super_call(func.value):  # `super().run()` names the base's method
                self.expr(func.value, out)
        elif not isinstance(func, ast.Name):
            self.expr(func, out)
        for arg in node.args:
            inner = arg is recorded
            self._quiet += inner
            self.expr(arg, out)
            self._quiet -= inner
        for kw in node.keywords:
            self.expr(kw.value, out)
        self._quiet -= quiet
        line = node.lineno
        calls, replaced = self.unwrap(node, api) if self._unwrapping < _MAX_UNWRAP else ([], False)
        if replaced:
            pass  # a partial's call: the call it makes (below) is the event
        elif ref is None:
            if isinstance(func, ast.Attribute):
                out.append(Api(func.attr, line))
            elif isinstance(func, ast.Name):
                out.append(Api(func.id, line))
        elif ref.kind == "api":
            out.append(Api(ref.target, line))
        elif ref.kind == "func":
            out.append(Inline(ref.target, line))
        else:
            init = self.program.find_method(ref.target, "__init__")
            if init is not None:
                out.append(Inline(init, line))
        if payload is not None:
            out.append(payload)
        self._callbacks(node, out)
        self._unwrapping += 1
        for call in calls:
            self.expr(call, out)
        self._unwrapping -= 1
        if api is not None and (
            api.rsplit(".", 1)[-1] == "setup" or any(kw.arg == "cmdclass" for kw in node.keywords)
        ):
            for class_qn in self._class_refs(node):
                for name in COMMAND_METHODS:
                    method = self.program.find_method(class_qn, name)
                    if method is not None:
                        out.append(Inline(method, line))

    def _callbacks(self, node: ast.Call, out: list[Event]) -> None:
        """Functions passed as arguments (`atexit.register(f)`, `Thread(target=f)`) run too."""
        for arg in [*node.args, *(kw.value for kw in node.keywords)]:
            if isinstance(arg, ast.Name | ast.Attribute):
                ref = self.resolve(arg)
                if ref is not None and ref.kind == "func":
                    out.append(Inline(ref.target, node.lineno))

    def _class_refs(self, node: ast.Call) -> list[str]:
        """Local classes named in a setup() call, also through a module-level dict variable."""
        found: list[str] = []
        seen: set[str] = set()
        todo: list[ast.AST] = [*node.args, *(kw.value for kw in node.keywords)]
        budget = 10_000
        while todo and budget > 0:
            budget -= 1
            item = todo.pop(0)
            if isinstance(item, ast.Name):
                b = self.scope.lookup(item.id)
                if b is not None and b.kind == "class":
                    if b.target not in found:
                        found.append(b.target)
                elif b is None and item.id not in seen and item.id in self.program.assigns:
                    seen.add(item.id)
                    todo.append(self.program.assigns[item.id])
                continue
            todo.extend(ast.iter_child_nodes(item))
        return found

    # -- decoding -------------------------------------------------------------------------

    def _decode(
        self, node: ast.Call, api: str | None, func: ast.expr
    ) -> tuple[Payload | None, ast.expr | None]:
        """Record a decodable literal at this call; analyse it if this call executes it.

        Returns the payload to inline and the expression whose value was recorded
        (the call, or an executed call's argument), which `call` then walks quietly.
        """
        if self._quiet:
            return None, None
        if api in EXEC_APIS and node.args:
            arg = node.args[0]
            value = self.evaluator.eval(arg)
            text = as_text(value.data) if value is not None else None
            if value is None or text is None:
                return None, None
            self._record(value, text, value.method or "literal")
            return self.ctx.analyse_payload(text, self.ctx.line(value.line)), arg
        named = api in DECODERS or api in ("codecs.decode", "codecs.encode")
        if not named and not (isinstance(func, ast.Attribute) and func.attr in _EVAL_METHODS):
            return None, None
        value = self.evaluator.eval(node)
        if value is None or not value.method:
            return None, None
        text = as_text(value.data)
        if text is None:
            return None, None
        self._record(value, text, value.method)
        return None, node

    def _record(self, value: Value, text: str, method: str) -> None:
        line = self.ctx.line(value.line)
        self.ctx.decoded.append(Decoded(self.ctx.path, line, method, preview(text)))


def _operands(node: ast.expr) -> list[ast.expr]:
    """The sub-expressions `Extractor.expr` visits for a node that is not a call, in order.

    Common nodes are unpacked by hand (`ast.iter_child_nodes` is several times slower).
    A comprehension's sources and conditions come before its element; a lambda's
    default values are visited, its body is not run here; a format spec is skipped.
    """
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.Attribute | ast.Starred | ast.FormattedValue):
        return [node.value]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return node.elts
    if isinstance(node, ast.Dict):
        found: list[ast.expr] = []
        for key, value in zip(node.keys, node.values, strict=False):
            if key is not None:
                found.append(key)
            found.append(value)
        return found
    if isinstance(node, ast.Subscript):
        return [node.value, node.slice]
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.BoolOp | ast.JoinedStr):
        return node.values
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        found = []
        for gen in node.generators:
            found.append(gen.iter)
            found.extend(gen.ifs)
        if isinstance(node, ast.DictComp):
            found.append(node.key)
            found.append(node.value)
        else:
            found.append(node.elt)
        return found
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            found.append(child)
        elif isinstance(child, ast.keyword):
            found.append(child.value)
        elif isinstance(child, ast.arguments):
            found.extend(child.defaults)
            found.extend(d for d in child.kw_defaults if d)
    return found


def _member_api(module: str, attr: str) -> str:
    """`os.system`; a builtin reached through the `builtins` module is the builtin itself."""
    return attr if module == "builtins" and attr in BUILTIN_NAMES else f"{module}.{attr}"


class _Substitute(ast.NodeTransformer):
    def __init__(self, given: dict[str, ast.expr]) -> None:
        self.given = given

    def visit_Name(self, node: ast.Name) -> ast.expr:
        found = self.given.get(node.id) if isinstance(node.ctx, ast.Load) else None
        return copy.deepcopy(found) if found is not None else node

    def visit_Lambda(self, node: ast.Lambda) -> ast.expr:
        return node  # its own parameters shadow ours; its body is not run here


def _substitute(fn: ast.Lambda, call: ast.Call) -> ast.expr:
    """A lambda's body with its parameters replaced by a call's arguments."""
    params = [*fn.args.posonlyargs, *fn.args.args]
    given = {p.arg: a for p, a in zip(params, call.args, strict=False)}
    given.update({kw.arg: kw.value for kw in call.keywords if kw.arg})
    return _Substitute(given).visit(copy.deepcopy(fn.body))


def _locate(node: ast.expr, at: ast.Call) -> None:
    """Give a synthetic call (and everything in it) the line of the call it comes from."""
    for child in ast.walk(node):
        if isinstance(child, ast.expr):
            child.lineno = at.lineno
            child.col_offset = at.col_offset
            child.end_lineno = at.end_lineno
            child.end_col_offset = at.end_col_offset


def _is_super_call(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Name) and func.id == "super"
