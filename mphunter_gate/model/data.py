"""Loaders that turn the two corpora into TrainingDocs.

Malicious: the MalRegistry development split, read from its .tar.xz in
memory (never unpacked into the tree, never run). Benign: the directory
written by `mphunter-gate corpus` (manifest.jsonl + files/<name>-<version>/).
Both pick files with `selection.select`, the very selection the gate
uses at check time (setup.py, in-tree backends, .pth, top-level package
__init__.py and the modules they import), one document per script, so the
benign and malicious sides differ in behaviour, not in what kind of file
was picked, and a benign imported module is in the index instead of
becoming a false positive at check time. Identical texts are kept once (the corpus holds
thousands of byte-identical copies of a few campaigns).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import tarfile
import tokenize as pytokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mphunter_gate.model.docs import BENIGN, MALICIOUS, TrainingDoc
from mphunter_gate.types import Script, ScriptKind, Stage

log = logging.getLogger(__name__)

DEFAULT_MAL_TAR = Path("/work/shared/corpus/malregistry-dev.tar.xz")
DEFAULT_MAL_JSONL = Path("/work/shared/corpus/malregistry-dev.jsonl")
MAX_SCRIPT_BYTES = 1_000_000

Priority = Callable[[str], float]


def default_corpus_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("mphunter-gate")) / "corpus"


def decode(data: bytes) -> str:
    """Lenient decoding: a hostile file must not stop a corpus load."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def install_time_kind(rel: str, root_depth: int) -> ScriptKind | None:
    """Which install-time role `rel` plays, if any.

    `root_depth` is 1 for an sdist (paths start with `name-version/`) and
    0 for a wheel or an already-stripped path. Only top-level files count:
    setup.py in the root, package `__init__.py` one level down (or under
    `src/`), and `.pth` files anywhere (they run at every interpreter start).
    """
    parts = [p for p in rel.replace("\\", "/").split("/") if p]
    if not parts:
        return None
    inner = parts[root_depth:]
    name = parts[-1]
    if name.endswith(".pth"):
        return ScriptKind.PTH
    if name == "setup.py" and len(inner) == 1:
        return ScriptKind.SETUP
    if name == "__init__.py" and (len(inner) == 2 or (len(inner) == 3 and inner[0] == "src")):
        return ScriptKind.INIT
    return None


def structural_family(text: str) -> str:
    """The corpus's family key for a script lacking one: a hash of the code
    with string literals and whitespace removed (so campaign copies that
    differ only in URLs or names share it)."""
    try:
        toks = [
            t.string
            for t in pytokenize.generate_tokens(io.StringIO(text).readline)
            if t.type
            not in (pytokenize.STRING, pytokenize.COMMENT, pytokenize.NL, pytokenize.NEWLINE)
            and t.type not in (pytokenize.INDENT, pytokenize.DEDENT)
        ]
        skeleton = "".join(toks)
    except (pytokenize.TokenError, SyntaxError, IndentationError):
        skeleton = re.sub(r"\s+", "", re.sub(r"(['\"]).*?\1", "", text))
    return "s:" + hashlib.sha256(skeleton.encode("utf-8", "replace")).hexdigest()[:16]


def script_tokens(
    script: Script, *, prefix_len: int, priority: Priority | None = None, bad_apis: Any = None
) -> tuple[str, ...]:
    """The model's token list for one script, via the analysis stage."""
    from mphunter_gate.analysis import analyse, tokens

    analysis = analyse(script, priority=priority)
    return tuple(tokens(analysis, prefix_len=prefix_len, bad_apis=bad_apis))


def default_bad_apis() -> Any:
    from mphunter_gate.analysis import load_bad_apis

    return load_bad_apis()


Tokenizer = Callable[[Script, Priority | None], tuple[str, ...]]


def analysis_tokenizer(prefix_len: int) -> Tokenizer:
    """The production tokenizer: analysis stage + the shipped bad-API list."""
    bad = default_bad_apis()

    def run(script: Script, priority: Priority | None) -> tuple[str, ...]:
        return script_tokens(script, prefix_len=prefix_len, priority=priority, bad_apis=bad)

    return run


def retokenize(
    docs: Sequence[TrainingDoc], tokenizer: Tokenizer, priority: Priority | None
) -> list[TrainingDoc]:
    """Re-run analysis on every doc that kept its script (e.g. with APIEM priority)."""
    out = []
    for doc in docs:
        if doc.script is None:
            out.append(doc)
        else:
            out.append(replace(doc, tokens=tokenizer(doc.script, priority)))
    return out


Featurizer = Callable[[Script, Priority | None], tuple[tuple[str, ...], tuple[float, ...]]]


def analysis_featurizer(prefix_len: int) -> Featurizer:
    """Analyse once, return (token list, behaviour vector): what training needs
    per script once APIEM gives the branch priority."""
    from mphunter_gate.analysis import analyse, tokens
    from mphunter_gate.model.behaviour import behaviour

    bad = default_bad_apis()

    def run(script: Script, priority: Priority | None) -> tuple[tuple[str, ...], tuple[float, ...]]:
        analysis = analyse(script, priority=priority)
        toks = tuple(tokens(analysis, prefix_len=prefix_len, bad_apis=bad))
        return toks, behaviour(analysis).values

    return run


def refeaturize(
    docs: Sequence[TrainingDoc], featurizer: Featurizer | None, priority: Priority | None
) -> list[TrainingDoc]:
    """Fill in tokens and behaviour. Docs that kept their script are
    re-analysed (with the APIEM priority); docs known only by their tokens
    (hand-built ones) get the behaviour of a token-only stand-in analysis."""
    from mphunter_gate.model.behaviour import behaviour, token_analysis
    from mphunter_gate.model.pool import fork_map

    def one(doc: TrainingDoc) -> tuple[tuple[str, ...], tuple[float, ...]]:
        if doc.script is not None and featurizer is not None:
            return featurizer(doc.script, priority)
        return doc.tokens, behaviour(token_analysis(doc.id, doc.tokens)).values

    return [
        replace(doc, tokens=toks, behaviour=beh)
        for doc, (toks, beh) in zip(docs, fork_map(one, docs), strict=True)
    ]


def _make_docs(
    items: Iterable[tuple[str, Script, str | None]],
    label: str,
    tokenizer: Tokenizer | None,
    priority: Priority | None,
    added: dict[str, str] | None = None,
) -> list[TrainingDoc]:
    """One doc per distinct text, tokenised on every core (`pool.py`).

    `added` (package -> date) dates each doc by the earliest package holding
    its text: a text first seen before a cut is known before it, whichever
    copy the dedup keeps.
    """
    from mphunter_gate.model.pool import fork_map

    first: dict[str, int] = {}
    unique: list[tuple[str, Script, str | None]] = []
    dates: list[str | None] = []
    for doc_id, script, family in items:
        digest = hashlib.sha256(script.text.encode("utf-8", "replace")).hexdigest()
        when = (added or {}).get(doc_id.split("/", 1)[0])
        if digest not in first:
            first[digest] = len(unique)
            unique.append((doc_id, script, family))
            dates.append(when)
        elif when is not None:
            i = first[digest]
            dates[i] = min(d for d in (dates[i], when) if d is not None)
    scripts = [script for _, script, _ in unique]
    toks = fork_map(lambda s: tokenizer(s, priority), scripts) if tokenizer else [()] * len(scripts)
    return [
        TrainingDoc(id=doc_id, tokens=t, family=family, label=label, script=script, added=when)
        for (doc_id, script, family), t, when in zip(unique, toks, dates, strict=True)
    ]


def added_dates(jsonl_path: Path) -> dict[str, str]:
    """Sample -> its `added` date (normalised to UTC ISO 8601) from the corpus's jsonl."""
    out: dict[str, str] = {}
    for d in _read_jsonl(jsonl_path):
        when = d.get("added")
        if isinstance(when, str) and isinstance(d.get("sample"), str):
            try:
                out[d["sample"]] = utc_iso(when)
            except ValueError:
                log.warning("%s: %s: unreadable added date %r", jsonl_path, d["sample"], when)
    return out


def utc_iso(when: str) -> str:
    """An ISO 8601 date or time as a UTC timestamp string that sorts by time."""
    from datetime import datetime, timezone

    t = datetime.fromisoformat(when)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("%s:%d: skipping unreadable line", path, lineno)


#: Members a selection can need: code, .pth files and pyproject.toml (for
#: `backend-path`). Other members are listed by name only (select needs the
#: names to find the sdist's root folder).
_READ_SUFFIXES = (".py", ".pth", ".toml")


def _select(tree: Any) -> list[Script]:
    """selection.select, or nothing for a package it refuses (a link where
    an install-time file belongs: the gate reports those as unscannable)."""
    from mphunter_gate import select as selection
    from mphunter_gate.errors import ArchiveError

    try:
        return list(selection.select(tree))
    except ArchiveError as exc:
        log.info("selection refused: %s", exc)
        return []


def malicious_scripts(
    tar_path: Path = DEFAULT_MAL_TAR,
    jsonl_path: Path = DEFAULT_MAL_JSONL,
    *,
    samples: Iterable[str] | None = None,
) -> list[tuple[str, Script, str | None]]:
    """(id, script, family) for every install-time script in the corpus, read
    from the archive in memory, one `MemoryTree` per sample, selected by
    `selection.select`. `samples` restricts to those folders."""
    from mphunter_gate.fetch.archive import MemoryTree

    meta = {d["sample"]: d for d in _read_jsonl(jsonl_path)}
    wanted = set(samples) if samples is not None else None
    trees: dict[str, dict[str, bytes]] = {}
    with tarfile.open(tar_path, "r:xz") as tf:
        for member in tf:
            if not member.isfile():
                continue
            parts = member.name.split("/", 2)
            if len(parts) < 3 or parts[0] != "samples":
                continue
            sample, rel = parts[1], parts[2]
            if wanted is not None and sample not in wanted:
                continue
            data = b""
            if rel.endswith(_READ_SUFFIXES) and member.size <= MAX_SCRIPT_BYTES:
                fh = tf.extractfile(member)
                data = fh.read() if fh is not None else b""
            trees.setdefault(sample, {})[rel] = data
    out: list[tuple[str, Script, str | None]] = []
    for sample in sorted(trees):
        scripts = _select(MemoryTree(trees[sample]))
        if not scripts:
            continue
        family = meta.get(sample, {}).get("family") or structural_family(scripts[0].text)
        out.extend((f"{sample}/{s.path}", s, family) for s in scripts)
    return out


def load_malicious(
    tar_path: Path = DEFAULT_MAL_TAR,
    jsonl_path: Path = DEFAULT_MAL_JSONL,
    *,
    prefix_len: int = 2,
    tokenizer: Tokenizer | None = None,
    priority: Priority | None = None,
    samples: Iterable[str] | None = None,
) -> list[TrainingDoc]:
    """Malicious TrainingDocs, deduplicated by text, analysed without running anything."""
    tok = tokenizer if tokenizer is not None else analysis_tokenizer(prefix_len)
    items = malicious_scripts(tar_path, jsonl_path, samples=samples)
    docs = _make_docs(items, MALICIOUS, tok, priority, added_dates(jsonl_path))
    log.info("malicious: %d scripts (%d after dedup)", len(items), len(docs))
    return docs


def benign_releases(corpus_dir: Path | None = None) -> list[tuple[str, str, Path]]:
    """(release key, PEP 503 name, folder) per stored release of a `mphunter-gate
    corpus` directory, sorted by key."""
    root = corpus_dir if corpus_dir is not None else default_corpus_dir()
    manifest = root / "manifest.jsonl"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no benign corpus manifest")
    packages: dict[str, dict[str, Any]] = {}
    for entry in _read_jsonl(manifest):
        if entry.get("status") == "ok" and entry.get("name"):
            packages[f"{entry['name']}-{entry.get('version', '')}"] = entry
    out = []
    for key in sorted(packages):
        base = root / "files" / key
        if base.is_dir() and not base.is_symlink():
            name = re.sub(r"[-_.]+", "-", str(packages[key]["name"])).lower()
            out.append((key, name, base))
    return out


def release_scripts(folder: Path) -> list[Script]:
    """Every file `selection.select` picks of one stored release."""
    from mphunter_gate.fetch.archive import DirTree

    return _select(DirTree(folder))


#: Words of the APIs behaviour categories name (process, network, dynamic code,
#: decoding, files, credentials): a module whose text holds one is likelier to do
#: something worth learning. Used only to choose training samples, never to judge.
_SENSITIVE_RE = re.compile(
    r"\b(?:subprocess|os\.system|popen|socket|urllib|requests|http|exec|eval|compile"
    r"|base64|marshal|zlib|ctypes|__import__|importlib|environ|shutil|winreg|getattr)\b"
)
_ALWAYS_KINDS = frozenset({ScriptKind.SETUP, ScriptKind.BACKEND, ScriptKind.PTH, ScriptKind.INIT})


def sample_modules(
    scripts: Sequence[Script], per_package: int | None, seed: int = 0
) -> list[Script]:
    """A release's training files: every install/startup-time file and `__init__.py`,
    and `per_package` of its other modules (None: all), those naming a sensitive API
    first, then in an order seeded by path (the same sample on every run)."""
    if per_package is None:
        return list(scripts)
    kept = [
        s for s in scripts if s.kind in _ALWAYS_KINDS or s.stage in (Stage.INSTALL, Stage.STARTUP)
    ]
    chosen = {id(s) for s in kept}
    rest = [s for s in scripts if id(s) not in chosen]

    def order(s: Script) -> tuple[bool, str]:
        digest = hashlib.sha256(f"{seed}\0{s.path}".encode("utf-8", "replace")).hexdigest()
        return _SENSITIVE_RE.search(s.text) is None, digest

    picked = {id(s) for s in sorted(rest, key=order)[:per_package]}
    return [s for s in scripts if id(s) in chosen or id(s) in picked]


def benign_scripts(
    corpus_dir: Path | None = None,
    *,
    limit: int | None = None,
    per_package: int | None = None,
    seed: int = 0,
) -> list[tuple[str, Script, str | None]]:
    """(id, script, family=package name) for the corpus's files up to MAX_SCRIPT_BYTES,
    sampled per release by `sample_modules`."""
    from mphunter_gate.model.pool import fork_map

    releases = benign_releases(corpus_dir)[:limit]

    def one(release: tuple[str, str, Path]) -> list[Script]:
        small = [
            s
            for s in release_scripts(release[2])
            if len(s.text.encode("utf-8", "replace")) <= MAX_SCRIPT_BYTES
        ]
        return sample_modules(small, per_package, seed)

    out: list[tuple[str, Script, str | None]] = []
    for (key, name, _), scripts in zip(releases, fork_map(one, releases), strict=True):
        out.extend((f"{key}/{s.path}", s, "pkg:" + name) for s in scripts)
    return out


def load_benign(
    corpus_dir: Path | None = None,
    *,
    prefix_len: int = 2,
    tokenizer: Tokenizer | None = None,
    priority: Priority | None = None,
    limit: int | None = None,
    per_package: int | None = None,
    seed: int = 0,
) -> list[TrainingDoc]:
    """Benign TrainingDocs from the corpus directory, deduplicated by text."""
    tok = tokenizer if tokenizer is not None else analysis_tokenizer(prefix_len)
    items = benign_scripts(corpus_dir, limit=limit, per_package=per_package, seed=seed)
    docs = _make_docs(items, BENIGN, tok, priority)
    log.info("benign: %d scripts (%d after dedup)", len(items), len(docs))
    return docs
