"""One script in, one ScriptAnalysis out: choose the parse path, bound the cost.

The order is: `ast` (when the code part of the text is small enough to parse
within budget), then the tolerant token pass, then an explicit FAILED result
when that pass found no call and could not read the whole text cleanly.
A RecursionError from a very deep tree (the parser accepts more nesting than
our recursive visitors) is treated like a parse failure, so hostile nesting
lands in the token pass rather than crashing the gate. Decoded payloads run
through the same function with `depth + 1`, sharing the work budget.

The result is a function of the input alone: every early stop is a counted
budget (`budget.Budget`), so the same script gives the same sequences on a
busy CI runner and on a quiet laptop. The one exception is the emergency
clock (`limits.EMERGENCY_TIME_S`), which no known input reaches and which
marks the result truncated when it trips.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass

from mphunter_gate.analysis import gcpause, indicators, limits
from mphunter_gate.analysis.budget import Budget
from mphunter_gate.analysis.callgraph import collect
from mphunter_gate.analysis.categories import load_rules
from mphunter_gate.analysis.cfg import CFG, build
from mphunter_gate.analysis.events import Api, Context, Payload
from mphunter_gate.analysis.fallback import token_events
from mphunter_gate.analysis.flows import find_flows
from mphunter_gate.analysis.walk import Priority, Walker
from mphunter_gate.types import (
    ApiCall,
    Decoded,
    Flow,
    ParseMode,
    Script,
    ScriptAnalysis,
    ScriptKind,
)

log = logging.getLogger(__name__)

GRAPH_MODES = ("cfg+cg", "cg")
# A one-line string literal of at least LONG_LITERAL_RUN characters (escapes allowed),
# written as an unrolled loop so the scan stays linear and fast on megabyte literals.
_LONG_LITERAL = re.compile(
    "|".join(
        q + r"(?=[^" + q + r"\n]{" + str(limits.LONG_LITERAL_RUN) + r"})"
        r"[^" + q + r"\\\n]*(?:\\.[^" + q + r"\\\n]*)*" + q
        for q in ("'", '"')
    )
)
_PARSE_ERRORS = (SyntaxError, ValueError, MemoryError, RecursionError, UnicodeError)


@dataclass(frozen=True)
class Options:
    graph_mode: str
    priority: Priority | None
    max_decode_depth: int
    #: Shared by the script and every payload decoded from it (the one mutable part).
    budget: Budget
    #: Data flows of the script and of its decoded payloads, collected as they are parsed.
    flows: list[Flow]


@dataclass(frozen=True)
class _Result:
    parse: ParseMode
    sequences: tuple[tuple[ApiCall, ...], ...]
    error: str | None = None
    truncated: bool = False


def _code_size(text: str) -> int:
    """Length of the text without long string literals (big literals parse fast)."""
    if len(text) <= limits.MAX_AST_CODE_CHARS:
        return len(text)
    return len(_LONG_LITERAL.sub("''", text))


def _may_flow(*sequences: tuple[ApiCall, ...]) -> bool:
    """Whether the calls could make any flow `[flows]` asks about: a sink's category
    is called (a source may be a value, `os.environ`, that no walk lists). Most files
    call none, and skip the pass."""
    rules = load_rules()
    cats: set[str] = set()
    for seq in sequences:
        for call in seq:
            cats.update(rules.categories_of(call.api))
    return any(sink in cats for _, sink in rules.flows)


def _sanitize(text: str) -> str:
    """Lone surrogates (from lenient decoding of non-UTF-8 bytes) break `ast.parse`."""
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def _parse(text: str) -> tuple[ast.Module | None, str | None]:
    if _code_size(text) > limits.MAX_AST_CODE_CHARS:
        return None, f"too large for ast ({len(text)} chars)"
    try:
        return ast.parse(text), None
    except UnicodeEncodeError:
        text = _sanitize(text)
    except _PARSE_ERRORS as exc:
        return None, _describe(exc)
    try:
        return ast.parse(text), None
    except _PARSE_ERRORS as exc:
        return None, _describe(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    if isinstance(exc, RecursionError | MemoryError):
        return f"{type(exc).__name__}: nesting too deep"
    return f"{type(exc).__name__}: {exc}"


def analyse_text(
    text: str,
    path: str,
    opts: Options,
    *,
    depth: int,
    decoded: list[Decoded],
    fixed_line: int | None,
) -> _Result:
    """Analyse source text (a file or a decoded payload) into its canonical sequences."""
    text = text[: limits.MAX_TEXT_CHARS]
    # A payload left unanalysed (too deep, or past the payload budget) or whose own
    # analysis was cut makes this text's analysis cut too.
    payload_cut = False

    def payload(code: str, line: int) -> Payload | None:
        nonlocal payload_cut
        if depth >= opts.max_decode_depth or not opts.budget.take_payload(len(code)):
            payload_cut = True
            return None
        sub = analyse_text(code, path, opts, depth=depth + 1, decoded=decoded, fixed_line=line)
        payload_cut = payload_cut or sub.truncated
        if sub.parse is ParseMode.FAILED or not sub.sequences:
            return None
        return Payload(sub.sequences[0], sub.sequences[-1])

    tree, error = _parse(text)
    if tree is not None:
        ctx = Context(path, payload, decoded, fixed_line, budget=opts.budget)
        mark = len(decoded)
        flow_mark = len(opts.flows)
        try:
            program = collect(tree, text)
            cfgs: dict[str, CFG] = {q: build(program, f, ctx) for q, f in program.functions.items()}
            walker = Walker(
                cfgs,
                path=path,
                graph_mode=opts.graph_mode,
                priority=opts.priority,
                budget=opts.budget,
                fixed_line=fixed_line,
            )
            dfs, bfs = walker.sequences()
            if _may_flow(dfs, bfs):
                flows, flow_cut = find_flows(tree, path, load_rules(), fixed_line=fixed_line)
                opts.flows.extend(flows)
                payload_cut = payload_cut or flow_cut
            if not walker.truncated:
                return _Result(ParseMode.AST, (dfs, bfs), truncated=payload_cut)
            # The walks are prefixes; the flat listing says whether every call was seen.
            flat, complete = walker.flat()
            if not complete:
                log.info("%s: sequence truncated (size or work budget)", path)
            return _Result(ParseMode.AST, (dfs, bfs, flat), truncated=not complete or payload_cut)
        except RecursionError:
            del decoded[mark:]
            del opts.flows[flow_mark:]
            payload_cut = False  # the token pass analyses the payloads again
            error = "RecursionError: tree too deep for the call-graph pass"
    ctx = Context(path, payload, decoded, fixed_line, budget=opts.budget)
    events, complete, cut = token_events(text, ctx, opts.budget)
    calls: list[ApiCall] = []
    bfs_calls: list[ApiCall] = []
    for event in events:
        if len(calls) > limits.MAX_SEQUENCE_CALLS:
            break
        if isinstance(event, Api):
            call = ApiCall(event.api, path, fixed_line if fixed_line is not None else event.line)
            calls.append(call)
            bfs_calls.append(call)
        elif isinstance(event, Payload):
            calls.extend(event.dfs)
            bfs_calls.extend(event.bfs)
    # Inlined payloads can take the sequence past the cap the walks keep to.
    if max(len(calls), len(bfs_calls)) > limits.MAX_SEQUENCE_CALLS:
        cut = True
        del calls[limits.MAX_SEQUENCE_CALLS :]
        del bfs_calls[limits.MAX_SEQUENCE_CALLS :]
    if not calls and not complete:
        return _Result(
            ParseMode.FAILED,
            (),
            f"{error}; the tolerant pass found no calls",
            truncated=cut or payload_cut,
        )
    log.info("%s: parsed with the tolerant token pass (%s)", path, error)
    if cut:
        log.info("%s: token pass stopped early (size or work budget)", path)
    return _Result(ParseMode.TOKENS, (tuple(calls), tuple(bfs_calls)), truncated=cut or payload_cut)


def pth_code(text: str) -> str:
    """The lines of a .pth file that `site` executes (those starting with `import`).

    Every other line is a path, not code; it is blanked so line numbers stay true.
    """
    lines = text[: limits.MAX_TEXT_CHARS].split("\n")
    return "\n".join(ln if ln.startswith(("import ", "import\t")) else "" for ln in lines)


def _dedupe(decoded: list[Decoded]) -> tuple[Decoded, ...]:
    seen: dict[tuple[int, str, str], Decoded] = {}
    for d in decoded:
        seen.setdefault((d.line, d.method, d.preview), d)
    return tuple(seen.values())


def _first_flows(flows: list[Flow]) -> tuple[Flow, ...]:
    """One flow per (source, sink): the first met (outer script before its payloads)."""
    seen: dict[tuple[str, str], Flow] = {}
    for f in flows:
        seen.setdefault((f.source, f.sink), f)
    return tuple(seen.values())


def analyse(
    script: Script,
    *,
    graph_mode: str = "cfg+cg",
    priority: Priority | None = None,
    max_decode_depth: int = 3,
) -> ScriptAnalysis:
    """Canonical API-call sequences of one install/import-time script, never running it.

    Returns `sequences == (dfs, bfs)` (both walks start at module level, then
    functions nothing calls). `priority` (the APIEM hook) is called with full
    API names (`subprocess.Popen`; shorten with `canonical.shorten` to look up
    a token) and the highest-scoring option is walked first; None means source
    order. `parse` says which path produced the result; FAILED carries `error`.
    """
    if graph_mode not in GRAPH_MODES:
        raise ValueError(f"graph_mode must be one of {GRAPH_MODES}, not {graph_mode!r}")
    opts = Options(graph_mode, priority, max_decode_depth, Budget(), [])
    decoded: list[Decoded] = []
    text = pth_code(script.text) if script.kind is ScriptKind.PTH else script.text
    try:
        with gcpause.paused():  # the tree and events are acyclic: see gcpause
            result = analyse_text(
                text, script.path, opts, depth=0, decoded=decoded, fixed_line=None
            )
    except RecursionError:
        result = _Result(ParseMode.FAILED, (), "RecursionError: input nested too deeply")
    if opts.budget.eval_cut:
        log.info("%s: static evaluation stopped at its work budget", script.path)
    if opts.budget.emergency:
        log.warning(
            "%s: analysis stopped at the emergency time limit (%.0f s); "
            "the result depends on machine load",
            script.path,
            limits.EMERGENCY_TIME_S,
        )
    found = _dedupe(decoded)
    return ScriptAnalysis(
        path=script.path,
        kind=script.kind,
        parse=result.parse,
        sequences=result.sequences,
        decoded=found,
        error=result.error,
        indicators=indicators.find(text, script.path, found),
        truncated=(
            result.truncated
            or opts.budget.emergency
            or opts.budget.eval_cut
            or len(text) > limits.MAX_TEXT_CHARS  # analyse_text read only a prefix
        ),
        stage=script.stage,
        flows=_first_flows(opts.flows),
    )
