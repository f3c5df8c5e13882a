"""Loaders that turn the two corpora into TrainingDocs.

Malicious: the MalRegistry development split, read from its .tar.xz in
memory (never unpacked into the tree, never run). Benign: the directory
written by `mphunter-gate corpus` (manifest.jsonl + files/<name>-<version>/).
Both keep the same install-time files, one document per script: the
top-level setup.py, top-level package __init__.py files, and .pth files,
so the benign and malicious sides differ in behaviour, not in what kind
of file was picked. Identical texts are kept once (the corpus holds
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
from mphunter_gate.types import Script, ScriptKind

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


_KIND_ORDER = {ScriptKind.SETUP: 0, ScriptKind.INIT: 1, ScriptKind.PTH: 2}


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


def _make_docs(
    items: Iterable[tuple[str, Script, str | None]],
    label: str,
    tokenizer: Tokenizer | None,
    priority: Priority | None,
    seen: set[str],
) -> Iterator[TrainingDoc]:
    for doc_id, script, family in items:
        digest = hashlib.sha256(script.text.encode("utf-8", "replace")).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        toks = tokenizer(script, priority) if tokenizer is not None else ()
        yield TrainingDoc(id=doc_id, tokens=toks, family=family, label=label, script=script)


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


def malicious_scripts(
    tar_path: Path = DEFAULT_MAL_TAR,
    jsonl_path: Path = DEFAULT_MAL_JSONL,
    *,
    samples: Iterable[str] | None = None,
) -> list[tuple[str, Script, str | None]]:
    """(id, script, family) for every install-time script in the corpus,
    read from the archive in memory. `samples` restricts to those folders."""
    meta = {d["sample"]: d for d in _read_jsonl(jsonl_path)}
    wanted = set(samples) if samples is not None else None
    found: dict[str, list[tuple[str, Script]]] = {}
    with tarfile.open(tar_path, "r:xz") as tf:
        for member in tf:
            if not member.isfile() or member.size > MAX_SCRIPT_BYTES:
                continue
            parts = member.name.split("/", 2)
            if len(parts) < 3 or parts[0] != "samples":
                continue
            sample, rel = parts[1], parts[2]
            if wanted is not None and sample not in wanted:
                continue
            info = meta.get(sample, {})
            root_depth = 0 if info.get("kind") == "wheel" else 1
            kind = install_time_kind(rel, root_depth)
            if kind is None:
                continue
            fh = tf.extractfile(member)
            if fh is None:
                continue
            text = decode(fh.read())
            found.setdefault(sample, []).append((rel, Script(path=rel, kind=kind, text=text)))
    out: list[tuple[str, Script, str | None]] = []
    for sample in sorted(found):
        scripts = sorted(found[sample], key=lambda rs: (_KIND_ORDER[rs[1].kind], rs[0]))
        family = meta.get(sample, {}).get("family") or structural_family(scripts[0][1].text)
        for rel, script in scripts:
            out.append((f"{sample}/{rel}", script, family))
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
    docs = list(_make_docs(items, MALICIOUS, tok, priority, set()))
    log.info("malicious: %d scripts (%d after dedup)", len(items), len(docs))
    return docs


_ROOT_MARKERS = ("setup.py", "PKG-INFO", "pyproject.toml", "setup.cfg")


def _root_depth(rels: Sequence[str]) -> int:
    """1 when the stored paths keep the sdist's `name-version/` folder, else 0."""
    split = [r.replace("\\", "/").split("/") for r in rels]
    if not split or any(len(p) < 2 for p in split):
        return 0
    firsts = {p[0] for p in split}
    if len(firsts) != 1:
        return 0
    return 1 if any(len(p) == 2 and p[1] in _ROOT_MARKERS for p in split) else 0


def benign_scripts(
    corpus_dir: Path | None = None, *, limit: int | None = None
) -> list[tuple[str, Script, str | None]]:
    """(id, script, family=package name) from a `mphunter-gate corpus` directory."""
    root = corpus_dir if corpus_dir is not None else default_corpus_dir()
    manifest = root / "manifest.jsonl"
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest}: no benign corpus manifest")
    packages: dict[str, dict[str, Any]] = {}
    for entry in _read_jsonl(manifest):
        if entry.get("status") == "ok" and entry.get("name"):
            packages[f"{entry['name']}-{entry.get('version', '')}"] = entry
    out: list[tuple[str, Script, str | None]] = []
    for count, key in enumerate(sorted(packages)):
        if limit is not None and count >= limit:
            break
        entry = packages[key]
        base = root / "files" / key
        picked = []
        rels = [str(r) for r in entry.get("files", [])]
        depth = _root_depth(rels)
        for rel in rels:
            kind = install_time_kind(rel, depth)
            path = base / rel
            if kind is None or not path.is_file() or path.stat().st_size > MAX_SCRIPT_BYTES:
                continue
            if base.resolve() not in path.resolve().parents:
                log.warning("%s: path leaves the corpus folder, skipped", path)
                continue
            picked.append((rel, Script(path=rel, kind=kind, text=decode(path.read_bytes()))))
        picked.sort(key=lambda rs: (_KIND_ORDER[rs[1].kind], rs[0]))
        family = "pkg:" + re.sub(r"[-_.]+", "-", str(entry["name"])).lower()
        out.extend((f"{key}/{rel}", script, family) for rel, script in picked)
    return out


def load_benign(
    corpus_dir: Path | None = None,
    *,
    prefix_len: int = 2,
    tokenizer: Tokenizer | None = None,
    priority: Priority | None = None,
    limit: int | None = None,
) -> list[TrainingDoc]:
    """Benign TrainingDocs from the corpus directory, deduplicated by text."""
    tok = tokenizer if tokenizer is not None else analysis_tokenizer(prefix_len)
    items = benign_scripts(corpus_dir, limit=limit)
    docs = list(_make_docs(items, BENIGN, tok, priority, set()))
    log.info("benign: %d scripts (%d after dedup)", len(items), len(docs))
    return docs
