"""Look-alike names: a dependency named almost like a far more downloaded project.

Typosquats take a popular name and change it a little: one character
(`reqeusts`, `python-dateutils`), a separator (`pythondateutil`), a character
that looks the same (`djang0`, `f1ask`), or the order of its words
(`dateutil-python`). A name close to one of the most downloaded projects
(`data/popular_names.tsv`, with its provenance) while itself far less
downloaded is flagged with the name it resembles.

On its own that is a warning, not a failure: plenty of honest projects have
similar names. It is an input to the scan instead: a look-alike package's
files get extra scrutiny (`gate.Judge.verdict(strict=True)`: a file at or
above the threshold fails wherever it sits, without the payload-behaviour
evidence that modules beyond the calibrated stages otherwise need).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from mphunter_gate.types import HitLevel, PolicyHit

RULE = "lookalike-name"
#: Projects this far up the download ranking are the ones worth imitating.
TARGET_TOP = 1000
#: "Far less downloaded": unranked, or ranked at least this many times lower.
POPULARITY_RATIO = 20
#: Shorter names are one edit from too many others to say anything.
MIN_EDIT_LENGTH = 5

_HOMOGLYPHS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("3", "e"), ("5", "s"))


def canonical(name: str) -> str:
    """PEP 503 normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Resemblance:
    """`name` looks like `target` (download rank `target_rank`) by `how`."""

    name: str
    target: str
    target_rank: int
    how: str  # "one edit", "separator", "homoglyph", "reordering"

    def hit(self) -> PolicyHit:
        return PolicyHit(
            RULE,
            HitLevel.WARNING,
            f"name resembles {self.target} (download rank {self.target_rank}) by {self.how}; "
            "check that this is the project you meant (its files get extra scrutiny)",
        )


@dataclass(frozen=True)
class PopularNames:
    """Download ranks by canonical name (1 = most downloaded)."""

    ranks: dict[str, int]

    @classmethod
    def bundled(cls) -> PopularNames:
        return _bundled()

    @classmethod
    def parse(cls, text: str) -> PopularNames:
        ranks: dict[str, int] = {}
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name, _, rank = line.partition("\t")
            ranks[canonical(name)] = int(rank)
        return cls(ranks)

    @cached_property
    def targets(self) -> tuple[tuple[str, int], ...]:
        """The projects worth imitating, most downloaded first."""
        top = [(n, r) for n, r in self.ranks.items() if r <= TARGET_TOP]
        return tuple(sorted(top, key=lambda nr: (nr[1], nr[0])))

    @cached_property
    def by_length(self) -> dict[int, tuple[tuple[str, int], ...]]:
        """Targets by name length: one edit changes a length by at most one."""
        found: dict[int, list[tuple[str, int]]] = {}
        for target in self.targets:
            found.setdefault(len(target[0]), []).append(target)
        return {k: tuple(v) for k, v in found.items()}


@cache
def _bundled() -> PopularNames:
    text = resources.files("mphunter_gate.data").joinpath("popular_names.tsv").read_text("utf-8")
    return PopularNames.parse(text)


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (insert, delete, substitute, swap neighbours)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _skeleton(name: str) -> str:
    out = name
    for glyph, plain in _HOMOGLYPHS:
        out = out.replace(glyph, plain)
    return out


def how_alike(name: str, target: str) -> str | None:
    """How `name` imitates `target` (both canonical), or None."""
    if name == target:
        return None
    if name.replace("-", "") == target.replace("-", ""):
        return "separator"
    words, target_words = name.split("-"), target.split("-")
    if len(words) > 1 and sorted(words) == sorted(target_words):
        return "reordering"
    if _skeleton(name) == _skeleton(target):
        return "homoglyph"
    if min(len(name), len(target)) >= MIN_EDIT_LENGTH and _one_edit(name, target):
        return "one edit"
    return None


def resembles(name: str, popular: PopularNames | None = None) -> Resemblance | None:
    """The most downloaded project `name` imitates, if it is far less downloaded itself."""
    popular = popular or PopularNames.bundled()
    key = canonical(name)
    own = popular.ranks.get(key)
    near = {len(key) - 1, len(key), len(key) + 1}
    # separators, reordering and homoglyphs keep the letters: compare with every target;
    # one edit only with the targets of a neighbouring length
    for target, rank in popular.targets:
        if own is not None and own < rank * POPULARITY_RATIO:
            continue
        if (
            len(target) not in near
            and sorted(target.replace("-", "")) != sorted(key.replace("-", ""))
            and _skeleton(target) != _skeleton(key)
        ):
            continue
        how = how_alike(key, target)
        if how is not None:
            return Resemblance(key, target, rank, how)
    return None


def check(name: str, popular: PopularNames | None = None) -> PolicyHit | None:
    """The warning for a dependency named like a far more downloaded project."""
    found = resembles(name, popular)
    return found.hit() if found is not None else None
