"""Which behaviour category a resolved API name falls in (`data/behaviours.toml`).

The analysis stage needs this to name the sources and sinks of data flows
(`flows.py`) and the model stage to build its behaviour features
(`model/behaviour.py`); both read the one reviewed data file through here,
so a category means the same thing on both sides.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


@dataclass(frozen=True, eq=False)
class Rules:
    """The category -> API knowledge loaded from behaviours.toml.

    Compared and hashed by identity: there is one per process in practice,
    and `_categorise` caches per (rules, api).
    """

    categories: tuple[str, ...]
    descriptions: dict[str, str]
    exact: dict[str, frozenset[str]]  # category -> exact names
    prefixes: dict[str, tuple[str, ...]]  # category -> "a.b." prefixes
    suffixes: dict[str, frozenset[str]]  # category -> last parts
    dotted_suffixes: dict[str, tuple[str, ...]]  # category -> "install.run" tails
    globs: dict[str, tuple[tuple[str, str], ...]]  # category -> ("base64.", "decode")
    pairs: tuple[tuple[str, str], ...]
    #: Source -> sink category pairs whose data flow is a feature (`[flows] pairs`).
    flows: tuple[tuple[str, str], ...] = ()
    #: APIs that name a whole mapping of secrets (`os.environ`): used whole rather
    #: than indexed by one key, they are the source `<category>:all`.
    whole: frozenset[str] = frozenset()

    def categories_of(self, api: str) -> tuple[str, ...]:
        """The categories one full API name belongs to (possibly several)."""
        return _categorise(self, api)


@lru_cache(maxsize=200_000)
def _categorise(rules: Rules, api: str) -> tuple[str, ...]:
    last = api.rsplit(".", 1)[-1]
    out = []
    for cat in rules.categories:
        if (
            api in rules.exact[cat]
            or last in rules.suffixes[cat]
            or any(api == t or api.endswith("." + t) for t in rules.dotted_suffixes[cat])
            or any(api.startswith(p) for p in rules.prefixes[cat])
            or any(
                api.startswith(h) and api.endswith(t) and len(api) >= len(h) + len(t)
                for h, t in rules.globs[cat]
            )
        ):
            out.append(cat)
    return tuple(out)


@lru_cache(maxsize=65536)
def categories_of(api: str) -> tuple[str, ...]:
    """The behaviour categories (packaged rules) one API falls in; () for plain code."""
    return _categorise(load_rules(), api)


def parse_rules(text: str) -> Rules:
    """Rules from the TOML text; raises ValueError on a malformed file."""
    doc = tomllib.loads(text)
    cats = doc.get("categories")
    if not isinstance(cats, dict) or not cats:
        raise ValueError("behaviours: no [categories]")
    names = tuple(cats)
    exact: dict[str, frozenset[str]] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    suffixes: dict[str, frozenset[str]] = {}
    globs: dict[str, tuple[tuple[str, str], ...]] = {}
    dotted_suffixes: dict[str, tuple[str, ...]] = {}
    descriptions: dict[str, str] = {}
    for name in names:
        entry = cats[name]
        apis = entry.get("apis") if isinstance(entry, dict) else None
        if not isinstance(apis, list) or not all(isinstance(a, str) and a for a in apis):
            raise ValueError(f"behaviours: category {name!r} needs a list of API patterns")
        descriptions[name] = str(entry.get("description", ""))
        ex: set[str] = set()
        pre: list[str] = []
        suf: set[str] = set()
        glob: list[tuple[str, str]] = []
        dotted: list[str] = []
        for pattern in apis:
            if pattern.startswith("*.") and "." in pattern[2:]:
                dotted.append(pattern[2:])
            elif pattern.startswith("*."):
                suf.add(pattern[2:])
            elif pattern.endswith(".*"):
                pre.append(pattern[:-1])
            elif "*" in pattern:  # "base64.*decode": a name in the module ending so
                head, _, tail = pattern.partition("*")
                glob.append((head, tail))
            else:
                ex.add(pattern)
        exact[name], prefixes[name], suffixes[name] = frozenset(ex), tuple(pre), frozenset(suf)
        globs[name] = tuple(glob)
        dotted_suffixes[name] = tuple(dotted)
    pairs = []
    for pair in doc.get("combinations", {}).get("pairs", []):
        if not isinstance(pair, list) or len(pair) != 2 or any(p not in cats for p in pair):
            raise ValueError(f"behaviours: bad combination {pair!r}")
        pairs.append((str(pair[0]), str(pair[1])))
    flow_doc = doc.get("flows", {})
    whole = flow_doc.get("whole", [])
    if not isinstance(whole, list) or not all(isinstance(w, str) for w in whole):
        raise ValueError("behaviours: [flows] whole must be a list of API names")
    sources = set(names) | {f"{c}:all" for c in names}
    flows = []
    for pair in flow_doc.get("pairs", []):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or pair[0] not in sources
            or pair[1] not in cats
        ):
            raise ValueError(f"behaviours: bad flow {pair!r}")
        flows.append((str(pair[0]), str(pair[1])))
    return Rules(
        names,
        descriptions,
        exact,
        prefixes,
        suffixes,
        dotted_suffixes,
        globs,
        tuple(pairs),
        tuple(flows),
        frozenset(whole),
    )


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The packaged behaviours.toml."""
    text = resources.files("mphunter_gate").joinpath("data/behaviours.toml").read_text("utf-8")
    return parse_rules(text)
