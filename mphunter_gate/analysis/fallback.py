"""The tolerant pass for scripts `ast` cannot parse (`ParseMode.TOKENS`).

Many old setup.py files are Python 2 (`print "x"`, `except E, e:`), some are
broken on purpose, and a parser error must not become "no API calls"
(fail-open). This pass tokenizes the text and takes every logical line on its
own: a line `ast` can parse alone gets the full treatment (imports bind
aliases, calls resolve, payloads decode); any other line yields the dotted
names followed by `(` found in its tokens, resolved through the same aliases.
There is no call graph or CFG here, so the calls come out in source order.
Tokenizer errors (unterminated strings, bad dedents) end tokenizing; the rest
of the text is then scanned with a regular expression. Both are charged to
the script's shared `Budget` (tokens, and lines plus matches of the scan), so
where they stop does not depend on the machine's speed; the events kept, from
tokens or from re-parsed lines, are capped at `limits.MAX_SEQUENCE_CALLS`.
"""

from __future__ import annotations

import ast
import io
import keyword
import re
import tokenize

from mphunter_gate.analysis import limits
from mphunter_gate.analysis.budget import Budget
from mphunter_gate.analysis.callgraph import MODULE, Program
from mphunter_gate.analysis.cfg import straight_line
from mphunter_gate.analysis.events import Api, Context, Event, Extractor, Payload
from mphunter_gate.analysis.names import Scope, import_bindings, plain_import_bindings

_KEYWORDS = frozenset(keyword.kwlist) - {"exec", "print"}
_CALL_RE = re.compile(r"([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)[ \t]*\(")
_DEFINERS = frozenset({"def", "class"})
_AS = r"(?:[ \t]+as[ \t]+\w+)?"
_IMPORT_RE = re.compile(
    r"(?:^|;)[ \t]*import[ \t]+([\w.]+" + _AS + r"(?:[ \t]*,[ \t]*[\w.]+" + _AS + r")*)",
    re.MULTILINE,
)
_FROM_RE = re.compile(
    r"(?:^|;)[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+"
    r"(\w+" + _AS + r"(?:[ \t]*,[ \t]*\w+" + _AS + r")*)",
    re.MULTILINE,
)


#: Characters 3.12+ tokenize as OP where 3.10/3.11 give ERRORTOKEN; no Python operator
#: is one of them alone (`!` only inside f-strings, where the string token holds it).
_NOT_PYTHON = frozenset({"?", "!", "$", "`"})
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


def _split_as(item: str) -> tuple[str, str | None]:
    parts = item.split()
    return (parts[0], parts[2]) if len(parts) == 3 else (parts[0], None)


def _resolve_dotted(scope: Scope, parts: list[str]) -> str | None:
    if not parts or parts[0] in _KEYWORDS:
        return None
    b = scope.lookup(parts[0])
    if b is not None and b.kind == "api":
        return ".".join([b.target, *parts[1:]])
    return parts[-1]


class _LinePass:
    def __init__(self, text: str, ctx: Context, budget: Budget) -> None:
        self.lines = text.splitlines(keepends=True)
        self.ctx = ctx
        self.budget = budget
        self.scope = Scope("module", MODULE, None)
        self.program = Program({}, {}, self.scope)
        self.extractor = Extractor(self.program, self.scope, ctx)
        self.events: list[Event] = []
        #: True when every token was read and none was an error: "no calls" is then a fact.
        self.complete = False
        #: True when a budget or the sequence cap stopped the pass before the end.
        self.cut = False

    def _spend(self, tokens: int) -> bool:
        """Charge `tokens` units of work; True when the pass must stop here."""
        self.budget.tokens -= tokens
        if self.budget.tokens < 0 or self.budget.expired():
            self.cut = True
        return self.cut

    def _add(self, events: list[Event]) -> None:
        """Keep `events`, up to `limits.MAX_SEQUENCE_CALLS` in all; past it the pass is cut."""
        room = limits.MAX_SEQUENCE_CALLS - len(self.events)
        if len(events) > room:
            self.cut = True
            del events[max(room, 0) :]
        self.events.extend(events)

    def _source(self, start: int, end: int) -> str:
        return "".join(self.lines[start - 1 : end])

    def _reparse(self, start: int, end: int) -> bool:
        """Analyse one logical line with `ast`; False if it does not parse alone."""
        src = self._source(start, end).strip()
        if not src or len(src) > limits.MAX_REPARSE_LINE_CHARS:
            return False
        tree: ast.Module | None = None
        for candidate in (src, src + " pass") if src.endswith(":") else (src,):
            try:
                tree = ast.parse(candidate)
                break
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                continue
        if tree is None:
            return False
        self.ctx.line_offset = start - 1
        try:
            for stmt in tree.body:
                if isinstance(stmt, ast.Import):
                    for alias in stmt.names:
                        self.scope.bind_import(*plain_import_bindings(alias.name, alias.asname))
                elif isinstance(stmt, ast.ImportFrom):
                    pairs = [(a.name, a.asname) for a in stmt.names]
                    for name, target in import_bindings(stmt.module, stmt.level, pairs):
                        self.scope.bind_import(name, target)
                elif not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    events = straight_line(self.program, [stmt], self.extractor, self.ctx)
                    # The line was parsed alone: its line 1 is `start`.
                    self._add(
                        [
                            Api(event.api, event.line + start - 1)
                            if isinstance(event, Api)
                            else event
                            for event in events
                            if isinstance(event, Api | Payload)
                        ]
                    )
        finally:
            self.ctx.line_offset = 0
        return True

    def run(self, text: str) -> None:
        pending: list[tuple[list[str], int]] = []
        chain: list[str] = []
        prev: tokenize.TokenInfo | None = None
        before_chain: str | None = None
        line_start: int | None = None
        last_row = 1
        exec_statement = False
        count = 0
        errors = 0
        fstrings = 0  # f-string nesting (3.12+ tokenize f-strings into parts)
        readline = io.StringIO(text).readline
        try:
            for tok in tokenize.generate_tokens(readline):
                count += 1
                if count % 4096 == 0 and self._spend(4096):
                    self._flush(pending, line_start or last_row, last_row, reparse=False)
                    return
                ttype, string = tok.type, tok.string
                if ttype == _FSTRING_START:
                    fstrings += 1
                elif ttype == _FSTRING_END:
                    fstrings -= 1
                if (ttype == tokenize.ERRORTOKEN and not string.isspace()) or (
                    ttype == tokenize.OP and string in _NOT_PYTHON and not fstrings
                ):
                    errors += 1
                if ttype == tokenize.ENDMARKER:
                    self.complete = errors == 0
                if ttype in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                    continue
                last_row = tok.start[0]
                if ttype in (tokenize.NEWLINE, tokenize.ENDMARKER):
                    if line_start is not None:
                        self._flush(pending, line_start, tok.start[0])
                        if self.cut:  # the sequence is full
                            return
                    pending, chain, prev, line_start = [], [], None, None
                    continue
                if line_start is None:
                    line_start = tok.start[0]
                    # Python 2 `exec code` statement: the call has no parenthesis.
                    exec_statement = ttype == tokenize.NAME and string == "exec"
                elif exec_statement:
                    exec_statement = False
                    if string != "(":
                        pending.append((["exec"], line_start))
                if ttype == tokenize.NAME:
                    if prev is not None and prev.string == "." and chain:
                        chain.append(string)
                    else:
                        before_chain = prev.string if prev is not None else None
                        chain = [string]
                elif ttype == tokenize.OP and string == "(":
                    if chain and prev is not None and prev.type == tokenize.NAME:
                        full = len(pending) >= limits.MAX_SEQUENCE_CALLS
                        if before_chain not in _DEFINERS and not full:
                            pending.append((chain, tok.start[0]))
                    chain = []
                elif not (ttype == tokenize.OP and string == "."):
                    chain = []
                prev = tok
        except (tokenize.TokenError, IndentationError, SyntaxError):
            # The logical line never ended: its pending calls are re-found by the scan.
            self._regex_scan(line_start if line_start is not None else last_row)

    def _flush(
        self, pending: list[tuple[list[str], int]], start: int, end: int, *, reparse: bool = True
    ) -> None:
        if reparse and pending and self._reparse(start, end):
            return
        if reparse and not pending:
            # Imports and assignments matter even without a call on the line.
            self._reparse(start, end)
            return
        if pending:
            self._bind_imports_textually(self._source(start, end))
        if len(pending) >= limits.MAX_SEQUENCE_CALLS:
            self.cut = True  # the line had more calls than `pending` kept
        found: list[Event] = []
        for parts, line in pending:
            api = _resolve_dotted(self.scope, parts)
            if api is not None:
                found.append(Api(api, line))
        self._add(found)

    def _bind_imports_textually(self, source: str) -> None:
        """Imports on a line `ast` could not take (e.g. `import os; print "x"`)."""
        for m in _IMPORT_RE.finditer(source):
            for item in m.group(1).split(","):
                self.scope.bind_import(*plain_import_bindings(*_split_as(item)))
        for m in _FROM_RE.finditer(source):
            pairs = [_split_as(item) for item in m.group(2).split(",")]
            for name, target in import_bindings(m.group(1), 0, pairs):
                self.scope.bind_import(name, target)

    def _regex_scan(self, from_line: int) -> None:
        self._bind_imports_textually(self._source(from_line, len(self.lines)))
        for offset, line in enumerate(self.lines[from_line - 1 :]):
            if self._spend(1):
                return
            if len(self.events) >= limits.MAX_SEQUENCE_CALLS:
                self.cut = True
                return
            for m in _CALL_RE.finditer(line):
                if self._spend(1):
                    return
                parts = [p.strip() for p in m.group(1).split(".")]
                prefix = line[: m.start()].rstrip()
                if prefix.endswith(("def", "class")):
                    continue
                api = _resolve_dotted(self.scope, parts)
                if api is not None:
                    self.events.append(Api(api, from_line + offset))


def token_events(text: str, ctx: Context, budget: Budget) -> tuple[list[Event], bool, bool]:
    """Calls recovered from text `ast` rejected, in source order.

    The first flag says the whole text tokenized cleanly, so an empty list means
    the text really has no calls (e.g. a Python 2 file of `print` statements);
    the second that a budget stopped the pass early (the result is truncated).
    """
    line_pass = _LinePass(text, ctx, budget)
    line_pass.run(text)
    return line_pass.events, line_pass.complete, line_pass.cut
