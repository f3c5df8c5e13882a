"""Strings a regular expression cannot match without: a cheap, exact prefilter.

The indicator rules (`data/indicators.toml`) are alternations that start with
`\\b` or a group, so `re` cannot skip ahead to a likely first character and
tries every alternative at every offset: on a 60 KB obfuscated setup.py the
eleven rules cost more than the rest of the analysis. Most files contain none
of the words a rule is built from, and a plain string search finds out far
faster (`indicators` looks for every rule's strings in one pass).
`required(pattern)` derives, from the pattern's own syntax tree, a set of
strings such that every match contains at least one of them; a text
containing none cannot match, so skipping the search changes no result.

The derivation reads the parse tree of `re`'s own parser (`re._parser`, the
`sre_parse` of Python 3.10), which is internal. It is written to fail safe:
any construct it does not know makes it give up (None: always search), so a
different tree can only cost speed, never a missed match.

Knowing that a text may match still leaves the search: `re` tries each
alternative at every offset of a 1 MB file (30 ms) because the patterns offer
it no literal prefix. `anchors(pattern)` reads from the same tree where a match
can *start*: every match holds one of a few strings at a fixed (or nearly
fixed) distance from its beginning. The offsets at which those strings occur
are then the only places where `re` needs to try a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import Any

try:
    from re import _parser as sre  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_parse as sre

#: Largest set of alternative strings tracked for one part of a pattern.
_MAX_CHOICES = 64
#: Widest range of distances an anchor may lie from a match's start: each distance
#: is one more offset to try per occurrence (`(^|\s)-e` has two).
_MAX_SPREAD = 4

Strings = frozenset[str]


def required(pattern: re.Pattern[str]) -> Strings | None:
    """Strings one of which every match of `pattern` contains; None if none can be named.

    An empty string is never part of the answer (it would admit every text).
    """
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        needed = _needed(list(sre.parse(pattern.pattern, pattern.flags)))
    except (re.error, TypeError, ValueError, AttributeError, RecursionError):
        return None  # a tree of another shape only disables the prefilter
    if needed is None:
        return None
    # A text holding `cmd.exe` holds `cmd`: keep only the strings no other one is part of.
    return frozenset(s for s in needed if not any(t != s and t in s for t in needed))


@dataclass(frozen=True)
class Anchor:
    """`text` begins `lo` to `hi` characters after the start of a match.

    An occurrence of `text` at offset `o` puts the only possible match starts
    at `o - hi` .. `o - lo`; a text position no anchor points at cannot start one.
    """

    text: str
    lo: int
    hi: int


def anchors(pattern: re.Pattern[str]) -> frozenset[Anchor] | None:
    """Anchors one of which every match of `pattern` holds; None if none can be named.

    Like `required`, this reads `re`'s internal parse tree and gives up (None:
    search every offset) on anything it does not know.
    """
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    try:
        tree = sre.parse(pattern.pattern, pattern.flags)
        found = _anchors(list(tree), tree.state)
    except (re.error, TypeError, ValueError, AttributeError, RecursionError, KeyError):
        return None
    return None if found is None else frozenset(found)


def _needed(items: list[tuple[Any, Any]]) -> Strings | None:
    """Best requirement of a sequence: runs of exactly known parts, or one part's own."""
    candidates: list[Strings] = []
    run: Strings | None = frozenset({""})
    for op, av in items:
        exact = _exact(op, av)
        if exact is not None and run is not None:
            joined = _concat(run, exact)
            if joined is not None:
                run = joined
                continue
        _add(candidates, run)
        run = exact
        if exact is None:
            inner = _needed_of(op, av)
            if inner is not None:
                candidates.append(inner)
    _add(candidates, run)
    if not candidates:
        return None
    # The longest shortest string is the rarest test; fewer strings break ties.
    return max(candidates, key=lambda c: (min(map(len, c)), -len(c)))


def _anchors(items: list[tuple[Any, Any]], state: Any) -> set[Anchor] | None:
    """The first run of exactly known parts, offset by the width of what precedes it.

    A part that is neither known exactly nor anchored itself (`\\s`, `(^|\\s)`) is
    stepped over, adding its width to the offset, as long as that width is
    bounded and the offsets stay within `_MAX_SPREAD` of each other.
    """
    lo = hi = 0
    for i, (op, av) in enumerate(items):
        run = _run(items[i:])
        if run and all(run):
            # A text starting with `cmd.exe` starts with `cmd`: the shortest prefixes suffice.
            return {
                Anchor(s, lo, hi) for s in run if not any(t != s and s.startswith(t) for t in run)
            }
        inner = _anchors_of(op, av, state)
        if inner is not None:
            return {Anchor(a.text, a.lo + lo, a.hi + hi) for a in inner}
        width_lo, width_hi = sre.SubPattern(state, [(op, av)]).getwidth()
        lo += width_lo
        hi += width_hi
        if hi - lo > _MAX_SPREAD:
            return None
    return None


def _run(items: list[tuple[Any, Any]]) -> Strings:
    """Every string the longest leading run of exactly known parts can match."""
    out: Strings = frozenset({""})
    for op, av in items:
        part = _exact(op, av)
        joined = None if part is None else _concat(out, part)
        if joined is None:
            break
        out = joined
    return out


def _anchors_of(op: Any, av: Any, state: Any) -> set[Anchor] | None:
    """Anchors of a group, of every alternative of a branch, or of a repeat's first pass."""
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        return None if add_flags or del_flags else _anchors(list(sub), state)
    if op is sre.BRANCH:
        out: set[Anchor] = set()
        for branch in av[1]:
            part = _anchors(list(branch), state)
            if part is None:
                return None
            out |= part
        return out
    if op in _REPEATS:
        low, _high, sub = av
        return _anchors(list(sub), state) if low >= 1 else None
    return None


def _add(candidates: list[Strings], run: Strings | None) -> None:
    if run and all(run):
        candidates.append(run)


def _concat(left: Strings, right: Strings) -> Strings | None:
    if len(left) * len(right) > _MAX_CHOICES:
        return None
    return frozenset(a + b for a, b in product(left, right))


def _exact(op: Any, av: Any) -> Strings | None:
    """Every string this part can match, when that is a small finite set."""
    if op is sre.LITERAL:
        return frozenset({chr(av)})
    if op is sre.IN and all(kind is sre.LITERAL for kind, _ in av):  # `['"]`, not `[^x]`
        return frozenset(chr(c) for _, c in av) if len(av) <= _MAX_CHOICES else None
    if op is sre.AT:  # `\b`, `^`: zero-width, so the strings around it stay adjacent
        return frozenset({""})
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _exact_seq(list(sub))
    if op is sre.BRANCH:  # `re` factors out common prefixes: `e|enc` is `e(|nc)`
        return _union((_exact_seq(list(branch)) for branch in av[1]), empty_ok=True)
    if op in _REPEATS:
        low, high, sub = av
        if (low, high) != (0, 1):
            return None
        once = _exact_seq(list(sub))
        return None if once is None else once | {""}
    return None


def _exact_seq(items: list[tuple[Any, Any]]) -> Strings | None:
    out: Strings | None = frozenset({""})
    for op, av in items:
        part = _exact(op, av)
        if part is None or out is None:
            return None
        out = _concat(out, part)
    return out


def _needed_of(op: Any, av: Any) -> Strings | None:
    """What a part that is not exactly known still needs (a group, branch or repeat)."""
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        return None if add_flags or del_flags else _needed(list(sub))
    if op is sre.BRANCH:
        return _union(_needed(list(branch)) for branch in av[1])
    if op in _REPEATS:
        low, _high, sub = av
        return _needed(list(sub)) if low >= 1 else None
    return None


def _union(parts: Iterable[Strings | None], *, empty_ok: bool = False) -> Strings | None:
    """All alternatives' strings; None if one is unknown (or, for a need, may be empty)."""
    out: set[str] = set()
    for part in parts:
        if not part or not (empty_ok or all(part)):
            return None
        out |= part
    return frozenset(out) if len(out) <= _MAX_CHOICES else None


_REPEATS = tuple(
    getattr(sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(sre, name)
)
