"""Canonical sequences: depth- and breadth-first walks of the CFGs and the call graph.

In `cfg+cg` mode each function's CFG is walked (DFS or BFS over blocks) and a
call to a function of the script is inlined where it happens. In `cg` mode
block structure is ignored: DFS inlines callees at the call site in source
order, BFS visits the call graph level by level.

Where a walk has a choice (which successor, which root first) it asks
`priority` (APIEM, from the model) for a score of the first API behind each
option and takes the highest first, so `if c: A else: B` and
`if not c: B else: A` give the same sequence. Without a priority the choice
falls back to source order. Inlining is bounded in depth, never re-enters a
function already on the stack, and the output is capped: a few lines of
mutually calling functions cannot grow a sequence without bound.

Where a walk stops depends only on the script: every event visited is charged
to the script's shared `Budget` (see `budget`), never to the clock, so a busy
machine gives the same sequences as a quiet one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from mphunter_gate.analysis import limits
from mphunter_gate.analysis.budget import Budget
from mphunter_gate.analysis.callgraph import MODULE
from mphunter_gate.analysis.cfg import CFG
from mphunter_gate.analysis.events import Api, Inline, Payload
from mphunter_gate.types import ApiCall

Priority = Callable[[str], float]


class _Stop(Exception):
    """The sequence is full, or the script's walk budget (or the emergency clock) is spent."""


class Walker:
    """Walks the CFGs of one script; one instance per script."""

    def __init__(
        self,
        cfgs: dict[str, CFG],
        *,
        path: str,
        graph_mode: str,
        priority: Priority | None,
        budget: Budget,
        fixed_line: int | None = None,
    ) -> None:
        self.cfgs = cfgs
        self.path = path
        self.graph_mode = graph_mode
        self.priority = priority
        self.budget = budget
        self.fixed_line = fixed_line
        self.truncated = False
        self._first_api: dict[tuple[str, int], str | None] = {}
        self._steps = 0

    # -- public ---------------------------------------------------------------------------

    def sequences(self) -> tuple[tuple[ApiCall, ...], tuple[ApiCall, ...]]:
        """The DFS and the BFS sequence, each starting at module level."""
        return self._run("dfs"), self._run("bfs")

    def flat(self) -> tuple[tuple[ApiCall, ...], bool]:
        """Every call site of every block, unreachable ones included, in source order,
        without inlining; and whether all of them fit in MAX_SEQUENCE_CALLS.

        A walk that inlines callees can grow past its caps on an ordinary large module
        (a parser's hundred mutually calling methods) long before it has visited every
        function: its sequence is then a prefix. This listing is linear in the events
        already extracted, so when it fits, every call of the script was examined even
        though the walk was cut.
        """
        out: list[ApiCall] = []
        line = self.fixed_line
        for cfg in self.cfgs.values():
            for block in cfg.blocks:
                for event in block.events:
                    if isinstance(event, Api):
                        out.append(
                            ApiCall(event.api, self.path, event.line if line is None else line)
                        )
                    elif isinstance(event, Payload):
                        out.extend(event.dfs)
                    if len(out) > limits.MAX_SEQUENCE_CALLS:
                        return tuple(out[: limits.MAX_SEQUENCE_CALLS]), False
        return tuple(out), True

    # -- roots ----------------------------------------------------------------------------

    def _roots(self) -> list[str]:
        """Module first, then functions nothing reaches (payloads hide in those too)."""
        others = [q for q in self.cfgs if q != MODULE]
        if self.priority is not None:
            prio = self.priority
            order = {q: i for i, q in enumerate(others)}

            def key(q: str) -> tuple[float, int]:
                api = self._block_first_api(q, 0, 0)
                return (-prio(api) if api is not None else 0.0, order[q])

            others.sort(key=key)
        return [MODULE, *others]

    def _run(self, order: str) -> tuple[ApiCall, ...]:
        out: list[ApiCall] = []
        done: set[str] = set()
        self._steps = 0
        try:
            for root in self._roots():
                if root in done:
                    continue
                if self.graph_mode == "cg" and order == "bfs":
                    self._cg_bfs(root, out, done)
                else:
                    self._emit(root, order, out, [], done)
        except _Stop:
            self.truncated = True
        return tuple(out)

    # -- emission -------------------------------------------------------------------------

    def _append(self, out: list[ApiCall], api: str, line: int) -> None:
        if len(out) >= limits.MAX_SEQUENCE_CALLS:
            raise _Stop
        if len(out) % 64 == 0 and (
            (len(out) >= limits.MIN_CALLS_LATE and self.budget.walks_late) or self.budget.expired()
        ):
            raise _Stop
        out.append(
            ApiCall(api, self.path, self.fixed_line if self.fixed_line is not None else line)
        )

    def _charge(self) -> None:
        """Charge one visited event to the shared budget; stop at the emergency limit."""
        budget = self.budget
        budget.walk_steps -= 1
        if budget.walk_steps & 255 == 0 and budget.expired():
            raise _Stop

    def _emit(
        self, qualname: str, order: str, out: list[ApiCall], stack: list[str], done: set[str]
    ) -> None:
        cfg = self.cfgs.get(qualname)
        if cfg is None:
            return
        budget = self.budget
        done.add(qualname)
        stack.append(qualname)
        try:
            for block_id in self._block_order(qualname, cfg, order):
                for event in cfg.blocks[block_id].events:
                    # Inlined `_charge` plus the per-walk bounds: this is the hot loop.
                    budget.walk_steps -= 1
                    self._steps += 1
                    if (
                        self._steps > limits.MAX_WALK_STEPS
                        or (self._steps > limits.MAX_WALK_STEPS_LATE and budget.walk_steps < 0)
                        or (budget.walk_steps & 255 == 0 and budget.expired())
                    ):
                        raise _Stop
                    if isinstance(event, Api):
                        self._append(out, event.api, event.line)
                    elif isinstance(event, Inline):
                        if event.target not in stack and len(stack) <= limits.MAX_INLINE_DEPTH:
                            self._emit(event.target, order, out, stack, done)
                    elif isinstance(event, Payload):
                        for call in event.dfs if order == "dfs" else event.bfs:
                            if len(out) >= limits.MAX_SEQUENCE_CALLS:
                                raise _Stop
                            out.append(call)
        finally:
            stack.pop()

    def _cg_bfs(self, root: str, out: list[ApiCall], done: set[str]) -> None:
        """Call-graph BFS: each function's own calls, then its callees', level by level."""
        queue = deque([root])
        done.add(root)
        while queue:
            qualname = queue.popleft()
            cfg = self.cfgs.get(qualname)
            if cfg is None:
                continue
            for block in cfg.blocks:
                for event in block.events:
                    self._charge()
                    if isinstance(event, Api):
                        self._append(out, event.api, event.line)
                    elif isinstance(event, Inline):
                        if event.target not in done:
                            done.add(event.target)
                            queue.append(event.target)
                    else:
                        for call in event.bfs:
                            if len(out) >= limits.MAX_SEQUENCE_CALLS:
                                raise _Stop
                            out.append(call)

    # -- block order ----------------------------------------------------------------------

    def _block_order(self, qualname: str, cfg: CFG, order: str) -> list[int]:
        if self.graph_mode == "cg":
            return list(range(len(cfg.blocks)))
        seen: set[int] = set()
        result: list[int] = []
        if order == "bfs":
            queue = deque([0])
            seen.add(0)
            while queue:
                b = queue.popleft()
                result.append(b)
                for s in self._successors(qualname, cfg, b):
                    if s not in seen:
                        seen.add(s)
                        queue.append(s)
            return result
        stack = [0]
        while stack:
            b = stack.pop()
            if b in seen:
                continue
            seen.add(b)
            result.append(b)
            stack.extend(reversed(self._successors(qualname, cfg, b)))
        return result

    def _successors(self, qualname: str, cfg: CFG, block: int) -> list[int]:
        succ = cfg.blocks[block].succ
        if self.priority is None or len(succ) < 2:
            return succ
        prio = self.priority

        def key(s: int) -> tuple[float, int]:
            api = self._block_first_api(qualname, s, 0)
            return (-prio(api) if api is not None else 0.0, s)

        return sorted(succ, key=key)

    def _block_first_api(self, qualname: str, block: int, depth: int) -> str | None:
        """The first API a walk would meet from this block on (what APIEM ranks it by)."""
        cache_key = (qualname, block)
        if cache_key in self._first_api:
            return self._first_api[cache_key]
        self._first_api[cache_key] = None  # guards cycles
        cfg = self.cfgs.get(qualname)
        found: str | None = None
        if cfg is not None and depth < 8:
            b = cfg.blocks[block]
            for event in b.events:
                if isinstance(event, Api):
                    found = event.api
                elif isinstance(event, Inline):
                    found = self._block_first_api(event.target, 0, depth + 1)
                elif event.dfs:
                    found = event.dfs[0].api
                if found is not None:
                    break
            if found is None and b.succ:
                found = self._block_first_api(qualname, b.succ[0], depth + 1)
        self._first_api[cache_key] = found
        return found
