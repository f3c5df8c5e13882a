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

from mphunter_gate.types import Decoded, Indicator

#: Characters of a script scanned; payloads live near the top, and a cap
#: keeps a 5 MB file from costing more than a few milliseconds per rule.
MAX_SCAN = 1_000_000
MAX_HITS_PER_RULE = 3
_EXCERPT = 80
#: Rules match ASCII-lowercased text instead of using re.IGNORECASE: three
#: times faster, and lowering only A-Z keeps every offset (and so every
#: line number and excerpt) the same as in the original text.
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    why: str


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The packaged rules, in file order."""
    text = resources.files("mphunter_gate.data").joinpath("indicators.toml").read_text()
    doc = tomllib.loads(text)
    for name, entry in doc.items():
        if re.search("[A-Z]", re.sub(r"\\.|[A-Z]-[A-Z]", "", entry["pattern"])):
            raise ValueError(f"indicators.toml: [{name}] must be written in lowercase")
    return tuple(
        Rule(name, re.compile(entry["pattern"]), entry["why"]) for name, entry in doc.items()
    )


def names() -> tuple[str, ...]:
    return tuple(r.name for r in rules())


def _clean(s: str) -> str:
    return "".join(c if c.isprintable() else " " for c in s[:_EXCERPT])


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def find(text: str, path: str, decoded: Iterable[Decoded] = ()) -> tuple[Indicator, ...]:
    """Every rule that fires on `text` or on a decoded payload, with file and line."""
    from bisect import bisect_right

    body = text[:MAX_SCAN]
    low = body.translate(_LOWER)
    decoded = tuple(decoded)
    previews = [d.preview.translate(_LOWER) for d in decoded]
    starts = _line_starts(body)
    found: list[Indicator] = []
    for rule in rules():
        hits = 0
        for m in rule.pattern.finditer(low):
            line = bisect_right(starts, m.start())
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
