"""Malicious-labelled scripts that are copies of benign ones, left out of training.

A MalRegistry sample is labelled as a whole, but its payload sits in one
file; typosquats ship a popular package's own files beside it (the setup.py,
`utils.py`, `sessions.py` of some release of requests). Labelling those
copies malicious teaches the model that the real package is malware: an
earlier model failed `requests==2.32.3` because a typosquat carried its
`utils.py` (nearest malicious script at distance 0).

A malicious script is a *benign clone* when some benign script's API
tokens are the same, or near enough (difflib ratio >= `MIN_SIMILARITY`,
which catches the drift between releases: the benign corpus holds only a
few releases of each package), AND the malicious copy adds nothing that
could carry a payload: no string indicator the benign script lacks, and no
more calls of any behaviour-category API (process, network, decode, ...)
than the benign script makes. A clone with one injected `os.system(...)`,
decoder or download line is therefore kept. The package's other files keep
their label.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from difflib import SequenceMatcher

from mphunter_gate.analysis.categories import load_rules
from mphunter_gate.model.docs import TrainingDoc

log = logging.getLogger(__name__)

#: Token-sequence similarity from which a script counts as a copy.
MIN_SIMILARITY = 0.95
#: Tokens in at most this many benign scripts are "rare": near-copy
#: candidates are the benign scripts sharing the most rare tokens.
RARE_DF = 50
CANDIDATES = 5
#: difflib is quadratic at worst: longer sequences count only when equal.
MAX_COMPARED = 4000


def _indicators(doc: TrainingDoc) -> frozenset[str]:
    from mphunter_gate.analysis.indicators import find

    if doc.script is None:
        return frozenset()
    return frozenset(i.name for i in find(doc.script.text, doc.script.path))


class _BenignIndex:
    """The benign scripts, findable by exact tokens and by shared rare tokens."""

    def __init__(self, benign: Sequence[TrainingDoc]) -> None:
        self.docs = [d for d in benign if d.tokens]
        self.exact: dict[tuple[str, ...], int] = {}
        df: Counter[str] = Counter()
        for j, d in enumerate(self.docs):
            self.exact.setdefault(d.tokens, j)
            df.update(set(d.tokens))
        self.postings: dict[str, list[int]] = defaultdict(list)
        for j, d in enumerate(self.docs):
            for t in set(d.tokens):
                if df[t] <= RARE_DF:
                    self.postings[t].append(j)
        self._indicators: dict[int, frozenset[str]] = {}
        self._sensitive: dict[int, Counter[str]] = {}

    def candidates(self, tokens: tuple[str, ...]) -> list[int]:
        exact = self.exact.get(tokens)
        shared: Counter[int] = Counter()
        for t in set(tokens):
            shared.update(self.postings.get(t, ()))
        near = [j for j, _ in shared.most_common(CANDIDATES)]
        return [exact, *near] if exact is not None else near

    def sensitive(self, j: int) -> Counter[str]:
        """Behaviour-category calls of benign script j, computed once (it is
        a candidate for many malicious scripts)."""
        if j not in self._sensitive:
            self._sensitive[j] = _sensitive(self.docs[j].tokens)
        return self._sensitive[j]

    def indicators(self, j: int) -> frozenset[str]:
        if j not in self._indicators:
            self._indicators[j] = _indicators(self.docs[j])
        return self._indicators[j]


def _sensitive(tokens: tuple[str, ...]) -> Counter[str]:
    """How often each behaviour-category API (process, network, decode, ...) is called."""
    rules = load_rules()
    return Counter(t for t in tokens if rules.categories_of(t))


def _similar(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if a == b:
        return True
    if max(len(a), len(b)) > MAX_COMPARED:
        return False
    m = SequenceMatcher(None, a, b, autojunk=False)
    return (
        m.real_quick_ratio() >= MIN_SIMILARITY
        and m.quick_ratio() >= MIN_SIMILARITY
        and m.ratio() >= MIN_SIMILARITY
    )


def drop_benign_clones(
    malicious: Sequence[TrainingDoc], benign: Sequence[TrainingDoc]
) -> tuple[list[TrainingDoc], int]:
    """`malicious` without its benign clones (see the module docstring), and how many left."""
    index = _BenignIndex(benign)
    kept = []
    for d in malicious:
        clone = False
        if d.tokens:
            mine = _sensitive(d.tokens)
            for j in index.candidates(d.tokens):
                if not mine - index.sensitive(j) and _similar(index.docs[j].tokens, d.tokens):
                    clone = _indicators(d) <= index.indicators(j)
                    if clone:
                        break
        if not clone:
            kept.append(d)
    dropped = len(malicious) - len(kept)
    log.info("train: %d malicious scripts are copies of benign ones; left out", dropped)
    return kept, dropped
