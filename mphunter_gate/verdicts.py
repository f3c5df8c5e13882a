"""A cache of per-artifact judgements, so a warm run loads no model at all.

A script's analysis and scores depend only on the file's bytes, the model
and the analysis options, so they are stored under (sha256 of the sdist or
wheel, model version, options). The verdict itself is not stored: it is
recomputed against the run's threshold, so `--threshold` and allowlists
still apply to cached results. Entries are plain JSON; an unreadable or
stale entry is a miss, never an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mphunter_gate.types import (
    ApiCall,
    Decoded,
    Indicator,
    ParseMode,
    ScriptAnalysis,
    ScriptKind,
    ScriptScore,
    Stage,
)

log = logging.getLogger(__name__)
#: Bump when the stored shape changes; old entries then read as misses.
FORMAT = 3


@dataclasses.dataclass(frozen=True)
class Judged:
    """What the model said about one artifact's install-time files."""

    note: str | None
    analyses: tuple[ScriptAnalysis, ...]
    scores: tuple[ScriptScore, ...]


def _analysis_to_json(a: ScriptAnalysis) -> dict[str, Any]:
    return {
        "path": a.path,
        "kind": a.kind.value,
        "parse": a.parse.value,
        "sequences": [[[c.api, c.file, c.line] for c in seq] for seq in a.sequences],
        "decoded": [dataclasses.asdict(d) for d in a.decoded],
        "error": a.error,
        "indicators": [dataclasses.asdict(i) for i in a.indicators],
        "truncated": a.truncated,
        "stage": a.stage.value if a.stage else None,
    }


def _analysis_from_json(d: dict[str, Any]) -> ScriptAnalysis:
    return ScriptAnalysis(
        path=d["path"],
        kind=ScriptKind(d["kind"]),
        parse=ParseMode(d["parse"]),
        sequences=tuple(tuple(ApiCall(*c) for c in seq) for seq in d["sequences"]),
        decoded=tuple(Decoded(**x) for x in d["decoded"]),
        error=d["error"],
        indicators=tuple(Indicator(**i) for i in d["indicators"]),
        truncated=bool(d["truncated"]),
        stage=Stage(d["stage"]) if d.get("stage") else None,
    )


def _score_from_json(d: dict[str, Any]) -> ScriptScore:
    fields = {f.name for f in dataclasses.fields(ScriptScore)}
    if set(d) != fields:
        raise ValueError("stored score has other fields than this version's ScriptScore")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return ScriptScore(**values)


class VerdictCache:
    """Judgements on disk under `root`, for one model version and option set."""

    def __init__(self, root: Path, model_version: str, options: dict[str, object]) -> None:
        self.root = root / "verdicts"
        key = json.dumps({"format": FORMAT, "model": model_version, **options}, sort_keys=True)
        self._salt = hashlib.sha256(key.encode()).hexdigest()[:16]

    def _path(self, sha256: str) -> Path:
        return self.root / self._salt / sha256[:2] / f"{sha256}.json"

    def get(self, sha256: str) -> Judged | None:
        path = self._path(sha256)
        try:
            doc = json.loads(path.read_text())
            return Judged(
                note=doc["note"],
                analyses=tuple(_analysis_from_json(a) for a in doc["analyses"]),
                scores=tuple(_score_from_json(s) for s in doc["scores"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable verdict cache entry %s: %s", path, exc)
            return None

    def put(self, sha256: str, judged: Judged) -> None:
        doc = {
            "note": judged.note,
            "analyses": [_analysis_to_json(a) for a in judged.analyses],
            "scores": [dataclasses.asdict(s) for s in judged.scores],
        }
        path = self._path(sha256)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only cache only costs speed
            log.warning("cannot write verdict cache entry %s: %s", path, exc)


#: Distinct call sites kept of a scored analysis, in first-seen order, and as many again
#: of those `compact`'s caller marks important (behaviour-category APIs). Reports show
#: at most a hundred per file and a verdict needs none (it reads the scores); the full
#: sequences (up to 20,000 calls each) of every file of a large package, kept to the
#: report, held the whole run's peak memory.
MAX_KEPT_CALLS = 100


def compact(a: ScriptAnalysis, important: Callable[[str], bool] | None = None) -> ScriptAnalysis:
    """`a` with its sequences folded into one of its first distinct call sites (plus
    important ones met later), once the model has scored it: what reports read
    (`calls`) survives, the rest is gone."""
    calls = a.calls
    total = sum(len(s) for s in a.sequences)
    if len(a.sequences) <= 1 and len(calls) == total <= MAX_KEPT_CALLS:
        return a
    kept = list(calls[:MAX_KEPT_CALLS])
    if important is not None:
        kept += [c for c in calls[MAX_KEPT_CALLS:] if important(c.api)][:MAX_KEPT_CALLS]
    return dataclasses.replace(a, sequences=(tuple(kept),))


def _repath(a: ScriptAnalysis, path: str) -> ScriptAnalysis:
    """The same analysis for a byte-identical file at another path."""
    old = a.path

    def fix(x: Any) -> Any:
        return dataclasses.replace(x, file=path) if x.file == old else x

    return dataclasses.replace(
        a,
        path=path,
        sequences=tuple(tuple(fix(c) for c in seq) for seq in a.sequences),
        decoded=tuple(fix(d) for d in a.decoded),
        indicators=tuple(fix(i) for i in a.indicators),
    )


class FileMemo:
    """Per-file judgements of one run, by content: a release's wheel and its sdist
    hold mostly byte-identical files, and so do the releases a run meets twice.

    Keyed by the text's sha256, the kind (the model's input) and the stage (which
    the report shows); a hit at another path is re-pathed, so evidence points at
    the file that was asked about. Bounded, since a batch run can meet millions.
    """

    MAX_ENTRIES = 50_000

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str, str], tuple[ScriptAnalysis, ScriptScore | None]] = {}

    @staticmethod
    def key(text: str, kind: ScriptKind, stage: Stage | None) -> tuple[str, str, str]:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return digest, kind.value, stage.value if stage else ""

    def get(
        self, key: tuple[str, str, str], path: str
    ) -> tuple[ScriptAnalysis, ScriptScore | None] | None:
        hit = self._memo.get(key)
        if hit is None:
            return None
        a, s = hit
        if a.path == path:
            return hit
        return _repath(a, path), dataclasses.replace(s, path=path) if s is not None else None

    def put(
        self, key: tuple[str, str, str], analysis: ScriptAnalysis, score: ScriptScore | None
    ) -> None:
        if len(self._memo) < self.MAX_ENTRIES:
            self._memo[key] = (analysis, score)
