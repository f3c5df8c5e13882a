"""`mphunter-gate corpus`: the benign side of the models, downloaded by us.

The benign index and the calibration set must look like what people really
install, long tail included, so the candidate names mix the most
downloaded packages with a random sample of the rest
(`data/benign_names.tsv`). For each name we take the newest final release
that has an sdist, read its install-time files in memory (never run them),
and store only those files plus one manifest line recording name, version
and the sdist's sha256. The manifest makes the run resumable: names
already in it are skipped.

People pin old releases too, and typosquats copy an old release's setup.py
verbatim: with only the newest `requests` in the corpus, the gate could not
tell `requests==2.32.3` from a typosquat carrying its setup.py. So for the
most downloaded names the corpus also keeps the newest release of each of
a few earlier release series (sample "history").
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from packaging.utils import InvalidSdistFilename, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from mphunter_gate import select as selection
from mphunter_gate.errors import ArchiveError, PackageIndexError
from mphunter_gate.fetch.archive import open_tree
from mphunter_gate.fetch.index import Index
from mphunter_gate.types import DistFile, FileKind

log = logging.getLogger(__name__)
#: Skip sdists bigger than this: a setup.py is never the reason a file is 50 MB.
MAX_SDIST = 50 * 1024 * 1024


@dataclass(frozen=True)
class Candidate:
    name: str
    rank: int | None
    sample: str  # "top" | "random" | "history"


@dataclass(frozen=True)
class Entry:
    """One manifest line: what was downloaded and what it held."""

    name: str
    version: str | None
    filename: str | None
    sha256: str | None
    rank: int | None
    sample: str
    files: list[str]
    status: str  # ok | no-script | no-sdist | error
    detail: str | None = None
    #: `selection.SELECTION_VERSION` the files were picked with (manifests written
    #: before it was recorded read as 1).
    selection: int = 1

    @property
    def current(self) -> bool:
        """Whether the entry holds what `select` picks today; only entries whose
        files depend on the selection rules (ok, no-script) can be stale."""
        stale_able = self.status in ("ok", "no-script")
        return not stale_able or self.selection == selection.SELECTION_VERSION


def candidates(top: int, random: int, history: int = 0) -> list[Candidate]:
    """The first `top` ranked names, the first `random` long-tail names, and
    the first `history` ranked names again for their earlier releases."""
    text = resources.files("mphunter_gate.data").joinpath("benign_names.tsv").read_text()
    tops: list[Candidate] = []
    randoms: list[Candidate] = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, rank, sample = line.split("\t")
        c = Candidate(name, int(rank) if rank else None, sample)
        (tops if sample == "top" else randoms).append(c)
    older = [Candidate(c.name, c.rank, "history") for c in tops[:history]]
    return tops[:top] + randoms[:random] + older


def series_sdists(files: tuple[DistFile, ...], count: int) -> list[DistFile]:
    """The sdist of the newest final, non-yanked release in each of the newest
    `count` release series (major.minor), newest first. One sdist per series
    keeps the corpus small while spanning the setup.py styles a project went
    through (requests 2.31 still had a test command; 2.32.5 does not)."""
    best: dict[tuple[int, ...], tuple[Version, DistFile]] = {}
    for f in files:
        if f.kind is not FileKind.SDIST or f.yanked:
            continue
        try:
            _, version = parse_sdist_filename(f.filename)
        except (InvalidSdistFilename, InvalidVersion):
            continue
        if version.is_prerelease or version.is_devrelease:
            continue
        series = (*version.release, 0)[:2]
        if series not in best or version > best[series][0]:
            best[series] = (version, f)
    return [best[k][1] for k in sorted(best, reverse=True)[:count]]


def latest_sdist(files: tuple[DistFile, ...]) -> DistFile | None:
    """The sdist of the newest final, non-yanked release."""
    picked = series_sdists(files, 1)
    return picked[0] if picked else None


def read_manifest(corpus_dir: Path) -> Iterator[Entry]:
    """The manifest's entries; a line a killed run left half-written is skipped (and redone)."""
    path = corpus_dir / "manifest.jsonl"
    if not path.exists():
        return
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield Entry(**json.loads(line))
        except (ValueError, TypeError) as exc:
            log.warning("%s:%d: skipping unreadable manifest line (%s)", path, n, exc)


def latest_entries(corpus_dir: Path) -> list[Entry]:
    """One entry per release and sample: the manifest's last line for it (a
    release fetched again under newer selection rules supersedes its old line)."""
    last: dict[tuple[str, str | None, str], Entry] = {}
    for e in read_manifest(corpus_dir):
        last[(e.name, e.version, e.sample)] = e
    return list(last.values())


#: Earlier release series kept per "history" candidate.
HISTORY_SERIES = 3


def _fetch_one(index: Index, c: Candidate, files_dir: Path) -> list[Entry]:
    """Download one candidate's newest sdist (or, for a "history" candidate,
    the newest sdist of each of its earlier release series) and keep the
    install-time files. Always returns at least one entry, so the manifest
    marks the candidate done."""
    try:
        files = index.project_files(c.name)
    except PackageIndexError as exc:
        return [_store(index, c, None, files_dir, error=str(exc))]
    if c.sample != "history":
        return [_store(index, c, latest_sdist(files), files_dir)]
    older = series_sdists(files, HISTORY_SERIES + 1)[1:]
    return [_store(index, c, f, files_dir) for f in older] or [_store(index, c, None, files_dir)]


def _store(
    index: Index, c: Candidate, sdist: DistFile | None, files_dir: Path, error: str | None = None
) -> Entry:
    """Fetch `sdist` and keep its install-time files.

    Never raises for a bad package: every failure becomes an `error` entry,
    so one hostile archive cannot stop a corpus run.
    """
    version: str | None = None
    sha256: str | None = None

    def entry(status: str, files: list[str] | None = None, detail: str | None = None) -> Entry:
        return Entry(
            name=c.name,
            version=version,
            filename=sdist.filename if sdist else None,
            sha256=sha256 or (sdist.sha256 if sdist else None),
            rank=c.rank,
            sample=c.sample,
            status=status,
            files=files or [],
            detail=detail[:300] if detail else None,
            selection=selection.SELECTION_VERSION,
        )

    if error is not None:
        return entry("error", detail=error)
    try:
        if sdist is None:
            return entry("no-sdist")
        version = str(parse_sdist_filename(sdist.filename)[1])
        if sdist.size and sdist.size > MAX_SDIST:
            return entry("error", detail="sdist over size limit")
        data = index.fetch(sdist, cache=False)
        sha256 = hashlib.sha256(data).hexdigest()  # also when the index gave none
        scripts = selection.select(open_tree(data, sdist.filename))
    except (PackageIndexError, ArchiveError) as exc:
        return entry("error", detail=str(exc))
    if not scripts:
        return entry("no-script")
    dest = files_dir / f"{c.name}-{version}"
    try:
        for s in scripts:
            out = dest / s.path  # archive.py refuses names that would leave `dest`
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(s.text, encoding="utf-8", errors="surrogateescape")
    except OSError as exc:  # e.g. a member that is a file in one place and a folder in another
        return entry("error", detail=f"cannot store scripts: {exc}")
    return entry("ok", files=[s.path for s in scripts])


def download(
    corpus_dir: Path,
    index: Index,
    top: int,
    random: int,
    history: int = 0,
    workers: int = 12,
    progress: bool = True,
) -> dict[str, int]:
    """Fetch what the manifest lacks; returns counts per status."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    # An entry stored under older selection rules is fetched again; its new line
    # comes later in the manifest, and readers keep a package's last line.
    done = {(e.name, e.sample == "history") for e in read_manifest(corpus_dir) if e.current}
    todo = [
        c for c in candidates(top, random, history) if (c.name, c.sample == "history") not in done
    ]
    counts: dict[str, int] = {}
    lock = threading.Lock()
    manifest = (corpus_dir / "manifest.jsonl").open("a")
    show = progress and sys.stderr.isatty()

    def work(c: Candidate) -> None:
        entries = _fetch_one(index, c, corpus_dir / "files")
        with lock:
            for e in entries:
                manifest.write(json.dumps(asdict(e)) + "\n")
                counts[e.status] = counts.get(e.status, 0) + 1
            manifest.flush()
            n = sum(counts.values())
            if show:
                print(f"\r{n}/{len(todo)} {counts}", end="", file=sys.stderr)
            elif n % 250 == 0:
                log.info("corpus: %d/%d %s", n, len(todo), counts)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, todo))
    finally:
        manifest.close()
        if show:
            print(file=sys.stderr)
    return counts
