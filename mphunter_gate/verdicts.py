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
import sqlite3
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mphunter_gate.types import (
    ApiCall,
    Decoded,
    Flow,
    Indicator,
    ParseMode,
    ScriptAnalysis,
    ScriptKind,
    ScriptScore,
    Stage,
)

log = logging.getLogger(__name__)
#: Bump when the stored shape changes, or when the analysis gives other sequences
#: for the same text under the same model (5: calls through indirection, events.py;
#: 6: reverse-shell, clipboard, wallet, self-delete and build-tool indicators, and
#: top-level sitecustomize/usercustomize read at startup);
#: old entries then read as misses.
FORMAT = 6


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
        "flows": [dataclasses.asdict(f) for f in a.flows],
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
        flows=tuple(Flow(**f) for f in d.get("flows", ())),
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

    def files(self) -> FileStore:
        """The per-file store for the same model version and options."""
        return FileStore(self.root / self._salt / "files.sqlite3")

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


FileKey = tuple[str, str, str]
FileJudgement = tuple[ScriptAnalysis, ScriptScore | None]


class FileMemo:
    """Per-file judgements by content: a release's wheel and its sdist hold mostly
    byte-identical files, and so do a project's consecutive releases and the
    typosquats that copy them.

    Keyed by the text's sha256, the kind (the model's input) and the stage (which
    the report shows); a hit at another path is re-pathed, so evidence points at
    the file that was asked about. Held in memory for the run (bounded, since a
    batch run can meet millions) and, with a `store`, on disk across runs.
    """

    MAX_ENTRIES = 50_000

    def __init__(self, store: FileStore | None = None) -> None:
        self._memo: dict[FileKey, FileJudgement] = {}
        self._store = store

    @staticmethod
    def key(text: str, kind: ScriptKind, stage: Stage | None) -> FileKey:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return digest, kind.value, stage.value if stage else ""

    def get_many(self, keys: list[FileKey], paths: list[str]) -> list[FileJudgement | None]:
        """The judgement for each key, re-pathed to its path; None where unknown."""
        found: dict[FileKey, FileJudgement] = {k: self._memo[k] for k in keys if k in self._memo}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing and self._store is not None:
            stored = self._store.get_many(missing)
            found.update(stored)
            for k, v in stored.items():
                self._remember(k, v)
        out: list[FileJudgement | None] = []
        for k, path in zip(keys, paths, strict=True):
            hit = found.get(k)
            if hit is None or hit[0].path == path:
                out.append(hit)
            else:
                a, sc = hit
                out.append((_repath(a, path), dataclasses.replace(sc, path=path) if sc else None))
        return out

    def get(self, key: FileKey, path: str) -> FileJudgement | None:
        return self.get_many([key], [path])[0]

    def put_many(self, items: list[tuple[FileKey, ScriptAnalysis, ScriptScore | None]]) -> None:
        for k, a, sc in items:
            self._remember(k, (a, sc))
        # A cut or failed analysis may be the machine's doing (the emergency time limit
        # under load): it fails this run closed, but the next run tries again.
        durable = [i for i in items if not i[1].truncated and i[1].parse is not ParseMode.FAILED]
        if durable and self._store is not None:
            self._store.put_many(durable)

    def put(self, key: FileKey, analysis: ScriptAnalysis, score: ScriptScore | None) -> None:
        self.put_many([(key, analysis, score)])

    def _remember(self, key: FileKey, value: FileJudgement) -> None:
        if len(self._memo) < self.MAX_ENTRIES:
            self._memo[key] = value


class FileStore:
    """Per-file judgements on disk, one SQLite file per model version and option set.

    The artifact cache (`VerdictCache`) answers only for an archive judged
    before; this one answers for its files, so the next release of a project,
    which changes a few of its files, costs the analysis of those few. SQLite
    because a cache of a million small entries must not be a million files,
    and WAL so that concurrent runs (pre-commit in several repositories, a CI
    matrix on one runner) read while one writes. Any database error is a miss
    (or a skipped write), logged, never a failure: a cache only costs speed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, doc TEXT)")
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                log.warning("per-file verdict cache %s unavailable: %s", self.path, exc)
                self._broken = True
        return self._db

    @staticmethod
    def _key(key: FileKey) -> str:
        return ":".join(key)

    def get_many(self, keys: list[FileKey]) -> dict[FileKey, FileJudgement]:
        out: dict[FileKey, FileJudgement] = {}
        with self._lock:
            db = self._connect()
            if db is None:
                return out
            by_text = {self._key(k): k for k in keys}
            names = list(by_text)
            try:
                for i in range(0, len(names), 500):  # SQLite's bound-parameter limit
                    chunk = names[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    for name, doc in db.execute(
                        f"SELECT key, doc FROM files WHERE key IN ({marks})", chunk
                    ):
                        try:
                            out[by_text[name]] = _judgement_from_json(json.loads(doc))
                        except (ValueError, KeyError, TypeError) as exc:
                            log.warning("ignoring unreadable per-file cache entry: %s", exc)
            except sqlite3.Error as exc:
                log.warning("per-file verdict cache %s: %s", self.path, exc)
        return out

    def put_many(self, items: list[tuple[FileKey, ScriptAnalysis, ScriptScore | None]]) -> None:
        rows = [
            (
                self._key(k),
                json.dumps(
                    {
                        "analysis": _analysis_to_json(a),
                        "score": dataclasses.asdict(sc) if sc else None,
                    }
                ),
            )
            for k, a, sc in items
        ]
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?)", rows)
            except sqlite3.Error as exc:
                log.warning("cannot write per-file verdict cache %s: %s", self.path, exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _judgement_from_json(doc: dict[str, Any]) -> FileJudgement:
    score = doc["score"]
    return _analysis_from_json(doc["analysis"]), _score_from_json(score) if score else None
