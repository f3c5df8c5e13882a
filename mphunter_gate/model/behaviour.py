"""Behaviour features: what a script does at install or import time, as numbers.

The embedding side of MPHunter (APIEM, CCEM, HDBSCAN, RScore) says how
*unusual* a script's API sequence is. Measurement says unusual is not
enough, and that what carries over to malware families not seen yet is
behaviour: install-time hooks, decoded payloads, and network plus process
plus file access in code that runs at install or import. This module maps
one `ScriptAnalysis` to a fixed, named feature vector describing exactly
that, for the combiner (`combine.py`) to weigh next to RScore.

Which API belongs to which behaviour is data (`data/behaviours.toml`), so
it can be reviewed and extended without touching code. The layout is:

- per category `c` (in file order): `c` (0/1 present) and `c:n`
  (log1p of the number of distinct call sites);
- per combination `a+b` from the file: 0/1 both present;
- when the code runs: `install:<c>` / `import:<c>` for process, network,
  dynamic_code and decode, where install means setup.py, an in-tree build
  backend or a .pth file, and import means a package `__init__.py` or a
  module it imports (by file kind, the layout older models were fitted on);
- the stage the selection gave the file (`select/files.py`): `stage:<s>`
  one-hot, and `at:<s>:<c>` for the same four categories, because the same
  network call means one thing in a module the victim may never call and
  another in a module every interpreter start or every import runs;
- decoded payloads (`ScriptAnalysis.decoded`): `decoded` (a decoder
  recovered something), `decoded:code` (it looks like Python source),
  `decoded:url`, `decoded:layers` (log1p of nested decoders, e.g.
  base64+zlib = 2), `decoded:calls` (log1p of calls found inside a
  decoded payload), `decoded:literal` (exec of a plain string literal);
- the file kind one-hot (`kind:setup.py`, ...), `parse:tokens` (the
  tolerant fallback parsed it), and size/mix: `calls:n`, `apis:n`,
  `categories:n` (distinct categories / 4) and `sensitive:share` (share of
  call sites in any category);
- string indicators (`analysis/indicators.py`, `data/indicators.toml`):
  `str:<rule>` (0/1) per rule and `str:n` (log1p of distinct rules fired),
  since the command text is often all that separates a payload's
  `subprocess.Popen` from a benign `git describe`;
- data flows (`analysis/flows.py`, `[flows]` in the same file):
  `flow:<source>-><sink>` (0/1), e.g. the whole environment reaching a
  request, a download reaching `exec`: where the data goes, which API
  presence alone cannot tell apart from an API client.

Nothing here names a campaign, a URL or a package: features describe
behaviour only, so a new family that does the same things scores the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from mphunter_gate.analysis.categories import Rules, load_rules
from mphunter_gate.analysis.indicators import names as indicator_names
from mphunter_gate.types import (
    KIND_STAGE,
    ApiCall,
    ParseMode,
    ScriptAnalysis,
    ScriptKind,
    Stage,
)

#: Categories that also get an install-time and an import-time feature.
TIMED = ("process", "network", "dynamic_code", "decode")
INSTALL_KINDS = (ScriptKind.SETUP, ScriptKind.BACKEND, ScriptKind.PTH)
IMPORT_KINDS = (ScriptKind.INIT, ScriptKind.MODULE)
#: Decoder methods that recover hidden data; "literal" (a plain string
#: handed to exec) and "reverse" are counted separately or not at all.
_CODE_HINT = re.compile(r"\b(import |exec\(|eval\(|def |__import__|subprocess|os\.system)")
_URL_HINT = re.compile(r"https?://|ftp://|\bwss?://", re.I)


def feature_names(rules: Rules | None = None) -> tuple[str, ...]:
    """The layout of `features(...)`; recorded in the manifest."""
    r = rules if rules is not None else load_rules()
    names: list[str] = []
    for cat in r.categories:
        names += [cat, f"{cat}:n"]
    names += [f"{a}+{b}" for a, b in r.pairs]
    for when in ("install", "import"):
        names += [f"{when}:{c}" for c in TIMED if c in r.categories]
    names += [f"stage:{s.value}" for s in Stage]
    names += [f"at:{s.value}:{c}" for s in Stage for c in TIMED if c in r.categories]
    names += [
        "decoded",
        "decoded:code",
        "decoded:url",
        "decoded:layers",
        "decoded:calls",
        "decoded:literal",
    ]
    names += [f"kind:{k.value}" for k in ScriptKind]
    names += ["parse:tokens", "calls:n", "apis:n", "categories:n", "sensitive:share"]
    names += [f"str:{n}" for n in indicator_names()] + ["str:n"]
    names += [f"flow:{a}->{b}" for a, b in r.flows]
    return tuple(names)


@dataclass(frozen=True)
class Behaviour:
    """One script's behaviour vector, and the behaviours a report should name."""

    values: tuple[float, ...]
    fired: tuple[str, ...]  # categories, combinations and decoded flags that are set

    @property
    def active(self) -> bool:
        """False for a script with no API call and no decoded payload at all."""
        return is_active(self.values)


@lru_cache(maxsize=1)
def _activity_columns() -> tuple[int, ...]:
    names = feature_names()
    return tuple(names.index(n) for n in ("calls:n", "decoded", "decoded:literal"))


def is_active(values: Sequence[float]) -> bool:
    """Whether a behaviour vector (packaged layout) shows any call or payload."""
    if not values:
        return False
    return any(values[i] > 0 for i in _activity_columns())


def _layers(method: str) -> int:
    parts = [m for m in method.split("+") if m and m not in ("literal", "reverse")]
    return len(parts)


def behaviour(analysis: ScriptAnalysis, rules: Rules | None = None) -> Behaviour:
    """The feature vector of one analysed script (layout: `feature_names`)."""
    r = rules if rules is not None else load_rules()
    calls = analysis.calls if analysis.parse is not ParseMode.FAILED else ()
    counts = dict.fromkeys(r.categories, 0)
    sensitive = 0
    for call in calls:
        cats = r.categories_of(call.api)
        for c in cats:
            counts[c] += 1
        if cats:
            sensitive += 1
    present = {c for c, n in counts.items() if n}
    values: list[float] = []
    fired: list[str] = []
    for cat in r.categories:
        values += [1.0 if cat in present else 0.0, math.log1p(counts[cat])]
        if cat in present:
            fired.append(cat)
    for a, b in r.pairs:
        both = a in present and b in present
        values.append(1.0 if both else 0.0)
        if both:
            fired.append(f"{a}+{b}")
    for kinds in (INSTALL_KINDS, IMPORT_KINDS):
        for c in TIMED:
            if c in r.categories:
                values.append(1.0 if analysis.kind in kinds and c in present else 0.0)
    stage = stage_of(analysis)
    values += [1.0 if stage is s else 0.0 for s in Stage]
    for s in Stage:
        values += [1.0 if stage is s and c in present else 0.0 for c in TIMED if c in r.categories]

    decoded = [d for d in analysis.decoded if _layers(d.method) > 0]
    literal = [d for d in analysis.decoded if d.method == "literal"]
    code = any(_CODE_HINT.search(d.preview) for d in analysis.decoded)
    url = any(_URL_HINT.search(d.preview) for d in analysis.decoded)
    layers = max((_layers(d.method) for d in decoded), default=0)
    payload_lines = {(d.file, d.line) for d in analysis.decoded}
    in_payload = sum(1 for c in calls if (c.file, c.line) in payload_lines)
    values += [
        1.0 if decoded else 0.0,
        1.0 if code else 0.0,
        1.0 if url else 0.0,
        math.log1p(layers),
        math.log1p(in_payload),
        1.0 if literal else 0.0,
    ]
    for flag, on in (("decoded", bool(decoded)), ("decoded:code", code), ("decoded:url", url)):
        if on:
            fired.append(flag)
    values += [1.0 if analysis.kind is k else 0.0 for k in ScriptKind]
    n_apis = len({c.api for c in calls})
    values += [
        1.0 if analysis.parse is ParseMode.TOKENS else 0.0,
        math.log1p(len(calls)),
        math.log1p(n_apis),
        len(present - {"install_hook"}) / 4.0,
        sensitive / len(calls) if calls else 0.0,
    ]
    strings = {i.name for i in analysis.indicators}
    values += [1.0 if n in strings else 0.0 for n in indicator_names()]
    values.append(math.log1p(len(strings)))
    fired += [f"str:{n}" for n in indicator_names() if n in strings]
    flows = {(f.source, f.sink) for f in analysis.flows}
    for a, b in r.flows:
        values.append(1.0 if (a, b) in flows else 0.0)
        if (a, b) in flows:
            fired.append(f"flow:{a}->{b}")
    return Behaviour(values=tuple(values), fired=tuple(fired))


def stage_of(analysis: ScriptAnalysis) -> Stage:
    """The stage the selection gave the file, else the one its kind runs at (analyses
    made before stages existed, hand-built training documents)."""
    return analysis.stage or KIND_STAGE[analysis.kind.value]


def token_analysis(path: str, tokens: Sequence[str]) -> ScriptAnalysis:
    """A stand-in analysis for a document known only by its token list (hand-
    built training documents): one sequence, one call per token, the kind
    guessed from the file name. Real scripts always go through `analyse`."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    kind = {
        "setup.py": ScriptKind.SETUP,
        "__init__.py": ScriptKind.INIT,
    }.get(base, ScriptKind.PTH if base.endswith(".pth") else ScriptKind.MODULE)
    calls = tuple(ApiCall(api=t, file=path, line=i + 1) for i, t in enumerate(tokens))
    return ScriptAnalysis(path=path, kind=kind, parse=ParseMode.AST, sequences=(calls,))
