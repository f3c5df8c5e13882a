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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import tomllib

from mphunter_gate.analysis.required import may_match, required
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

    def may_match(self, low: str) -> bool:
        """False only when the lowercased text cannot hold a match: it lacks what one needs."""
        if not may_match(self.needs, low):
            return False
        return self.guard is None or self.guard.search(low) is not None


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
        out.append(Rule(name, pattern, entry["why"], required(pattern), guard))
    return tuple(out)


def names() -> tuple[str, ...]:
    return tuple(r.name for r in rules())


def _clean(s: str) -> str:
    return "".join(c if c.isprintable() else " " for c in s[:_EXCERPT])


def find(text: str, path: str, decoded: Iterable[Decoded] = ()) -> tuple[Indicator, ...]:
    """Every rule that fires on `text` or on a decoded payload, with file and line.

    A rule is searched for only where its required strings occur (`may_match`)
    and its guard matches: most files hold none, and a plain substring test (or
    a regex starting with a literal) is much cheaper than the regex engine trying
    every alternative at every offset.
    """
    body = text[:MAX_SCAN]
    low = ascii_lower(body)
    decoded = tuple(decoded)
    previews = [ascii_lower(d.preview) for d in decoded]
    found: list[Indicator] = []
    for rule in rules():
        hits = 0
        matches = rule.pattern.finditer(low) if rule.may_match(low) else ()
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
