"""Control-flow graphs: the basic blocks of a function (or module) body and their edges.

MPHunter canonicalises a script by walking its CFG, so the order of APIs in a
sequence follows the paths the code can take rather than the text's layout.
A block holds the events of straight-line code; `if`/`match` branch, loops
get a header with a back edge, `try` handlers branch from the start of the
protected body, `return`/`raise`/`break`/`continue` end a block. Code after a
`return` lands in a block nothing points to: the walk never reaches it, as
the interpreter never would. Class bodies run where they are defined, so
their statements continue the enclosing flow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mphunter_gate.analysis.callgraph import FunctionInfo, Program
from mphunter_gate.analysis.events import Context, Event, Extractor


@dataclass
class Block:
    events: list[Event] = field(default_factory=list)
    succ: list[int] = field(default_factory=list)


@dataclass
class CFG:
    """Blocks in creation order, which is source order; block 0 is the entry."""

    blocks: list[Block]


@dataclass(frozen=True)
class _Loop:
    header: int
    after: int


class _Builder:
    def __init__(self, program: Program, ctx: Context) -> None:
        self.program = program
        self.ctx = ctx
        self.blocks: list[Block] = []

    def new(self) -> int:
        self.blocks.append(Block())
        return len(self.blocks) - 1

    def link(self, src: int | None, dst: int) -> None:
        if src is not None and dst not in self.blocks[src].succ:
            self.blocks[src].succ.append(dst)

    def body(
        self, stmts: list[ast.stmt], cur: int | None, ex: Extractor, loop: _Loop | None
    ) -> int | None:
        for stmt in stmts:
            if cur is None:
                cur = self.new()  # unreachable code after return/raise/break
            cur = self.stmt(stmt, cur, ex, loop)
        return cur

    def events(self, node: ast.expr, cur: int, ex: Extractor) -> None:
        ex.expr(node, self.blocks[cur].events)

    def stmt(self, stmt: ast.stmt, cur: int, ex: Extractor, loop: _Loop | None) -> int | None:
        if isinstance(stmt, ast.If):
            self.events(stmt.test, cur, ex)
            then_b = self.new()
            self.link(cur, then_b)
            then_end = self.body(stmt.body, then_b, ex, loop)
            else_end: int | None = cur
            if stmt.orelse:
                else_b = self.new()
                self.link(cur, else_b)
                else_end = self.body(stmt.orelse, else_b, ex, loop)
            join = self.new()
            self.link(then_end, join)
            self.link(else_end, join)
            return join
        if isinstance(stmt, ast.While | ast.For | ast.AsyncFor):
            if isinstance(stmt, ast.While):
                header = self.new()
                self.link(cur, header)
                self.events(stmt.test, header, ex)
            else:
                self.events(stmt.iter, cur, ex)
                header = self.new()
                self.link(cur, header)
            body_b = self.new()
            self.link(header, body_b)
            after = self.new()
            end = self.body(stmt.body, body_b, ex, _Loop(header, after))
            self.link(end, header)
            if stmt.orelse:
                else_b = self.new()
                self.link(header, else_b)
                self.link(self.body(stmt.orelse, else_b, ex, loop), after)
            else:
                self.link(header, after)
            return after
        if isinstance(stmt, ast.Try | getattr(ast, "TryStar", ast.Try)):
            body_b = self.new()
            self.link(cur, body_b)
            end = self.body(stmt.body, body_b, ex, loop)
            ends = []
            handler_ids: set[int] = set()
            for handler in stmt.handlers:
                h_b = self.new()
                handler_ids.add(h_b)
                self.link(body_b, h_b)
                if handler.type is not None:
                    self.events(handler.type, h_b, ex)
                ends.append(self.body(handler.body, h_b, ex, loop))
            if stmt.orelse:
                else_b = self.new()
                self.link(end, else_b)
                end = self.body(stmt.orelse, else_b, ex, loop)
            join = self.new()
            for e in [end, *ends]:
                self.link(e, join)
            # The normal path is walked before the handlers.
            succ = self.blocks[body_b].succ
            succ.sort(key=lambda s: s in handler_ids)
            return self.body(stmt.finalbody, join, ex, loop) if stmt.finalbody else join
        if isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                self.events(item.context_expr, cur, ex)
            return self.body(stmt.body, cur, ex, loop)
        if isinstance(stmt, ast.Match):
            self.events(stmt.subject, cur, ex)
            join = self.new()
            for case in stmt.cases:
                c_b = self.new()
                self.link(cur, c_b)
                if case.guard is not None:
                    self.events(case.guard, c_b, ex)
                self.link(self.body(case.body, c_b, ex, loop), join)
            self.link(cur, join)
            return join
        if isinstance(stmt, ast.Return | ast.Raise):
            ex.simple_statement(stmt, self.blocks[cur].events)
            return None
        if isinstance(stmt, ast.Break | ast.Continue):
            if loop is not None:
                self.link(cur, loop.after if isinstance(stmt, ast.Break) else loop.header)
            return None
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in stmt.decorator_list:
                self.events(deco, cur, ex)
            self.events_of_arguments(stmt.args, cur, ex)
            return cur
        if isinstance(stmt, ast.ClassDef):
            for node in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                self.events(node, cur, ex)
            qualname = self.program.class_nodes.get(id(stmt))
            info = self.program.classes.get(qualname) if qualname is not None else None
            if info is None:
                return cur
            return self.body(stmt.body, cur, Extractor(self.program, info.scope, self.ctx), loop)
        ex.simple_statement(stmt, self.blocks[cur].events)
        return cur

    def events_of_arguments(self, args: ast.arguments, cur: int, ex: Extractor) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.events(default, cur, ex)


def build(program: Program, info: FunctionInfo, ctx: Context) -> CFG:
    """The CFG of one function (or of the module body) with its events resolved."""
    builder = _Builder(program, ctx)
    entry = builder.new()
    builder.body(info.body, entry, Extractor(program, info.scope, ctx), None)
    return CFG(builder.blocks)


def straight_line(
    program: Program, stmts: list[ast.stmt], ex: Extractor, ctx: Context
) -> list[Event]:
    """Events of a few statements in source order (the tolerant pass has no graph)."""
    builder = _Builder(program, ctx)
    builder.new()
    builder.body(stmts, 0, ex, None)
    return [event for block in builder.blocks for event in block.events]
