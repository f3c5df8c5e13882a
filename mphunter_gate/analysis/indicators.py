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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import tomllib

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
    return _lowered(text)[0]


def _lowered(text: str) -> tuple[str, bytes]:
    """`ascii_lower(text)` and its UTF-8 bytes (what `_Scan` deletes all but letters from)."""
    if text.isascii():
        low = text.lower()
        return low, low.encode("ascii")
    data = text.encode("utf-8", "surrogatepass").lower()
    return data.decode("utf-8", "surrogatepass"), data


#: Bytes that are not ASCII lowercase letters, deleted to make `_Scan.letters`.
_NOT_LETTERS = bytes(c for c in range(256) if not ord("a") <= c <= ord("z"))
#: Fewest letters a needle needs to be looked up in `_Scan.letters` first: one
#: or two letters are in almost every text, so the test would only cost.
_MIN_KEY = 3
#: Failed match attempts allowed at anchor occurrences before searching every
#: offset instead (`_TRIES + len(text) // _CHARS_PER_TRY`): an attempt costs about
#: as much as `re` stepping over a hundred characters, and a quote or `>` can be on
#: every line (tuned on the malware and benign corpora; any value gives the same hits).
_TRIES = 8
_CHARS_PER_TRY = 128


@dataclass(frozen=True, slots=True)
class Needle:
    """A string looked for in a text, with its letters (`key`), which rule it out quickly.

    `key` is None when the string has fewer than `_MIN_KEY` letters.
    """

    text: str
    key: bytes | None


def _letters(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").translate(None, _NOT_LETTERS)


def _needle(text: str) -> Needle:
    key = _letters(text)
    return Needle(text, key if len(key) >= _MIN_KEY else None)


@dataclass(frozen=True, slots=True)
class Start:
    """A `required.Anchor` as the search uses it: its text as a `Needle`."""

    needle: Needle
    lo: int
    hi: int


class _Scan:
    """One lowercased text and what is already known about the strings it holds.

    Rules share needles (`http://`) and anchors repeat needles, so each string is
    looked for once per text. Most needles are absent, and finding that out means
    reading the whole text once per needle (some 90 passes on every file). `letters`
    is the text with everything but a-z deleted (one pass in C). Deleting the same
    characters from a needle gives its `key`, and wherever the text holds the
    needle, `letters` holds the key: a key missing from `letters` proves the needle
    missing from the text, and `letters` is far shorter where letters are sparse
    (obfuscated code, number arrays). Deleting characters also joins what was
    apart, so a key found there proves nothing and the needle is then looked for
    in the text itself.
    """

    __slots__ = ("_first", "_keys", "letters", "low")

    def __init__(self, low: str, low_bytes: bytes) -> None:
        self.low = low
        self.letters = low_bytes.translate(None, _NOT_LETTERS)
        self._first: dict[str, int] = {}
        self._keys: dict[bytes, bool] = {}

    def first(self, needle: Needle) -> int:
        """`low.find(needle.text)`, ruled out through `letters` when it can be."""
        at = self._first.get(needle.text)
        if at is None:
            at = -1 if self._ruled_out(needle) else self.low.find(needle.text)
            self._first[needle.text] = at
        return at

    def _ruled_out(self, needle: Needle) -> bool:
        key = needle.key
        return key is not None and not self.has_key(key)

    def has_key(self, key: bytes) -> bool:
        """Whether `letters` holds `key` (if not, no needle with that key is in the text)."""
        has = self._keys.get(key)
        if has is None:
            has = self._keys[key] = key in self.letters
        return has

    def find(self, needle: Needle, start: int) -> int:
        """`low.find(needle.text, start)`, answered from `first` when that suffices."""
        at = self.first(needle)
        if at < 0 or at >= start:
            return at
        return self.low.find(needle.text, start)


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
    #: `needs` as `Needle`s, longest first.
    needles: tuple[Needle, ...] | None = None

    def may_match(self, low: str) -> bool:
        """False only when the lowercased text cannot hold a match: it lacks what one needs."""
        return self._may_match(_Scan(low, low.encode("utf-8", "surrogatepass")))

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
        if sum(low.count(s.needle.text) for s in starts if len(s.needle.text) == 1) > tries:
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
    return tuple(Start(_needle(a.text), a.lo, a.hi) for a in ordered)


def _needles(needs: frozenset[str] | None) -> tuple[Needle, ...] | None:
    """`needs` longest first: `str.find` skips ahead further, and long strings are rarer."""
    if needs is None:
        return None
    return tuple(_needle(s) for s in sorted(needs, key=lambda s: (-len(s), s)))


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
    scan = _Scan(*_lowered(body))
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
