"""String indicators: the commands, hosts and paths a script's text names.

API sequences say how a script acts; the strings it hands those APIs often
say what it does. A benign setup.py runs `git describe` through subprocess
just as a payload runs a hidden PowerShell; only the text differs. The
patterns are data (`data/indicators.toml`), each one a behaviour, never a
campaign. The scan is bounded (MAX_SCAN characters, a few hits per rule)
and covers statically decoded payloads as well, so base64 does not hide a
command from it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import ahocorasick

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from mphunter_gate.analysis.required import Anchor, anchors, required
from mphunter_gate.types import Decoded, Indicator

#: Characters of a script scanned; payloads live near the top, and a cap
#: keeps a 5 MB file from costing more than a few milliseconds per rule.
MAX_SCAN = 1_000_000
MAX_HITS_PER_RULE = 3
_EXCERPT = 80


def ascii_lower(text: str) -> str:
    """`text` with only A-Z lowercased, so every offset stays the same.

    Rules match ASCII-lowercased text instead of using re.IGNORECASE (three
    times faster), and lowering only A-Z keeps every line number and excerpt
    true to the original (`str.lower` would turn the Kelvin sign into `k` and
    `İ` into two characters). `str.translate` with a table did this but costs
    more than several rules together on a large file; `bytes.lower` is the same
    mapping (it only touches A-Z), and in UTF-8 those bytes never occur inside
    a multi-byte character, so the round trip is exact ('surrogatepass' keeps
    the lone surrogates of leniently decoded files).
    """
    if text.isascii():
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


#: Failed match attempts allowed at anchor occurrences before searching every
#: offset instead (`_TRIES + len(text) // _CHARS_PER_TRY`): an attempt costs about
#: as much as `re` stepping over a hundred characters, and a quote or `>` can be on
#: every line (tuned on the malware and benign corpora; any value gives the same hits).
_TRIES = 8
_CHARS_PER_TRY = 128


@dataclass(frozen=True, slots=True)
class Start:
    """A `required.Anchor` as the search uses it."""

    needle: str
    lo: int
    hi: int


class _Scan:
    """One lowercased text and where each needle of the rules first occurs in it.

    Rules share needles (`http://`) and anchors repeat needles, and most needles are
    absent, so looking for each one with `str.find` read the whole text once per
    needle: some 100 passes on every file, the largest cost of the scan on ordinary
    files and 30 ms on a 1 MB one. One pass of an Aho-Corasick automaton over all of
    them (`_automaton`) finds every occurrence; the first of each is kept. One-character
    needles (quotes) are everywhere and would flood that pass: those are found with
    `str.find`, which stops at once.
    """

    __slots__ = ("_first", "low")

    def __init__(self, low: str) -> None:
        self.low = low
        first: dict[str, int] = {}
        for end, needle in _automaton().iter(low):
            if needle not in first:
                first[needle] = end - len(needle) + 1
        self._first = first

    def first(self, needle: str) -> int:
        """`low.find(needle)`."""
        at = self._first.get(needle)
        if at is None:
            at = self.low.find(needle) if needle not in _automaton() else -1
            self._first[needle] = at
        return at

    def find(self, needle: str, start: int) -> int:
        """`low.find(needle, start)`, answered from `first` when that suffices."""
        at = self.first(needle)
        if at < 0 or at >= start:
            return at
        return self.low.find(needle, start)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    why: str
    #: Strings one of which every match contains (None: always search); see `required`.
    needs: frozenset[str] | None = None
    #: A cheaper regex every match contains a match of (the rule's `guard` in the TOML),
    #: for rules whose required strings are too common to skip any text.
    guard: re.Pattern[str] | None = None
    #: Where matches can start (None: at any offset); see `required.anchors`.
    starts: tuple[Start, ...] | None = None
    #: `needs`, longest first.
    needles: tuple[str, ...] | None = None

    def may_match(self, low: str) -> bool:
        """False only when the lowercased text cannot hold a match: it lacks what one needs."""
        return self._may_match(_Scan(low))

    def _may_match(self, scan: _Scan) -> bool:
        if self.needles is not None:
            for needle in self.needles:  # a loop, not any(): this runs 94 times per file
                if scan.first(needle) >= 0:
                    break
            else:
                return False
        return self.guard is None or self.guard.search(scan.low) is not None

    def _matches(self, scan: _Scan) -> Iterator[re.Match[str]]:
        """`pattern.finditer(scan.low)`, trying a match only where an anchor points.

        The same matches in the same order: `re` finds the leftmost match, and no
        offset before the next one an anchor points at can start one; at an offset
        where one can, `pattern.match` gives exactly the match a search reaches there.
        """
        low = scan.low
        if self.starts is None:
            yield from self.pattern.finditer(low)
            return
        starts = self.starts
        tries = _TRIES + len(low) // _CHARS_PER_TRY
        if sum(low.count(s.needle) for s in starts if len(s.needle) == 1) > tries:
            yield from self.pattern.finditer(low)  # a quote or `>` on every line
            return
        nexts = [self._next(scan, a, 0) for a in starts]
        pos = 0
        while True:
            start = -1
            for i, at in enumerate(nexts):
                if 0 <= at < pos:
                    at = nexts[i] = self._next(scan, starts[i], pos)
                if at >= 0 and (start < 0 or at < start):
                    start = at
            if start < 0:
                return
            if tries <= 0:  # anchors everywhere: `re`'s own scan is cheaper from here
                yield from self.pattern.finditer(low, pos)
                return
            m = self.pattern.match(low, start)
            if m is None:
                tries -= 1
                pos = start + 1
            else:
                yield m
                pos = m.end()  # > start: a match holds its anchor's text

    @staticmethod
    def _next(scan: _Scan, start: Start, pos: int) -> int:
        """The first offset at or after `pos` where `start` allows a match to start (-1: none)."""
        at = scan.find(start.needle, pos + start.lo)
        return -1 if at < 0 else max(pos, at - start.hi)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The packaged rules, in file order."""
    text = resources.files("mphunter_gate.data").joinpath("indicators.toml").read_text()
    doc = tomllib.loads(text)
    for name, entry in doc.items():
        for key in ("pattern", "guard"):
            if re.search("[A-Z]", re.sub(r"\\.|[A-Z]-[A-Z]", "", entry.get(key, ""))):
                raise ValueError(f"indicators.toml: [{name}] {key} must be written in lowercase")
    out: list[Rule] = []
    for name, entry in doc.items():
        pattern = re.compile(entry["pattern"])
        guard = re.compile(entry["guard"]) if "guard" in entry else None
        needs = required(pattern)
        out.append(
            Rule(
                name,
                pattern,
                entry["why"],
                needs,
                guard,
                _starts(anchors(pattern)),
                _needles(needs),
            )
        )
    return tuple(out)


def _starts(found: frozenset[Anchor] | None) -> tuple[Start, ...] | None:
    if found is None:
        return None
    ordered = sorted(found, key=lambda a: (-len(a.text), a.text, a.lo))
    return tuple(Start(a.text, a.lo, a.hi) for a in ordered)


def _needles(needs: frozenset[str] | None) -> tuple[str, ...] | None:
    """`needs` longest first: long strings are rarer, so the loop over them stops sooner."""
    if needs is None:
        return None
    return tuple(sorted(needs, key=lambda s: (-len(s), s)))


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    """Every needle of two or more characters of the rules (`needs` and anchors)."""
    automaton = ahocorasick.Automaton()
    for rule in rules():
        for needle in (*(rule.needles or ()), *(s.needle for s in rule.starts or ())):
            if len(needle) > 1:
                automaton.add_word(needle, needle)
    automaton.make_automaton()
    return automaton


def names() -> tuple[str, ...]:
    return tuple(r.name for r in rules())


def _clean(s: str) -> str:
    return "".join(c if c.isprintable() else " " for c in s[:_EXCERPT])


def find(text: str, path: str, decoded: Iterable[Decoded] = ()) -> tuple[Indicator, ...]:
    """Every rule that fires on `text` or on a decoded payload, with file and line.

    A rule is searched for only where its required strings occur (`may_match`)
    and its guard matches: most files hold none, and a plain substring test (or
    a regex starting with a literal) is much cheaper than the regex engine trying
    every alternative at every offset. Where they do occur, a match is tried only
    at the offsets the rule's anchors point at (`Rule._matches`). Both give exactly
    what searching the whole text would.
    """
    body = text[:MAX_SCAN]
    scan = _Scan(ascii_lower(body))
    decoded = tuple(decoded)
    previews = [ascii_lower(d.preview) for d in decoded]
    found: list[Indicator] = []
    for rule in rules():
        hits = 0
        matches = rule._matches(scan) if rule._may_match(scan) else iter(())
        for m in matches:
            line = body.count("\n", 0, m.start()) + 1
            found.append(Indicator(rule.name, path, line, _clean(body[m.start() : m.end()])))
            hits += 1
            if hits >= MAX_HITS_PER_RULE:
                break
        for d, preview in zip(decoded, previews, strict=True):
            if hits >= MAX_HITS_PER_RULE:
                break
            hit = rule.pattern.search(preview)
            if hit:
                found.append(
                    Indicator(rule.name, d.file, d.line, _clean(d.preview[hit.start() : hit.end()]))
                )
                hits += 1
    return tuple(found)
