"""Strings a regular expression cannot match without: a cheap, exact prefilter.

The indicator rules (`data/indicators.toml`) are alternations that start with
`\\b` or a group, so `re` cannot skip ahead to a likely first character and
tries every alternative at every offset: on a 60 KB obfuscated setup.py the
eleven rules cost more than the rest of the analysis. Most files contain none
of the words a rule is built from, and `str.__contains__` finds out far
faster. `required(pattern)` derives, from the pattern's own syntax tree, a
set of strings such that every match contains at least one of them; a text
containing none cannot match, so skipping the search changes no result.

The derivation reads the parse tree of `re`'s own parser (`re._parser`, the
`sre_parse` of Python 3.10), which is internal. It is written to fail safe:
any construct it does not know makes it give up (None: always search), so a
different tree can only cost speed, never a missed match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import product
from typing import Any

try:
    from re import _parser as sre  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_parse as sre

#: Largest set of alternative strings tracked for one part of a pattern.
_MAX_CHOICES = 64

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


def may_match(needed: Strings | None, text: str) -> bool:
    """False only when `text` contains none of the strings a match needs."""
    return needed is None or any(s in text for s in needed)


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
