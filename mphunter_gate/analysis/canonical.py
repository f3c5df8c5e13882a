"""From sequences to the model's tokens: shorten to `prefix_len` parts, drop bad APIs.

The bad-API list is data (`mphunter_gate/data/bad_apis.txt`), not code: one
full API name per line with the reason it is there, so it can be reviewed
and re-measured without touching logic.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from mphunter_gate.types import ParseMode, ScriptAnalysis


@lru_cache(maxsize=1)
def load_bad_apis() -> frozenset[str]:
    """The packaged bad-API list: full API names, comments and blank lines ignored."""
    text = resources.files("mphunter_gate").joinpath("data/bad_apis.txt").read_text("utf-8")
    names = set()
    for raw in text.splitlines():
        entry = raw.split("#", 1)[0].strip()
        if entry:
            names.add(entry)
    return frozenset(names)


def shorten(api: str, prefix_len: int) -> str:
    """`a.b.c.x` with prefix_len=2 -> `c.x`; prefix_len <= 0 keeps the full name."""
    if prefix_len <= 0:
        return api
    return ".".join(api.split(".")[-prefix_len:])


def tokens(
    analysis: ScriptAnalysis, *, prefix_len: int = 2, bad_apis: frozenset[str] | None = None
) -> list[str]:
    """Flatten the sequences into the model's token list.

    Each API is shortened to its last `prefix_len` dotted parts; an API whose
    full name is on the bad-API list is removed (default: the packaged list).
    A FAILED analysis has no tokens: callers must check `analysis.parse`
    first and treat it as unscanned, never as clean.
    """
    if analysis.parse is ParseMode.FAILED:
        return []
    bad = load_bad_apis() if bad_apis is None else bad_apis
    return [
        shorten(call.api, prefix_len)
        for seq in analysis.sequences
        for call in seq
        if call.api not in bad
    ]
